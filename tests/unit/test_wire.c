/* Unit tests for swarm/wire.h: envelope decode/encode/create, PEER_LIST payloads, reply identity. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/wire.h"

/* The envelope a NeuroSwarm node sends. */
static const char VALID[] =
    "{\"id\":\"ns-1-1700000000000-abc123xyz\",\"type\":\"NEW_TX\",\"payload\":{\"tx\":\"a\"},"
    "\"originNodeId\":\"ns-1\",\"timestamp\":\"2026-11-23T10:00:00.000Z\",\"hops\":3}";

static char err[256];

static int decode(const char *text, swarm_envelope *env)
{
    err[0] = 0;
    return swarm_envelope_decode(text, strlen(text), env, err, sizeof err);
}

/* The text must be rejected, with `reason` in the error, and leave nothing owned behind. */
static void expect_reject(const char *text, const char *reason)
{
    swarm_envelope env;
    if (decode(text, &env) != -1)
        fail_msg("accepted: %s", text);
    if (!strstr(err, reason))
        fail_msg("error \"%s\" lacks \"%s\" for %s", err, reason, text);
    assert_null(env.json);
    assert_null(env.payload);
}

/* An envelope around a given payload / hops / extra JSON text. */
static void envelope_with(char *out, size_t cap, const char *payload, const char *tail)
{
    snprintf(out, cap,
             "{\"id\":\"m1\",\"type\":\"PING\",\"originNodeId\":\"ns-1\",\"payload\":%s%s}", payload,
             tail);
}

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

/* ---- envelope decode ---- */

static void test_decode_valid(void **state)
{
    (void)state;
    swarm_envelope env;
    assert_int_equal(decode(VALID, &env), 0);
    assert_string_equal(env.id, "ns-1-1700000000000-abc123xyz");
    assert_string_equal(env.type_name, "NEW_TX");
    assert_int_equal(env.type, SWARM_MSG_NEW_TX);
    assert_string_equal(env.origin, "ns-1");
    assert_int_equal(env.hops, 3);
    assert_non_null(env.json);
    assert_true(cJSON_IsObject(env.payload));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(env.payload, "tx")), "a");
    assert_ptr_equal(env.payload, cJSON_GetObjectItem(env.json, "payload"));
    swarm_envelope_clear(&env);
    assert_null(env.json);
}

static void test_decode_uses_len_not_nul(void **state)
{
    (void)state;
    swarm_envelope env;
    /* a valid envelope followed by junk outside len */
    char buf[sizeof VALID + 8];
    snprintf(buf, sizeof buf, "%sgarbage", VALID);
    assert_int_equal(swarm_envelope_decode(buf, strlen(VALID), &env, err, sizeof err), 0);
    assert_int_equal(env.hops, 3);
    swarm_envelope_clear(&env);
    /* a truncated one */
    assert_int_equal(swarm_envelope_decode(VALID, 20, &env, err, sizeof err), -1);
    assert_non_null(strstr(err, "not valid JSON"));
}

static void test_decode_optional_fields(void **state)
{
    (void)state;
    char text[512];
    swarm_envelope env;
    envelope_with(text, sizeof text, "{}", "");
    assert_int_equal(decode(text, &env), 0);
    assert_int_equal(env.hops, 0); /* absent hops = 0 */
    assert_int_equal(env.type, SWARM_MSG_PING);
    swarm_envelope_clear(&env);

    envelope_with(text, sizeof text, "{}", ",\"timestamp\":1700000000000,\"hops\":1000");
    assert_int_equal(decode(text, &env), 0);
    assert_int_equal(env.hops, 1000);
    swarm_envelope_clear(&env);
}

static void test_reject_not_json(void **state)
{
    (void)state;
    expect_reject("not json", "not valid JSON");
    expect_reject("{\"id\":", "not valid JSON");
    expect_reject("", "not valid JSON");
}

static void test_reject_not_object(void **state)
{
    (void)state;
    expect_reject("[1,2]", "must be a JSON object");
    expect_reject("\"str\"", "must be a JSON object");
    expect_reject("42", "must be a JSON object");
    expect_reject("null", "must be a JSON object");
}

static void test_reject_bad_id(void **state)
{
    (void)state;
    expect_reject("{\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":{}}", "missing id");
    expect_reject("{\"id\":null,\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":{}}", "missing id");
    expect_reject("{\"id\":\"\",\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":{}}",
                  "id must be a string");
    expect_reject("{\"id\":7,\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":{}}",
                  "id must be a string");
}

static void test_id_length_limit(void **state)
{
    (void)state;
    char id[130], text[512];
    swarm_envelope env;
    memset(id, 'i', 128);
    id[128] = 0;
    snprintf(text, sizeof text, "{\"id\":\"%s\",\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":{}}", id);
    assert_int_equal(decode(text, &env), 0);
    assert_int_equal(strlen(env.id), 128);
    swarm_envelope_clear(&env);

    strcat(id, "i"); /* 129 chars */
    snprintf(text, sizeof text, "{\"id\":\"%s\",\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":{}}", id);
    expect_reject(text, "id must be a string of 1-128 chars");
}

static void test_reject_bad_type_and_origin(void **state)
{
    (void)state;
    expect_reject("{\"id\":\"m\",\"originNodeId\":\"a\",\"payload\":{}}", "missing type");
    expect_reject("{\"id\":\"m\",\"type\":\"\",\"originNodeId\":\"a\",\"payload\":{}}", "type must be");
    expect_reject("{\"id\":\"m\",\"type\":[],\"originNodeId\":\"a\",\"payload\":{}}", "type must be");
    expect_reject("{\"id\":\"m\",\"type\":\"PING\",\"payload\":{}}", "missing originNodeId");
    expect_reject("{\"id\":\"m\",\"type\":\"PING\",\"originNodeId\":\"a b\",\"payload\":{}}",
                  "originNodeId must be");
    expect_reject("{\"id\":\"m\",\"type\":\"PING\",\"originNodeId\":\"\",\"payload\":{}}",
                  "originNodeId must be");
}

static void test_reject_bad_payload(void **state)
{
    (void)state;
    expect_reject("{\"id\":\"m\",\"type\":\"PING\",\"originNodeId\":\"a\"}", "missing payload");
    expect_reject("{\"id\":\"m\",\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":[]}",
                  "payload must be an object");
    expect_reject("{\"id\":\"m\",\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":\"x\"}",
                  "payload must be an object");
    expect_reject("{\"id\":\"m\",\"type\":\"PING\",\"originNodeId\":\"a\",\"payload\":null}",
                  "payload must be an object");
}

static void test_reject_bad_hops(void **state)
{
    (void)state;
    static const char *const bad[] = {"-1", "1.5", "\"3\"", "1001", "null", "true", "1e300"};
    char text[512];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char tail[64];
        snprintf(tail, sizeof tail, ",\"hops\":%s", bad[i]);
        envelope_with(text, sizeof text, "{}", tail);
        expect_reject(text, "hops must be an integer 0-1000");
    }
}

static void test_reject_bad_timestamp(void **state)
{
    (void)state;
    char text[512], tail[128];
    envelope_with(text, sizeof text, "{}", ",\"timestamp\":{}");
    expect_reject(text, "timestamp must be");
    envelope_with(text, sizeof text, "{}", ",\"timestamp\":true");
    expect_reject(text, "timestamp must be");
    snprintf(tail, sizeof tail, ",\"timestamp\":\"%064d\"", 0); /* 64 chars: too long */
    envelope_with(text, sizeof text, "{}", tail);
    expect_reject(text, "timestamp must be");
}

/* A payload of `levels` nested objects: {"a":{"a":...{}}}. The envelope adds one level. */
static char *nested_payload(int levels)
{
    char *s = malloc((size_t)levels * 6 + 1);
    assert_non_null(s);
    char *p = s;
    for (int i = 0; i < levels - 1; i++)
        p += sprintf(p, "{\"a\":");
    p += sprintf(p, "{}");
    for (int i = 0; i < levels - 1; i++)
        *p++ = '}';
    *p = 0;
    return s;
}

static void test_depth_limit(void **state)
{
    (void)state;
    char text[1024];
    swarm_envelope env;
    char *ok = nested_payload(SWARM_JSON_DEPTH_MAX - 1); /* whole envelope: depth 32 */
    envelope_with(text, sizeof text, ok, "");
    assert_int_equal(decode(text, &env), 0);
    assert_int_equal(swarm_json_depth(env.json), SWARM_JSON_DEPTH_MAX);
    swarm_envelope_clear(&env);
    free(ok);

    char *over = nested_payload(SWARM_JSON_DEPTH_MAX); /* depth 33 */
    envelope_with(text, sizeof text, over, "");
    expect_reject(text, "nested deeper than 32");
    free(over);

    char *deep = nested_payload(100);
    char *big = malloc(strlen(deep) + 128);
    assert_non_null(big);
    envelope_with(big, strlen(deep) + 128, deep, "");
    expect_reject(big, "nested deeper than 32");
    free(deep);
    free(big);
}

static void test_json_depth(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int depth;
    } cases[] = {{"1", 1}, {"{}", 1}, {"[]", 1}, {"{\"a\":1}", 2}, {"[[[]]]", 3}, {"[1,[2,[3]],4]", 4},
                   /* the deepest child comes after a shallower nested one */
                   {"[[[1]],[[[[1]]]]]", 6}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *j = parse(cases[i].text);
        assert_int_equal(swarm_json_depth(j), cases[i].depth);
        cJSON_Delete(j);
    }
    assert_int_equal(swarm_json_depth(NULL), 1);
}

static void test_unknown_type_kept(void **state)
{
    (void)state;
    swarm_envelope env;
    assert_int_equal(
        decode("{\"id\":\"m\",\"type\":\"CUSTOM_THING\",\"originNodeId\":\"a\",\"payload\":{}}", &env), 0);
    assert_int_equal(env.type, SWARM_MSG_UNKNOWN);
    assert_string_equal(env.type_name, "CUSTOM_THING");
    swarm_envelope_clear(&env);
}

static void test_extra_fields_survive_relay(void **state)
{
    (void)state;
    swarm_envelope env, again;
    char text[512];
    envelope_with(text, sizeof text, "{\"k\":[1,2]}",
                  ",\"hops\":2,\"signature\":\"c2lnbmF0dXJl\",\"senderPublicKey\":\"-----BEGIN KEY-----\"");
    assert_int_equal(decode(text, &env), 0);
    swarm_envelope_set_hops(&env, 3);
    assert_int_equal(env.hops, 3);
    size_t len = 0;
    char *out = swarm_envelope_encode(&env, &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    swarm_envelope_clear(&env);

    assert_int_equal(swarm_envelope_decode(out, len, &again, err, sizeof err), 0);
    free(out);
    assert_int_equal(again.hops, 3);
    assert_string_equal(again.id, "m1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(again.json, "signature")), "c2lnbmF0dXJl");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(again.json, "senderPublicKey")),
                        "-----BEGIN KEY-----");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(again.payload, "k")), 2);
    swarm_envelope_clear(&again);
}

static void test_set_hops_adds_missing_field(void **state)
{
    (void)state;
    swarm_envelope env;
    char text[512];
    envelope_with(text, sizeof text, "{}", "");
    assert_int_equal(decode(text, &env), 0);
    swarm_envelope_set_hops(&env, 5);
    const cJSON *h = cJSON_GetObjectItem(env.json, "hops");
    assert_true(cJSON_IsNumber(h));
    assert_int_equal(h->valueint, 5);
    swarm_envelope_clear(&env);
}

static void test_from_json_takes_ownership_on_error(void **state)
{
    (void)state;
    swarm_envelope env;
    /* both calls must free their argument: ASan reports a leak otherwise */
    assert_int_equal(swarm_envelope_from_json(cJSON_CreateArray(), &env, err, sizeof err), -1);
    assert_int_equal(swarm_envelope_from_json(parse("{\"id\":\"x\"}"), &env, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing type"));
    assert_int_equal(swarm_envelope_from_json(parse(VALID), &env, err, sizeof err), 0);
    assert_int_equal(env.type, SWARM_MSG_NEW_TX);
    swarm_envelope_clear(&env);
}

/* ---- envelope create ---- */

static void test_create_epoch(void **state)
{
    (void)state;
    swarm_envelope env;
    assert_int_equal(swarm_envelope_create(&env, SWARM_MSG_PING, NULL, "ns-1", 0, 0), 0);
    assert_string_equal(env.id, "ns-1-0-000000000");
    assert_string_equal(env.type_name, "PING");
    assert_int_equal(env.type, SWARM_MSG_PING);
    assert_string_equal(env.origin, "ns-1");
    assert_int_equal(env.hops, 0);
    assert_true(cJSON_IsObject(env.payload));
    assert_null(env.payload->child);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(env.json, "timestamp")),
                        "1970-01-01T00:00:00.000Z");
    assert_int_equal(cJSON_GetObjectItem(env.json, "hops")->valueint, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(env.json, "originNodeId")), "ns-1");
    swarm_envelope_clear(&env);
}

static void test_create_id_and_timestamp(void **state)
{
    (void)state;
    swarm_envelope env;
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddStringToObject(payload, "tx", "a");
    /* base-36 digits, least significant first: 35 -> 'z', then 10 -> 'a' */
    uint64_t rnd = 35 + 36 * 10;
    assert_int_equal(
        swarm_envelope_create(&env, SWARM_MSG_NEW_TX, payload, "gw-7", 1700000000123ull, rnd), 0);
    assert_string_equal(env.id, "gw-7-1700000000123-za0000000");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(env.json, "timestamp")),
                        "2023-11-14T22:13:20.123Z");
    assert_ptr_equal(env.payload, payload);

    /* what create builds, decode accepts */
    size_t len;
    char *text = swarm_envelope_encode(&env, &len);
    swarm_envelope_clear(&env);
    assert_non_null(text);
    assert_int_equal(swarm_envelope_decode(text, len, &env, err, sizeof err), 0);
    free(text);
    assert_string_equal(env.id, "gw-7-1700000000123-za0000000");
    assert_int_equal(env.type, SWARM_MSG_NEW_TX);
    assert_string_equal(env.origin, "gw-7");
    assert_int_equal(env.hops, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(env.payload, "tx")), "a");
    swarm_envelope_clear(&env);
}

static void test_create_suffix_is_base36(void **state)
{
    (void)state;
    swarm_envelope env;
    assert_int_equal(swarm_envelope_create(&env, SWARM_MSG_PONG, NULL, "x", 5, UINT64_MAX), 0);
    const char *suffix = strrchr(env.id, '-');
    assert_non_null(suffix);
    suffix++;
    assert_int_equal(strlen(suffix), 9);
    for (const char *c = suffix; *c; c++)
        assert_true((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z'));
    assert_memory_equal(env.id, "x-5-", 4);
    swarm_envelope_clear(&env);
}

static void test_iso_time(void **state)
{
    (void)state;
    char out[32];
    swarm_iso_time(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    swarm_iso_time(1700000000999ull, out);
    assert_string_equal(out, "2023-11-14T22:13:20.999Z");
    swarm_iso_time(1795428000000ull, out);
    assert_string_equal(out, "2026-11-23T10:00:00.000Z");
}

static void test_msg_type_names(void **state)
{
    (void)state;
    static const struct {
        swarm_msg_type t;
        const char *name;
    } cases[] = {{SWARM_MSG_PEER_LIST, "PEER_LIST"}, {SWARM_MSG_NEW_BLOCK, "NEW_BLOCK"},
                 {SWARM_MSG_NEW_TX, "NEW_TX"},       {SWARM_MSG_PING, "PING"},
                 {SWARM_MSG_PONG, "PONG"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_string_equal(swarm_msg_type_name(cases[i].t), cases[i].name);
        assert_int_equal(swarm_msg_type_from_name(cases[i].name), cases[i].t);
    }
    assert_string_equal(swarm_msg_type_name(SWARM_MSG_UNKNOWN), "UNKNOWN");
    assert_string_equal(swarm_msg_type_name((swarm_msg_type)99), "UNKNOWN");
    assert_int_equal(swarm_msg_type_from_name("UNKNOWN"), SWARM_MSG_UNKNOWN);
    assert_int_equal(swarm_msg_type_from_name("ping"), SWARM_MSG_UNKNOWN);
    assert_int_equal(swarm_msg_type_from_name(""), SWARM_MSG_UNKNOWN);
}

/* ---- PEER_LIST ---- */

static int decode_list(const char *payload_text, swarm_peer_list *pl)
{
    cJSON *payload = parse(payload_text);
    err[0] = 0;
    int rc = swarm_peer_list_decode(payload, pl, err, sizeof err);
    cJSON_Delete(payload);
    return rc;
}

static void expect_list_reject(const char *payload_text, const char *reason)
{
    swarm_peer_list pl;
    if (decode_list(payload_text, &pl) != -1)
        fail_msg("accepted: %s", payload_text);
    if (!strstr(err, reason))
        fail_msg("error \"%s\" lacks \"%s\" for %s", err, reason, payload_text);
    assert_null(pl.peers);
    assert_int_equal(pl.n, 0);
}

static void test_peer_list_valid(void **state)
{
    (void)state;
    swarm_peer_list pl;
    assert_int_equal(
        decode_list("{\"peers\":[{\"host\":\"10.0.0.2\",\"port\":3010,\"nodeType\":\"NS\"},"
                    "{\"host\":\"::1\",\"port\":8080,\"nodeType\":\"Gateway\",\"nodeId\":\"gw-1\"}],"
                    "\"senderNodeType\":\"NS\",\"senderPort\":3009,\"senderNodeId\":\"ns-1\","
                    "\"senderHost\":\"ns1.local\"}",
                    &pl),
        0);
    assert_int_equal(pl.n, 2);
    assert_string_equal(pl.peers[0].host, "10.0.0.2");
    assert_int_equal(pl.peers[0].port, 3010);
    assert_string_equal(pl.peers[0].node_type, "NS");
    assert_string_equal(pl.peers[0].node_id, "");
    assert_string_equal(pl.peers[1].host, "::1");
    assert_int_equal(pl.peers[1].port, 8080);
    assert_string_equal(pl.peers[1].node_type, "Gateway");
    assert_string_equal(pl.peers[1].node_id, "gw-1");
    assert_string_equal(pl.sender_type, "NS");
    assert_int_equal(pl.sender_port, 3009);
    assert_string_equal(pl.sender_id, "ns-1");
    assert_string_equal(pl.sender_host, "ns1.local");
    swarm_peer_list_clear(&pl);
    assert_null(pl.peers);
}

static void test_peer_list_neuroswarm_shape(void **state)
{
    (void)state;
    swarm_peer_list pl;
    /* NeuroSwarm: no nodeType/nodeId per entry, senderPort as a string, no senderNodeId/Host */
    assert_int_equal(decode_list("{\"peers\":[{\"host\":\"localhost\",\"port\":3009}],"
                                 "\"senderNodeType\":\"NS\",\"senderPort\":\"3009\"}",
                                 &pl),
                     0);
    assert_int_equal(pl.n, 1);
    assert_string_equal(pl.peers[0].host, "localhost");
    assert_int_equal(pl.peers[0].port, 3009);
    assert_string_equal(pl.peers[0].node_type, "");
    assert_int_equal(pl.sender_port, 3009);
    assert_string_equal(pl.sender_id, "");
    assert_string_equal(pl.sender_host, "");
    swarm_peer_list_clear(&pl);
    /* it relists other NeuroSwarm nodes with the string ports they sent it */
    assert_int_equal(decode_list("{\"peers\":[{\"host\":\"localhost\",\"port\":\"4000\",\"nodeType\":\"VP\"}]}", &pl), 0);
    assert_int_equal(pl.peers[0].port, 4000);
    swarm_peer_list_clear(&pl);
}

static void test_peer_list_empty(void **state)
{
    (void)state;
    swarm_peer_list pl;
    assert_int_equal(decode_list("{}", &pl), 0);
    assert_int_equal(pl.n, 0);
    assert_null(pl.peers);
    assert_int_equal(pl.sender_port, 0);
    assert_string_equal(pl.sender_type, "");
    assert_int_equal(decode_list("{\"peers\":[]}", &pl), 0);
    assert_int_equal(pl.n, 0);
    swarm_peer_list_clear(&pl);
}

static void test_peer_list_rejections(void **state)
{
    (void)state;
    expect_list_reject("{\"peers\":{}}", "peers must be an array");
    expect_list_reject("{\"peers\":\"a:1\"}", "peers must be an array");
    expect_list_reject("{\"peers\":[{\"host\":\"a\",\"port\":1},5]}", "peers[1] is not an object");
    expect_list_reject("{\"peers\":[{\"host\":\"bad host\",\"port\":1}]}", "peers[0].host");
    expect_list_reject("{\"peers\":[{\"port\":1}]}", "peers[0].host");
    expect_list_reject("{\"peers\":[{\"host\":7,\"port\":1}]}", "peers[0].host");
    expect_list_reject("{\"peers\":[{\"host\":\"a\",\"port\":0}]}", "peers[0].port");
    expect_list_reject("{\"peers\":[{\"host\":\"a\",\"port\":70000}]}", "peers[0].port");
    expect_list_reject("{\"peers\":[{\"host\":\"a\",\"port\":\"x\"}]}", "peers[0].port");
    expect_list_reject("{\"peers\":[{\"host\":\"a\",\"port\":1.5}]}", "peers[0].port");
    expect_list_reject("{\"peers\":[{\"host\":\"a\"}]}", "peers[0].port");
    expect_list_reject("{\"peers\":[{\"host\":\"a\",\"port\":1,\"nodeType\":\"N S\"}]}",
                       "peers[0].nodeType");
    expect_list_reject("{\"peers\":[{\"host\":\"a\",\"port\":1,\"nodeId\":\"has space\"}]}",
                       "peers[0].nodeId");
}

static void test_peer_list_sender_rejections(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"senderPort\":\"abc\"}",       "{\"senderPort\":\"0\"}",
        "{\"senderPort\":70000}",         "{\"senderPort\":true}",
        "{\"senderNodeType\":\"A B\"}",   "{\"senderNodeId\":\"has space\"}",
        "{\"senderHost\":\"bad host\"}",
        /* a bad sender discards already decoded peers too */
        "{\"peers\":[{\"host\":\"a\",\"port\":1}],\"senderPort\":\"abc\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_list_reject(bad[i], "sender");
}

static cJSON *payload_with_n_peers(int n)
{
    cJSON *payload = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(payload, "peers");
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "host", "h");
        cJSON_AddNumberToObject(o, "port", 1 + i);
        cJSON_AddItemToArray(arr, o);
    }
    return payload;
}

static void test_peer_list_size_limit(void **state)
{
    (void)state;
    swarm_peer_list pl;
    cJSON *payload = payload_with_n_peers(SWARM_PEER_LIST_MAX);
    assert_int_equal(swarm_peer_list_decode(payload, &pl, err, sizeof err), 0);
    assert_int_equal(pl.n, SWARM_PEER_LIST_MAX);
    assert_int_equal(pl.peers[999].port, 1000);
    swarm_peer_list_clear(&pl);
    cJSON_Delete(payload);

    payload = payload_with_n_peers(SWARM_PEER_LIST_MAX + 1);
    assert_int_equal(swarm_peer_list_decode(payload, &pl, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than 1000"));
    assert_null(pl.peers);
    cJSON_Delete(payload);
}

static void test_peer_list_payload_round_trip(void **state)
{
    (void)state;
    swarm_wire_peer peers[3] = {
        {.host = "10.0.0.1", .port = 3009, .node_type = "NS", .node_id = "ns-1"},
        {.host = "::1", .port = 8080, .node_type = "", .node_id = ""},
        {.host = "vp.local", .port = 65535, .node_type = "VP", .node_id = ""},
    };
    swarm_peer_list in = {.peers = peers, .n = 3, .sender_type = "Gateway", .sender_port = 8081,
                          .sender_id = "gw-1", .sender_host = "gw.example", .hello = true,
                          .bootstrap = true, .accepted = 0};
    cJSON *payload = swarm_peer_list_encode(&in);
    assert_non_null(payload);
    /* absent fields are omitted, not sent empty */
    const cJSON *second = cJSON_GetArrayItem(cJSON_GetObjectItem(payload, "peers"), 1);
    assert_null(cJSON_GetObjectItem(second, "nodeType"));
    assert_null(cJSON_GetObjectItem(second, "nodeId"));

    swarm_peer_list pl;
    assert_int_equal(swarm_peer_list_decode(payload, &pl, err, sizeof err), 0);
    cJSON_Delete(payload);
    assert_int_equal(pl.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(pl.peers[i].host, peers[i].host);
        assert_int_equal(pl.peers[i].port, peers[i].port);
        assert_string_equal(pl.peers[i].node_type, peers[i].node_type);
        assert_string_equal(pl.peers[i].node_id, peers[i].node_id);
    }
    assert_string_equal(pl.sender_type, "Gateway");
    assert_int_equal(pl.sender_port, 8081);
    assert_string_equal(pl.sender_id, "gw-1");
    assert_string_equal(pl.sender_host, "gw.example");
    assert_true(pl.hello);
    assert_true(pl.bootstrap);
    assert_int_equal(pl.accepted, 0);
    swarm_peer_list_clear(&pl);
}

static void test_peer_list_payload_without_sender_host(void **state)
{
    (void)state;
    swarm_peer_list in = {.sender_type = "NS", .sender_port = 3009, .sender_id = "ns-1", .accepted = -1};
    cJSON *payload = swarm_peer_list_encode(&in);
    assert_null(cJSON_GetObjectItem(payload, "senderHost"));
    assert_null(cJSON_GetObjectItem(payload, "hello"));
    assert_null(cJSON_GetObjectItem(payload, "accepted"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(payload, "peers")), 0);
    swarm_peer_list pl;
    assert_int_equal(swarm_peer_list_decode(payload, &pl, err, sizeof err), 0);
    cJSON_Delete(payload);
    assert_int_equal(pl.n, 0);
    assert_string_equal(pl.sender_host, "");
    assert_int_equal(pl.sender_port, 3009);
    swarm_peer_list_clear(&pl);
}

/* ---- reply identity ---- */

static int identity(const char *text, swarm_identity *id)
{
    return swarm_reply_identity(text, strlen(text), id);
}

static void test_reply_identity_found(void **state)
{
    (void)state;
    swarm_identity id;
    assert_int_equal(identity("{\"ok\":true,\"result\":{\"processed\":true,\"node\":{\"nodeId\":\"gw-1\","
                              "\"nodeType\":\"Gateway\",\"port\":8080}}}",
                              &id),
                     0);
    assert_string_equal(id.node_id, "gw-1");
    assert_string_equal(id.node_type, "Gateway");
    assert_int_equal(id.port, 8080);
}

static void test_reply_identity_absent_or_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"ok\":true,\"result\":{\"processed\":true}}", /* NeuroSwarm */
        "<html>502 Bad Gateway</html>",
        "{\"ok\":true}",
        "{\"result\":{\"node\":{\"nodeId\":\"gw 1\",\"nodeType\":\"Gateway\",\"port\":8080}}}",
        "{\"result\":{\"node\":{\"nodeId\":\"gw-1\",\"nodeType\":\"Gateway\",\"port\":0}}}",
        "{\"result\":{\"node\":{\"nodeId\":\"gw-1\",\"port\":8080}}}",
        "{\"result\":{\"node\":\"gw-1\"}}",
    };
    swarm_identity id;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (identity(bad[i], &id) != -1)
            fail_msg("identity found in %s", bad[i]);
        assert_string_equal(id.node_id, ""); /* cleared, not half filled */
        assert_int_equal(id.port, 0);
    }
    assert_int_equal(swarm_reply_identity(NULL, 0, &id), -1);
    assert_int_equal(swarm_reply_identity("{}", 0, &id), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_valid),
        cmocka_unit_test(test_decode_uses_len_not_nul),
        cmocka_unit_test(test_decode_optional_fields),
        cmocka_unit_test(test_reject_not_json),
        cmocka_unit_test(test_reject_not_object),
        cmocka_unit_test(test_reject_bad_id),
        cmocka_unit_test(test_id_length_limit),
        cmocka_unit_test(test_reject_bad_type_and_origin),
        cmocka_unit_test(test_reject_bad_payload),
        cmocka_unit_test(test_reject_bad_hops),
        cmocka_unit_test(test_reject_bad_timestamp),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_unknown_type_kept),
        cmocka_unit_test(test_extra_fields_survive_relay),
        cmocka_unit_test(test_set_hops_adds_missing_field),
        cmocka_unit_test(test_from_json_takes_ownership_on_error),
        cmocka_unit_test(test_create_epoch),
        cmocka_unit_test(test_create_id_and_timestamp),
        cmocka_unit_test(test_create_suffix_is_base36),
        cmocka_unit_test(test_iso_time),
        cmocka_unit_test(test_msg_type_names),
        cmocka_unit_test(test_peer_list_valid),
        cmocka_unit_test(test_peer_list_neuroswarm_shape),
        cmocka_unit_test(test_peer_list_empty),
        cmocka_unit_test(test_peer_list_rejections),
        cmocka_unit_test(test_peer_list_sender_rejections),
        cmocka_unit_test(test_peer_list_size_limit),
        cmocka_unit_test(test_peer_list_payload_round_trip),
        cmocka_unit_test(test_peer_list_payload_without_sender_host),
        cmocka_unit_test(test_reply_identity_found),
        cmocka_unit_test(test_reply_identity_absent_or_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
