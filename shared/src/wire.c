#include "swarm/wire.h"

#include "fail.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const type_names[] = {
    [SWARM_MSG_UNKNOWN] = "UNKNOWN", [SWARM_MSG_PEER_LIST] = "PEER_LIST",
    [SWARM_MSG_NEW_BLOCK] = "NEW_BLOCK", [SWARM_MSG_NEW_TX] = "NEW_TX",
    [SWARM_MSG_PING] = "PING", [SWARM_MSG_PONG] = "PONG",
};

const char *swarm_msg_type_name(swarm_msg_type t)
{
    if ((unsigned)t >= sizeof type_names / sizeof *type_names)
        return "UNKNOWN";
    return type_names[t];
}

swarm_msg_type swarm_msg_type_from_name(const char *name)
{
    for (unsigned i = 1; i < sizeof type_names / sizeof *type_names; i++)
        if (strcmp(name, type_names[i]) == 0)
            return (swarm_msg_type)i;
    return SWARM_MSG_UNKNOWN;
}

int swarm_json_depth(const cJSON *v)
{
    if (!v || !(cJSON_IsObject(v) || cJSON_IsArray(v)))
        return 1;
    int deepest = 0;
    for (const cJSON *c = v->child; c; c = c->next) {
        int d = swarm_json_depth(c);
        if (d > deepest)
            deepest = d;
        if (deepest > SWARM_JSON_DEPTH_MAX)
            break; /* no need to walk further once over the limit */
    }
    return deepest + 1;
}

/* A JSON number that is an exact integer within [min, max]. */
static bool json_int(const cJSON *v, double min, double max, long *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < min || d > max)
        return false;
    *out = (long)d;
    return true;
}

/* A port as NeuroSwarm nodes send it: a number, or a decimal string when it came from PORT. */
static int json_port(const cJSON *v, uint16_t *out)
{
    long port;
    if (cJSON_IsString(v))
        return swarm_parse_port(v->valuestring, out);
    if (!json_int(v, 1, 65535, &port))
        return -1;
    *out = (uint16_t)port;
    return 0;
}

/* Copies a string field bounded by cap (including NUL). Returns 0 ok, 1 absent, -1 wrong. */
static int json_str(const cJSON *obj, const char *name, char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v))
        return 1;
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) >= cap)
        return -1;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

int swarm_envelope_from_json(cJSON *obj, swarm_envelope *env, char *err, size_t errlen)
{
    memset(env, 0, sizeof *env);
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return swarm_fail(err, errlen, "Invalid message format: envelope must be a JSON object");
    }
    env->json = obj;
    int rc;
    if (swarm_json_depth(obj) > SWARM_JSON_DEPTH_MAX) {
        swarm_fail(err, errlen, "Invalid message format: nested deeper than %d", SWARM_JSON_DEPTH_MAX);
        goto bad;
    }
    if ((rc = json_str(obj, "id", env->id, sizeof env->id)) != 0 || !env->id[0]) {
        swarm_fail(err, errlen, "Invalid message format: %s", rc > 0 ? "missing id" : "id must be a string of 1-128 chars");
        goto bad;
    }
    if ((rc = json_str(obj, "type", env->type_name, sizeof env->type_name)) != 0 || !env->type_name[0]) {
        swarm_fail(err, errlen, "Invalid message format: %s", rc > 0 ? "missing type" : "type must be a string of 1-32 chars");
        goto bad;
    }
    env->type = swarm_msg_type_from_name(env->type_name);
    rc = json_str(obj, "originNodeId", env->origin, sizeof env->origin);
    if (rc != 0 || !swarm_valid_node_id(env->origin)) {
        swarm_fail(err, errlen, "Invalid message format: %s",
             rc > 0 ? "missing originNodeId" : "originNodeId must be a node id token of 1-64 chars");
        goto bad;
    }
    cJSON *payload = cJSON_GetObjectItemCaseSensitive(obj, "payload");
    if (!payload) {
        swarm_fail(err, errlen, "Invalid message format: missing payload");
        goto bad;
    }
    if (!cJSON_IsObject(payload)) {
        swarm_fail(err, errlen, "Invalid message format: payload must be an object");
        goto bad;
    }
    env->payload = payload;
    const cJSON *hops = cJSON_GetObjectItemCaseSensitive(obj, "hops");
    long h = 0;
    if (hops && !json_int(hops, 0, 1000, &h)) {
        swarm_fail(err, errlen, "Invalid message format: hops must be an integer 0-1000");
        goto bad;
    }
    env->hops = (int)h;
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(obj, "timestamp");
    if (ts && !(cJSON_IsNumber(ts) || (cJSON_IsString(ts) && strlen(ts->valuestring) < 64))) {
        swarm_fail(err, errlen, "Invalid message format: timestamp must be an ISO string or a number");
        goto bad;
    }
    return 0;
bad:
    cJSON_Delete(obj);
    memset(env, 0, sizeof *env);
    return -1;
}

int swarm_envelope_decode(const char *text, size_t len, swarm_envelope *env, char *err, size_t errlen)
{
    memset(env, 0, sizeof *env);
    cJSON *obj = cJSON_ParseWithLength(text, len);
    if (!obj)
        return swarm_fail(err, errlen, "Invalid message format: body is not valid JSON");
    return swarm_envelope_from_json(obj, env, err, errlen);
}

void swarm_envelope_clear(swarm_envelope *env)
{
    cJSON_Delete(env->json);
    memset(env, 0, sizeof *env);
}

void swarm_iso_time(uint64_t wall_ms, char out[32])
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03uZ", base, (unsigned)(wall_ms % 1000));
}

int swarm_envelope_create(swarm_envelope *env, swarm_msg_type type, cJSON *payload,
                          const char *origin, uint64_t wall_ms, uint64_t rnd)
{
    memset(env, 0, sizeof *env);
    char suffix[10];
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int i = 0; i < 9; i++) {
        suffix[i] = digits[rnd % 36];
        rnd /= 36;
    }
    suffix[9] = 0;
    char ts[32];
    swarm_iso_time(wall_ms, ts);
    cJSON *obj = cJSON_CreateObject();
    if (!payload)
        payload = cJSON_CreateObject();
    if (!obj || !payload) {
        cJSON_Delete(obj);
        cJSON_Delete(payload);
        return -1;
    }
    snprintf(env->id, sizeof env->id, "%s-%llu-%s", origin, (unsigned long long)wall_ms, suffix);
    snprintf(env->type_name, sizeof env->type_name, "%s", swarm_msg_type_name(type));
    snprintf(env->origin, sizeof env->origin, "%s", origin);
    env->type = type;
    cJSON_AddStringToObject(obj, "id", env->id);
    cJSON_AddStringToObject(obj, "type", env->type_name);
    cJSON_AddItemToObject(obj, "payload", payload);
    cJSON_AddStringToObject(obj, "originNodeId", origin);
    cJSON_AddStringToObject(obj, "timestamp", ts);
    cJSON_AddNumberToObject(obj, "hops", 0);
    env->json = obj;
    env->payload = payload;
    return 0;
}

void swarm_envelope_set_hops(swarm_envelope *env, int hops)
{
    env->hops = hops;
    cJSON *h = cJSON_GetObjectItemCaseSensitive(env->json, "hops");
    if (h)
        cJSON_SetNumberValue(h, hops);
    else
        cJSON_AddNumberToObject(env->json, "hops", hops);
}

char *swarm_envelope_encode(const swarm_envelope *env, size_t *len)
{
    char *s = cJSON_PrintUnformatted(env->json);
    if (s && len)
        *len = strlen(s);
    return s;
}

static int decode_wire_peer(const cJSON *item, swarm_wire_peer *p, size_t idx, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (!cJSON_IsObject(item))
        return swarm_fail(err, errlen, "PEER_LIST: peers[%zu] is not an object", idx);
    if (json_str(item, "host", p->host, sizeof p->host) != 0 || !swarm_valid_host(p->host))
        return swarm_fail(err, errlen, "PEER_LIST: peers[%zu].host missing or invalid", idx);
    if (json_port(cJSON_GetObjectItemCaseSensitive(item, "port"), &p->port) != 0)
        return swarm_fail(err, errlen, "PEER_LIST: peers[%zu].port must be an integer 1-65535", idx);
    int rc = json_str(item, "nodeType", p->node_type, sizeof p->node_type);
    if (rc < 0 || (rc == 0 && !swarm_valid_type(p->node_type)))
        return swarm_fail(err, errlen, "PEER_LIST: peers[%zu].nodeType invalid", idx);
    rc = json_str(item, "nodeId", p->node_id, sizeof p->node_id);
    if (rc < 0 || (rc == 0 && !swarm_valid_node_id(p->node_id)))
        return swarm_fail(err, errlen, "PEER_LIST: peers[%zu].nodeId invalid", idx);
    return 0;
}

int swarm_peer_list_decode(const cJSON *payload, swarm_peer_list *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const cJSON *peers = cJSON_GetObjectItemCaseSensitive(payload, "peers");
    if (peers && !cJSON_IsArray(peers))
        return swarm_fail(err, errlen, "PEER_LIST: peers must be an array");
    int n = peers ? cJSON_GetArraySize(peers) : 0;
    if (n > SWARM_PEER_LIST_MAX)
        return swarm_fail(err, errlen, "PEER_LIST: more than %d peers", SWARM_PEER_LIST_MAX);
    if (n > 0) {
        out->peers = calloc((size_t)n, sizeof *out->peers);
        if (!out->peers)
            return swarm_fail(err, errlen, "PEER_LIST: out of memory");
    }
    size_t i = 0;
    for (const cJSON *item = peers ? peers->child : NULL; item; item = item->next, i++) {
        if (decode_wire_peer(item, &out->peers[i], i, err, errlen) != 0) {
            swarm_peer_list_clear(out);
            return -1;
        }
    }
    out->n = i;
    int rc = json_str(payload, "senderNodeType", out->sender_type, sizeof out->sender_type);
    if (rc < 0 || (rc == 0 && !swarm_valid_type(out->sender_type)))
        goto bad_sender;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(payload, "senderPort");
    if (sp && !cJSON_IsNull(sp) && json_port(sp, &out->sender_port) != 0)
        goto bad_sender;
    rc = json_str(payload, "senderNodeId", out->sender_id, sizeof out->sender_id);
    if (rc < 0 || (rc == 0 && !swarm_valid_node_id(out->sender_id)))
        goto bad_sender;
    rc = json_str(payload, "senderHost", out->sender_host, sizeof out->sender_host);
    if (rc < 0 || (rc == 0 && !swarm_valid_host(out->sender_host)))
        goto bad_sender;
    out->hello = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(payload, "hello"));
    out->bootstrap = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(payload, "bootstrap"));
    long keepers;
    out->keepers = json_int(cJSON_GetObjectItemCaseSensitive(payload, "keepers"), 0, 1000000, &keepers)
                       ? (int)keepers : -1;
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(payload, "accepted");
    out->accepted = cJSON_IsBool(acc) ? cJSON_IsTrue(acc) : -1;
    return 0;
bad_sender:
    swarm_peer_list_clear(out);
    return swarm_fail(err, errlen, "PEER_LIST: senderNodeType, senderPort, senderNodeId or senderHost invalid");
}

void swarm_peer_list_clear(swarm_peer_list *pl)
{
    free(pl->peers);
    memset(pl, 0, sizeof *pl);
}

cJSON *swarm_peer_list_encode(const swarm_peer_list *pl)
{
    cJSON *payload = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(payload, "peers");
    if (!arr) {
        cJSON_Delete(payload);
        return NULL;
    }
    for (size_t i = 0; i < pl->n; i++) {
        const swarm_wire_peer *w = &pl->peers[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "host", w->host);
        cJSON_AddNumberToObject(o, "port", w->port);
        if (w->node_type[0])
            cJSON_AddStringToObject(o, "nodeType", w->node_type);
        if (w->node_id[0])
            cJSON_AddStringToObject(o, "nodeId", w->node_id);
        cJSON_AddItemToArray(arr, o);
    }
    if (pl->sender_type[0])
        cJSON_AddStringToObject(payload, "senderNodeType", pl->sender_type);
    if (pl->sender_port)
        cJSON_AddNumberToObject(payload, "senderPort", pl->sender_port);
    if (pl->sender_id[0])
        cJSON_AddStringToObject(payload, "senderNodeId", pl->sender_id);
    if (pl->sender_host[0])
        cJSON_AddStringToObject(payload, "senderHost", pl->sender_host);
    if (pl->hello)
        cJSON_AddBoolToObject(payload, "hello", 1);
    if (pl->bootstrap)
        cJSON_AddBoolToObject(payload, "bootstrap", 1);
    if (pl->accepted >= 0)
        cJSON_AddBoolToObject(payload, "accepted", pl->accepted);
    if (pl->keepers >= 0)
        cJSON_AddNumberToObject(payload, "keepers", pl->keepers);
    return payload;
}

int swarm_reply_identity(const char *reply, size_t len, swarm_identity *out)
{
    memset(out, 0, sizeof *out);
    if (!reply || !len)
        return -1;
    cJSON *root = cJSON_ParseWithLength(reply, len);
    if (!root)
        return -1;
    int rc = -1;
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "result"), "node");
    long port;
    if (cJSON_IsObject(node) && json_str(node, "nodeId", out->node_id, sizeof out->node_id) == 0 &&
        swarm_valid_node_id(out->node_id) &&
        json_str(node, "nodeType", out->node_type, sizeof out->node_type) == 0 &&
        swarm_valid_type(out->node_type) &&
        json_int(cJSON_GetObjectItemCaseSensitive(node, "port"), 1, 65535, &port)) {
        out->port = (uint16_t)port;
        const cJSON *acc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "result"), "accepted");
        out->accepted = cJSON_IsBool(acc) ? cJSON_IsTrue(acc) : -1;
        rc = 0;
    }
    cJSON_Delete(root);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* base64 (standard alphabet, padded) to bytes. Returns the length, or -1. */
static long base64_decode(const char *in, size_t len, unsigned char **out)
{
    if (len % 4 || len > INT32_MAX)
        return -1;
    *out = malloc(len / 4 * 3 + 1);
    if (!*out)
        return -1;
    int n = EVP_DecodeBlock(*out, (const unsigned char *)in, (int)len);
    if (n < 0) {
        free(*out);
        return -1;
    }
    /* EVP_DecodeBlock counts padding as data. */
    if (len && in[len - 1] == '=')
        n--;
    if (len > 1 && in[len - 2] == '=')
        n--;
    return n;
}

/* gzip (or zlib) to text, at most max bytes: a small body cannot inflate without bound. */
static char *inflate_bounded(const unsigned char *in, size_t len, size_t max, size_t *out_len,
                             char *err, size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) { /* +32: gzip or zlib header, detected */
        swarm_fail(err, errlen, "Invalid message format: cannot inflate");
        return NULL;
    }
    char *out = malloc(max + 1);
    if (!out) {
        inflateEnd(&z);
        return NULL;
    }
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)len;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)max;
    int rc = inflate(&z, Z_FINISH);
    size_t produced = max - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        swarm_fail(err, errlen, rc == Z_BUF_ERROR && produced == max
                                    ? "Invalid message format: compressed data inflates past the size limit"
                                    : "Invalid message format: compressed data is not valid gzip");
        return NULL;
    }
    out[produced] = 0;
    *out_len = produced;
    return out;
}

static cJSON *as_batch(cJSON *root, bool *batched, char *err, size_t errlen)
{
    cJSON *list = NULL;
    if (cJSON_IsArray(root)) {
        list = root;
    } else if (cJSON_IsObject(root)) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "messages");
        if (!cJSON_IsArray(m))
            m = cJSON_GetObjectItemCaseSensitive(root, "batch");
        if (cJSON_IsArray(m) && !cJSON_GetObjectItemCaseSensitive(root, "type")) {
            cJSON_DetachItemViaPointer(root, m);
            cJSON_Delete(root);
            list = m;
        }
    }
    if (!list) { /* one envelope */
        *batched = false;
        list = cJSON_CreateArray();
        if (!list) {
            cJSON_Delete(root);
            return NULL;
        }
        cJSON_AddItemToArray(list, root);
        return list;
    }
    *batched = true;
    int n = cJSON_GetArraySize(list);
    if (n == 0 || n > SWARM_BATCH_MAX) {
        cJSON_Delete(list);
        swarm_fail(err, errlen, "Invalid message format: a batch holds 1 to %d messages", SWARM_BATCH_MAX);
        return NULL;
    }
    return list;
}

cJSON *swarm_wire_unwrap(const char *body, size_t len, size_t max_inflated, bool *batched, char *err,
                         size_t errlen)
{
    *batched = false;
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root) {
        swarm_fail(err, errlen, "Invalid message format: body is not valid JSON");
        return NULL;
    }
    if (cJSON_IsObject(root) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "compressed"))) {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
        unsigned char *raw = NULL;
        long n = cJSON_IsString(data) ? base64_decode(data->valuestring, strlen(data->valuestring), &raw) : -1;
        cJSON_Delete(root);
        if (n < 0) {
            swarm_fail(err, errlen, "Invalid message format: compressed data must be base64");
            return NULL;
        }
        size_t text_len;
        char *text = inflate_bounded(raw, (size_t)n, max_inflated, &text_len, err, errlen);
        free(raw);
        if (!text)
            return NULL;
        root = cJSON_ParseWithLength(text, text_len);
        free(text);
        if (!root) {
            swarm_fail(err, errlen, "Invalid message format: compressed data is not valid JSON");
            return NULL;
        }
    }
    return as_batch(root, batched, err, errlen);
}
