/* Figures, not asserts: builds meshes of N in-process nodes (bootstrapped at random), lets PEX
 * run, then broadcasts and reports coverage, duplicates per delivery, and processing speed.
 * The reference figure printed beside the mesh's message rate is a bare envelope decode in the
 * same run, so the ratio says how much of the core's time goes beyond parsing. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../sim/sim.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double decode_rate(void)
{
    const char *json = "{\"id\":\"sim-1-1795400000000-abcdefghi\",\"type\":\"NEW_TX\",\"payload\":{\"tx\":\"0123456789abcdef\",\"n\":1},"
                       "\"originNodeId\":\"sim-1\",\"timestamp\":\"2026-11-23T10:00:00.000Z\",\"hops\":3}";
    size_t len = strlen(json);
    int n = 200000;
    double t0 = seconds();
    for (int i = 0; i < n; i++) {
        swarm_envelope env;
        char err[64];
        if (swarm_envelope_decode(json, len, &env, err, sizeof err) == 0)
            swarm_envelope_clear(&env);
    }
    return n / (seconds() - t0);
}

static void run(size_t nodes, unsigned max_peers)
{
    sim_options opt = {.nodes = nodes, .max_peers = max_peers, .pex_interval_ms = 1000,
                       .ping_interval_ms = 5000, .bootstrap = SIM_RANDOM, .seed = 42};
    double t0 = seconds();
    sim *s = sim_new(&opt);
    int rounds = 0;
    while (rounds < 120 && sim_nodes_with_full_view(s) < nodes) {
        sim_step(s, 250);
        rounds++;
    }
    for (int r = 0; r < 40; r++) /* ten more PEX rounds: tables settle */
        sim_step(s, 250);
    double t_build = seconds() - t0;
    size_t reach = sim_reachable_from(s, 0);
    uint64_t before = sim_messages(s);
    const int broadcasts = 20;
    double t1 = seconds();
    for (int b = 0; b < broadcasts; b++) {
        swarm_node_broadcast(sim_node(s, (size_t)b * 7919 % nodes), SWARM_MSG_NEW_TX, cJSON_CreateObject(),
                             (swarm_time){0, 0}, NULL);
        sim_step(s, 1);
    }
    double t_gossip = seconds() - t1;
    uint64_t gossip_msgs = sim_messages(s) - before;
    size_t covered = 0;
    for (size_t i = 0; i < nodes; i++) {
        const swarm_node_stats *st = swarm_node_get_stats(sim_node(s, i));
        covered += st->delivered[SWARM_MSG_NEW_TX] == (uint64_t)broadcasts;
    }
    printf("nodes %5zu  MAX_PEERS %2u | full view after %3d rounds (%.2f s), %zu reachable from node 0 | "
           "%d broadcasts: %zu/%zu nodes got all, %.2f copies per delivery, %.0f msg/s through the core\n",
           nodes, max_peers, rounds, t_build, reach, broadcasts, covered, nodes,
           (double)gossip_msgs / ((double)broadcasts * (double)nodes), (double)gossip_msgs / t_gossip);
    sim_free(s);
}

int main(void)
{
    double ref = decode_rate();
    printf("reference: envelope decode alone %.0f msg/s\n", ref);
    run(100, 8);
    run(1000, 8);
    run(1000, 4);
    run(2000, 8);
    return 0;
}
