/* Unit tests for swarm/peer_table.h: add/find/remove, the node-id index, capacity and iteration. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "swarm/peer_table.h"

static int setup_table(void **state)
{
    *state = swarm_peer_table_new(4);
    return *state ? 0 : -1;
}

static int teardown_table(void **state)
{
    swarm_peer_table_free(*state);
    return 0;
}

/* Adds a peer that must be new and returns its record. */
static swarm_peer *add_new(swarm_peer_table *t, const char *host, uint16_t port, const char *type)
{
    swarm_peer *p = NULL;
    assert_int_equal(swarm_peer_table_add(t, host, port, type, SWARM_SOURCE_MANUAL, 1000, &p),
                     SWARM_PEER_ADDED);
    assert_non_null(p);
    return p;
}

static void test_add_then_exists(void **state)
{
    swarm_peer_table *t = *state;
    swarm_peer *p = NULL, *q = NULL;
    assert_int_equal(swarm_peer_table_add(t, "10.0.0.1", 3009, "NS", SWARM_SOURCE_BOOTSTRAP, 1234, &p),
                     SWARM_PEER_ADDED);
    assert_non_null(p);
    assert_string_equal(p->id, "10.0.0.1:3009");
    assert_string_equal(p->host, "10.0.0.1");
    assert_int_equal(p->port, 3009);
    assert_string_equal(p->node_type, "NS");
    assert_string_equal(p->node_id, "");
    assert_int_equal(p->source, SWARM_SOURCE_BOOTSTRAP);
    assert_int_equal(p->status, SWARM_PEER_PENDING);
    assert_int_equal(p->added_at, 1234);
    assert_int_equal(p->last_seen, 0);

    /* same host:port, even with another type and source, is the same record */
    assert_int_equal(swarm_peer_table_add(t, "10.0.0.1", 3009, "GW", SWARM_SOURCE_PEX, 9999, &q),
                     SWARM_PEER_EXISTS);
    assert_ptr_equal(q, p);
    assert_string_equal(p->node_type, "NS");
    assert_int_equal(p->added_at, 1234);
    assert_int_equal(swarm_peer_table_count(t), 1);
}

static void test_same_host_other_port_is_another_peer(void **state)
{
    swarm_peer_table *t = *state;
    swarm_peer *a = add_new(t, "h", 1, NULL);
    swarm_peer *b = add_new(t, "h", 2, "");
    assert_ptr_not_equal(a, b);
    assert_string_equal(a->node_type, "");
    assert_string_equal(b->id, "h:2");
    assert_int_equal(swarm_peer_table_count(t), 2);
}

static void test_add_out_may_be_null(void **state)
{
    swarm_peer_table *t = *state;
    assert_int_equal(swarm_peer_table_add(t, "h", 1, NULL, SWARM_SOURCE_PEX, 0, NULL), SWARM_PEER_ADDED);
    assert_int_equal(swarm_peer_table_add(t, "h", 1, NULL, SWARM_SOURCE_PEX, 0, NULL), SWARM_PEER_EXISTS);
    assert_non_null(swarm_peer_table_find(t, "h:1"));
}

static void test_ipv6_id(void **state)
{
    swarm_peer_table *t = *state;
    swarm_peer *p = add_new(t, "::1", 3009, "NS");
    assert_string_equal(p->id, "[::1]:3009");
    assert_string_equal(p->host, "::1");
    assert_ptr_equal(swarm_peer_table_find(t, "[::1]:3009"), p);
    assert_null(swarm_peer_table_find(t, "::1:3009"));

    char id[SWARM_PEER_ID_MAX];
    swarm_peer_make_id("fe80::1", 65535, id);
    assert_string_equal(id, "[fe80::1]:65535");
    swarm_peer_make_id("example.com", 80, id);
    assert_string_equal(id, "example.com:80");
}

static void test_capacity_enforced(void **state)
{
    swarm_peer_table *t = *state;
    assert_int_equal(swarm_peer_table_capacity(t), 4);
    for (uint16_t port = 1; port <= 4; port++)
        add_new(t, "h", port, NULL);
    swarm_peer *out = NULL;
    assert_int_equal(swarm_peer_table_add(t, "h", 5, NULL, SWARM_SOURCE_PEX, 0, &out), SWARM_PEER_FULL);
    assert_null(out);
    assert_int_equal(swarm_peer_table_count(t), 4);
    assert_null(swarm_peer_table_find(t, "h:5"));
    for (uint16_t port = 1; port <= 4; port++) {
        char id[SWARM_PEER_ID_MAX];
        swarm_peer_make_id("h", port, id);
        assert_non_null(swarm_peer_table_find(t, id));
    }
    /* an existing peer is still found when full */
    assert_int_equal(swarm_peer_table_add(t, "h", 2, NULL, SWARM_SOURCE_PEX, 0, NULL), SWARM_PEER_EXISTS);
    /* a freed slot can be reused */
    assert_int_equal(swarm_peer_table_remove(t, "h:1"), 0);
    assert_int_equal(swarm_peer_table_add(t, "h", 5, NULL, SWARM_SOURCE_PEX, 0, NULL), SWARM_PEER_ADDED);
}

static void test_zero_capacity_refuses_all(void **state)
{
    (void)state;
    swarm_peer_table *t = swarm_peer_table_new(0);
    assert_non_null(t);
    assert_int_equal(swarm_peer_table_add(t, "h", 1, NULL, SWARM_SOURCE_PEX, 0, NULL), SWARM_PEER_FULL);
    assert_int_equal(swarm_peer_table_count(t), 0);
    swarm_peer_table_free(t);
}

static void test_invalid_inputs(void **state)
{
    swarm_peer_table *t = *state;
    swarm_peer *out = NULL;
    assert_int_equal(swarm_peer_table_add(t, "", 1, NULL, SWARM_SOURCE_PEX, 0, &out), SWARM_PEER_INVALID);
    assert_int_equal(swarm_peer_table_add(t, "bad host", 1, NULL, SWARM_SOURCE_PEX, 0, &out),
                     SWARM_PEER_INVALID);
    assert_int_equal(swarm_peer_table_add(t, "-x", 1, NULL, SWARM_SOURCE_PEX, 0, &out), SWARM_PEER_INVALID);
    assert_int_equal(swarm_peer_table_add(t, "h", 0, NULL, SWARM_SOURCE_PEX, 0, &out), SWARM_PEER_INVALID);
    assert_int_equal(swarm_peer_table_add(t, "h", 1, "N S", SWARM_SOURCE_PEX, 0, &out),
                     SWARM_PEER_INVALID);
    assert_int_equal(swarm_peer_table_add(t, "h", 1, "0123456789012345678901234567890123",
                                          SWARM_SOURCE_PEX, 0, &out),
                     SWARM_PEER_INVALID);
    assert_null(out);
    assert_int_equal(swarm_peer_table_count(t), 0);
}

static void test_find_unknown(void **state)
{
    swarm_peer_table *t = *state;
    add_new(t, "h", 1, NULL);
    assert_null(swarm_peer_table_find(t, "h:2"));
    assert_null(swarm_peer_table_find(t, ""));
    assert_null(swarm_peer_table_find_node(t, "nobody"));
    assert_null(swarm_peer_table_find_node(t, ""));
    assert_null(swarm_peer_table_find_node(t, NULL));
}

static void test_set_and_find_node(void **state)
{
    swarm_peer_table *t = *state;
    swarm_peer *a = add_new(t, "a", 1, "NS");
    swarm_peer *b = add_new(t, "b", 2, "GW");
    assert_int_equal(swarm_peer_table_set_node_id(t, a, "ns-1"), 0);
    assert_int_equal(swarm_peer_table_set_node_id(t, b, "gw-1"), 0);
    assert_string_equal(a->node_id, "ns-1");
    assert_ptr_equal(swarm_peer_table_find_node(t, "ns-1"), a);
    assert_ptr_equal(swarm_peer_table_find_node(t, "gw-1"), b);
    /* setting the same id again is a no-op success */
    assert_int_equal(swarm_peer_table_set_node_id(t, a, "ns-1"), 0);
    assert_ptr_equal(swarm_peer_table_find_node(t, "ns-1"), a);
}

static void test_set_node_id_conflict(void **state)
{
    swarm_peer_table *t = *state;
    swarm_peer *a = add_new(t, "a", 1, NULL);
    swarm_peer *b = add_new(t, "b", 2, NULL);
    assert_int_equal(swarm_peer_table_set_node_id(t, a, "same"), 0);
    assert_int_equal(swarm_peer_table_set_node_id(t, b, "b-id"), 0);

    assert_int_equal(swarm_peer_table_set_node_id(t, b, "same"), -1);
    /* nothing changed: b keeps its old id, the index still points at the right records */
    assert_string_equal(b->node_id, "b-id");
    assert_string_equal(a->node_id, "same");
    assert_ptr_equal(swarm_peer_table_find_node(t, "same"), a);
    assert_ptr_equal(swarm_peer_table_find_node(t, "b-id"), b);

    /* once a lets go of the id, b can take it */
    assert_int_equal(swarm_peer_table_remove(t, "a:1"), 0);
    assert_null(swarm_peer_table_find_node(t, "same"));
    assert_int_equal(swarm_peer_table_set_node_id(t, b, "same"), 0);
    assert_ptr_equal(swarm_peer_table_find_node(t, "same"), b);
    assert_null(swarm_peer_table_find_node(t, "b-id"));
}

static void test_change_and_clear_node_id(void **state)
{
    swarm_peer_table *t = *state;
    swarm_peer *a = add_new(t, "a", 1, NULL);
    assert_int_equal(swarm_peer_table_set_node_id(t, a, "old"), 0);
    assert_int_equal(swarm_peer_table_set_node_id(t, a, "new"), 0);
    assert_null(swarm_peer_table_find_node(t, "old"));
    assert_ptr_equal(swarm_peer_table_find_node(t, "new"), a);

    assert_int_equal(swarm_peer_table_set_node_id(t, a, ""), 0);
    assert_string_equal(a->node_id, "");
    assert_null(swarm_peer_table_find_node(t, "new"));
    /* clearing an already clear id is fine too */
    assert_int_equal(swarm_peer_table_set_node_id(t, a, ""), 0);
    /* and the peer itself is still there */
    assert_ptr_equal(swarm_peer_table_find(t, "a:1"), a);
}

static void test_remove(void **state)
{
    swarm_peer_table *t = *state;
    swarm_peer *a = add_new(t, "a", 1, NULL);
    add_new(t, "b", 2, NULL);
    assert_int_equal(swarm_peer_table_set_node_id(t, a, "a-id"), 0);
    assert_int_equal(swarm_peer_table_remove(t, "a:1"), 0);
    assert_null(swarm_peer_table_find(t, "a:1"));
    assert_null(swarm_peer_table_find_node(t, "a-id"));
    assert_int_equal(swarm_peer_table_count(t), 1);
    assert_int_equal(swarm_peer_table_remove(t, "a:1"), -1);
    assert_int_equal(swarm_peer_table_remove(t, "nope:9"), -1);
    assert_int_equal(swarm_peer_table_count(t), 1);
    assert_non_null(swarm_peer_table_find(t, "b:2"));
}

static void test_count_type(void **state)
{
    swarm_peer_table *t = *state;
    add_new(t, "a", 1, "NS");
    add_new(t, "b", 2, "GW");
    add_new(t, "c", 3, "NS");
    add_new(t, "d", 4, NULL);
    assert_int_equal(swarm_peer_table_count(t), 4);
    assert_int_equal(swarm_peer_table_count_type(t, "NS"), 2);
    assert_int_equal(swarm_peer_table_count_type(t, "GW"), 1);
    assert_int_equal(swarm_peer_table_count_type(t, "VP"), 0);
    assert_int_equal(swarm_peer_table_count_type(t, "ns"), 0); /* case-sensitive */
    assert_int_equal(swarm_peer_table_count_type(t, ""), 1);
}

static void test_iteration_in_insertion_order(void **state)
{
    swarm_peer_table *t = *state;
    static const char *const ids[] = {"d:4", "b:2", "c:3", "a:1"};
    add_new(t, "d", 4, NULL);
    add_new(t, "b", 2, NULL);
    add_new(t, "c", 3, NULL);
    add_new(t, "a", 1, NULL);
    size_t i = 0;
    for (swarm_peer *p = swarm_peer_table_first(t); p; p = swarm_peer_table_next(p), i++) {
        assert_true(i < 4);
        assert_string_equal(p->id, ids[i]);
    }
    assert_int_equal(i, 4);
}

static void test_iteration_survives_removing_current(void **state)
{
    swarm_peer_table *t = *state;
    add_new(t, "a", 1, NULL);
    add_new(t, "b", 2, NULL);
    add_new(t, "c", 3, NULL);
    add_new(t, "d", 4, NULL);
    char seen[8] = "";
    for (swarm_peer *p = swarm_peer_table_first(t), *next; p; p = next) {
        next = swarm_peer_table_next(p);
        strncat(seen, p->host, sizeof seen - strlen(seen) - 1);
        if (p->port % 2 == 1) /* remove a and c, including the head */
            assert_int_equal(swarm_peer_table_remove(t, p->id), 0);
    }
    assert_string_equal(seen, "abcd");
    assert_int_equal(swarm_peer_table_count(t), 2);
    swarm_peer *p = swarm_peer_table_first(t);
    assert_string_equal(p->id, "b:2");
    p = swarm_peer_table_next(p);
    assert_string_equal(p->id, "d:4");
    assert_null(swarm_peer_table_next(p));
}

static void test_empty_table(void **state)
{
    swarm_peer_table *t = *state;
    assert_null(swarm_peer_table_first(t));
    assert_int_equal(swarm_peer_table_count(t), 0);
    assert_int_equal(swarm_peer_table_count_type(t, "NS"), 0);
}

static void test_many_peers(void **state)
{
    (void)state;
    enum { N = 10000 };
    swarm_peer_table *t = swarm_peer_table_new(N);
    assert_non_null(t);
    char host[32], nid[32];
    for (unsigned i = 0; i < N; i++) {
        snprintf(host, sizeof host, "10.%u.%u.1", i / 256, i % 256);
        swarm_peer *p = NULL;
        assert_int_equal(swarm_peer_table_add(t, host, (uint16_t)(1000 + i % 5), i % 2 ? "NS" : "GW",
                                              SWARM_SOURCE_PEX, i, &p),
                         SWARM_PEER_ADDED);
        if (i % 3 == 0) {
            snprintf(nid, sizeof nid, "node-%u", i);
            assert_int_equal(swarm_peer_table_set_node_id(t, p, nid), 0);
        }
    }
    assert_int_equal(swarm_peer_table_count(t), N);
    assert_int_equal(swarm_peer_table_count_type(t, "NS"), N / 2);
    assert_int_equal(swarm_peer_table_add(t, "spare", 1, NULL, SWARM_SOURCE_PEX, 0, NULL), SWARM_PEER_FULL);
    swarm_peer *p = swarm_peer_table_find_node(t, "node-9999");
    assert_non_null(p);
    assert_string_equal(p->id, "10.39.15.1:1004");
    swarm_peer_table_free(t); /* with node ids set: ASan checks nothing leaks */
}

static void test_free_null(void **state)
{
    (void)state;
    swarm_peer_table_free(NULL);
}

static void test_source_names(void **state)
{
    (void)state;
    assert_string_equal(swarm_peer_source_name(SWARM_SOURCE_BOOTSTRAP), "bootstrap");
    assert_string_equal(swarm_peer_source_name(SWARM_SOURCE_PEX), "pex");
    assert_string_equal(swarm_peer_source_name(SWARM_SOURCE_MANUAL), "manual");
    assert_string_equal(swarm_peer_source_name((swarm_peer_source)7), "?");

    swarm_peer_source s = SWARM_SOURCE_MANUAL;
    assert_int_equal(swarm_peer_source_parse("bootstrap", &s), 0);
    assert_int_equal(s, SWARM_SOURCE_BOOTSTRAP);
    assert_int_equal(swarm_peer_source_parse("pex", &s), 0);
    assert_int_equal(s, SWARM_SOURCE_PEX);
    assert_int_equal(swarm_peer_source_parse("manual", &s), 0);
    assert_int_equal(s, SWARM_SOURCE_MANUAL);
    assert_int_equal(swarm_peer_source_parse("PEX", &s), -1);
    assert_int_equal(swarm_peer_source_parse("", &s), -1);
    assert_int_equal(s, SWARM_SOURCE_MANUAL); /* untouched on failure */
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(swarm_peer_status_name(SWARM_PEER_PENDING), "pending");
    assert_string_equal(swarm_peer_status_name(SWARM_PEER_ACTIVE), "active");
    assert_string_equal(swarm_peer_status_name(SWARM_PEER_UNREACHABLE), "unreachable");
    assert_string_equal(swarm_peer_status_name((swarm_peer_status)3), "?");
}

#define TABLE_TEST(f) cmocka_unit_test_setup_teardown(f, setup_table, teardown_table)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TABLE_TEST(test_add_then_exists),
        TABLE_TEST(test_same_host_other_port_is_another_peer),
        TABLE_TEST(test_add_out_may_be_null),
        TABLE_TEST(test_ipv6_id),
        TABLE_TEST(test_capacity_enforced),
        cmocka_unit_test(test_zero_capacity_refuses_all),
        TABLE_TEST(test_invalid_inputs),
        TABLE_TEST(test_find_unknown),
        TABLE_TEST(test_set_and_find_node),
        TABLE_TEST(test_set_node_id_conflict),
        TABLE_TEST(test_change_and_clear_node_id),
        TABLE_TEST(test_remove),
        TABLE_TEST(test_count_type),
        TABLE_TEST(test_iteration_in_insertion_order),
        TABLE_TEST(test_iteration_survives_removing_current),
        TABLE_TEST(test_empty_table),
        cmocka_unit_test(test_many_peers),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_source_names),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
