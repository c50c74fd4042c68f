#include "swarm/api.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWARM_VERSION "0.1.0"

static void reply(swarm_http_response *resp, int status, cJSON *body)
{
    resp->status = status;
    resp->body = cJSON_PrintUnformatted(body);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    cJSON_Delete(body);
    if (!resp->body) { /* out of memory: a static-shaped answer still goes out */
        resp->status = 500;
        resp->body = strdup("{\"error\":\"out of memory\"}");
        resp->body_len = resp->body ? strlen(resp->body) : 0;
    }
}

void swarm_api_error(swarm_http_response *resp, int status, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", message);
    reply(resp, status, o);
}

/* Add/delete replies carry ok and message (what NeuroSwarm clients read) and, on refusals,
 * error (what every swarm error carries). */
static void reply_ok_message(swarm_http_response *resp, int status, bool ok, const char *message,
                             cJSON *peer);

/* Scores are kept as doubles (decay is continuous); two decimals are all anyone reads. */
static double score2(double x) { return round(x * 100) / 100; }

static cJSON *peer_json(const swarm_peer *p, swarm_reputation *rep, uint64_t now_mono)
{
    char added[32], seen[32];
    swarm_iso_time(p->added_at, added);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", p->id);
    cJSON_AddStringToObject(o, "host", p->host);
    cJSON_AddNumberToObject(o, "port", p->port);
    cJSON_AddStringToObject(o, "nodeType", p->node_type[0] ? p->node_type : "unknown");
    if (p->node_id[0])
        cJSON_AddStringToObject(o, "nodeId", p->node_id);
    else
        cJSON_AddNullToObject(o, "nodeId");
    cJSON_AddStringToObject(o, "source", swarm_peer_source_name(p->source));
    cJSON_AddStringToObject(o, "addedAt", added);
    if (p->last_seen) {
        swarm_iso_time(p->last_seen, seen);
        cJSON_AddStringToObject(o, "lastSeen", seen);
    } else {
        cJSON_AddNullToObject(o, "lastSeen");
    }
    cJSON_AddStringToObject(o, "status", swarm_peer_status_name(p->status));
    cJSON_AddNumberToObject(o, "failures", p->failures);
    if (rep)
        cJSON_AddNumberToObject(o, "reputation", score2(swarm_reputation_score(rep, p->id, now_mono)));
    return o;
}

/* Who this node is: {"nodeId","nodeType","port"}, the identity a reply carries. */
static cJSON *identity_json(swarm_node *node)
{
    cJSON *me = cJSON_CreateObject();
    cJSON_AddStringToObject(me, "nodeId", swarm_node_id(node));
    cJSON_AddStringToObject(me, "nodeType", swarm_node_type_name(node));
    cJSON_AddNumberToObject(me, "port", swarm_node_port(node));
    return me;
}

static cJSON *node_json(swarm_node *node, swarm_time now)
{
    cJSON *o = identity_json(node);
    cJSON_AddNumberToObject(o, "maxPeers", swarm_node_config(node)->max_peers);
    cJSON_AddNumberToObject(o, "peerCount", swarm_peer_table_count(swarm_node_peers(node)));
    cJSON_AddNumberToObject(o, "uptime", (double)(swarm_node_uptime_ms(node, now) / 1000));
    return o;
}

static void get_peers(swarm_node *node, const swarm_http_request *req, swarm_time now,
                      swarm_http_response *resp)
{
    const char *filter = req->type_filter && *req->type_filter ? req->type_filter : NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "node", node_json(node, now));
    cJSON *arr = cJSON_AddArrayToObject(root, "peers");
    int count = 0;
    for (swarm_peer *p = swarm_peer_table_first(swarm_node_peers(node)); p; p = swarm_peer_table_next(p)) {
        if (filter && strcmp(p->node_type, filter) != 0)
            continue;
        cJSON_AddItemToArray(arr, peer_json(p, swarm_node_reputation(node), now.mono));
        count++;
    }
    cJSON_AddNumberToObject(root, "count", count);
    cJSON_AddStringToObject(root, "filter", filter ? filter : "none");
    reply(resp, 200, root);
}

static void get_health(swarm_node *node, swarm_time now, swarm_http_response *resp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddStringToObject(o, "nodeId", swarm_node_id(node));
    cJSON_AddStringToObject(o, "nodeType", swarm_node_type_name(node));
    cJSON_AddNumberToObject(o, "port", swarm_node_port(node));
    cJSON_AddNumberToObject(o, "uptime", (double)(swarm_node_uptime_ms(node, now) / 1000));
    cJSON_AddNumberToObject(o, "peerCount", swarm_peer_table_count(swarm_node_peers(node)));
    cJSON_AddNumberToObject(o, "maxPeers", swarm_node_config(node)->max_peers);
    cJSON_AddStringToObject(o, "version", SWARM_VERSION);
    reply(resp, 200, o);
}

static void reply_ok_message(swarm_http_response *resp, int status, bool ok, const char *message,
                             cJSON *peer)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", ok);
    cJSON_AddStringToObject(o, "message", message);
    if (!ok)
        cJSON_AddStringToObject(o, "error", message);
    if (peer)
        cJSON_AddItemToObject(o, "peer", peer);
    reply(resp, status, o);
}

/* Parses the body as a JSON object, or answers 400. */
static cJSON *parse_object(const swarm_http_request *req, swarm_http_response *resp)
{
    if (!req->body || !req->body_len) {
        swarm_api_error(resp, 400, "request body must be a JSON object");
        return NULL;
    }
    cJSON *o = cJSON_ParseWithLength(req->body, req->body_len);
    if (!o) {
        swarm_api_error(resp, 400, "malformed JSON");
        return NULL;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        swarm_api_error(resp, 400, "request body must be a JSON object");
        return NULL;
    }
    return o;
}

static void post_add(swarm_node *node, const swarm_http_request *req, swarm_time now,
                     swarm_http_response *resp)
{
    cJSON *o = parse_object(req, resp);
    if (!o)
        return;
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(o, "host");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(o, "port");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "nodeType");
    char msg[SWARM_HOST_MAX + 128];
    uint16_t port16 = 0;
    if (!host || !port) {
        reply_ok_message(resp, 400, false, "host and port required", NULL);
        goto out;
    }
    if (!cJSON_IsString(host) || !swarm_valid_host(host->valuestring)) {
        reply_ok_message(resp, 400, false, "host must be a non-empty host name or IP address", NULL);
        goto out;
    }
    /* A port may come as a number or as a decimal string (form-style clients); nothing else. */
    if (cJSON_IsNumber(port) && port->valuedouble >= 1 && port->valuedouble <= 65535 &&
        port->valuedouble == (double)(int)port->valuedouble)
        port16 = (uint16_t)port->valuedouble;
    else if (cJSON_IsString(port) && swarm_parse_port(port->valuestring, &port16) == 0)
        ;
    else {
        reply_ok_message(resp, 400, false, "port must be an integer 1-65535", NULL);
        goto out;
    }
    const char *type_s = "NS"; /* NeuroSwarm's default when a client leaves it out */
    if (type && !cJSON_IsNull(type)) {
        if (!cJSON_IsString(type) || !swarm_valid_type(type->valuestring)) {
            reply_ok_message(resp, 400, false,
                             "nodeType must be a token of 1-32 letters, digits, '_', '.' or '-'", NULL);
            goto out;
        }
        type_s = type->valuestring;
    }
    swarm_peer *p = NULL;
    switch (swarm_node_add_peer(node, host->valuestring, port16, type_s, SWARM_SOURCE_MANUAL, now, &p)) {
    case SWARM_ADD_ADDED:
        snprintf(msg, sizeof msg, "Peer added: %s", p->id);
        reply_ok_message(resp, 200, true, msg, peer_json(p, swarm_node_reputation(node), now.mono));
        break;
    case SWARM_ADD_EXISTS:
        snprintf(msg, sizeof msg, "Peer already known: %s", p->id);
        reply_ok_message(resp, 200, true, msg, peer_json(p, swarm_node_reputation(node), now.mono));
        break;
    case SWARM_ADD_BANNED:
        reply_ok_message(resp, 403, false, "refused: that peer is banned", NULL);
        break;
    case SWARM_ADD_SELF:
        reply_ok_message(resp, 409, false, "refused: that address is this node itself", NULL);
        break;
    case SWARM_ADD_FULL:
        snprintf(msg, sizeof msg, "refused: peer table full (MAX_PEERS=%u); remove a peer first",
                 swarm_node_config(node)->max_peers);
        reply_ok_message(resp, 409, false, msg, NULL);
        break;
    default:
        reply_ok_message(resp, 400, false, "invalid peer", NULL);
    }
out:
    cJSON_Delete(o);
}

static void delete_peer(swarm_node *node, const char *peer_id, swarm_http_response *resp)
{
    char msg[SWARM_PEER_ID_MAX + 32];
    if (!*peer_id || swarm_node_remove_peer(node, peer_id) != 0) {
        reply_ok_message(resp, 404, false, "Peer ID not found", NULL);
        return;
    }
    snprintf(msg, sizeof msg, "Peer removed: %s", peer_id);
    reply_ok_message(resp, 200, true, msg, NULL);
}

/* Hands one envelope object (owned) to the core. */
static void deliver_one(swarm_node *node, const swarm_from *from, cJSON *obj, swarm_time now,
                        swarm_msg_result *res)
{
    char err[160];
    swarm_envelope env;
    if (swarm_envelope_from_json(obj, &env, err, sizeof err) != 0) {
        swarm_node_on_invalid(node, from, err, now, res);
        return;
    }
    swarm_node_on_message(node, from, &env, now, res);
    swarm_envelope_clear(&env);
}

static void post_message(swarm_node *node, const swarm_http_request *req, swarm_time now,
                         swarm_http_response *resp)
{
    char err[160] = "Invalid message format: empty body";
    swarm_from from = {.host = req->remote_host, .port = req->sender_port, .node_id = req->sender_id};
    swarm_msg_result res;
    bool batched = false;
    cJSON *items = req->body && req->body_len
                       ? swarm_wire_unwrap(req->body, req->body_len, swarm_node_config(node)->max_body,
                                           &batched, err, sizeof err)
                       : NULL;
    if (!items) {
        swarm_node_on_invalid(node, &from, err, now, &res);
        swarm_api_error(resp, res.status, res.reason);
        return;
    }
    if (!batched) {
        deliver_one(node, &from, cJSON_DetachItemFromArray(items, 0), now, &res);
        cJSON_Delete(items);
        if (res.status != 200) {
            swarm_api_error(resp, res.status, res.reason);
            return;
        }
        cJSON *root = cJSON_CreateObject();
        cJSON_AddBoolToObject(root, "ok", true);
        cJSON *result = cJSON_AddObjectToObject(root, "result");
        cJSON_AddBoolToObject(result, "processed", res.processed);
        cJSON_AddBoolToObject(result, "relayed", res.relayed);
        if (res.reason[0])
            cJSON_AddStringToObject(result, "reason", res.reason);
        /* Our identity rides on every reply: the sender learns who answered without a second round trip. */
        cJSON_AddItemToObject(result, "node", identity_json(node));
        reply(resp, 200, root);
        return;
    }
    /* A batch: each message on its own; the reply says what became of each, in order. */
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "ok", true);
    cJSON *results = cJSON_AddArrayToObject(root, "results");
    int status = 200;
    for (cJSON *obj; (obj = cJSON_DetachItemFromArray(items, 0));) {
        deliver_one(node, &from, obj, now, &res);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "status", res.status);
        cJSON_AddBoolToObject(r, "processed", res.processed);
        cJSON_AddBoolToObject(r, "relayed", res.relayed);
        if (res.reason[0])
            cJSON_AddStringToObject(r, res.status == 200 ? "reason" : "error", res.reason);
        cJSON_AddItemToArray(results, r);
        if (res.status == 403) { /* the sender is banned: nothing more of its batch is read */
            status = 403;
            break;
        }
    }
    cJSON_Delete(items);
    if (status != 200) {
        cJSON_Delete(root);
        swarm_api_error(resp, status, "peer banned");
        return;
    }
    cJSON_AddItemToObject(root, "node", identity_json(node));
    reply(resp, 200, root);
}

static void post_broadcast(swarm_node *node, const swarm_http_request *req, swarm_time now,
                           swarm_http_response *resp)
{
    cJSON *o = parse_object(req, resp);
    if (!o)
        return;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    cJSON *payload = cJSON_GetObjectItemCaseSensitive(o, "payload");
    swarm_msg_type t = cJSON_IsString(type) ? swarm_msg_type_from_name(type->valuestring) : SWARM_MSG_UNKNOWN;
    if (t != SWARM_MSG_NEW_BLOCK && t != SWARM_MSG_NEW_TX) {
        swarm_api_error(resp, 400, "type must be NEW_BLOCK or NEW_TX");
    } else if (payload && !cJSON_IsObject(payload)) {
        swarm_api_error(resp, 400, "payload must be an object");
    } else if (payload && swarm_json_depth(payload) > SWARM_JSON_DEPTH_MAX) {
        swarm_api_error(resp, 400, "payload nested too deeply");
    } else {
        if (payload)
            cJSON_DetachItemViaPointer(o, payload);
        char id[SWARM_MSG_ID_MAX];
        int sent = swarm_node_broadcast(node, t, payload, now, id);
        if (sent < 0) {
            swarm_api_error(resp, 500, "could not create the message");
        } else {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddBoolToObject(r, "ok", true);
            cJSON_AddStringToObject(r, "id", id);
            cJSON_AddStringToObject(r, "type", swarm_msg_type_name(t));
            cJSON_AddNumberToObject(r, "sentTo", sent);
            reply(resp, 200, r);
        }
    }
    cJSON_Delete(o);
}

static void get_messages(swarm_node *node, swarm_http_response *resp)
{
    const swarm_node_stats *st = swarm_node_get_stats(node);
    cJSON *root = cJSON_CreateObject();
    cJSON *del = cJSON_AddObjectToObject(root, "delivered");
    cJSON_AddNumberToObject(del, "NEW_BLOCK", (double)st->delivered[SWARM_MSG_NEW_BLOCK]);
    cJSON_AddNumberToObject(del, "NEW_TX", (double)st->delivered[SWARM_MSG_NEW_TX]);
    cJSON *c = cJSON_AddObjectToObject(root, "counters");
    cJSON_AddNumberToObject(c, "received", (double)st->received);
    cJSON_AddNumberToObject(c, "originated", (double)st->originated);
    cJSON_AddNumberToObject(c, "duplicates", (double)st->duplicates);
    cJSON_AddNumberToObject(c, "relayed", (double)st->relayed);
    cJSON_AddNumberToObject(c, "hopLimited", (double)st->hop_limited);
    cJSON_AddNumberToObject(c, "ownEchoes", (double)st->own_echoes);
    cJSON_AddNumberToObject(c, "invalid", (double)st->invalid);
    cJSON_AddNumberToObject(c, "refusedBanned", (double)st->refused_banned);
    cJSON_AddNumberToObject(c, "spam", (double)st->spam);
    cJSON_AddNumberToObject(c, "peersRemoved", (double)st->peers_removed);
    cJSON_AddNumberToObject(c, "peersPruned", (double)st->peers_pruned);
    cJSON_AddNumberToObject(c, "peersLetGo", (double)st->peers_let_go);
    cJSON_AddNumberToObject(c, "bans", (double)st->bans);
    swarm_delivery recent[SWARM_RECENT_MAX];
    size_t n = swarm_node_recent(node, recent, SWARM_RECENT_MAX);
    cJSON *arr = cJSON_AddArrayToObject(root, "recent");
    for (size_t i = 0; i < n; i++) {
        char at[32];
        swarm_iso_time(recent[i].at_wall, at);
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "id", recent[i].id);
        cJSON_AddStringToObject(m, "type", swarm_msg_type_name(recent[i].type));
        cJSON_AddStringToObject(m, "originNodeId", recent[i].origin);
        cJSON_AddNumberToObject(m, "hops", recent[i].hops);
        if (recent[i].from[0])
            cJSON_AddStringToObject(m, "from", recent[i].from);
        else
            cJSON_AddNullToObject(m, "from");
        cJSON_AddStringToObject(m, "receivedAt", at);
        cJSON_AddItemToArray(arr, m);
    }
    reply(resp, 200, root);
}

typedef struct ban_list {
    cJSON *arr;
    uint64_t now;
} ban_list;

static void add_ban(void *ctx, const char *key, uint64_t until, double score)
{
    ban_list *bl = ctx;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "id", key);
    cJSON_AddNumberToObject(b, "score", score2(score));
    cJSON_AddNumberToObject(b, "remainingMs", (double)(until > bl->now ? until - bl->now : 0));
    cJSON_AddItemToArray(bl->arr, b);
}

static void get_reputation(swarm_node *node, swarm_time now, swarm_http_response *resp)
{
    swarm_reputation *rep = swarm_node_reputation(node);
    swarm_reputation_stats st;
    swarm_reputation_stats_get(rep, now.mono, &st);
    cJSON *root = cJSON_CreateObject();
    cJSON *s = cJSON_AddObjectToObject(root, "stats");
    cJSON_AddNumberToObject(s, "tracked", (double)st.count);
    cJSON_AddNumberToObject(s, "average", score2(st.average));
    cJSON_AddNumberToObject(s, "min", score2(st.min));
    cJSON_AddNumberToObject(s, "max", score2(st.max));
    cJSON_AddNumberToObject(s, "banned", (double)st.banned);
    cJSON *d = cJSON_AddObjectToObject(s, "distribution");
    static const char *const names[5] = {"0-19", "20-39", "40-59", "60-79", "80-100"};
    for (int i = 0; i < 5; i++)
        cJSON_AddNumberToObject(d, names[i], (double)st.buckets[i]);
    cJSON *bans = cJSON_AddArrayToObject(root, "bans");
    ban_list bl = {bans, now.mono};
    swarm_reputation_each_ban(rep, now.mono, add_ban, &bl);
    cJSON *peers = cJSON_AddArrayToObject(root, "peers");
    for (swarm_peer *p = swarm_peer_table_first(swarm_node_peers(node)); p; p = swarm_peer_table_next(p)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", p->id);
        cJSON_AddNumberToObject(o, "score", score2(swarm_reputation_score(rep, p->id, now.mono)));
        cJSON_AddItemToArray(peers, o);
    }
    const swarm_reputation_config *rc = &swarm_node_config(node)->reputation;
    cJSON *c = cJSON_AddObjectToObject(root, "config");
    cJSON_AddNumberToObject(c, "banThreshold", rc->ban_threshold);
    cJSON_AddNumberToObject(c, "banMs", (double)rc->ban_ms);
    cJSON_AddNumberToObject(c, "decayPerHour", rc->decay_per_hour);
    cJSON *w = cJSON_AddObjectToObject(c, "weights");
    for (int i = 0; i < SWARM_REP_EVENT_COUNT; i++)
        cJSON_AddNumberToObject(w, swarm_rep_event_name((swarm_rep_event)i), rc->weights[i]);
    reply(resp, 200, root);
}

static void method_not_allowed(swarm_http_response *resp, const char *allow)
{
    char msg[64];
    snprintf(msg, sizeof msg, "method not allowed (allowed: %s)", allow);
    swarm_api_error(resp, 405, msg);
    resp->allow = allow;
}

void swarm_api_handle(swarm_node *node, const swarm_http_request *req, swarm_time now,
                      swarm_http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    const char *path = req->path ? req->path : "";
    size_t plen = strlen(path);
    while (plen > 1 && path[plen - 1] == '/') /* "/peers/" is "/peers" */
        plen--;
#define IS(p) (plen == strlen(p) && strncmp(path, p, plen) == 0)
    if (IS("/peers")) {
        if (req->method == SWARM_HTTP_GET)
            get_peers(node, req, now, resp);
        else
            method_not_allowed(resp, "GET");
    } else if (IS("/peers/add")) {
        if (req->method == SWARM_HTTP_POST)
            post_add(node, req, now, resp);
        else
            method_not_allowed(resp, "POST");
    } else if (strncmp(path, "/peers/", 7) == 0) {
        if (req->method == SWARM_HTTP_DELETE) {
            char id[SWARM_PEER_ID_MAX];
            size_t n = plen - 7 < sizeof id - 1 ? plen - 7 : sizeof id - 1;
            memcpy(id, path + 7, n);
            id[n] = 0;
            delete_peer(node, id, resp);
        } else {
            method_not_allowed(resp, "DELETE");
        }
    } else if (IS("/p2p/message")) {
        if (req->method == SWARM_HTTP_POST)
            post_message(node, req, now, resp);
        else
            method_not_allowed(resp, "POST");
    } else if (IS("/p2p/broadcast")) {
        if (req->method == SWARM_HTTP_POST)
            post_broadcast(node, req, now, resp);
        else
            method_not_allowed(resp, "POST");
    } else if (IS("/p2p/messages")) {
        if (req->method == SWARM_HTTP_GET)
            get_messages(node, resp);
        else
            method_not_allowed(resp, "GET");
    } else if (IS("/reputation")) {
        if (req->method == SWARM_HTTP_GET)
            get_reputation(node, now, resp);
        else
            method_not_allowed(resp, "GET");
    } else if (IS("/health")) {
        if (req->method == SWARM_HTTP_GET)
            get_health(node, now, resp);
        else
            method_not_allowed(resp, "GET");
    } else {
        char msg[96];
        snprintf(msg, sizeof msg, "no such route: %.64s", path);
        swarm_api_error(resp, 404, msg);
    }
#undef IS
}
