#include "swarm/node.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "swarm/log.h"

/* Handshake retry: first retry after 500 ms, doubling to at most 30 s, so a node started before
 * its bootstrap peers finds them quickly without hammering a peer that stays down. */
#define HELLO_BACKOFF_MIN_MS 500u
#define HELLO_BACKOFF_MAX_MS 30000u

struct swarm_node {
    swarm_config cfg;
    char node_id[SWARM_NODE_ID_MAX];
    swarm_node_io io;
    swarm_deliver_fn deliver;
    void *deliver_user;
    swarm_peer_table *peers;
    uint64_t started_mono;
    uint64_t rng;
    bool dirty;
    uint64_t delivered[SWARM_MSG_PONG + 1];
};

static uint64_t next_random(swarm_node *n)
{
    /* xorshift64*: ids only need to be unlikely to collide, not unpredictable. */
    n->rng ^= n->rng >> 12;
    n->rng ^= n->rng << 25;
    n->rng ^= n->rng >> 27;
    return n->rng * 2685821657736338717ull;
}

swarm_node *swarm_node_new(const swarm_config *cfg, const char *node_id, const swarm_node_io *io,
                           swarm_time now)
{
    if (!swarm_valid_node_id(node_id))
        return NULL;
    swarm_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->cfg = *cfg;
    snprintf(n->node_id, sizeof n->node_id, "%s", node_id);
    if (io)
        n->io = *io;
    n->peers = swarm_peer_table_new(cfg->max_peers);
    if (!n->peers) {
        free(n);
        return NULL;
    }
    n->started_mono = now.mono;
    n->rng = now.wall ^ 0x9e3779b97f4a7c15ull;
    for (const char *p = node_id; *p; p++)
        n->rng = n->rng * 31 + (unsigned char)*p;
    if (!n->rng)
        n->rng = 1;
    return n;
}

void swarm_node_free(swarm_node *n)
{
    if (!n)
        return;
    swarm_peer_table_free(n->peers);
    free(n);
}

void swarm_node_set_deliver(swarm_node *n, swarm_deliver_fn fn, void *user)
{
    n->deliver = fn;
    n->deliver_user = user;
}

const char *swarm_node_id(const swarm_node *n) { return n->node_id; }
const char *swarm_node_type_name(const swarm_node *n) { return n->cfg.node_type; }
uint16_t swarm_node_port(const swarm_node *n) { return n->cfg.port; }
const swarm_config *swarm_node_config(const swarm_node *n) { return &n->cfg; }
swarm_peer_table *swarm_node_peers(swarm_node *n) { return n->peers; }

uint64_t swarm_node_uptime_ms(const swarm_node *n, swarm_time now)
{
    return now.mono - n->started_mono;
}

bool swarm_node_take_dirty(swarm_node *n)
{
    bool d = n->dirty;
    n->dirty = false;
    return d;
}

uint64_t swarm_node_delivered(const swarm_node *n, swarm_msg_type type)
{
    return (unsigned)type <= SWARM_MSG_PONG ? n->delivered[type] : 0;
}

static bool is_loopback_or_any(const char *host)
{
    return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0 || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
           strcmp(host, "::ffff:127.0.0.1") == 0;
}

bool swarm_node_is_self(const swarm_node *n, const char *host, uint16_t port, const char *node_id)
{
    if (node_id && *node_id && strcmp(node_id, n->node_id) == 0)
        return true;
    if (!host || port != n->cfg.port)
        return false;
    return is_loopback_or_any(host) || (n->cfg.bind_host[0] && strcmp(host, n->cfg.bind_host) == 0) ||
           (n->cfg.advertise_host[0] && strcmp(host, n->cfg.advertise_host) == 0);
}

swarm_add_result swarm_node_add_peer(swarm_node *n, const char *host, uint16_t port,
                                     const char *node_type, swarm_peer_source source, swarm_time now,
                                     swarm_peer **out)
{
    if (out)
        *out = NULL;
    if (swarm_node_is_self(n, host, port, NULL))
        return SWARM_ADD_SELF;
    swarm_peer *p = NULL;
    int rc = swarm_peer_table_add(n->peers, host, port, node_type, source, now.wall, &p);
    if (out)
        *out = p;
    switch (rc) {
    case SWARM_PEER_ADDED:
        p->next_contact = now.mono;
        p->last_seen_mono = now.mono;
        n->dirty = true;
        SWARM_INFO("[PeerManager] Added peer: %s (type: %s, source: %s)", p->id,
                   p->node_type[0] ? p->node_type : "unknown", swarm_peer_source_name(source));
        return SWARM_ADD_ADDED;
    case SWARM_PEER_EXISTS:
        /* A type given now fills in one that was unknown; a known type is not overwritten by hearsay. */
        if (node_type && *node_type && !p->node_type[0]) {
            snprintf(p->node_type, sizeof p->node_type, "%s", node_type);
            n->dirty = true;
        }
        return SWARM_ADD_EXISTS;
    case SWARM_PEER_FULL:
        SWARM_DEBUG("[PeerManager] Peer table full (%u), not adding %s:%u", n->cfg.max_peers, host, port);
        return SWARM_ADD_FULL;
    default:
        return SWARM_ADD_INVALID;
    }
}

int swarm_node_remove_peer(swarm_node *n, const char *peer_id)
{
    if (!swarm_peer_table_find(n->peers, peer_id))
        return -1;
    if (n->io.peer_removed)
        n->io.peer_removed(n->io.ctx, peer_id);
    swarm_peer_table_remove(n->peers, peer_id);
    n->dirty = true;
    SWARM_INFO("[PeerManager] Removed peer: %s", peer_id);
    return 0;
}

/* What an operator configured (bootstrap list, REST add) outranks what was learned from peers. */
static int source_rank(swarm_peer_source s) { return s == SWARM_SOURCE_PEX ? 0 : 1; }

/* Learns a peer's node id and type from the peer itself. If the id already belongs to another
 * record (the same node reached under two addresses, e.g. localhost and 127.0.0.1), one record is
 * kept: the one an operator configured, else the one identified first. Returns the survivor. */
static swarm_peer *learn_identity(swarm_node *n, swarm_peer *p, const char *node_id,
                                  const char *node_type, swarm_time now)
{
    if (node_type && *node_type && strcmp(p->node_type, node_type) != 0) {
        snprintf(p->node_type, sizeof p->node_type, "%s", node_type);
        n->dirty = true;
    }
    if (node_id && *node_id && swarm_peer_table_set_node_id(n->peers, p, node_id) != 0) {
        swarm_peer *other = swarm_peer_table_find_node(n->peers, node_id);
        swarm_peer *drop = source_rank(p->source) > source_rank(other->source) ? other : p;
        swarm_peer *keep = drop == p ? other : p;
        SWARM_INFO("[PeerManager] %s and %s are the same node (%s): keeping %s", p->id, other->id,
                   node_id, keep->id);
        swarm_node_remove_peer(n, drop->id);
        swarm_peer_table_set_node_id(n->peers, keep, node_id);
        p = keep;
    }
    if (node_id && *node_id)
        n->dirty = true;
    p->handshaken = true;
    p->status = SWARM_PEER_ACTIVE;
    p->failures = 0;
    p->backoff_ms = 0;
    p->last_seen = now.wall;
    p->last_seen_mono = now.mono;
    return p;
}

static void send_envelope(swarm_node *n, const swarm_peer *p, const swarm_envelope *env)
{
    if (!n->io.send)
        return;
    size_t len;
    char *json = swarm_envelope_encode(env, &len);
    if (!json)
        return;
    n->io.send(n->io.ctx, p, env->type, json, len);
    free(json);
}

static void send_peer_list(swarm_node *n, const swarm_peer *to, swarm_time now)
{
    unsigned cap = swarm_peer_table_count(n->peers);
    swarm_wire_peer *list = cap ? calloc(cap, sizeof *list) : NULL;
    size_t k = 0;
    for (swarm_peer *p = swarm_peer_table_first(n->peers); p && list; p = swarm_peer_table_next(p)) {
        if (p == to)
            continue;
        snprintf(list[k].host, sizeof list[k].host, "%s", p->host);
        list[k].port = p->port;
        snprintf(list[k].node_type, sizeof list[k].node_type, "%s", p->node_type);
        snprintf(list[k].node_id, sizeof list[k].node_id, "%s", p->node_id);
        k++;
    }
    cJSON *payload = swarm_peer_list_payload(list, k, n->cfg.node_type, n->cfg.port, n->node_id,
                                             n->cfg.advertise_host);
    free(list);
    swarm_envelope env;
    if (swarm_envelope_create(&env, SWARM_MSG_PEER_LIST, payload, n->node_id, now.wall,
                              next_random(n)) != 0)
        return;
    send_envelope(n, to, &env);
    SWARM_DEBUG("[P2P] Sent peer list to %s (%zu peers)", to->id, k);
    swarm_envelope_clear(&env);
}

static void on_peer_list(swarm_node *n, const swarm_from *from, const swarm_envelope *env,
                         swarm_time now, swarm_msg_result *res)
{
    swarm_peer_list pl;
    if (swarm_peer_list_decode(env->payload, &pl, res->reason, sizeof res->reason) != 0) {
        res->status = 400;
        return;
    }
    const char *sender_id = pl.sender_id[0] ? pl.sender_id : (from->node_id ? from->node_id : "");
    const char *host = pl.sender_host[0] ? pl.sender_host : from->host;
    uint16_t port = pl.sender_port ? pl.sender_port : from->port;
    if (!sender_id[0] && env->hops == 0)
        sender_id = env->origin; /* PEER_LIST is never relayed: its origin is the sender */
    if (swarm_node_is_self(n, host, port, sender_id)) {
        res->processed = false;
        snprintf(res->reason, sizeof res->reason, "peer list from this node itself");
    } else if (host && *host && port) {
        swarm_peer *p = swarm_peer_table_find_node(n->peers, sender_id);
        if (!p) {
            swarm_add_result ar =
                swarm_node_add_peer(n, host, port, pl.sender_type, SWARM_SOURCE_PEX, now, &p);
            if (ar == SWARM_ADD_FULL)
                snprintf(res->reason, sizeof res->reason, "peer table full: sender not added");
        }
        if (p)
            learn_identity(n, p, sender_id, pl.sender_type, now);
    }
    swarm_peer_list_clear(&pl);
}

void swarm_node_on_message(swarm_node *n, const swarm_from *from, const swarm_envelope *env,
                           swarm_time now, swarm_msg_result *res)
{
    memset(res, 0, sizeof *res);
    res->status = 200;
    res->processed = true;
    switch (env->type) {
    case SWARM_MSG_PEER_LIST:
        on_peer_list(n, from, env, now, res);
        break;
    case SWARM_MSG_PING:
    case SWARM_MSG_PONG:
        break;
    case SWARM_MSG_NEW_BLOCK:
    case SWARM_MSG_NEW_TX:
        n->delivered[env->type]++;
        if (n->deliver)
            n->deliver(n->deliver_user, env);
        break;
    default:
        res->status = 400;
        res->processed = false;
        snprintf(res->reason, sizeof res->reason, "unknown message type '%s'", env->type_name);
        return;
    }
    if (res->status != 200)
        res->processed = false;
}

void swarm_node_on_sent(swarm_node *n, const char *peer_id, swarm_msg_type type, int http_status,
                        const char *reply, size_t reply_len, swarm_time now)
{
    swarm_peer *p = swarm_peer_table_find(n->peers, peer_id);
    if (!p)
        return;
    if (http_status < 200 || http_status > 299) {
        p->failures++;
        p->status = SWARM_PEER_UNREACHABLE;
        SWARM_DEBUG("[P2P] Error sending %s to %s: %s", swarm_msg_type_name(type), peer_id,
                    http_status ? "HTTP error" : "unreachable");
        return;
    }
    p->failures = 0;
    p->status = SWARM_PEER_ACTIVE;
    p->last_seen = now.wall;
    p->last_seen_mono = now.mono;
    if (type == SWARM_MSG_PEER_LIST) {
        swarm_identity who;
        if (swarm_reply_identity(reply, reply_len, &who) == 0 && !swarm_node_is_self(n, NULL, 0, who.node_id))
            learn_identity(n, p, who.node_id, who.node_type, now);
        else
            p->handshaken = true; /* a NeuroSwarm node: it tells its type in its own PEER_LIST */
    }
}

uint64_t swarm_node_tick(swarm_node *n, swarm_time now)
{
    uint64_t next = now.mono + 1000;
    for (swarm_peer *p = swarm_peer_table_first(n->peers); p; p = swarm_peer_table_next(p)) {
        if (p->handshaken)
            continue;
        if (p->next_contact <= now.mono) {
            p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : HELLO_BACKOFF_MIN_MS;
            if (p->backoff_ms > HELLO_BACKOFF_MAX_MS)
                p->backoff_ms = HELLO_BACKOFF_MAX_MS;
            p->next_contact = now.mono + p->backoff_ms;
            send_peer_list(n, p, now);
        }
        if (p->next_contact < next)
            next = p->next_contact;
    }
    return next;
}
