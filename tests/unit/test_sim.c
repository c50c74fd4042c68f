/* Whole-mesh properties on the in-process simulator: many sans-IO nodes, a fake clock, no sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "../sim/sim.h"

static void converge(sim *s, int max_rounds)
{
    for (int r = 0; r < max_rounds && sim_nodes_with_full_view(s) < sim_size(s); r++)
        sim_step(s, 250);
    for (int r = 0; r < 80; r++) /* 20 more PEX rounds: tables settle */
        sim_step(s, 250);
}

static void assert_exactly_once_everywhere(sim *s, swarm_msg_type type, uint64_t times)
{
    for (size_t i = 0; i < sim_size(s); i++)
        assert_int_equal(swarm_node_get_stats(sim_node(s, i))->delivered[type], times);
}

/* A line of nodes, each bootstrapped only to the previous one, becomes a mesh. */
static void test_line_becomes_mesh(void **state)
{
    (void)state;
    sim_options opt = {.nodes = 40, .max_peers = 8, .pex_interval_ms = 1000, .ping_interval_ms = 5000,
                       .bootstrap = SIM_LINE, .seed = 7};
    sim *s = sim_new(&opt);
    converge(s, 200);
    assert_int_equal(sim_nodes_with_full_view(s), 40);
    for (size_t i = 0; i < 40; i++)
        assert_true(swarm_peer_table_count(swarm_node_peers(sim_node(s, i))) <= 8);
    swarm_node_broadcast(sim_node(s, 39), SWARM_MSG_NEW_TX, cJSON_CreateObject(), (swarm_time){0, 0}, NULL);
    sim_step(s, 1);
    assert_exactly_once_everywhere(s, SWARM_MSG_NEW_TX, 1);
    sim_free(s);
}

/* Small tables: MAX_PEERS is never exceeded, yet every node is reachable and gets every message.
 * A line with 3 peers a node is long and thin, so the hop limit is raised to let gossip cross it. */
static void test_small_tables_still_deliver(void **state)
{
    (void)state;
    sim_options opt = {.nodes = 60, .max_peers = 3, .pex_interval_ms = 1000, .ping_interval_ms = 5000,
                       .max_hops = 64, .bootstrap = SIM_LINE, .seed = 11};
    sim *s = sim_new(&opt);
    converge(s, 200);
    for (size_t i = 0; i < 60; i++) {
        assert_true(swarm_peer_table_count(swarm_node_peers(sim_node(s, i))) <= 3);
        assert_int_equal(sim_reachable_from(s, i), 60);
    }
    swarm_node_broadcast(sim_node(s, 0), SWARM_MSG_NEW_BLOCK, cJSON_CreateObject(), (swarm_time){0, 0}, NULL);
    swarm_node_broadcast(sim_node(s, 59), SWARM_MSG_NEW_TX, cJSON_CreateObject(), (swarm_time){0, 0}, NULL);
    sim_step(s, 1);
    assert_exactly_once_everywhere(s, SWARM_MSG_NEW_BLOCK, 1);
    assert_exactly_once_everywhere(s, SWARM_MSG_NEW_TX, 1);
    sim_free(s);
}

/* Random bootstrap choices: the same, over several seeds. */
static void test_random_bootstrap_meshes(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        sim_options opt = {.nodes = 50, .max_peers = 4, .pex_interval_ms = 1000, .ping_interval_ms = 5000,
                           .bootstrap = SIM_RANDOM, .seed = seed * 7919};
        sim *s = sim_new(&opt);
        converge(s, 200);
        assert_int_equal(sim_reachable_from(s, 25), 50);
        swarm_node_broadcast(sim_node(s, 25), SWARM_MSG_NEW_TX, cJSON_CreateObject(), (swarm_time){0, 0}, NULL);
        sim_step(s, 1);
        assert_exactly_once_everywhere(s, SWARM_MSG_NEW_TX, 1);
        sim_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_becomes_mesh),
        cmocka_unit_test(test_small_tables_still_deliver),
        cmocka_unit_test(test_random_bootstrap_meshes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
