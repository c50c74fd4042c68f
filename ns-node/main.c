/* The NS node: a node-type descriptor handed to the swarm library. */
#include <swarm/swarm.h>

int main(int argc, char **argv)
{
    static const swarm_node_type type = {
        .name = "NS",
        .default_port = 3009,
        .description = "Name-service node: keeps the registry of names and serves lookups to the mesh.",
    };
    return swarm_main(&type, argc, argv);
}
