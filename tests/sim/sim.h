/* An in-process mesh of sans-IO nodes: a fake clock, a message queue instead of sockets. It is
 * what the core's design buys: thousands of nodes in one process, deterministic, in seconds. */
#ifndef SWARM_SIM_H
#define SWARM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/node.h"

typedef struct sim sim;

typedef struct sim_options {
    size_t nodes;
    unsigned max_peers;
    unsigned pex_interval_ms;
    unsigned ping_interval_ms;
    unsigned max_hops; /* 0: the default (10) */
    enum { SIM_LINE, SIM_RANDOM } bootstrap; /* node i bootstraps to i-1, or to a random earlier node */
    uint64_t seed;
} sim_options;

sim *sim_new(const sim_options *opt);
void sim_free(sim *s);
/* Advances the clock by step_ms, ticks every node and delivers every queued message. */
void sim_step(sim *s, unsigned step_ms);
swarm_node *sim_node(sim *s, size_t i);
size_t sim_size(const sim *s);
/* Messages delivered (handed to a node) since the start. */
uint64_t sim_messages(const sim *s);
/* Nodes whose table holds at least min(max_peers, n-1) peers. */
size_t sim_nodes_with_full_view(sim *s);
/* Number of nodes reachable from node 0 by following table edges (a broadcast's reach). */
size_t sim_reachable_from(sim *s, size_t start);

#endif
