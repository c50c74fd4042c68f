/* The VP node: a node-type descriptor handed to the swarm library. */
#include <swarm/swarm.h>

int main(int argc, char **argv)
{
    static const swarm_node_type type = {
        .name = "VP",
        .default_port = 4000,
        .description = "Validator/producer node: produces and checks blocks.",
    };
    return swarm_main(&type, argc, argv);
}
