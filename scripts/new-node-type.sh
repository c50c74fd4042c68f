#!/usr/bin/env bash
# Scaffolds a new node type: scripts/new-node-type.sh Validator 5000
# creates validator-node/main.c and validator-node/CMakeLists.txt. The top-level CMakeLists.txt
# picks up every <name>-node/ directory, so the next build makes ./build/validator-node/validator-node.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: $0 TypeName PORT   (e.g. $0 Validator 5000)" >&2; exit 2; }
[ $# -eq 2 ] || usage
name=$1 port=$2
if ! [[ $name =~ ^[A-Za-z][A-Za-z0-9_]{0,31}$ ]]; then
    echo "new-node-type: bad type name '$name' (a letter, then up to 31 letters, digits or _)" >&2
    exit 2
fi
if ! [[ $port =~ ^[0-9]{1,5}$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "new-node-type: bad port '$port' (expected 1-65535)" >&2
    exit 2
fi
lower=$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]')
dir=$root/$lower-node
if [ -e "$dir" ]; then
    echo "new-node-type: $lower-node/ already exists" >&2
    exit 1
fi
mkdir -p "$dir"
cat >"$dir/main.c" <<C
/* The $name node: a node-type descriptor handed to the swarm library. */
#include <swarm/swarm.h>

int main(int argc, char **argv)
{
    static const swarm_node_type type = {
        .name = "$name",
        .default_port = $port,
        .description = "$name node.",
    };
    return swarm_main(&type, argc, argv);
}
C
cat >"$dir/CMakeLists.txt" <<C
add_executable($lower-node main.c)
target_link_libraries($lower-node PRIVATE swarm)
C
cat <<MSG
created $lower-node/main.c and $lower-node/CMakeLists.txt
build:  scripts/build.sh          (makes build/$lower-node/$lower-node)
run:    PORT=$port BOOTSTRAP_PEERS=localhost:3009:NS build/$lower-node/$lower-node
query:  curl 'localhost:3009/peers?type=$name'
MSG
