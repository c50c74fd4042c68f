/* The entry point a node executable calls: a node type is a descriptor, not a library change. */
#ifndef SWARM_SWARM_H
#define SWARM_SWARM_H

#include <stdint.h>

#include "swarm/wire.h"

typedef struct swarm_node_type {
    const char *name;        /* the type peers see: "NS", "Gateway", "VP", "Validator", ... */
    uint16_t default_port;   /* used when neither PORT nor --port is given */
    const char *description; /* one line for --help; may be NULL */
    /* Optional: each NEW_BLOCK/NEW_TX delivered to this node, once. env is only valid during the call. */
    void (*on_deliver)(void *user, const swarm_envelope *env);
    void *user;
} swarm_node_type;

/* Parses the environment and argv, runs the node until SIGINT/SIGTERM, and returns the process
 * exit status: 0 after a clean stop, 1 on a runtime failure (e.g. port in use), 2 for a bad
 * setting (one line on stderr names it). */
int swarm_main(const swarm_node_type *type, int argc, char **argv);

#endif
