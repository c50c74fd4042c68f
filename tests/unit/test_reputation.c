/* Unit tests for swarm/reputation.h: weighted events, clamping, decay, bans, stats, eviction. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/log.h"
#include "swarm/reputation.h"

#define T0 10000000ull /* monotonic ms */
#define MIN_MS 60000ull
#define HOUR_MS (60 * MIN_MS)
#define EPS 1e-9

static int quiet(void **state)
{
    (void)state;
    swarm_log_set_level(SWARM_LOG_ERROR); /* bans log warnings: keep the test output readable */
    return 0;
}

static swarm_reputation *new_rep(double decay_per_hour, uint64_t ban_ms, size_t max_records)
{
    swarm_reputation_config cfg;
    swarm_reputation_config_defaults(&cfg);
    cfg.decay_per_hour = decay_per_hour;
    if (ban_ms)
        cfg.ban_ms = ban_ms;
    if (max_records)
        cfg.max_records = max_records;
    swarm_reputation *r = swarm_reputation_new(&cfg);
    assert_non_null(r);
    return r;
}

/* Records ev n times; fails if any of them reports a new ban. */
static void record_n(swarm_reputation *r, const char *key, swarm_rep_event ev, int n, uint64_t now)
{
    for (int i = 0; i < n; i++)
        if (swarm_reputation_record(r, key, ev, now, NULL, NULL))
            fail_msg("%s: event %d of %d (%s) banned unexpectedly", key, i + 1, n, swarm_rep_event_name(ev));
}

static void test_defaults(void **state)
{
    (void)state;
    swarm_reputation_config cfg;
    memset(&cfg, 0xab, sizeof cfg);
    swarm_reputation_config_defaults(&cfg);
    assert_float_equal(cfg.initial, 50.0, EPS);
    assert_float_equal(cfg.ban_threshold, 20.0, EPS);
    assert_float_equal(cfg.decay_per_hour, 0.1, EPS);
    assert_int_equal(cfg.ban_ms, 3600000);
    assert_float_equal(cfg.unban_score, 30.0, EPS);
    assert_int_equal(cfg.max_records, SWARM_REP_MAX_RECORDS);

    static const struct {
        swarm_rep_event ev;
        const char *name;
        double weight;
    } expect[] = {
        {SWARM_REP_MESSAGE_SUCCESS, "messageSuccess", 1},  {SWARM_REP_MESSAGE_FAILURE, "messageFailure", -2},
        {SWARM_REP_INVALID_MESSAGE, "invalidMessage", -5}, {SWARM_REP_SPAM_DETECTED, "spamDetected", -10},
        {SWARM_REP_PEER_EXCHANGE, "peerExchange", 2},      {SWARM_REP_HEALTH_CHECK, "healthCheck", 1},
    };
    assert_int_equal(SWARM_REP_EVENT_COUNT, 6);
    /* NULL config = the defaults */
    swarm_reputation *r = swarm_reputation_new(NULL);
    assert_non_null(r);
    assert_float_equal(swarm_reputation_score(r, "nobody", T0), 50.0, EPS);
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        assert_string_equal(swarm_rep_event_name(expect[i].ev), expect[i].name);
        assert_float_equal(cfg.weights[expect[i].ev], expect[i].weight, EPS);
        double before = -1, after = -1;
        assert_false(swarm_reputation_record(r, expect[i].name, expect[i].ev, T0, &before, &after));
        assert_float_equal(before, 50.0, EPS);
        assert_float_equal(after, 50.0 + expect[i].weight, EPS);
        assert_float_equal(swarm_reputation_score(r, expect[i].name, T0), 50.0 + expect[i].weight, EPS);
    }
    assert_string_equal(swarm_rep_event_name(SWARM_REP_EVENT_COUNT), "?");
    /* before/after may be NULL */
    assert_false(swarm_reputation_record(r, "k", SWARM_REP_MESSAGE_SUCCESS, T0, NULL, NULL));
    assert_float_equal(swarm_reputation_score(r, "k", T0), 51.0, EPS);
    swarm_reputation_free(r);
    swarm_reputation_free(NULL);
}

static void test_clamp(void **state)
{
    (void)state;
    swarm_reputation *r = new_rep(0, 0, 0);
    record_n(r, "hi", SWARM_REP_PEER_EXCHANGE, 24, T0);
    assert_float_equal(swarm_reputation_score(r, "hi", T0), 98.0, EPS);
    double before, after;
    swarm_reputation_record(r, "hi", SWARM_REP_PEER_EXCHANGE, T0, &before, &after);
    assert_float_equal(before, 98.0, EPS);
    assert_float_equal(after, 100.0, EPS);
    swarm_reputation_record(r, "hi", SWARM_REP_PEER_EXCHANGE, T0, &before, &after);
    assert_float_equal(before, 100.0, EPS);
    assert_float_equal(after, 100.0, EPS);
    /* from the ceiling, a penalty counts in full */
    swarm_reputation_record(r, "hi", SWARM_REP_SPAM_DETECTED, T0, &before, &after);
    assert_float_equal(after, 90.0, EPS);

    /* 50 -> 40 -> 30 -> 20 -> 10 (ban) -> 0 -> 0 */
    record_n(r, "lo", SWARM_REP_SPAM_DETECTED, 3, T0);
    assert_true(swarm_reputation_record(r, "lo", SWARM_REP_SPAM_DETECTED, T0, NULL, &after));
    assert_float_equal(after, 10.0, EPS);
    swarm_reputation_record(r, "lo", SWARM_REP_SPAM_DETECTED, T0, &before, &after);
    assert_float_equal(before, 10.0, EPS);
    assert_float_equal(after, 0.0, EPS);
    swarm_reputation_record(r, "lo", SWARM_REP_SPAM_DETECTED, T0, &before, &after);
    assert_float_equal(before, 0.0, EPS);
    assert_float_equal(after, 0.0, EPS);
    assert_float_equal(swarm_reputation_score(r, "lo", T0), 0.0, EPS);
    swarm_reputation_free(r);
}

static void test_decay_toward_initial(void **state)
{
    (void)state;
    swarm_reputation *r = new_rep(10.0, 0, 0); /* 10 points an hour: 5 in 30 min */
    record_n(r, "above", SWARM_REP_PEER_EXCHANGE, 5, T0); /* 60 */
    record_n(r, "below", SWARM_REP_INVALID_MESSAGE, 2, T0); /* 40 */
    assert_float_equal(swarm_reputation_score(r, "above", T0), 60.0, EPS);
    assert_float_equal(swarm_reputation_score(r, "below", T0), 40.0, EPS);

    assert_float_equal(swarm_reputation_score(r, "above", T0 + 30 * MIN_MS), 55.0, EPS);
    assert_float_equal(swarm_reputation_score(r, "below", T0 + 30 * MIN_MS), 45.0, EPS);
    /* decay stops at the initial score, it does not overshoot */
    assert_float_equal(swarm_reputation_score(r, "above", T0 + 50 * MIN_MS), 50.0 + 5.0 / 3.0, 1e-6);
    assert_float_equal(swarm_reputation_score(r, "above", T0 + 2 * HOUR_MS), 50.0, EPS);
    assert_float_equal(swarm_reputation_score(r, "below", T0 + 2 * HOUR_MS), 50.0, EPS);
    assert_float_equal(swarm_reputation_score(r, "above", T0 + 5 * HOUR_MS), 50.0, EPS);

    /* decay is applied before an event's weight */
    swarm_reputation *r2 = new_rep(10.0, 0, 0);
    record_n(r2, "k", SWARM_REP_PEER_EXCHANGE, 10, T0); /* 70 */
    double before, after;
    swarm_reputation_record(r2, "k", SWARM_REP_MESSAGE_SUCCESS, T0 + HOUR_MS, &before, &after);
    assert_float_equal(before, 60.0, EPS);
    assert_float_equal(after, 61.0, EPS);
    /* time going backwards (or standing still) changes nothing */
    assert_float_equal(swarm_reputation_score(r2, "k", T0), 61.0, EPS);
    swarm_reputation_free(r2);
    swarm_reputation_free(r);
}

static void test_ban_crossing_threshold(void **state)
{
    (void)state;
    const uint64_t ban_ms = 10 * MIN_MS;
    swarm_reputation *r = new_rep(0, ban_ms, 0);
    double before, after;
    /* 50 45 40 35 30 25 20: 20 is not below the threshold */
    for (int i = 1; i <= 6; i++) {
        assert_false(swarm_reputation_record(r, "bad", SWARM_REP_INVALID_MESSAGE, T0, &before, &after));
        assert_float_equal(after, 50.0 - 5.0 * i, EPS);
        assert_false(swarm_reputation_is_banned(r, "bad", T0));
        assert_int_equal(swarm_reputation_banned_until(r, "bad", T0), 0);
    }
    assert_true(swarm_reputation_record(r, "bad", SWARM_REP_INVALID_MESSAGE, T0, &before, &after));
    assert_float_equal(before, 20.0, EPS);
    assert_float_equal(after, 15.0, EPS);
    assert_true(swarm_reputation_is_banned(r, "bad", T0));
    assert_int_equal(swarm_reputation_banned_until(r, "bad", T0), T0 + ban_ms);
    /* only the event that bans says so */
    assert_false(swarm_reputation_record(r, "bad", SWARM_REP_INVALID_MESSAGE, T0 + 1, &before, &after));
    assert_float_equal(after, 10.0, EPS);
    /* good behaviour while banned does not lift the ban, nor extend it */
    record_n(r, "bad", SWARM_REP_PEER_EXCHANGE, 10, T0 + 2);
    assert_float_equal(swarm_reputation_score(r, "bad", T0 + 2), 30.0, EPS);
    assert_true(swarm_reputation_is_banned(r, "bad", T0 + ban_ms - 1));
    assert_int_equal(swarm_reputation_banned_until(r, "bad", T0 + ban_ms - 1), T0 + ban_ms);

    /* the ban ends ban_ms after it began, with the unban score */
    assert_false(swarm_reputation_is_banned(r, "bad", T0 + ban_ms));
    assert_int_equal(swarm_reputation_banned_until(r, "bad", T0 + ban_ms), 0);
    assert_float_equal(swarm_reputation_score(r, "bad", T0 + ban_ms), 30.0, EPS);
    /* and it can be banned again: 30 -> 25 -> 20 -> 15 */
    assert_false(swarm_reputation_record(r, "bad", SWARM_REP_INVALID_MESSAGE, T0 + ban_ms, NULL, NULL));
    assert_false(swarm_reputation_record(r, "bad", SWARM_REP_INVALID_MESSAGE, T0 + ban_ms, NULL, NULL));
    assert_true(swarm_reputation_record(r, "bad", SWARM_REP_INVALID_MESSAGE, T0 + ban_ms, NULL, NULL));
    assert_int_equal(swarm_reputation_banned_until(r, "bad", T0 + ban_ms), T0 + 2 * ban_ms);

    /* unknown or empty keys are never banned */
    assert_false(swarm_reputation_is_banned(r, "other", T0));
    assert_false(swarm_reputation_is_banned(r, "", T0));
    assert_int_equal(swarm_reputation_banned_until(r, NULL, T0), 0);
    swarm_reputation_free(r);
}

static void test_ban_expiry_lifted_with_unban_score(void **state)
{
    (void)state;
    /* with decay on, a banned score does not creep back up during the ban */
    swarm_reputation *r = new_rep(10.0, HOUR_MS, 0);
    record_n(r, "b", SWARM_REP_SPAM_DETECTED, 3, T0); /* 20 */
    assert_true(swarm_reputation_record(r, "b", SWARM_REP_SPAM_DETECTED, T0, NULL, NULL)); /* 10 */
    assert_float_equal(swarm_reputation_score(r, "b", T0 + 30 * MIN_MS), 10.0, EPS);
    assert_true(swarm_reputation_is_banned(r, "b", T0 + HOUR_MS - 1));
    assert_float_equal(swarm_reputation_score(r, "b", T0 + HOUR_MS), 30.0, EPS);
    assert_false(swarm_reputation_is_banned(r, "b", T0 + HOUR_MS));
    /* after the ban, normal decay toward 50 resumes from the unban time */
    assert_float_equal(swarm_reputation_score(r, "b", T0 + HOUR_MS + 30 * MIN_MS), 35.0, EPS);
    swarm_reputation_free(r);
}

static void test_explicit_ban(void **state)
{
    (void)state;
    const uint64_t ban_ms = 5 * MIN_MS;
    swarm_reputation *r = new_rep(0, ban_ms, 0);
    /* an unknown key: created and banned, with a score below the threshold */
    swarm_reputation_ban(r, "node-x", T0);
    assert_true(swarm_reputation_is_banned(r, "node-x", T0));
    assert_int_equal(swarm_reputation_banned_until(r, "node-x", T0), T0 + ban_ms);
    assert_float_equal(swarm_reputation_score(r, "node-x", T0), 19.0, EPS);
    /* a good score is pulled down to just below the threshold */
    record_n(r, "good", SWARM_REP_PEER_EXCHANGE, 20, T0); /* 90 */
    swarm_reputation_ban(r, "good", T0 + 1);
    assert_float_equal(swarm_reputation_score(r, "good", T0 + 1), 19.0, EPS);
    assert_int_equal(swarm_reputation_banned_until(r, "good", T0 + 1), T0 + 1 + ban_ms);
    /* a score already below it is kept */
    record_n(r, "low", SWARM_REP_SPAM_DETECTED, 3, T0);
    assert_true(swarm_reputation_record(r, "low", SWARM_REP_SPAM_DETECTED, T0, NULL, NULL)); /* 10 */
    swarm_reputation_ban(r, "low", T0 + 100);
    assert_float_equal(swarm_reputation_score(r, "low", T0 + 100), 10.0, EPS);
    assert_int_equal(swarm_reputation_banned_until(r, "low", T0 + 100), T0 + 100 + ban_ms);
    /* lifted on time */
    assert_true(swarm_reputation_is_banned(r, "node-x", T0 + ban_ms - 1));
    assert_false(swarm_reputation_is_banned(r, "node-x", T0 + ban_ms));
    assert_float_equal(swarm_reputation_score(r, "node-x", T0 + ban_ms), 30.0, EPS);
    swarm_reputation_free(r);
}

static void test_stats(void **state)
{
    (void)state;
    swarm_reputation *r = new_rep(0, 0, 0);
    swarm_reputation_stats st;
    memset(&st, 0xab, sizeof st);
    swarm_reputation_stats_get(r, T0, &st);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.banned, 0);
    assert_float_equal(st.average, 0.0, EPS);
    assert_float_equal(st.min, 0.0, EPS);
    assert_float_equal(st.max, 0.0, EPS);
    for (int i = 0; i < 5; i++)
        assert_int_equal(st.buckets[i], 0);

    record_n(r, "s51", SWARM_REP_MESSAGE_SUCCESS, 1, T0);   /* 51  -> bucket 2 */
    record_n(r, "s40", SWARM_REP_INVALID_MESSAGE, 2, T0);   /* 40  -> bucket 2 */
    record_n(r, "s20", SWARM_REP_INVALID_MESSAGE, 6, T0);   /* 20  -> bucket 1, not banned */
    record_n(r, "s15", SWARM_REP_INVALID_MESSAGE, 6, T0);
    assert_true(swarm_reputation_record(r, "s15", SWARM_REP_INVALID_MESSAGE, T0, NULL, NULL)); /* 15 banned */
    record_n(r, "s100", SWARM_REP_PEER_EXCHANGE, 30, T0);   /* 100 -> bucket 4 */
    record_n(r, "s80", SWARM_REP_PEER_EXCHANGE, 15, T0);    /* 80  -> bucket 4 */
    record_n(r, "s79", SWARM_REP_PEER_EXCHANGE, 14, T0);
    record_n(r, "s79", SWARM_REP_MESSAGE_SUCCESS, 1, T0);   /* 79  -> bucket 3 */

    swarm_reputation_stats_get(r, T0, &st);
    assert_int_equal(st.count, 7);
    assert_int_equal(st.banned, 1);
    assert_float_equal(st.min, 15.0, EPS);
    assert_float_equal(st.max, 100.0, EPS);
    assert_float_equal(st.average, (51.0 + 40 + 20 + 15 + 100 + 80 + 79) / 7.0, 1e-9);
    assert_int_equal(st.buckets[0], 1);
    assert_int_equal(st.buckets[1], 1);
    assert_int_equal(st.buckets[2], 2);
    assert_int_equal(st.buckets[3], 1);
    assert_int_equal(st.buckets[4], 2);

    /* the stats see an expired ban lifted */
    swarm_reputation_stats_get(r, T0 + SWARM_REP_DEFAULT_BAN_MS, &st);
    assert_int_equal(st.banned, 0);
    assert_float_equal(st.min, 20.0, EPS);
    assert_int_equal(st.buckets[0], 0);
    assert_int_equal(st.buckets[1], 2); /* 20 and the unbanned 30 */
    swarm_reputation_free(r);
}

typedef struct ban_seen {
    char keys[8][32];
    uint64_t until[8];
    double score[8];
    int n;
} ban_seen;

static void collect_ban(void *ctx, const char *key, uint64_t until, double score)
{
    ban_seen *b = ctx;
    assert_true(b->n < 8);
    snprintf(b->keys[b->n], sizeof b->keys[b->n], "%s", key);
    b->until[b->n] = until;
    b->score[b->n] = score;
    b->n++;
}

static int find_ban(const ban_seen *b, const char *key)
{
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->keys[i], key) == 0)
            return i;
    return -1;
}

static void test_each_ban(void **state)
{
    (void)state;
    const uint64_t ban_ms = 10 * MIN_MS;
    swarm_reputation *r = new_rep(0, ban_ms, 0);
    ban_seen seen = {0};
    swarm_reputation_each_ban(r, T0, collect_ban, &seen);
    assert_int_equal(seen.n, 0);

    record_n(r, "ok", SWARM_REP_MESSAGE_SUCCESS, 1, T0);
    record_n(r, "low-not-banned", SWARM_REP_INVALID_MESSAGE, 6, T0); /* 20 */
    record_n(r, "by-events", SWARM_REP_SPAM_DETECTED, 3, T0);
    assert_true(swarm_reputation_record(r, "by-events", SWARM_REP_SPAM_DETECTED, T0, NULL, NULL));
    swarm_reputation_ban(r, "by-call", T0 + 1000);
    swarm_reputation_ban(r, "short", T0 - ban_ms + 5000); /* ends at T0 + 5000 */

    swarm_reputation_each_ban(r, T0 + 2000, collect_ban, &seen);
    assert_int_equal(seen.n, 3);
    int i = find_ban(&seen, "by-events");
    assert_true(i >= 0);
    assert_int_equal(seen.until[i], T0 + ban_ms);
    assert_float_equal(seen.score[i], 10.0, EPS);
    i = find_ban(&seen, "by-call");
    assert_true(i >= 0);
    assert_int_equal(seen.until[i], T0 + 1000 + ban_ms);
    assert_float_equal(seen.score[i], 19.0, EPS);
    assert_true(find_ban(&seen, "short") >= 0);
    assert_int_equal(find_ban(&seen, "ok"), -1);
    assert_int_equal(find_ban(&seen, "low-not-banned"), -1);

    /* an expired ban is not visited */
    memset(&seen, 0, sizeof seen);
    swarm_reputation_each_ban(r, T0 + 5000, collect_ban, &seen);
    assert_int_equal(seen.n, 2);
    assert_int_equal(find_ban(&seen, "short"), -1);
    swarm_reputation_free(r);
}

static void test_max_records(void **state)
{
    (void)state;
    swarm_reputation *r = new_rep(0, 0, 3);
    swarm_reputation_stats st;
    record_n(r, "a", SWARM_REP_MESSAGE_SUCCESS, 1, T0); /* 51 */
    record_n(r, "b", SWARM_REP_MESSAGE_SUCCESS, 2, T0); /* 52 */
    record_n(r, "c", SWARM_REP_MESSAGE_SUCCESS, 3, T0); /* 53 */
    swarm_reputation_stats_get(r, T0, &st);
    assert_int_equal(st.count, 3);
    /* a fourth key pushes out the oldest, which comes back as a stranger */
    record_n(r, "d", SWARM_REP_MESSAGE_SUCCESS, 4, T0); /* 54 */
    swarm_reputation_stats_get(r, T0, &st);
    assert_int_equal(st.count, 3);
    assert_float_equal(swarm_reputation_score(r, "a", T0), 50.0, EPS);
    assert_float_equal(swarm_reputation_score(r, "b", T0), 52.0, EPS);
    assert_float_equal(swarm_reputation_score(r, "d", T0), 54.0, EPS);
    /* updating an existing key evicts nothing */
    record_n(r, "b", SWARM_REP_MESSAGE_SUCCESS, 1, T0);
    swarm_reputation_stats_get(r, T0, &st);
    assert_int_equal(st.count, 3);
    assert_float_equal(swarm_reputation_score(r, "c", T0), 53.0, EPS);
    swarm_reputation_free(r);

    /* banned records survive eviction: the oldest unbanned goes instead */
    r = new_rep(0, 0, 3);
    swarm_reputation_ban(r, "banned", T0);
    record_n(r, "x", SWARM_REP_MESSAGE_SUCCESS, 1, T0);
    record_n(r, "y", SWARM_REP_MESSAGE_SUCCESS, 1, T0);
    record_n(r, "z", SWARM_REP_MESSAGE_SUCCESS, 1, T0);
    assert_true(swarm_reputation_is_banned(r, "banned", T0));
    assert_float_equal(swarm_reputation_score(r, "x", T0), 50.0, EPS); /* evicted */
    assert_float_equal(swarm_reputation_score(r, "y", T0), 51.0, EPS);
    record_n(r, "w", SWARM_REP_MESSAGE_SUCCESS, 1, T0);
    assert_true(swarm_reputation_is_banned(r, "banned", T0));
    assert_float_equal(swarm_reputation_score(r, "y", T0), 50.0, EPS); /* evicted */
    swarm_reputation_stats_get(r, T0, &st);
    assert_int_equal(st.count, 3);
    assert_int_equal(st.banned, 1);

    /* when every record is banned, the oldest ban goes: the bound holds against a flood of keys */
    swarm_reputation_ban(r, "z", T0);
    swarm_reputation_ban(r, "w", T0);
    swarm_reputation_ban(r, "v", T0);
    assert_false(swarm_reputation_is_banned(r, "banned", T0));
    swarm_reputation_stats_get(r, T0, &st);
    assert_int_equal(st.count, 3);
    assert_int_equal(st.banned, 3);
    assert_true(swarm_reputation_is_banned(r, "z", T0));
    assert_true(swarm_reputation_is_banned(r, "w", T0));
    assert_true(swarm_reputation_is_banned(r, "v", T0));
    swarm_reputation_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_clamp),
        cmocka_unit_test(test_decay_toward_initial),
        cmocka_unit_test(test_ban_crossing_threshold),
        cmocka_unit_test(test_ban_expiry_lifted_with_unban_score),
        cmocka_unit_test(test_explicit_ban),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_each_ban),
        cmocka_unit_test(test_max_records),
    };
    return cmocka_run_group_tests(tests, quiet, NULL);
}
