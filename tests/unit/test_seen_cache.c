/* Unit tests for swarm/seen_cache.h: the bounded, expiring dedup cache of message ids. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/seen_cache.h"

#define T0 1000000u /* a monotonic start well away from 0 */

static void id_of(size_t i, char out[32]) { snprintf(out, 32, "msg-%zu", i); }

static void test_insert_new_then_duplicate(void **state)
{
    (void)state;
    swarm_seen_cache *c = swarm_seen_cache_new(16, 60000);
    assert_non_null(c);
    assert_int_equal(swarm_seen_cache_count(c), 0);
    assert_false(swarm_seen_cache_contains(c, "a", T0));

    assert_true(swarm_seen_cache_insert(c, "a", T0));
    assert_int_equal(swarm_seen_cache_count(c), 1);
    assert_true(swarm_seen_cache_contains(c, "a", T0));
    assert_false(swarm_seen_cache_insert(c, "a", T0));
    assert_false(swarm_seen_cache_insert(c, "a", T0 + 10));
    assert_int_equal(swarm_seen_cache_count(c), 1);

    /* ids are compared whole: prefixes and case variants are other ids */
    assert_true(swarm_seen_cache_insert(c, "ab", T0));
    assert_true(swarm_seen_cache_insert(c, "A", T0));
    assert_false(swarm_seen_cache_contains(c, "b", T0));
    assert_int_equal(swarm_seen_cache_count(c), 3);
    swarm_seen_cache_free(c);
}

static void test_zero_capacity_refused(void **state)
{
    (void)state;
    assert_null(swarm_seen_cache_new(0, 1000));
    swarm_seen_cache_free(NULL); /* harmless */
}

static void test_capacity_bound(void **state)
{
    (void)state;
    enum { CAP = 8, TOTAL = 10 * CAP };
    swarm_seen_cache *c = swarm_seen_cache_new(CAP, 3600000);
    assert_non_null(c);
    char id[32];
    for (size_t i = 0; i < TOTAL; i++) {
        id_of(i, id);
        assert_true(swarm_seen_cache_insert(c, id, T0 + i));
        size_t expect = i + 1 < CAP ? i + 1 : CAP;
        assert_int_equal(swarm_seen_cache_count(c), expect);
    }
    assert_int_equal(swarm_seen_cache_count(c), CAP);
    for (size_t i = 0; i < TOTAL; i++) {
        id_of(i, id);
        bool present = swarm_seen_cache_contains(c, id, T0 + TOTAL);
        if (present != (i >= TOTAL - CAP))
            fail_msg("%s: present=%d, expected %d", id, present, i >= TOTAL - CAP);
    }
    /* an evicted id is new again, and evicts the oldest survivor */
    id_of(0, id);
    assert_true(swarm_seen_cache_insert(c, id, T0 + TOTAL));
    assert_int_equal(swarm_seen_cache_count(c), CAP);
    id_of(TOTAL - CAP, id);
    assert_false(swarm_seen_cache_contains(c, id, T0 + TOTAL));
    id_of(TOTAL - CAP + 1, id);
    assert_true(swarm_seen_cache_contains(c, id, T0 + TOTAL));
    swarm_seen_cache_free(c);
}

static void test_duplicate_does_not_evict(void **state)
{
    (void)state;
    swarm_seen_cache *c = swarm_seen_cache_new(2, 3600000);
    assert_true(swarm_seen_cache_insert(c, "x", T0));
    assert_true(swarm_seen_cache_insert(c, "y", T0 + 1));
    /* a full cache seeing a known id again drops nothing */
    assert_false(swarm_seen_cache_insert(c, "y", T0 + 2));
    assert_false(swarm_seen_cache_insert(c, "x", T0 + 3));
    assert_int_equal(swarm_seen_cache_count(c), 2);
    assert_true(swarm_seen_cache_contains(c, "x", T0 + 4));
    assert_true(swarm_seen_cache_contains(c, "y", T0 + 4));
    swarm_seen_cache_free(c);
}

static void test_expiry_after_ttl(void **state)
{
    (void)state;
    const uint64_t ttl = 1000, t = T0 + 5000;
    swarm_seen_cache *c = swarm_seen_cache_new(16, ttl);
    assert_true(swarm_seen_cache_insert(c, "m", t));
    assert_true(swarm_seen_cache_contains(c, "m", t + ttl - 1));
    assert_false(swarm_seen_cache_insert(c, "m", t + ttl - 1));
    assert_int_equal(swarm_seen_cache_count(c), 1);
    assert_false(swarm_seen_cache_contains(c, "m", t + ttl));
    assert_int_equal(swarm_seen_cache_count(c), 0);
    swarm_seen_cache_free(c);
}

static void test_ttl_counts_from_first_sighting(void **state)
{
    (void)state;
    /* seeing an id again does not extend its life: it is forgotten ttl after it was first seen */
    swarm_seen_cache *c = swarm_seen_cache_new(16, 1000);
    assert_true(swarm_seen_cache_insert(c, "m", T0));
    assert_false(swarm_seen_cache_insert(c, "m", T0 + 900));
    assert_true(swarm_seen_cache_contains(c, "m", T0 + 999));
    assert_false(swarm_seen_cache_contains(c, "m", T0 + 1000));
    swarm_seen_cache_free(c);
}

static void test_expire_returns_count(void **state)
{
    (void)state;
    swarm_seen_cache *c = swarm_seen_cache_new(16, 1000);
    assert_true(swarm_seen_cache_insert(c, "a1", T0));
    assert_true(swarm_seen_cache_insert(c, "a2", T0));
    assert_true(swarm_seen_cache_insert(c, "a3", T0));
    assert_true(swarm_seen_cache_insert(c, "b1", T0 + 500));
    assert_true(swarm_seen_cache_insert(c, "b2", T0 + 500));
    assert_int_equal(swarm_seen_cache_count(c), 5);

    assert_int_equal(swarm_seen_cache_expire(c, T0 + 999), 0);
    assert_int_equal(swarm_seen_cache_count(c), 5);
    assert_int_equal(swarm_seen_cache_expire(c, T0 + 1000), 3);
    assert_int_equal(swarm_seen_cache_count(c), 2);
    assert_int_equal(swarm_seen_cache_expire(c, T0 + 1000), 0);
    assert_true(swarm_seen_cache_contains(c, "b1", T0 + 1499));
    assert_int_equal(swarm_seen_cache_expire(c, T0 + 1500), 2);
    assert_int_equal(swarm_seen_cache_count(c), 0);
    assert_int_equal(swarm_seen_cache_expire(c, T0 + 99999), 0);
    swarm_seen_cache_free(c);
}

static void test_reinsert_after_expiry_is_new(void **state)
{
    (void)state;
    swarm_seen_cache *c = swarm_seen_cache_new(16, 1000);
    assert_true(swarm_seen_cache_insert(c, "m", T0));
    assert_true(swarm_seen_cache_insert(c, "m", T0 + 1000));
    assert_int_equal(swarm_seen_cache_count(c), 1);
    /* and its new life starts at the re-insert */
    assert_false(swarm_seen_cache_insert(c, "m", T0 + 1999));
    assert_true(swarm_seen_cache_insert(c, "m", T0 + 2000));
    swarm_seen_cache_free(c);
}

static void test_capacity_one(void **state)
{
    (void)state;
    swarm_seen_cache *c = swarm_seen_cache_new(1, 1000);
    assert_non_null(c);
    assert_true(swarm_seen_cache_insert(c, "a", T0));
    assert_false(swarm_seen_cache_insert(c, "a", T0));
    assert_true(swarm_seen_cache_insert(c, "b", T0));
    assert_int_equal(swarm_seen_cache_count(c), 1);
    assert_false(swarm_seen_cache_contains(c, "a", T0));
    assert_true(swarm_seen_cache_contains(c, "b", T0));
    assert_true(swarm_seen_cache_insert(c, "a", T0));
    assert_false(swarm_seen_cache_contains(c, "b", T0));
    assert_int_equal(swarm_seen_cache_count(c), 1);
    assert_int_equal(swarm_seen_cache_expire(c, T0 + 1000), 1);
    assert_int_equal(swarm_seen_cache_count(c), 0);
    assert_true(swarm_seen_cache_insert(c, "a", T0 + 1000));
    swarm_seen_cache_free(c);
}

static void test_long_ids(void **state)
{
    (void)state;
    /* ids up to the wire limit (128 chars) differing only in the last character */
    char a[129], b[129];
    memset(a, 'x', 128);
    a[128] = 0;
    memcpy(b, a, sizeof b);
    b[127] = 'y';
    swarm_seen_cache *c = swarm_seen_cache_new(4, 1000);
    assert_true(swarm_seen_cache_insert(c, a, T0));
    assert_true(swarm_seen_cache_insert(c, b, T0));
    assert_false(swarm_seen_cache_insert(c, a, T0));
    assert_int_equal(swarm_seen_cache_count(c), 2);
    swarm_seen_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_new_then_duplicate),
        cmocka_unit_test(test_zero_capacity_refused),
        cmocka_unit_test(test_capacity_bound),
        cmocka_unit_test(test_duplicate_does_not_evict),
        cmocka_unit_test(test_expiry_after_ttl),
        cmocka_unit_test(test_ttl_counts_from_first_sighting),
        cmocka_unit_test(test_expire_returns_count),
        cmocka_unit_test(test_reinsert_after_expiry_is_new),
        cmocka_unit_test(test_capacity_one),
        cmocka_unit_test(test_long_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
