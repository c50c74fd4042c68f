/* Unit tests for swarm/node.h, the sans-IO protocol core, driven with a fake clock and a fake io
 * that records every send and every peer removal: relay target selection, broadcast, peer
 * exchange, health checks, reputation-driven bans and spam limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/log.h"
#include "swarm/node.h"

#define T0_MONO 5000000ull
#define T0_WALL 1700000000000ull
#define MAX_SENT 512
#define MAX_REMOVED 32
#define EPS 1e-9

/* ------------------------------------------------------------------ fixture */

typedef struct sent_msg {
    char peer_id[SWARM_PEER_ID_MAX];
    char host[SWARM_HOST_MAX];
    uint16_t port;
    swarm_msg_type type;
    char *json;
} sent_msg;

typedef struct fixture {
    swarm_config cfg;
    swarm_node *node;
    sent_msg sent[MAX_SENT];
    size_t n_sent;
    char removed[MAX_REMOVED][SWARM_PEER_ID_MAX];
    size_t n_removed;
    unsigned delivered;
    char delivered_id[SWARM_MSG_ID_MAX];
    int delivered_hops;
} fixture;

/* A peer as the tests name it: its address, node id and table id. */
typedef struct peer_ref {
    const char *host;
    uint16_t port;
    const char *node_id;
    const char *id;
} peer_ref;

static const peer_ref A = {"10.0.0.1", 4001, "node-a", "10.0.0.1:4001"};
static const peer_ref B = {"10.0.0.2", 4002, "node-b", "10.0.0.2:4002"};
static const peer_ref C = {"10.0.0.3", 4003, "node-c", "10.0.0.3:4003"};
static const peer_ref D = {"10.0.0.4", 4004, "node-d", "10.0.0.4:4004"};
static const peer_ref E = {"10.0.0.5", 4005, "node-e", "10.0.0.5:4005"};
static const peer_ref F = {"10.0.0.6", 4006, "node-f", "10.0.0.6:4006"};
static const peer_ref G = {"10.0.0.7", 4007, "node-g", "10.0.0.7:4007"};
static const peer_ref H = {"10.0.0.8", 4008, "node-h", "10.0.0.8:4008"};
static const peer_ref X = {"10.0.0.9", 4009, "node-x", "10.0.0.9:4009"};

static swarm_time at(uint64_t ms) { return (swarm_time){.mono = T0_MONO + ms, .wall = T0_WALL + ms}; }

static void fake_send(void *ctx, const swarm_peer *peer, swarm_msg_type type, const char *json, size_t len)
{
    fixture *f = ctx;
    if (f->n_sent >= MAX_SENT)
        fail_msg("too many sends");
    assert_non_null(peer);
    assert_non_null(json);
    assert_int_equal(strlen(json), len);
    sent_msg *m = &f->sent[f->n_sent++];
    snprintf(m->peer_id, sizeof m->peer_id, "%s", peer->id);
    snprintf(m->host, sizeof m->host, "%s", peer->host);
    m->port = peer->port;
    m->type = type;
    m->json = malloc(len + 1);
    assert_non_null(m->json);
    memcpy(m->json, json, len + 1);
}

static void fake_removed(void *ctx, const char *peer_id)
{
    fixture *f = ctx;
    if (f->n_removed >= MAX_REMOVED)
        fail_msg("too many removals");
    /* told before the record goes: it must still be in the table */
    assert_non_null(swarm_peer_table_find(swarm_node_peers(f->node), peer_id));
    snprintf(f->removed[f->n_removed++], SWARM_PEER_ID_MAX, "%s", peer_id);
}

static void on_deliver(void *user, const swarm_envelope *env)
{
    fixture *f = user;
    f->delivered++;
    snprintf(f->delivered_id, sizeof f->delivered_id, "%s", env->id);
    f->delivered_hops = env->hops;
}

static void clear_sent(fixture *f)
{
    for (size_t i = 0; i < f->n_sent; i++)
        free(f->sent[i].json);
    f->n_sent = 0;
}

static int setup(void **state)
{
    swarm_log_set_level(SWARM_LOG_ERROR);
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    swarm_config_defaults(&f->cfg, "NS", 3009);
    /* no decay, so scores can be compared exactly across the fake clock's steps */
    f->cfg.reputation.decay_per_hour = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    clear_sent(f);
    swarm_node_free(f->node);
    free(f);
    return 0;
}

/* Creates the node from f->cfg (tweaked by the test) at time 0. */
static void start(fixture *f)
{
    swarm_node_io io = {.ctx = f, .send = fake_send, .peer_removed = fake_removed};
    f->node = swarm_node_new(&f->cfg, "ns-test", &io, at(0));
    assert_non_null(f->node);
    swarm_node_set_deliver(f->node, on_deliver, f);
}

static swarm_peer_table *peers(fixture *f) { return swarm_node_peers(f->node); }
static swarm_peer *find(fixture *f, const char *id) { return swarm_peer_table_find(peers(f), id); }
static const swarm_node_stats *stats(fixture *f) { return swarm_node_get_stats(f->node); }
static double score(fixture *f, const char *key, swarm_time now)
{
    return swarm_reputation_score(swarm_node_reputation(f->node), key, now.mono);
}

/* Adds a peer as an operator would and gives it its node id. */
static void add_known(fixture *f, const peer_ref *r, swarm_time now)
{
    swarm_peer *p = NULL;
    assert_int_equal(swarm_node_add_peer(f->node, r->host, r->port, "VP", SWARM_SOURCE_MANUAL, now, &p),
                     SWARM_ADD_ADDED);
    assert_non_null(p);
    assert_string_equal(p->id, r->id);
    assert_int_equal(swarm_peer_table_set_node_id(peers(f), p, r->node_id), 0);
}

static size_t sent_count(fixture *f, const char *peer_id, swarm_msg_type type)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_sent; i++)
        if (strcmp(f->sent[i].peer_id, peer_id) == 0 && f->sent[i].type == type)
            n++;
    return n;
}

static int sent_index(fixture *f, const char *peer_id, swarm_msg_type type)
{
    for (size_t i = 0; i < f->n_sent; i++)
        if (strcmp(f->sent[i].peer_id, peer_id) == 0 && f->sent[i].type == type)
            return (int)i;
    return -1;
}

static void sent_envelope(fixture *f, int i, swarm_envelope *env)
{
    assert_true(i >= 0 && (size_t)i < f->n_sent);
    char err[256];
    if (swarm_envelope_decode(f->sent[i].json, strlen(f->sent[i].json), env, err, sizeof err) != 0)
        fail_msg("sent message does not decode (%s): %s", err, f->sent[i].json);
    assert_int_equal(env->type, f->sent[i].type);
}

/* Hands json to the node as coming from host:port with node_id (NULL/0 = unknown). */
static void recv_json(fixture *f, const char *host, uint16_t port, const char *node_id, const char *json,
                      swarm_time now, swarm_msg_result *res)
{
    swarm_envelope env;
    char err[256];
    if (swarm_envelope_decode(json, strlen(json), &env, err, sizeof err) != 0)
        fail_msg("test message does not decode (%s): %s", err, json);
    swarm_from from = {.host = host, .port = port, .node_id = node_id, .via_link = false};
    memset(res, 0xab, sizeof *res);
    swarm_node_on_message(f->node, &from, &env, now, res);
    swarm_envelope_clear(&env);
}

static void msg_json(char *buf, size_t cap, const char *type, const char *id, const char *origin, int hops,
                     const char *payload)
{
    int n = snprintf(buf, cap,
                     "{\"id\":\"%s\",\"type\":\"%s\",\"payload\":%s,\"originNodeId\":\"%s\","
                     "\"timestamp\":\"2026-11-23T10:00:00.000Z\",\"hops\":%d,\"signature\":\"sig-%s\"}",
                     id, type, payload, origin, hops, id);
    assert_true(n > 0 && (size_t)n < cap);
}

/* A message from peer r (attributed through node id and port, as the transport does). */
static void recv_from(fixture *f, const peer_ref *r, const char *type, const char *id, const char *origin,
                      int hops, swarm_time now, swarm_msg_result *res)
{
    char buf[1024];
    msg_json(buf, sizeof buf, type, id, origin, hops, "{\"n\":1}");
    recv_json(f, r->host, r->port, r->node_id, buf, now, res);
}

/* A PEER_LIST from r listing `entries` (JSON array body), with `extra` payload fields. */
static void recv_peer_list(fixture *f, const peer_ref *r, const char *msg_id, const char *entries,
                           const char *extra, swarm_time now, swarm_msg_result *res)
{
    char payload[4096], buf[8192];
    int n = snprintf(payload, sizeof payload,
                     "{\"peers\":[%s],\"senderNodeType\":\"VP\",\"senderPort\":%u,\"senderNodeId\":\"%s\"%s}",
                     entries, r->port, r->node_id, extra);
    assert_true(n > 0 && (size_t)n < sizeof payload);
    msg_json(buf, sizeof buf, "PEER_LIST", msg_id, r->node_id, 0, payload);
    recv_json(f, r->host, r->port, r->node_id, buf, now, res);
}

/* r sends us its (empty) PEER_LIST: we learn its id and type, and it counts as handshaken. */
static void handshake(fixture *f, const peer_ref *r, swarm_time now)
{
    swarm_msg_result res;
    char id[64];
    snprintf(id, sizeof id, "hs-%s-%llu", r->node_id, (unsigned long long)now.mono);
    recv_peer_list(f, r, id, "", "", now, &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    swarm_peer *p = find(f, r->id);
    assert_non_null(p);
    assert_true(p->handshaken);
    assert_string_equal(p->node_id, r->node_id);
}

static bool was_removed(fixture *f, const char *id)
{
    for (size_t i = 0; i < f->n_removed; i++)
        if (strcmp(f->removed[i], id) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------ relay */

static void test_relay_targets(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    add_known(f, &C, at(0));

    swarm_msg_result res;
    recv_from(f, &A, "NEW_TX", "tx-1", C.node_id, 2, at(10), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    assert_true(res.relayed);
    assert_int_equal(res.relay_count, 1);
    assert_int_equal(stats(f)->received, 1);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 1);
    assert_int_equal(stats(f)->relayed, 1);
    assert_int_equal(f->delivered, 1);
    assert_string_equal(f->delivered_id, "tx-1");
    assert_int_equal(f->delivered_hops, 2); /* delivered as received */

    /* relayed to B only: not back to A (the sender), not to C (the origin) */
    assert_int_equal(f->n_sent, 1);
    assert_string_equal(f->sent[0].peer_id, B.id);
    assert_int_equal(f->sent[0].type, SWARM_MSG_NEW_TX);
    swarm_envelope env;
    sent_envelope(f, 0, &env);
    assert_string_equal(env.id, "tx-1");
    assert_string_equal(env.origin, "node-c");
    assert_int_equal(env.hops, 3);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(env.payload, "n")), 1);
    /* unknown fields (signatures) survive the relay */
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(env.json, "signature")), "sig-tx-1");
    swarm_envelope_clear(&env);

    swarm_delivery recent[4];
    assert_int_equal(swarm_node_recent(f->node, recent, 4), 1);
    assert_string_equal(recent[0].id, "tx-1");
    assert_string_equal(recent[0].from, A.id);
    assert_string_equal(recent[0].origin, "node-c");
    assert_int_equal(recent[0].hops, 2);
    assert_int_equal(recent[0].type, SWARM_MSG_NEW_TX);
    assert_int_equal(recent[0].at_wall, at(10).wall);
    /* the sender earned messageSuccess */
    assert_float_equal(score(f, A.id, at(10)), 51.0, EPS);

    /* the same id again, from B: a duplicate, dropped quietly */
    clear_sent(f);
    recv_from(f, &B, "NEW_TX", "tx-1", C.node_id, 3, at(20), &res);
    assert_int_equal(res.status, 200);
    assert_false(res.processed);
    assert_false(res.relayed);
    assert_int_equal(res.relay_count, 0);
    assert_non_null(strstr(res.reason, "duplicate"));
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(stats(f)->duplicates, 1);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 1);
    assert_int_equal(stats(f)->relayed, 1);
    assert_int_equal(f->delivered, 1);
    assert_float_equal(score(f, B.id, at(20)), 50.0, EPS); /* not a fault of B's */
}

static void test_relay_unknown_sender_goes_to_all_but_origin(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    add_known(f, &C, at(0));
    /* from an address that is no peer of ours: everyone but the origin (A) gets it */
    swarm_msg_result res;
    char buf[512];
    msg_json(buf, sizeof buf, "NEW_BLOCK", "blk-1", A.node_id, 1, "{}");
    recv_json(f, "10.0.0.99", 4099, "node-stranger", buf, at(5), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    assert_int_equal(res.relay_count, 2);
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(sent_count(f, B.id, SWARM_MSG_NEW_BLOCK), 1);
    assert_int_equal(sent_count(f, C.id, SWARM_MSG_NEW_BLOCK), 1);
    assert_int_equal(sent_count(f, A.id, SWARM_MSG_NEW_BLOCK), 0);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_BLOCK], 1);
}

static void test_hop_limit(void **state)
{
    fixture *f = *state;
    start(f);
    assert_int_equal(f->cfg.max_hops, 10);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    add_known(f, &C, at(0));

    swarm_msg_result res;
    /* one below the limit: relayed, arriving at the limit */
    recv_from(f, &A, "NEW_BLOCK", "blk-9", C.node_id, 9, at(1), &res);
    assert_true(res.processed);
    assert_int_equal(res.relay_count, 1);
    assert_int_equal(f->n_sent, 1);
    swarm_envelope env;
    sent_envelope(f, 0, &env);
    assert_int_equal(env.hops, 10);
    swarm_envelope_clear(&env);
    assert_int_equal(stats(f)->hop_limited, 0);

    /* at the limit: delivered, not relayed */
    clear_sent(f);
    recv_from(f, &A, "NEW_BLOCK", "blk-10", C.node_id, 10, at(2), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    assert_false(res.relayed);
    assert_int_equal(res.relay_count, 0);
    assert_non_null(strstr(res.reason, "hop limit"));
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_BLOCK], 2);
    assert_int_equal(stats(f)->hop_limited, 1);
    assert_int_equal(f->delivered, 2);
    assert_string_equal(f->delivered_id, "blk-10");

    /* past it too */
    recv_from(f, &A, "NEW_TX", "tx-50", C.node_id, 50, at(3), &res);
    assert_true(res.processed);
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(stats(f)->hop_limited, 2);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 1);
}

static void test_own_echo_not_delivered(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    swarm_msg_result res;
    recv_from(f, &A, "NEW_TX", "ns-test-1700000000000-abcdefghi", "ns-test", 1, at(1), &res);
    assert_int_equal(res.status, 200);
    assert_false(res.processed);
    assert_false(res.relayed);
    assert_string_equal(res.reason, "own message");
    assert_int_equal(stats(f)->own_echoes, 1);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 0);
    assert_int_equal(f->delivered, 0);
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(swarm_node_recent(f->node, NULL, 0), 0);
}

static void test_unknown_type(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    swarm_msg_result res;
    recv_from(f, &A, "FOO", "foo-1", A.node_id, 0, at(1), &res);
    assert_int_equal(res.status, 400);
    assert_false(res.processed);
    assert_non_null(strstr(res.reason, "FOO"));
    assert_int_equal(stats(f)->invalid, 1);
    assert_float_equal(score(f, A.id, at(1)), 45.0, EPS);
    assert_float_equal(score(f, B.id, at(1)), 50.0, EPS);
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(f->delivered, 0);

    /* a sender that is no peer is penalised under its address */
    recv_json(f, "10.0.0.99", 4099, NULL,
              "{\"id\":\"bar-1\",\"type\":\"BAR\",\"payload\":{},\"originNodeId\":\"zz\",\"hops\":4}", at(2), &res);
    assert_int_equal(res.status, 400);
    assert_float_equal(score(f, "10.0.0.99:4099", at(2)), 45.0, EPS);
    assert_int_equal(stats(f)->invalid, 2);

    /* and an undecodable one through on_invalid costs the same */
    swarm_from from = {.host = A.host, .port = A.port, .node_id = A.node_id};
    swarm_node_on_invalid(f->node, &from, "Invalid message format: missing id", at(3), &res);
    assert_int_equal(res.status, 400);
    assert_string_equal(res.reason, "Invalid message format: missing id");
    assert_float_equal(score(f, A.id, at(3)), 40.0, EPS);
    assert_int_equal(stats(f)->invalid, 3);
}

static void test_banned_sender_refused(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    add_known(f, &C, at(0));
    swarm_reputation *rep = swarm_node_reputation(f->node);
    swarm_reputation_ban(rep, B.id, at(1).mono);

    swarm_msg_result res;
    recv_from(f, &B, "NEW_TX", "tx-b", B.node_id, 0, at(2), &res);
    assert_int_equal(res.status, 403);
    assert_false(res.processed);
    assert_string_equal(res.reason, "peer banned");
    assert_int_equal(stats(f)->refused_banned, 1);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 0);
    assert_int_equal(f->n_sent, 0);
    swarm_from fb = {.host = B.host, .port = B.port, .node_id = B.node_id};
    assert_true(swarm_node_sender_banned(f->node, &fb, at(2)));
    swarm_from fa = {.host = A.host, .port = A.port, .node_id = A.node_id};
    assert_false(swarm_node_sender_banned(f->node, &fa, at(2)));

    /* nothing is relayed to a banned peer: from A, origin C, B banned -> no target */
    recv_from(f, &A, "NEW_TX", "tx-a", C.node_id, 1, at(3), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    assert_int_equal(res.relay_count, 0);
    assert_int_equal(f->n_sent, 0);

    /* a sender known only by a banned node id */
    swarm_reputation_ban(rep, "node-z", at(4).mono);
    char buf[512];
    msg_json(buf, sizeof buf, "NEW_TX", "tx-z", "node-q", 2, "{}");
    recv_json(f, "10.0.0.26", 0, "node-z", buf, at(5), &res);
    assert_int_equal(res.status, 403);
    /* a message straight from a banned origin (hops 0, nothing else known) */
    msg_json(buf, sizeof buf, "NEW_TX", "tx-z2", "node-z", 0, "{}");
    recv_json(f, "10.0.0.27", 0, NULL, buf, at(6), &res);
    assert_int_equal(res.status, 403);
    assert_int_equal(stats(f)->refused_banned, 3);

    /* undecodable traffic from a banned sender is refused too */
    swarm_node_on_invalid(f->node, &fb, "Invalid message format: body is not valid JSON", at(7), &res);
    assert_int_equal(res.status, 403);
    assert_int_equal(stats(f)->refused_banned, 4);
}

/* ------------------------------------------------------------------ broadcast */

static void test_broadcast(void **state)
{
    fixture *f = *state;
    start(f);
    char id[SWARM_MSG_ID_MAX];

    /* no peers: delivered here, sent nowhere */
    assert_int_equal(swarm_node_broadcast(f->node, SWARM_MSG_NEW_TX, NULL, at(1), id), 0);
    assert_int_equal(f->delivered, 1);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 1);
    /* only gossip types can be broadcast; the payload is taken either way */
    assert_int_equal(swarm_node_broadcast(f->node, SWARM_MSG_PING, cJSON_CreateObject(), at(1), id), -1);
    assert_int_equal(stats(f)->originated, 1);

    add_known(f, &A, at(2));
    add_known(f, &B, at(2));
    add_known(f, &C, at(2));
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddNumberToObject(payload, "height", 7);
    memset(id, 0, sizeof id);
    int n = swarm_node_broadcast(f->node, SWARM_MSG_NEW_BLOCK, payload, at(100), id);
    assert_int_equal(n, 3);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "ns-test-%llu-", (unsigned long long)at(100).wall);
    assert_memory_equal(id, prefix, strlen(prefix));
    assert_int_equal(strlen(id), strlen(prefix) + 9);
    assert_int_equal(stats(f)->originated, 2);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_BLOCK], 1);
    assert_int_equal(stats(f)->relayed, 3);
    assert_int_equal(f->delivered, 2);
    assert_string_equal(f->delivered_id, id);
    assert_int_equal(f->delivered_hops, 0);

    assert_int_equal(f->n_sent, 3);
    const peer_ref *all[] = {&A, &B, &C};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sent_count(f, all[i]->id, SWARM_MSG_NEW_BLOCK), 1);
        swarm_envelope env;
        sent_envelope(f, sent_index(f, all[i]->id, SWARM_MSG_NEW_BLOCK), &env);
        assert_string_equal(env.id, id);
        assert_string_equal(env.origin, "ns-test");
        assert_string_equal(env.type_name, "NEW_BLOCK");
        assert_int_equal(env.hops, 0);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(env.payload, "height")), 7);
        swarm_envelope_clear(&env);
    }

    /* it comes back from B, one hop on: dropped, not delivered again, not relayed */
    char *echo = f->sent[0].json;
    f->sent[0].json = NULL;
    clear_sent(f);
    swarm_msg_result res;
    recv_json(f, B.host, B.port, B.node_id, echo, at(200), &res);
    free(echo);
    assert_int_equal(res.status, 200);
    assert_false(res.processed);
    assert_int_equal(stats(f)->own_echoes, 1);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_BLOCK], 1);
    assert_int_equal(f->delivered, 2);
    assert_int_equal(f->n_sent, 0);

    /* id_out may be NULL */
    assert_int_equal(swarm_node_broadcast(f->node, SWARM_MSG_NEW_TX, NULL, at(300), NULL), 3);
}

/* ------------------------------------------------------------------ peer exchange */

static void test_pex_merge(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    swarm_reputation *rep = swarm_node_reputation(f->node);
    swarm_reputation_ban(rep, "10.0.0.9:4009", at(0).mono);
    swarm_reputation_ban(rep, "node-banned", at(0).mono);
    (void)swarm_node_take_dirty(f->node);

    const char *entries =
        "{\"host\":\"10.0.0.4\",\"port\":4004,\"nodeType\":\"VP\",\"nodeId\":\"node-d\"},"  /* D: new */
        "{\"host\":\"10.0.0.5\",\"port\":4005,\"nodeType\":\"GW\"},"                        /* E: new, no id */
        "{\"host\":\"127.0.0.1\",\"port\":3009,\"nodeType\":\"NS\"},"                       /* self */
        "{\"host\":\"localhost\",\"port\":3009},"                                           /* self */
        "{\"host\":\"10.0.0.77\",\"port\":5077,\"nodeId\":\"ns-test\"},"                    /* self by id */
        "{\"host\":\"10.0.0.22\",\"port\":4002,\"nodeId\":\"node-b\"},"                     /* B elsewhere */
        "{\"host\":\"10.0.0.9\",\"port\":4009},"                                            /* banned addr */
        "{\"host\":\"10.0.0.10\",\"port\":4010,\"nodeId\":\"node-banned\"},"                /* banned id */
        "{\"host\":\"10.0.0.1\",\"port\":4001,\"nodeId\":\"node-a\"}";                      /* A itself */
    swarm_msg_result res;
    recv_peer_list(f, &A, "pl-1", entries, "", at(10), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);

    assert_int_equal(swarm_peer_table_count(peers(f)), 4);
    swarm_peer *d = find(f, D.id);
    assert_non_null(d);
    assert_int_equal(d->source, SWARM_SOURCE_PEX);
    assert_string_equal(d->node_type, "VP");
    assert_string_equal(d->node_id, "node-d");
    assert_ptr_equal(swarm_peer_table_find_node(peers(f), "node-d"), d);
    assert_false(d->handshaken);
    swarm_peer *e = find(f, E.id);
    assert_non_null(e);
    assert_int_equal(e->source, SWARM_SOURCE_PEX);
    assert_string_equal(e->node_type, "GW");
    assert_string_equal(e->node_id, "");
    assert_null(find(f, "127.0.0.1:3009"));
    assert_null(find(f, "localhost:3009"));
    assert_null(find(f, "10.0.0.77:5077"));
    assert_null(find(f, "10.0.0.22:4002"));
    assert_null(find(f, "10.0.0.9:4009"));
    assert_null(find(f, "10.0.0.10:4010"));
    /* the ones we had are untouched */
    swarm_peer *b = find(f, B.id);
    assert_non_null(b);
    assert_int_equal(b->source, SWARM_SOURCE_MANUAL);
    assert_ptr_equal(swarm_peer_table_find_node(peers(f), "node-b"), b);
    swarm_peer *a = find(f, A.id);
    assert_non_null(a);
    assert_true(a->handshaken);
    assert_int_equal(a->status, SWARM_PEER_ACTIVE);
    assert_int_equal(a->last_contact, at(10).mono);
    /* a valid PEER_LIST is worth peerExchange to its sender; no hello, no answer */
    assert_float_equal(score(f, A.id, at(10)), 52.0, EPS);
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(f->n_removed, 0);
    assert_true(swarm_node_take_dirty(f->node));
    assert_false(swarm_node_take_dirty(f->node));
}

static void test_pex_full_table(void **state)
{
    fixture *f = *state;
    f->cfg.max_peers = 3;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    char entries[1024];
    snprintf(entries, sizeof entries,
             "{\"host\":\"%s\",\"port\":%u},{\"host\":\"%s\",\"port\":%u},{\"host\":\"%s\",\"port\":%u}", D.host,
             D.port, E.host, E.port, F.host, F.port);
    swarm_msg_result res;
    recv_peer_list(f, &A, "pl-full", entries, "", at(10), &res);
    assert_int_equal(res.status, 200);
    assert_int_equal(swarm_peer_table_count(peers(f)), 3);
    assert_non_null(find(f, A.id));
    assert_non_null(find(f, B.id));
    assert_non_null(find(f, D.id));
    assert_null(find(f, E.id));
    assert_null(find(f, F.id));
    assert_int_equal(f->n_removed, 0);
    assert_int_equal(swarm_node_add_peer(f->node, E.host, E.port, NULL, SWARM_SOURCE_MANUAL, at(11), NULL),
                     SWARM_ADD_FULL);

    /* a node that contacts us itself displaces one we only heard of (D, from PEX) */
    recv_peer_list(f, &G, "pl-g", "", ",\"hello\":true", at(20), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    assert_int_equal(f->n_removed, 1);
    assert_string_equal(f->removed[0], D.id);
    assert_null(find(f, D.id));
    swarm_peer *g = find(f, G.id);
    assert_non_null(g);
    assert_string_equal(g->node_id, "node-g");
    assert_int_equal(f->n_sent, 1);
    swarm_envelope env;
    sent_envelope(f, sent_index(f, G.id, SWARM_MSG_PEER_LIST), &env);
    swarm_peer_list pl;
    char err[128];
    assert_int_equal(swarm_peer_list_decode(env.payload, &pl, err, sizeof err), 0);
    assert_int_equal(pl.accepted, 1);
    swarm_peer_list_clear(&pl);
    swarm_envelope_clear(&env);

    /* now every peer is either configured or in touch: a newcomer is refused, and told so */
    clear_sent(f);
    recv_peer_list(f, &H, "pl-h", "", ",\"hello\":true", at(30), &res);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.reason, "full"));
    assert_null(find(f, H.id));
    assert_int_equal(swarm_peer_table_count(peers(f)), 3);
    assert_int_equal(f->n_removed, 1);
    assert_int_equal(f->n_sent, 1);
    assert_string_equal(f->sent[0].peer_id, H.id);
    assert_int_equal(f->sent[0].port, H.port);
    sent_envelope(f, 0, &env);
    assert_int_equal(swarm_peer_list_decode(env.payload, &pl, err, sizeof err), 0);
    assert_int_equal(pl.accepted, 0);
    assert_false(pl.hello);
    assert_int_equal(pl.n, 3);
    swarm_peer_list_clear(&pl);
    swarm_envelope_clear(&env);
}

static bool list_has(const swarm_peer_list *pl, const char *host, uint16_t port)
{
    for (size_t i = 0; i < pl->n; i++)
        if (strcmp(pl->peers[i].host, host) == 0 && pl->peers[i].port == port)
            return true;
    return false;
}

static void test_pex_hello_answered(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    swarm_msg_result res;
    recv_peer_list(f, &A, "pl-hello", "", ",\"hello\":true", at(10), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    assert_int_equal(f->n_sent, 1);
    assert_string_equal(f->sent[0].peer_id, A.id);
    assert_int_equal(f->sent[0].type, SWARM_MSG_PEER_LIST);

    swarm_envelope env;
    sent_envelope(f, 0, &env);
    assert_string_equal(env.origin, "ns-test");
    assert_int_equal(env.hops, 0);
    swarm_peer_list pl;
    char err[128];
    assert_int_equal(swarm_peer_list_decode(env.payload, &pl, err, sizeof err), 0);
    assert_int_equal(pl.accepted, 1);
    assert_false(pl.hello); /* an answer does not ask for one back */
    assert_string_equal(pl.sender_id, "ns-test");
    assert_string_equal(pl.sender_type, "NS");
    assert_int_equal(pl.sender_port, 3009);
    assert_int_equal(pl.n, 1); /* B, not A itself */
    assert_true(list_has(&pl, B.host, B.port));
    assert_string_equal(pl.peers[0].node_id, "node-b");
    swarm_peer_list_clear(&pl);
    swarm_envelope_clear(&env);

    /* a hello from a stranger with room: added (learned directly, source pex) and accepted */
    clear_sent(f);
    recv_peer_list(f, &G, "pl-g", "", ",\"hello\":true", at(20), &res);
    assert_int_equal(res.status, 200);
    swarm_peer *g = find(f, G.id);
    assert_non_null(g);
    assert_int_equal(g->source, SWARM_SOURCE_PEX);
    assert_true(g->handshaken);
    assert_int_equal(f->n_sent, 1);
    assert_string_equal(f->sent[0].peer_id, G.id);
    sent_envelope(f, 0, &env);
    assert_int_equal(swarm_peer_list_decode(env.payload, &pl, err, sizeof err), 0);
    assert_int_equal(pl.accepted, 1);
    assert_int_equal(pl.n, 2);
    assert_true(list_has(&pl, A.host, A.port));
    assert_true(list_has(&pl, B.host, B.port));
    swarm_peer_list_clear(&pl);
    swarm_envelope_clear(&env);

    /* a PEER_LIST claiming to come from this node itself is dropped */
    clear_sent(f);
    char buf[512];
    msg_json(buf, sizeof buf, "PEER_LIST", "pl-self", "ns-test", 0,
             "{\"peers\":[],\"senderNodeType\":\"NS\",\"senderPort\":3009,\"senderNodeId\":\"ns-test\",\"hello\":true}");
    recv_json(f, "127.0.0.1", 3009, "ns-test", buf, at(30), &res);
    assert_int_equal(res.status, 200);
    assert_false(res.processed);
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(swarm_peer_table_count(peers(f)), 3);
}

/* ------------------------------------------------------------------ health */

static void health_config(fixture *f)
{
    f->cfg.ping_interval_ms = 1000;
    f->cfg.max_failures = 3;
    f->cfg.pex_interval_ms = 1000000000ull; /* keep PEX rounds out of the way */
}

static void test_ping_rounds_and_failure_removal(void **state)
{
    fixture *f = *state;
    health_config(f);
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    handshake(f, &A, at(0));
    handshake(f, &B, at(0));
    assert_int_equal(f->n_sent, 0);

    /* nothing due before the interval */
    assert_int_equal(swarm_node_tick(f->node, at(999)), at(1000).mono);
    assert_int_equal(f->n_sent, 0);

    assert_int_equal(swarm_node_tick(f->node, at(1000)), at(2000).mono);
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(sent_count(f, A.id, SWARM_MSG_PING), 1);
    assert_int_equal(sent_count(f, B.id, SWARM_MSG_PING), 1);
    swarm_envelope env;
    sent_envelope(f, sent_index(f, A.id, SWARM_MSG_PING), &env);
    assert_string_equal(env.origin, "ns-test");
    assert_int_equal((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(env.payload, "timestamp")),
                     (long long)at(1000).wall);
    swarm_envelope_clear(&env);
    assert_true(find(f, A.id)->ping_outstanding);

    /* B answers every PING (the HTTP 2xx reply is its PONG); A never does */
    double b_before = score(f, B.id, at(1000));
    swarm_node_on_sent(f->node, B.id, SWARM_MSG_PING, 200, NULL, 0, at(1010));
    assert_float_equal(score(f, B.id, at(1010)), b_before + 1, EPS);
    for (unsigned round = 1; round <= 3; round++) {
        clear_sent(f);
        swarm_time now = at(1000 + 1000 * round);
        swarm_node_tick(f->node, now);
        assert_int_equal(sent_count(f, B.id, SWARM_MSG_PING), 1);
        swarm_node_on_sent(f->node, B.id, SWARM_MSG_PING, 200, NULL, 0, at(1010 + 1000 * round));
        swarm_peer *a = find(f, A.id);
        if (round < 3) {
            assert_non_null(a);
            assert_int_equal(a->failures, round);
            assert_int_equal(a->status, SWARM_PEER_UNREACHABLE);
            assert_int_equal(f->n_removed, 0);
            assert_int_equal(stats(f)->peers_removed, 0);
        } else {
            assert_null(a);
        }
    }
    assert_int_equal(f->n_removed, 1);
    assert_string_equal(f->removed[0], A.id);
    assert_int_equal(stats(f)->peers_removed, 1);
    assert_int_equal(stats(f)->peers_pruned, 0);
    swarm_peer *b = find(f, B.id);
    assert_non_null(b);
    assert_int_equal(b->failures, 0);
    assert_int_equal(b->status, SWARM_PEER_ACTIVE);
    assert_int_equal(swarm_peer_table_count(peers(f)), 1);
}

static void test_failures_reset_by_any_sign_of_life(void **state)
{
    fixture *f = *state;
    health_config(f);
    start(f);
    add_known(f, &A, at(0));
    handshake(f, &A, at(0));
    swarm_msg_result res;

    /* three ways back to zero failures: a PONG, a 2xx to our PING, any other message */
    for (int way = 0; way < 3; way++) {
        uint64_t base = 10000 * (uint64_t)way;
        swarm_node_tick(f->node, at(base + 1000)); /* PING */
        swarm_node_tick(f->node, at(base + 2000)); /* missed: 1 */
        swarm_node_tick(f->node, at(base + 3000)); /* missed: 2 */
        swarm_peer *a = find(f, A.id);
        assert_non_null(a);
        assert_int_equal(a->failures, 2);
        double before = score(f, A.id, at(base + 3500));
        if (way == 0) {
            recv_from(f, &A, "PONG", "pong-1", A.node_id, 0, at(base + 3500), &res);
            assert_int_equal(res.status, 200);
            assert_float_equal(score(f, A.id, at(base + 3500)), before + 1, EPS); /* healthCheck */
        } else if (way == 1) {
            swarm_node_on_sent(f->node, A.id, SWARM_MSG_PING, 200, NULL, 0, at(base + 3500));
            assert_float_equal(score(f, A.id, at(base + 3500)), before + 1, EPS);
        } else {
            recv_from(f, &A, "NEW_TX", "tx-alive", "node-q", 1, at(base + 3500), &res);
            assert_int_equal(res.status, 200);
            assert_true(res.processed);
        }
        a = find(f, A.id);
        assert_non_null(a);
        assert_int_equal(a->failures, 0);
        assert_false(a->ping_outstanding);
        assert_int_equal(a->status, SWARM_PEER_ACTIVE);
        assert_int_equal(a->last_seen, at(base + 3500).wall);
        /* pinged again at the next round instead of being counted down */
        clear_sent(f);
        swarm_node_tick(f->node, at(base + 4000));
        assert_int_equal(sent_count(f, A.id, SWARM_MSG_PING), 1);
        assert_int_equal(find(f, A.id)->failures, 0);
        /* answered, so the next round starts clean */
        swarm_node_on_sent(f->node, A.id, SWARM_MSG_PING, 200, NULL, 0, at(base + 4010));
        /* idle until the next way: keep the schedule aligned */
        for (uint64_t t = base + 5000; t < base + 10000; t += 1000) {
            swarm_node_tick(f->node, at(t));
            swarm_node_on_sent(f->node, A.id, SWARM_MSG_PING, 200, NULL, 0, at(t + 10));
        }
        clear_sent(f);
    }
    assert_int_equal(f->n_removed, 0);
    assert_int_equal(stats(f)->peers_removed, 0);
}

static void test_send_failures(void **state)
{
    fixture *f = *state;
    health_config(f);
    start(f);
    add_known(f, &A, at(0));
    handshake(f, &A, at(0));
    double s0 = score(f, A.id, at(1));
    assert_float_equal(s0, 52.0, EPS);

    swarm_node_on_sent(f->node, A.id, SWARM_MSG_NEW_TX, 0, NULL, 0, at(1));
    swarm_peer *a = find(f, A.id);
    assert_non_null(a);
    assert_int_equal(a->failures, 1);
    assert_int_equal(a->status, SWARM_PEER_UNREACHABLE);
    assert_float_equal(score(f, A.id, at(1)), s0 - 2, EPS); /* messageFailure */

    /* an HTTP error counts as well */
    swarm_node_on_sent(f->node, A.id, SWARM_MSG_PEER_LIST, 503, NULL, 0, at(2));
    assert_int_equal(find(f, A.id)->failures, 2);
    assert_float_equal(score(f, A.id, at(2)), s0 - 4, EPS);

    /* a success in between resets the count */
    swarm_node_on_sent(f->node, A.id, SWARM_MSG_NEW_TX, 200, NULL, 0, at(3));
    assert_int_equal(find(f, A.id)->failures, 0);
    assert_int_equal(find(f, A.id)->status, SWARM_PEER_ACTIVE);
    assert_float_equal(score(f, A.id, at(3)), s0 - 4, EPS); /* a 2xx to a NEW_TX is worth nothing */

    for (int i = 1; i <= 3; i++)
        swarm_node_on_sent(f->node, A.id, SWARM_MSG_NEW_TX, 0, NULL, 0, at(10 + (uint64_t)i));
    assert_null(find(f, A.id));
    assert_int_equal(f->n_removed, 1);
    assert_string_equal(f->removed[0], A.id);
    assert_int_equal(stats(f)->peers_removed, 1);
    assert_float_equal(score(f, A.id, at(20)), s0 - 10, EPS);
    /* outcomes for peers we no longer have are ignored */
    swarm_node_on_sent(f->node, A.id, SWARM_MSG_NEW_TX, 0, NULL, 0, at(21));
    assert_float_equal(score(f, A.id, at(21)), s0 - 10, EPS);
    assert_int_equal(f->n_removed, 1);
}

static void test_inactive_pruning(void **state)
{
    fixture *f = *state;
    f->cfg.inactive_ms = 5000;
    f->cfg.ping_interval_ms = 1000000000ull;
    f->cfg.pex_interval_ms = 1000000000ull;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    swarm_msg_result res;
    recv_from(f, &B, "PONG", "pong-b", B.node_id, 0, at(3000), &res);
    assert_int_equal(res.status, 200);

    swarm_node_tick(f->node, at(4999));
    assert_int_equal(swarm_peer_table_count(peers(f)), 2);
    assert_int_equal(f->n_removed, 0);

    swarm_node_tick(f->node, at(5000));
    assert_null(find(f, A.id));
    assert_non_null(find(f, B.id));
    assert_int_equal(f->n_removed, 1);
    assert_string_equal(f->removed[0], A.id);
    assert_int_equal(stats(f)->peers_pruned, 1);
    assert_int_equal(stats(f)->peers_removed, 0);

    /* our own sends (hello retries) are no sign of life from B */
    swarm_node_tick(f->node, at(7999));
    assert_non_null(find(f, B.id));
    swarm_node_tick(f->node, at(8000));
    assert_null(find(f, B.id));
    assert_int_equal(f->n_removed, 2);
    assert_string_equal(f->removed[1], B.id);
    assert_int_equal(stats(f)->peers_pruned, 2);
    assert_int_equal(swarm_peer_table_count(peers(f)), 0);
}

/* ------------------------------------------------------------------ reputation-driven ban */

static void test_ban_after_invalid_messages(void **state)
{
    fixture *f = *state;
    f->cfg.reputation.ban_ms = 60000;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &X, at(0));
    swarm_msg_result res;

    char id[32];
    for (int i = 1; i <= 6; i++) {
        snprintf(id, sizeof id, "junk-%d", i);
        recv_from(f, &X, "JUNK", id, X.node_id, 0, at(100), &res);
        assert_int_equal(res.status, 400);
        assert_float_equal(score(f, X.id, at(100)), 50.0 - 5 * i, EPS);
        assert_non_null(find(f, X.id));
    }
    assert_int_equal(stats(f)->bans, 0);
    /* the 7th takes it from 20 to 15: banned, and out of the table */
    recv_from(f, &X, "JUNK", "junk-7", X.node_id, 0, at(100), &res);
    assert_int_equal(res.status, 400);
    assert_int_equal(stats(f)->bans, 1);
    assert_null(find(f, X.id));
    assert_null(swarm_peer_table_find_node(peers(f), X.node_id));
    assert_int_equal(f->n_removed, 1);
    assert_true(was_removed(f, X.id));
    assert_false(was_removed(f, A.id));
    swarm_reputation *rep = swarm_node_reputation(f->node);
    assert_true(swarm_reputation_is_banned(rep, X.id, at(100).mono));
    assert_true(swarm_reputation_is_banned(rep, X.node_id, at(100).mono));

    /* what it sends now is refused */
    recv_from(f, &X, "NEW_TX", "tx-x", X.node_id, 0, at(200), &res);
    assert_int_equal(res.status, 403);
    assert_false(res.processed);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 0);
    /* also from another address under the same node id */
    char buf[512];
    msg_json(buf, sizeof buf, "NEW_TX", "tx-x2", "node-x", 0, "{}");
    recv_json(f, "10.0.0.90", 4090, X.node_id, buf, at(201), &res);
    assert_int_equal(res.status, 403);
    /* ... even relaying someone else's message, where only the node id gives it away */
    msg_json(buf, sizeof buf, "NEW_TX", "tx-x4", "node-q", 3, "{}");
    recv_json(f, "10.0.0.90", 4090, X.node_id, buf, at(202), &res);
    assert_int_equal(res.status, 403);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 0);

    /* it cannot be added back, by hand or by hearsay */
    assert_int_equal(swarm_node_add_peer(f->node, X.host, X.port, "VP", SWARM_SOURCE_MANUAL, at(300), NULL),
                     SWARM_ADD_BANNED);
    recv_peer_list(f, &A, "pl-x",
                   "{\"host\":\"10.0.0.9\",\"port\":4009,\"nodeId\":\"node-x\"},"
                   "{\"host\":\"10.0.0.91\",\"port\":4009,\"nodeId\":\"node-x\"},"
                   "{\"host\":\"10.0.0.9\",\"port\":4009}",
                   "", at(400), &res);
    assert_int_equal(res.status, 200);
    assert_null(find(f, X.id));
    assert_null(find(f, "10.0.0.91:4009"));
    assert_int_equal(swarm_peer_table_count(peers(f)), 1);

    /* once ban_ms has passed it may come back, with the unban score */
    assert_int_equal(swarm_node_add_peer(f->node, X.host, X.port, "VP", SWARM_SOURCE_MANUAL, at(100 + 59999), NULL),
                     SWARM_ADD_BANNED);
    swarm_peer *x = NULL;
    assert_int_equal(swarm_node_add_peer(f->node, X.host, X.port, "VP", SWARM_SOURCE_MANUAL, at(100 + 60000), &x),
                     SWARM_ADD_ADDED);
    assert_non_null(x);
    assert_float_equal(score(f, X.id, at(100 + 60000)), 30.0, EPS);
    recv_from(f, &X, "NEW_TX", "tx-x3", X.node_id, 0, at(100 + 60001), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
}

static void test_ban_lets_pex_readd_after_expiry(void **state)
{
    fixture *f = *state;
    f->cfg.reputation.ban_ms = 60000;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &X, at(0));
    swarm_msg_result res;
    char id[32];
    for (int i = 1; i <= 7; i++) {
        snprintf(id, sizeof id, "junk-%d", i);
        recv_from(f, &X, "JUNK", id, X.node_id, 0, at(100), &res);
    }
    assert_null(find(f, X.id));
    recv_peer_list(f, &A, "pl-1", "{\"host\":\"10.0.0.9\",\"port\":4009,\"nodeId\":\"node-x\"}", "",
                   at(100 + 59999), &res);
    assert_null(find(f, X.id));
    recv_peer_list(f, &A, "pl-2", "{\"host\":\"10.0.0.9\",\"port\":4009,\"nodeId\":\"node-x\"}", "",
                   at(100 + 60000), &res);
    swarm_peer *x = find(f, X.id);
    assert_non_null(x);
    assert_int_equal(x->source, SWARM_SOURCE_PEX);
    assert_string_equal(x->node_id, "node-x");
}

/* ------------------------------------------------------------------ spam */

static void test_spam_rate_limit(void **state)
{
    fixture *f = *state;
    f->cfg.spam_max_messages = 5;
    assert_int_equal(f->cfg.spam_window_ms, 10000);
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    swarm_msg_result res;
    char id[32];
    for (int i = 1; i <= 5; i++) {
        snprintf(id, sizeof id, "tx-%d", i);
        recv_from(f, &A, "NEW_TX", id, A.node_id, 0, at(100 + (uint64_t)i), &res);
        assert_int_equal(res.status, 200);
        assert_true(res.processed);
    }
    assert_int_equal(f->n_sent, 5); /* each relayed to B */
    assert_float_equal(score(f, A.id, at(105)), 55.0, EPS);
    clear_sent(f);

    recv_from(f, &A, "NEW_TX", "tx-6", A.node_id, 0, at(200), &res);
    assert_int_equal(res.status, 429);
    assert_false(res.processed);
    assert_false(res.relayed);
    assert_non_null(strstr(res.reason, "rate limit"));
    assert_int_equal(stats(f)->spam, 1);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 5);
    assert_int_equal(f->n_sent, 0);
    assert_float_equal(score(f, A.id, at(200)), 45.0, EPS); /* spamDetected */

    /* what A relays (made elsewhere) is not A's rate: a flood upstream does not ban the relay */
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "relayed-%d", i);
        recv_from(f, &A, "NEW_TX", id, "node-q", 1, at(202), &res);
        assert_int_equal(res.status, 200);
    }
    assert_int_equal(stats(f)->spam, 1);

    /* another peer is not affected */
    recv_from(f, &B, "NEW_TX", "tx-b1", "node-q", 1, at(201), &res);
    assert_int_equal(res.status, 200);

    /* the last message of the window, and the first of the next */
    recv_from(f, &A, "NEW_TX", "tx-7", A.node_id, 0, at(101 + 9999), &res);
    assert_int_equal(res.status, 429);
    assert_int_equal(stats(f)->spam, 2);
    recv_from(f, &A, "NEW_TX", "tx-8", A.node_id, 0, at(101 + 10000), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 7 + 20);
}

static void test_spam_replay_by_same_peer(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    swarm_msg_result res;
    recv_from(f, &A, "NEW_TX", "tx-r", "node-q", 1, at(10), &res);
    assert_int_equal(res.status, 200);
    assert_true(res.processed);
    assert_float_equal(score(f, A.id, at(10)), 51.0, EPS);
    clear_sent(f);

    recv_from(f, &A, "NEW_TX", "tx-r", "node-q", 1, at(20), &res);
    assert_false(res.processed);
    assert_false(res.relayed);
    assert_non_null(strstr(res.reason, "replay"));
    assert_int_equal(stats(f)->spam, 1);
    assert_int_equal(stats(f)->duplicates, 0);
    assert_int_equal(stats(f)->delivered[SWARM_MSG_NEW_TX], 1);
    assert_int_equal(f->n_sent, 0);
    assert_float_equal(score(f, A.id, at(20)), 41.0, EPS);

    /* the same id from someone else is an ordinary duplicate, not spam */
    recv_from(f, &B, "NEW_TX", "tx-r", "node-q", 2, at(30), &res);
    assert_false(res.processed);
    assert_int_equal(stats(f)->spam, 1);
    assert_int_equal(stats(f)->duplicates, 1);
    assert_float_equal(score(f, B.id, at(30)), 50.0, EPS);
}

/* A bootstrap peer removed after failures is probed again with backoff and comes back as a
 * bootstrap peer once it answers. */
static void test_removed_bootstrap_peer_is_retried(void **state)
{
    fixture *f = *state;
    f->cfg.max_failures = 2;
    snprintf(f->cfg.bootstrap[0].host, sizeof f->cfg.bootstrap[0].host, "%s", A.host);
    f->cfg.bootstrap[0].port = A.port;
    snprintf(f->cfg.bootstrap[0].node_type, sizeof f->cfg.bootstrap[0].node_type, "VP");
    f->cfg.n_bootstrap = 1;
    start(f);
    assert_int_equal(swarm_node_add_peer(f->node, A.host, A.port, "VP", SWARM_SOURCE_BOOTSTRAP, at(0), NULL),
                     SWARM_ADD_ADDED);
    /* its hellos fail twice: removed */
    swarm_node_tick(f->node, at(0));
    swarm_node_on_sent(f->node, A.id, SWARM_MSG_PEER_LIST, 0, NULL, 0, at(10));
    swarm_node_tick(f->node, at(600));
    swarm_node_on_sent(f->node, A.id, SWARM_MSG_PEER_LIST, 0, NULL, 0, at(610));
    assert_null(find(f, A.id));
    /* probes back off: 0.5 s, 1 s, 2 s ... and each one is a hello to the bootstrap address */
    clear_sent(f);
    uint64_t t = 700;
    unsigned probes = 0;
    for (; t < 5000; t += 50) {
        size_t before = f->n_sent;
        swarm_node_tick(f->node, at(t));
        if (sent_count(f, A.id, SWARM_MSG_PEER_LIST) > probes) {
            probes++;
            assert_int_equal(f->sent[before].port, A.port);
            swarm_node_on_sent(f->node, A.id, SWARM_MSG_PEER_LIST, 0, NULL, 0, at(t + 1));
        }
        assert_null(find(f, A.id));
    }
    assert_in_range(probes, 3, 5); /* 0.7 s .. 5 s with doubling from 0.5 s: a handful, not 86 */
    /* it answers: back in the table, as a bootstrap peer, identified */
    const char *reply = "{\"ok\":true,\"result\":{\"processed\":true,\"node\":{\"nodeId\":\"node-a\","
                        "\"nodeType\":\"VP\",\"port\":4001}}}";
    swarm_node_on_sent(f->node, A.id, SWARM_MSG_PEER_LIST, 200, reply, strlen(reply), at(t));
    swarm_peer *p = find(f, A.id);
    assert_non_null(p);
    assert_int_equal(p->source, SWARM_SOURCE_BOOTSTRAP);
    assert_string_equal(p->node_id, "node-a");
    assert_int_equal(p->status, SWARM_PEER_ACTIVE);
}

/* A NeuroSwarm node learned from hearsay gets no gossip from us; one that contacted us does. */
static void test_neuroswarm_peer_gets_gossip_only_from_its_contacts(void **state)
{
    fixture *f = *state;
    start(f);
    add_known(f, &A, at(0));
    /* B is learned by hearsay, and answers our hello the NeuroSwarm way: with no identity */
    swarm_msg_result res;
    assert_int_equal(swarm_node_add_peer(f->node, B.host, B.port, "NS", SWARM_SOURCE_PEX, at(2), NULL),
                     SWARM_ADD_ADDED);
    const char *neuro_reply = "{\"ok\":true,\"result\":{\"processed\":true}}";
    swarm_node_on_sent(f->node, B.id, SWARM_MSG_PEER_LIST, 200, neuro_reply, strlen(neuro_reply), at(3));
    clear_sent(f);
    swarm_node_broadcast(f->node, SWARM_MSG_NEW_TX, NULL, at(4), NULL);
    assert_int_equal(sent_count(f, A.id, SWARM_MSG_NEW_TX), 1);
    assert_int_equal(sent_count(f, B.id, SWARM_MSG_NEW_TX), 0);
    /* B contacts us itself (its own PEER_LIST, no swarm fields): now it gets gossip */
    swarm_envelope env;
    char json[512];
    snprintf(json, sizeof json, "{\"id\":\"neuro-b-1\",\"type\":\"PEER_LIST\",\"payload\":{\"peers\":[],"
             "\"senderNodeType\":\"NS\",\"senderPort\":%u},\"originNodeId\":\"neuro-b\",\"hops\":0}", B.port);
    char err[160];
    assert_int_equal(swarm_envelope_decode(json, strlen(json), &env, err, sizeof err), 0);
    swarm_from from = {.host = B.host};
    swarm_node_on_message(f->node, &from, &env, at(5), &res);
    swarm_envelope_clear(&env);
    assert_true(res.processed);
    clear_sent(f);
    swarm_node_broadcast(f->node, SWARM_MSG_NEW_TX, NULL, at(6), NULL);
    assert_int_equal(sent_count(f, B.id, SWARM_MSG_NEW_TX), 1);
}

/* A 4xx answer means the peer is up but would not take that message: no failure. A 403 means it
 * refuses us altogether: it is let go. */
static void test_refusals_are_not_failures(void **state)
{
    fixture *f = *state;
    f->cfg.max_failures = 2;
    start(f);
    add_known(f, &A, at(0));
    add_known(f, &B, at(0));
    for (int i = 0; i < 5; i++)
        swarm_node_on_sent(f->node, A.id, SWARM_MSG_NEW_TX, 400, NULL, 0, at(10 + (uint64_t)i));
    swarm_peer *p = find(f, A.id);
    assert_non_null(p);
    assert_int_equal(p->failures, 0);
    assert_int_equal(p->status, SWARM_PEER_ACTIVE);
    assert_float_equal(score(f, A.id, at(20)), 50.0, EPS);
    swarm_node_on_sent(f->node, B.id, SWARM_MSG_PING, 403, NULL, 0, at(30));
    assert_null(find(f, B.id));
    assert_int_equal(stats(f)->peers_let_go, 1);
    assert_int_equal(stats(f)->peers_removed, 0);
}

/* Senders that are no peer share a rate per source address, however many identities they claim. */
static void test_anonymous_senders_rate_limited_by_address(void **state)
{
    fixture *f = *state;
    f->cfg.spam_max_messages = 5;
    start(f);
    add_known(f, &A, at(0));
    swarm_msg_result res;
    char buf[1024], id[32], origin[32];
    for (int i = 1; i <= 6; i++) {
        snprintf(id, sizeof id, "anon-%d", i);
        snprintf(origin, sizeof origin, "made-up-%d", i);
        msg_json(buf, sizeof buf, "NEW_TX", id, origin, 1, "{}");
        recv_json(f, "10.9.9.9", (uint16_t)(30000 + i), "", buf, at((uint64_t)i), &res);
        assert_int_equal(res.status, i <= 5 ? 200 : 429);
    }
    /* another address is not affected, and a known peer is counted on its own */
    msg_json(buf, sizeof buf, "NEW_TX", "anon-other", "made-up-x", 1, "{}");
    recv_json(f, "10.9.9.8", 0, "", buf, at(10), &res);
    assert_int_equal(res.status, 200);
    recv_from(f, &A, "NEW_TX", "from-a", A.node_id, 0, at(11), &res);
    assert_int_equal(res.status, 200);
    /* the next window starts afresh */
    msg_json(buf, sizeof buf, "NEW_TX", "anon-late", "made-up-y", 1, "{}");
    recv_json(f, "10.9.9.9", 0, "", buf, at(1 + 10000), &res);
    assert_int_equal(res.status, 200);
}

/* A loopback address means nothing on another host: it is not shared with remote peers. */
static void test_loopback_peers_not_shared_with_remote_peers(void **state)
{
    fixture *f = *state;
    f->cfg.pex_interval_ms = 1000;
    start(f);
    add_known(f, &A, at(0));
    assert_int_equal(swarm_node_add_peer(f->node, "127.0.0.1", 5000, "VP", SWARM_SOURCE_MANUAL, at(0), NULL),
                     SWARM_ADD_ADDED);
    swarm_peer *local = find(f, "127.0.0.1:5000");
    local->handshaken = true;
    find(f, A.id)->handshaken = true;
    clear_sent(f);
    swarm_node_tick(f->node, at(1000)); /* a PEX round */
    int to_a = sent_index(f, A.id, SWARM_MSG_PEER_LIST), to_local = sent_index(f, "127.0.0.1:5000", SWARM_MSG_PEER_LIST);
    assert_true(to_a >= 0 && to_local >= 0);
    assert_null(strstr(f->sent[to_a].json, "\"127.0.0.1\""));
    assert_non_null(strstr(f->sent[to_local].json, A.host));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_relay_targets),
        T(test_relay_unknown_sender_goes_to_all_but_origin),
        T(test_hop_limit),
        T(test_own_echo_not_delivered),
        T(test_unknown_type),
        T(test_banned_sender_refused),
        T(test_broadcast),
        T(test_pex_merge),
        T(test_pex_full_table),
        T(test_pex_hello_answered),
        T(test_ping_rounds_and_failure_removal),
        T(test_failures_reset_by_any_sign_of_life),
        T(test_send_failures),
        T(test_inactive_pruning),
        T(test_ban_after_invalid_messages),
        T(test_ban_lets_pex_readd_after_expiry),
        T(test_spam_rate_limit),
        T(test_spam_replay_by_same_peer),
        T(test_removed_bootstrap_peer_is_retried),
        T(test_neuroswarm_peer_gets_gossip_only_from_its_contacts),
        T(test_refusals_are_not_failures),
        T(test_anonymous_senders_rate_limited_by_address),
        T(test_loopback_peers_not_shared_with_remote_peers),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
