/* The Gateway node: a node-type descriptor handed to the swarm library. */
#include <swarm/swarm.h>

int main(int argc, char **argv)
{
    static const swarm_node_type type = {
        .name = "Gateway",
        .default_port = 8080,
        .description = "Gateway node: the mesh's entry point for clients.",
    };
    return swarm_main(&type, argc, argv);
}
