#include "swarm/node.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <uthash.h>

#include "swarm/log.h"
#include "swarm/seen_cache.h"

/* Handshake and bootstrap retries: first retry after 500 ms, doubling to at most 30 s, so a node
 * started before its peers finds them quickly without hammering a peer that stays down. */
#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u

/* Peers removed as dead, or that refused us (their table is full), are not taken back from
 * hearsay for a while: other nodes keep listing them. Only the peer itself, by contacting us,
 * ends this early. */
typedef struct dead_entry {
    uint64_t until;
    UT_hash_handle hh;
    char id[SWARM_PEER_ID_MAX];
} dead_entry;
#define DEAD_MAX 256

/* Senders that are no peer of ours share one rate per source address: made-up identities cost an
 * attacker nothing, its address does. */
typedef struct addr_rate {
    uint64_t window_start;
    unsigned count;
    UT_hash_handle hh;
    char host[SWARM_HOST_MAX];
} addr_rate;
#define ADDR_RATE_MAX 1024

typedef struct boot_entry {
    swarm_bootstrap_entry addr;
    char id[SWARM_PEER_ID_MAX];
    uint64_t next_try;
    uint32_t backoff_ms;
} boot_entry;

struct swarm_node {
    swarm_config cfg;
    char node_id[SWARM_NODE_ID_MAX];
    swarm_node_io io;
    swarm_deliver_fn deliver;
    void *deliver_user;
    swarm_peer_table *peers;
    swarm_reputation *rep;
    swarm_seen_cache *seen;
    boot_entry *boot;
    size_t n_boot;
    dead_entry *dead;
    addr_rate *rates;
    uint64_t started_mono;
    uint64_t next_ping, next_pex;
    uint64_t last_tick; /* the latest time the core was given, for calls that take none */
    uint64_t rng;
    bool dirty;
    swarm_node_stats stats;
    swarm_delivery recent[SWARM_RECENT_MAX];
    size_t recent_count, recent_next;
};

static uint64_t next_random(swarm_node *n)
{
    /* xorshift64*: ids only need to be unlikely to collide, not unpredictable. */
    n->rng ^= n->rng >> 12;
    n->rng ^= n->rng << 25;
    n->rng ^= n->rng >> 27;
    return n->rng * 2685821657736338717ull;
}

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
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
    n->rep = swarm_reputation_new(&cfg->reputation);
    n->seen = swarm_seen_cache_new(cfg->seen_cache_size ? cfg->seen_cache_size : 1, cfg->seen_ttl_ms);
    n->boot = cfg->n_bootstrap ? calloc(cfg->n_bootstrap, sizeof *n->boot) : NULL;
    if (!n->peers || !n->rep || !n->seen || (cfg->n_bootstrap && !n->boot)) {
        swarm_node_free(n);
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_bootstrap; i++) {
        n->boot[i].addr = cfg->bootstrap[i];
        swarm_peer_make_id(cfg->bootstrap[i].host, cfg->bootstrap[i].port, n->boot[i].id);
        n->boot[i].next_try = now.mono;
    }
    n->n_boot = cfg->n_bootstrap;
    n->started_mono = now.mono;
    n->last_tick = now.mono;
    n->next_ping = now.mono + cfg->ping_interval_ms;
    n->next_pex = now.mono + cfg->pex_interval_ms;
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
    swarm_reputation_free(n->rep);
    swarm_seen_cache_free(n->seen);
    free(n->boot);
    dead_entry *d, *tmp;
    HASH_ITER(hh, n->dead, d, tmp) {
        HASH_DEL(n->dead, d);
        free(d);
    }
    addr_rate *a, *atmp;
    HASH_ITER(hh, n->rates, a, atmp) {
        HASH_DEL(n->rates, a);
        free(a);
    }
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
swarm_reputation *swarm_node_reputation(swarm_node *n) { return n->rep; }
const swarm_node_stats *swarm_node_get_stats(const swarm_node *n) { return &n->stats; }

uint64_t swarm_node_uptime_ms(const swarm_node *n, swarm_time now) { return now.mono - n->started_mono; }

bool swarm_node_take_dirty(swarm_node *n)
{
    bool d = n->dirty;
    n->dirty = false;
    return d;
}

size_t swarm_node_recent(const swarm_node *n, swarm_delivery *out, size_t max)
{
    size_t k = n->recent_count < max ? n->recent_count : max;
    size_t start = (n->recent_next + SWARM_RECENT_MAX - n->recent_count) % SWARM_RECENT_MAX;
    start = (start + (n->recent_count - k)) % SWARM_RECENT_MAX;
    for (size_t i = 0; i < k; i++)
        out[i] = n->recent[(start + i) % SWARM_RECENT_MAX];
    return k;
}

/* ------------------------------------------------------------------ identity and lookup */

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

/* host:port, treating every loopback spelling as one host (localhost vs 127.0.0.1). */
static swarm_peer *find_by_addr(swarm_node *n, const char *host, uint16_t port)
{
    if (!host || !*host || !port)
        return NULL;
    char id[SWARM_PEER_ID_MAX];
    swarm_peer_make_id(host, port, id);
    swarm_peer *p = swarm_peer_table_find(n->peers, id);
    if (p || !is_loopback_or_any(host))
        return p;
    for (p = swarm_peer_table_first(n->peers); p; p = swarm_peer_table_next(p))
        if (p->port == port && is_loopback_or_any(p->host))
            return p;
    return NULL;
}

/* Whether a connection from src can be the peer known at host: the same address, both loopback,
 * or a host name the core cannot check (it does no lookups). */
static bool host_matches(const char *host, const char *src)
{
    if (!src || !*src || strcmp(host, src) == 0)
        return true;
    if (is_loopback_or_any(host) && is_loopback_or_any(src))
        return true;
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1;
}

/* Which peer sent this? The node id or port the transport learned (headers, link hello) decide
 * when present. Without them (a NeuroSwarm node over HTTP): a message with hops 0 comes straight
 * from its origin; else the source address, when exactly one peer has it. key gets the reputation
 * key: the peer id when the peer is known, else what identifies the sender, "" if nothing does. */
static swarm_peer *resolve_sender(swarm_node *n, const swarm_from *from, const swarm_envelope *env,
                                  char key[SWARM_PEER_ID_MAX])
{
    key[0] = 0;
    swarm_peer *p = NULL;
    bool told = (from->node_id && *from->node_id) || from->port;
    if (from->node_id && *from->node_id) {
        p = swarm_peer_table_find_node(n->peers, from->node_id);
        if (p && !host_matches(p->host, from->host))
            p = NULL; /* a claim from another address: not that peer (nobody frames it from afar) */
    }
    if (!p && from->port)
        p = find_by_addr(n, from->host, from->port);
    if (!p && !told && env && env->hops == 0)
        p = swarm_peer_table_find_node(n->peers, env->origin);
    if (!p && !told && from->host && *from->host) {
        swarm_peer *only = NULL;
        unsigned matches = 0;
        for (swarm_peer *q = swarm_peer_table_first(n->peers); q; q = swarm_peer_table_next(q))
            if (strcmp(q->host, from->host) == 0)
                only = q, matches++;
        if (matches == 1)
            p = only;
    }
    if (p)
        snprintf(key, SWARM_PEER_ID_MAX, "%s", p->id);
    else if (from->port && from->host && *from->host)
        swarm_peer_make_id(from->host, from->port, key);
    else if (from->node_id && *from->node_id)
        snprintf(key, SWARM_PEER_ID_MAX, "%s", from->node_id);
    else if (env && env->hops == 0)
        snprintf(key, SWARM_PEER_ID_MAX, "%s", env->origin);
    return p;
}

static bool banned_key(swarm_node *n, const char *key, uint64_t now)
{
    return key && *key && swarm_reputation_is_banned(n->rep, key, now);
}

bool swarm_node_sender_banned(swarm_node *n, const swarm_from *from, swarm_time now)
{
    char key[SWARM_PEER_ID_MAX];
    swarm_peer *p = resolve_sender(n, from, NULL, key);
    return banned_key(n, key, now.mono) || (p && banned_key(n, p->node_id, now.mono)) ||
           banned_key(n, from->node_id, now.mono);
}

/* ------------------------------------------------------------------ peer table changes */

static void dead_forget(swarm_node *n, const char *id)
{
    dead_entry *d = NULL;
    HASH_FIND_STR(n->dead, id, d);
    if (d) {
        HASH_DEL(n->dead, d);
        free(d);
    }
}

static void dead_remember(swarm_node *n, const char *id, uint64_t until)
{
    dead_forget(n, id);
    if (HASH_COUNT(n->dead) >= DEAD_MAX) { /* oldest first */
        dead_entry *old = n->dead;
        HASH_DEL(n->dead, old);
        free(old);
    }
    dead_entry *d = calloc(1, sizeof *d);
    if (!d)
        return;
    snprintf(d->id, sizeof d->id, "%s", id);
    d->until = until;
    HASH_ADD_STR(n->dead, id, d);
}

static bool dead_recently(swarm_node *n, const char *id, uint64_t now)
{
    dead_entry *d = NULL;
    HASH_FIND_STR(n->dead, id, d);
    if (d && now >= d->until) {
        dead_forget(n, id);
        d = NULL;
    }
    return d != NULL;
}

static void remove_peer(swarm_node *n, swarm_peer *p, const char *why)
{
    char id[SWARM_PEER_ID_MAX];
    snprintf(id, sizeof id, "%s", p->id);
    if (n->io.peer_removed)
        n->io.peer_removed(n->io.ctx, id);
    swarm_peer_table_remove(n->peers, id);
    n->dirty = true;
    SWARM_INFO("[PeerManager] Removed peer: %s (%s)", id, why);
}

int swarm_node_remove_peer(swarm_node *n, const char *peer_id)
{
    swarm_peer *p = swarm_peer_table_find(n->peers, peer_id);
    if (!p)
        return -1;
    /* Not learned straight back from other nodes' lists; the peer itself may still come back. */
    dead_remember(n, p->id, n->last_tick + 10 * n->cfg.pex_interval_ms);
    remove_peer(n, p, "removed by request");
    return 0;
}

/* Lets a peer go that does not want us (full, refusing, not keeping us), and keeps hearsay from
 * bringing it straight back. */
static void let_go(swarm_node *n, swarm_peer *p, const char *why, uint64_t now)
{
    dead_remember(n, p->id, now + 10 * n->cfg.pex_interval_ms);
    n->stats.peers_let_go++;
    remove_peer(n, p, why);
}

/* Applies a reputation event to a sender; a ban disconnects it and keeps it out. */
static void reputation_event(swarm_node *n, swarm_peer *p, const char *key, swarm_rep_event ev,
                             swarm_time now)
{
    if (!key || !*key)
        return;
    if (!swarm_reputation_record(n->rep, key, ev, now.mono, NULL, NULL))
        return;
    n->stats.bans++;
    if (p) {
        if (p->node_id[0])
            swarm_reputation_ban(n->rep, p->node_id, now.mono);
        remove_peer(n, p, "banned");
    }
}

static bool is_bootstrap_addr(const swarm_node *n, const char *host, uint16_t port)
{
    for (size_t i = 0; i < n->n_boot; i++)
        if (n->boot[i].addr.port == port &&
            (strcmp(n->boot[i].addr.host, host) == 0 ||
             (is_loopback_or_any(host) && is_loopback_or_any(n->boot[i].addr.host))))
            return true;
    return false;
}

swarm_add_result swarm_node_add_peer(swarm_node *n, const char *host, uint16_t port,
                                     const char *node_type, swarm_peer_source source, swarm_time now,
                                     swarm_peer **out)
{
    if (out)
        *out = NULL;
    if (!host || !swarm_valid_host(host) || !port)
        return SWARM_ADD_INVALID;
    if (swarm_node_is_self(n, host, port, NULL))
        return SWARM_ADD_SELF;
    char id[SWARM_PEER_ID_MAX];
    swarm_peer_make_id(host, port, id);
    if (banned_key(n, id, now.mono))
        return SWARM_ADD_BANNED;
    swarm_peer *p = NULL;
    int rc = swarm_peer_table_add(n->peers, host, port, node_type, source, now.wall, &p);
    if (out)
        *out = p;
    switch (rc) {
    case SWARM_PEER_ADDED:
        p->keepers = -1;
        p->next_contact = now.mono;
        p->last_seen_mono = now.mono;
        p->added_mono = now.mono;
        n->dirty = true;
        SWARM_INFO("[PeerManager] Added peer: %s (type: %s, source: %s, reputation: %.0f)", p->id,
                   p->node_type[0] ? p->node_type : "unknown", swarm_peer_source_name(source),
                   swarm_reputation_score(n->rep, p->id, now.mono));
        return SWARM_ADD_ADDED;
    case SWARM_PEER_EXISTS:
        /* A type given now fills in one that was unknown; a known type is not overwritten by hearsay. */
        if (node_type && *node_type && !p->node_type[0]) {
            snprintf(p->node_type, sizeof p->node_type, "%s", node_type);
            n->dirty = true;
        }
        return SWARM_ADD_EXISTS;
    case SWARM_PEER_FULL:
        return SWARM_ADD_FULL;
    default:
        return SWARM_ADD_INVALID;
    }
}

/* What an operator configured (bootstrap list, REST add) outranks what was learned from peers. */
static int source_rank(swarm_peer_source s) { return s == SWARM_SOURCE_PEX ? 0 : 1; }

/* Learns a peer's node id and type from the peer itself. If the id already belongs to another
 * record (the same node reached under two addresses, e.g. localhost and 127.0.0.1), one record is
 * kept: the one an operator configured, else the one identified first. Returns the survivor. */
static swarm_peer *learn_identity(swarm_node *n, swarm_peer *p, const char *node_id,
                                  const char *node_type, bool authentic)
{
    /* What a peer says of itself fills in what we do not know; it replaces what we know only when
     * the transport vouches that the sender is that peer (its link or its request headers). */
    if (!authentic && p->node_id[0] && node_id && *node_id && strcmp(p->node_id, node_id) != 0)
        return p;
    if (node_type && *node_type && strcmp(p->node_type, node_type) != 0 && (authentic || !p->node_type[0])) {
        snprintf(p->node_type, sizeof p->node_type, "%s", node_type);
        n->dirty = true;
    }
    if (node_id && !swarm_valid_node_id(node_id))
        node_id = NULL; /* a malformed id from outside is no id at all */
    swarm_peer *other = NULL;
    if (node_id && swarm_peer_table_set_node_id(n->peers, p, node_id) != 0 &&
        (other = swarm_peer_table_find_node(n->peers, node_id)) != NULL) {
        swarm_peer *drop = source_rank(p->source) > source_rank(other->source) ? other : p;
        swarm_peer *keep = drop == p ? other : p;
        SWARM_INFO("[PeerManager] %s and %s are the same node (%s): keeping %s", p->id, other->id,
                   node_id, keep->id);
        remove_peer(n, drop, "duplicate address");
        swarm_peer_table_set_node_id(n->peers, keep, node_id);
        p = keep;
    }
    if (node_id && *node_id)
        n->dirty = true;
    p->handshaken = true;
    p->hello_outstanding = false;
    return p;
}

/* Any sign of life from a peer: it is active, its failure count starts over. */
static void mark_alive(swarm_peer *p, swarm_time now)
{
    p->status = SWARM_PEER_ACTIVE;
    p->failures = 0;
    p->ping_outstanding = false;
    p->backoff_ms = 0;
    p->last_seen = now.wall;
    p->last_seen_mono = now.mono;
}

static void count_failure(swarm_node *n, swarm_peer *p, const char *what, swarm_time now)
{
    p->failures++;
    p->status = SWARM_PEER_UNREACHABLE;
    SWARM_INFO("[P2P] %s %s (failure %u of %u)", what, p->id, p->failures, n->cfg.max_failures);
    if (p->failures >= n->cfg.max_failures) {
        char why[64];
        snprintf(why, sizeof why, "unhealthy: %u failures", p->failures);
        n->stats.peers_removed++;
        dead_remember(n, p->id, now.mono + 2ull * n->cfg.max_failures * n->cfg.ping_interval_ms);
        remove_peer(n, p, why);
    }
}

/* Whether p sent us its list lately, i.e. it keeps us as a peer (the edge works both ways). */
static bool in_contact(const swarm_node *n, const swarm_peer *p, swarm_time now)
{
    return p->last_contact && now.mono - p->last_contact < 3 * n->cfg.pex_interval_ms;
}

/* Peers that keep this node: what it tells others in its hellos. */
static int keepers(const swarm_node *n, swarm_time now)
{
    int k = 0;
    for (swarm_peer *p = swarm_peer_table_first(n->peers); p; p = swarm_peer_table_next(p))
        k += in_contact(n, p, now);
    return k;
}

/* A full table makes room for a peer that contacted us directly, so that nobody is left out
 * when every table is full:
 *  1. a peer learned from hearsay that does not keep us (or is gone) — for anyone;
 *  2. a PEX-learned peer that does keep us — only for a newcomer that names us as its bootstrap,
 *     or that fewer than half of MAX_PEERS keep; the best-kept such peer goes (it loses one of
 *     many edges), and only if it is better kept than the newcomer.
 * Never displaced: peers an operator configured, and peers whose bootstrap we are. */
static swarm_peer *evictable(swarm_node *n, const swarm_peer_list *newcomer, swarm_time now)
{
    swarm_peer *hearsay = NULL, *best_kept = NULL;
    double worst = 1e9;
    int most = -1;
    for (swarm_peer *p = swarm_peer_table_first(n->peers); p; p = swarm_peer_table_next(p)) {
        if (p->source != SWARM_SOURCE_PEX || p->names_us_bootstrap)
            continue;
        if (!in_contact(n, p, now)) {
            double s = swarm_reputation_score(n->rep, p->id, now.mono) - (p->failures ? 200 : 0);
            if (s < worst)
                hearsay = p, worst = s;
        } else if (p->keepers > most) {
            best_kept = p, most = p->keepers;
        }
    }
    if (hearsay)
        return hearsay;
    bool needy = newcomer->bootstrap ||
                 (newcomer->keepers >= 0 && (unsigned)newcomer->keepers < (n->cfg.max_peers + 1) / 2);
    if (needy && best_kept && most > newcomer->keepers + 1)
        return best_kept;
    return NULL;
}

/* ------------------------------------------------------------------ sending */

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

static void send_simple(swarm_node *n, const swarm_peer *to, swarm_msg_type type, cJSON *payload,
                        swarm_time now)
{
    swarm_envelope env;
    if (swarm_envelope_create(&env, type, payload, n->node_id, now.wall, next_random(n)) != 0)
        return;
    send_envelope(n, to, &env);
    swarm_envelope_clear(&env);
}

/* Our PEER_LIST: every peer we know but the receiver and the banned. hello asks for theirs back. */
static void send_peer_list(swarm_node *n, const swarm_peer *to, bool hello, int accepted, swarm_time now)
{
    unsigned cap = swarm_peer_table_count(n->peers);
    swarm_wire_peer *list = cap ? calloc(cap, sizeof *list) : NULL;
    size_t k = 0;
    for (swarm_peer *p = swarm_peer_table_first(n->peers); p && list; p = swarm_peer_table_next(p)) {
        if (strcmp(p->id, to->id) == 0 || (to->node_id[0] && strcmp(p->node_id, to->node_id) == 0))
            continue;
        if (is_loopback_or_any(p->host) && !is_loopback_or_any(to->host))
            continue; /* "localhost" means the receiver itself over there */
        snprintf(list[k].host, sizeof list[k].host, "%s", p->host);
        list[k].port = p->port;
        snprintf(list[k].node_type, sizeof list[k].node_type, "%s", p->node_type);
        snprintf(list[k].node_id, sizeof list[k].node_id, "%s", p->node_id);
        k++;
    }
    swarm_peer_list pl = {.peers = list, .n = k, .sender_port = n->cfg.port, .hello = hello,
                          .bootstrap = is_bootstrap_addr(n, to->host, to->port), .accepted = accepted,
                          .keepers = keepers(n, now)};
    snprintf(pl.sender_type, sizeof pl.sender_type, "%s", n->cfg.node_type);
    snprintf(pl.sender_id, sizeof pl.sender_id, "%s", n->node_id);
    snprintf(pl.sender_host, sizeof pl.sender_host, "%s", n->cfg.advertise_host);
    cJSON *payload = swarm_peer_list_encode(&pl);
    free(list);
    send_simple(n, to, SWARM_MSG_PEER_LIST, payload, now);
    SWARM_DEBUG("[P2P] Sent peer list to %s (%zu peers%s)", to->id, k, hello ? ", hello" : "");
}

/* ------------------------------------------------------------------ incoming messages */

static void merge_peer_list(swarm_node *n, const swarm_peer_list *pl, swarm_time now)
{
    for (size_t i = 0; i < pl->n; i++) {
        const swarm_wire_peer *w = &pl->peers[i];
        if (swarm_node_is_self(n, w->host, w->port, w->node_id))
            continue;
        if (swarm_peer_table_find_node(n->peers, w->node_id) || find_by_addr(n, w->host, w->port))
            continue; /* known already, perhaps under another address */
        char id[SWARM_PEER_ID_MAX];
        swarm_peer_make_id(w->host, w->port, id);
        if (banned_key(n, id, now.mono) || banned_key(n, w->node_id, now.mono) || dead_recently(n, id, now.mono))
            continue;
        swarm_peer *p = NULL;
        if (swarm_node_add_peer(n, w->host, w->port, w->node_type, SWARM_SOURCE_PEX, now, &p) ==
                SWARM_ADD_FULL)
            break; /* full: the peers we hold are kept; hearsay never displaces them */
        if (p && w->node_id[0] && swarm_peer_table_set_node_id(n->peers, p, w->node_id) != 0)
            remove_peer(n, p, "duplicate node id");
    }
}

static void on_peer_list(swarm_node *n, const swarm_from *from, swarm_peer *p, char key[SWARM_PEER_ID_MAX],
                         const swarm_envelope *env, swarm_time now, swarm_msg_result *res)
{
    swarm_peer_list pl;
    if (swarm_peer_list_decode(env->payload, &pl, res->reason, sizeof res->reason) != 0) {
        res->status = 400;
        n->stats.invalid++;
        reputation_event(n, p, key, SWARM_REP_INVALID_MESSAGE, now);
        return;
    }
    if (pl.sender_port || pl.sender_id[0])
        p = NULL; /* the payload names the sender: that beats a guess from the source address */
    const char *sender_id = pl.sender_id[0] ? pl.sender_id : (from->node_id ? from->node_id : "");
    if (!sender_id[0] && env->hops == 0)
        sender_id = env->origin; /* PEER_LIST is never relayed: its origin is the sender */
    bool authentic = from->node_id && *from->node_id && strcmp(from->node_id, sender_id) == 0;
    const char *host = pl.sender_host[0] ? pl.sender_host : from->host;
    uint16_t port = pl.sender_port ? pl.sender_port : from->port;
    if (swarm_node_is_self(n, host, port, sender_id)) {
        res->processed = false;
        snprintf(res->reason, sizeof res->reason, "peer list from this node itself");
        swarm_peer_list_clear(&pl);
        return;
    }
    if (!p)
        p = swarm_peer_table_find_node(n->peers, sender_id);
    if (!p && host && *host && port)
        p = find_by_addr(n, host, port);
    if (host && *host && port) {
        char id[SWARM_PEER_ID_MAX];
        swarm_peer_make_id(host, port, id);
        dead_forget(n, id); /* it contacted us: alive after all */
    }
    bool accepted = p != NULL;
    if (!p && host && *host && port) {
        swarm_peer_source src = is_bootstrap_addr(n, host, port) ? SWARM_SOURCE_BOOTSTRAP : SWARM_SOURCE_PEX;
        swarm_add_result ar = swarm_node_add_peer(n, host, port, pl.sender_type, src, now, &p);
        if (ar == SWARM_ADD_FULL) {
            swarm_peer *victim = evictable(n, &pl, now);
            if (victim) {
                SWARM_INFO("[PeerManager] Table full: %s contacted us, replacing %s", host, victim->id);
                remove_peer(n, victim, "replaced by a peer that contacted us");
                ar = swarm_node_add_peer(n, host, port, pl.sender_type, src, now, &p);
            }
        }
        accepted = ar == SWARM_ADD_ADDED;
        if (!accepted)
            snprintf(res->reason, sizeof res->reason, "%s",
                     ar == SWARM_ADD_FULL ? "peer table full: sender not added" : "sender not added");
    }
    if (p) {
        p = learn_identity(n, p, sender_id, pl.sender_type, authentic);
        mark_alive(p, now);
        p->last_contact = now.mono;
        p->names_us_bootstrap = pl.bootstrap;
        p->speaks_swarm = pl.sender_id[0] != 0;
        p->neuroswarm = !p->speaks_swarm;
        p->keepers = pl.keepers;
        snprintf(key, SWARM_PEER_ID_MAX, "%s", p->id);
        /* The sender said whether it keeps us: one learned by hearsay that is full is let go. */
        if (pl.accepted == 0 && authentic && p->source == SWARM_SOURCE_PEX) {
            let_go(n, p, "its table is full", now.mono);
            p = NULL;
        }
    }
    if (p) {
        reputation_event(n, p, key, SWARM_REP_PEER_EXCHANGE, now);
        p = swarm_peer_table_find(n->peers, key); /* weights are configurable: even this may ban */
    }
    merge_peer_list(n, &pl, now);
    if (pl.hello) {
        /* Answer a hello with our own list, so the sender learns who we are on any transport. */
        swarm_peer reply_to;
        memset(&reply_to, 0, sizeof reply_to);
        if (p) {
            reply_to = *p;
        } else if (host && *host && port) {
            snprintf(reply_to.host, sizeof reply_to.host, "%s", host);
            reply_to.port = port;
            swarm_peer_make_id(host, port, reply_to.id);
        }
        if (reply_to.port)
            send_peer_list(n, &reply_to, false, accepted, now);
    }
    swarm_peer_list_clear(&pl);
}

static void remember_delivery(swarm_node *n, const swarm_envelope *env, const swarm_peer *from, swarm_time now)
{
    swarm_delivery *d = &n->recent[n->recent_next];
    memset(d, 0, sizeof *d);
    snprintf(d->id, sizeof d->id, "%s", env->id);
    d->type = env->type;
    snprintf(d->origin, sizeof d->origin, "%s", env->origin);
    d->hops = env->hops;
    if (from)
        snprintf(d->from, sizeof d->from, "%s", from->id);
    d->at_wall = now.wall;
    n->recent_next = (n->recent_next + 1) % SWARM_RECENT_MAX;
    if (n->recent_count < SWARM_RECENT_MAX)
        n->recent_count++;
}

/* NeuroSwarm nodes never relay and drop duplicates themselves, so every swarm node that knows one
 * would hand it its own copy of every message. It gets gossip only from the nodes it contacted
 * itself (and from those whose operator configured it): usually one copy, and never none while
 * one of those nodes is up. */
static bool gossip_to(const swarm_peer *p)
{
    return !p->neuroswarm || p->source != SWARM_SOURCE_PEX || p->last_contact != 0;
}

/* Sends env (hops already set for the next hop) to every peer but the sender and the origin. */
static unsigned relay(swarm_node *n, const swarm_envelope *env, const swarm_peer *sender, swarm_time now)
{
    size_t len;
    char *json = swarm_envelope_encode(env, &len);
    if (!json)
        return 0;
    unsigned count = 0;
    for (swarm_peer *p = swarm_peer_table_first(n->peers); p; p = swarm_peer_table_next(p)) {
        if (p == sender || (p->node_id[0] && strcmp(p->node_id, env->origin) == 0))
            continue;
        if (banned_key(n, p->id, now.mono) || !gossip_to(p))
            continue;
        if (n->io.send)
            n->io.send(n->io.ctx, p, env->type, json, len);
        count++;
    }
    free(json);
    n->stats.relayed += count;
    return count;
}

/* True if traffic from this source address, from senders that are not our peers, is over the rate. */
static bool anonymous_over_rate(swarm_node *n, const char *host, swarm_time now)
{
    if (!host || !*host)
        return false;
    addr_rate *a = NULL;
    HASH_FIND_STR(n->rates, host, a);
    if (!a) {
        if (HASH_COUNT(n->rates) >= ADDR_RATE_MAX) { /* oldest first */
            addr_rate *old = n->rates;
            HASH_DEL(n->rates, old);
            free(old);
        }
        a = calloc(1, sizeof *a);
        if (!a)
            return false;
        snprintf(a->host, sizeof a->host, "%s", host);
        a->window_start = now.mono;
        HASH_ADD_STR(n->rates, host, a);
    }
    if (now.mono - a->window_start >= n->cfg.spam_window_ms) {
        a->window_start = now.mono;
        a->count = 0;
    }
    return ++a->count > n->cfg.spam_max_messages;
}

/* True if this sender is over its rate or replays an id it already sent us. */
static bool spam_check(swarm_node *n, swarm_peer *p, const swarm_envelope *env, swarm_time now,
                       swarm_msg_result *res)
{
    if (now.mono - p->window_start >= n->cfg.spam_window_ms) {
        p->window_start = now.mono;
        p->window_count = 0;
    }
    /* The rate is the sender's own traffic: what it relays was made elsewhere, and blaming the
     * relay for a flood injected upstream would ban honest nodes and split the mesh. */
    bool gossip = env->type == SWARM_MSG_NEW_BLOCK || env->type == SWARM_MSG_NEW_TX;
    bool own = !gossip || (p->node_id[0] && strcmp(env->origin, p->node_id) == 0);
    if (own && ++p->window_count > n->cfg.spam_max_messages) {
        res->status = 429;
        snprintf(res->reason, sizeof res->reason, "rate limit: more than %u messages in %llu ms",
                 n->cfg.spam_max_messages, (unsigned long long)n->cfg.spam_window_ms);
        return true;
    }
    if (!gossip)
        return false;
    uint64_t h = hash_id(env->id);
    size_t slots = sizeof p->recent_ids / sizeof *p->recent_ids;
    for (size_t i = 0; i < slots; i++) {
        if (p->recent_ids[i] == h) {
            snprintf(res->reason, sizeof res->reason, "duplicate: replayed by the same peer");
            return true;
        }
    }
    p->recent_ids[p->recent_pos] = h;
    p->recent_pos = (p->recent_pos + 1) % (unsigned)slots;
    return false;
}

static void on_gossip(swarm_node *n, swarm_peer *p, const char *key, swarm_envelope *env,
                      swarm_time now, swarm_msg_result *res)
{
    if (strcmp(env->origin, n->node_id) == 0) {
        n->stats.own_echoes++;
        res->processed = false;
        snprintf(res->reason, sizeof res->reason, "own message");
        return;
    }
    if (!swarm_seen_cache_insert(n->seen, env->id, now.mono)) {
        n->stats.duplicates++;
        res->processed = false;
        snprintf(res->reason, sizeof res->reason, "duplicate");
        return;
    }
    n->stats.delivered[env->type]++;
    remember_delivery(n, env, p, now);
    if (n->deliver)
        n->deliver(n->deliver_user, env);
    if (p)
        reputation_event(n, p, key, SWARM_REP_MESSAGE_SUCCESS, now);
    if ((unsigned)env->hops >= n->cfg.max_hops) {
        n->stats.hop_limited++;
        snprintf(res->reason, sizeof res->reason, "hop limit reached: delivered, not relayed");
        return;
    }
    int hops = env->hops;
    swarm_envelope_set_hops(env, hops + 1);
    /* p may have been removed by a ban above: look it up again by key before excluding it. */
    res->relay_count = relay(n, env, swarm_peer_table_find(n->peers, key), now);
    res->relayed = res->relay_count > 0;
    swarm_envelope_set_hops(env, hops);
}

void swarm_node_on_invalid(swarm_node *n, const swarm_from *from, const char *reason, swarm_time now,
                           swarm_msg_result *res)
{
    memset(res, 0, sizeof *res);
    char key[SWARM_PEER_ID_MAX];
    swarm_peer *p = resolve_sender(n, from, NULL, key);
    if (swarm_node_sender_banned(n, from, now)) {
        n->stats.refused_banned++;
        res->status = 403;
        snprintf(res->reason, sizeof res->reason, "peer banned");
        return;
    }
    n->stats.invalid++;
    res->status = 400;
    snprintf(res->reason, sizeof res->reason, "%s", reason);
    reputation_event(n, p, key, SWARM_REP_INVALID_MESSAGE, now);
}

void swarm_node_on_message(swarm_node *n, const swarm_from *from, swarm_envelope *env, swarm_time now,
                           swarm_msg_result *res)
{
    memset(res, 0, sizeof *res);
    res->status = 200;
    res->processed = true;
    n->stats.received++;
    char key[SWARM_PEER_ID_MAX];
    swarm_peer *p = resolve_sender(n, from, env, key);
    if (banned_key(n, key, now.mono) || (p && banned_key(n, p->node_id, now.mono)) ||
        banned_key(n, from->node_id, now.mono) ||
        (env->hops == 0 && banned_key(n, env->origin, now.mono))) {
        n->stats.refused_banned++;
        res->status = 403;
        res->processed = false;
        snprintf(res->reason, sizeof res->reason, "peer banned");
        return;
    }
    if (!p && anonymous_over_rate(n, from->host, now)) {
        n->stats.spam++;
        res->status = 429;
        res->processed = false;
        snprintf(res->reason, sizeof res->reason, "rate limit: more than %u messages in %llu ms from %s",
                 n->cfg.spam_max_messages, (unsigned long long)n->cfg.spam_window_ms, from->host);
        return;
    }
    if (p) {
        mark_alive(p, now);
        if (spam_check(n, p, env, now, res)) {
            n->stats.spam++;
            res->processed = false;
            reputation_event(n, p, key, SWARM_REP_SPAM_DETECTED, now);
            return;
        }
    }
    switch (env->type) {
    case SWARM_MSG_PEER_LIST:
        on_peer_list(n, from, p, key, env, now, res);
        break;
    case SWARM_MSG_PING:
        /* Over HTTP the 2xx reply is the PONG (as NeuroSwarm nodes expect); on a link, answer. */
        if (from->via_link && p)
            send_simple(n, p, SWARM_MSG_PONG, cJSON_CreateObject(), now);
        break;
    case SWARM_MSG_PONG:
        if (p)
            reputation_event(n, p, key, SWARM_REP_HEALTH_CHECK, now);
        break;
    case SWARM_MSG_NEW_BLOCK:
    case SWARM_MSG_NEW_TX:
        on_gossip(n, p, key, env, now, res);
        break;
    default:
        n->stats.invalid++;
        res->status = 400;
        snprintf(res->reason, sizeof res->reason, "unknown message type '%s'", env->type_name);
        reputation_event(n, p, key, SWARM_REP_INVALID_MESSAGE, now);
        break;
    }
    if (res->status != 200)
        res->processed = false;
}

int swarm_node_broadcast(swarm_node *n, swarm_msg_type type, cJSON *payload, swarm_time now,
                         char id_out[SWARM_MSG_ID_MAX])
{
    if (type != SWARM_MSG_NEW_BLOCK && type != SWARM_MSG_NEW_TX) {
        cJSON_Delete(payload);
        return -1;
    }
    swarm_envelope env;
    if (swarm_envelope_create(&env, type, payload, n->node_id, now.wall, next_random(n)) != 0)
        return -1;
    swarm_seen_cache_insert(n->seen, env.id, now.mono);
    n->stats.originated++;
    n->stats.delivered[type]++;
    remember_delivery(n, &env, NULL, now);
    if (n->deliver)
        n->deliver(n->deliver_user, &env);
    int count = (int)relay(n, &env, NULL, now);
    if (id_out)
        snprintf(id_out, SWARM_MSG_ID_MAX, "%s", env.id);
    SWARM_INFO("[P2P] Broadcast %s %s to %d peers", env.type_name, env.id, count);
    swarm_envelope_clear(&env);
    return count;
}

/* ------------------------------------------------------------------ send outcomes */

static boot_entry *find_boot(swarm_node *n, const char *peer_id)
{
    for (size_t i = 0; i < n->n_boot; i++)
        if (strcmp(n->boot[i].id, peer_id) == 0)
            return &n->boot[i];
    return NULL;
}

void swarm_node_on_sent(swarm_node *n, const char *peer_id, swarm_msg_type type, int http_status,
                        const char *reply, size_t reply_len, swarm_time now)
{
    bool ok = http_status >= 200 && http_status <= 299;
    swarm_peer *p = swarm_peer_table_find(n->peers, peer_id);
    if (p && type == SWARM_MSG_PEER_LIST)
        p->hello_outstanding = false; /* its outcome is known: counted here, not at the next hello */
    if (!p) {
        /* A probe of a bootstrap address that is not (or no longer) a peer. */
        boot_entry *b = find_boot(n, peer_id);
        if (!b)
            return;
        if (!ok)
            return; /* the probe already moved its backoff on when it went out */
        b->backoff_ms = 0;
        if (swarm_node_add_peer(n, b->addr.host, b->addr.port, b->addr.node_type, SWARM_SOURCE_BOOTSTRAP,
                                now, &p) != SWARM_ADD_ADDED)
            return;
    }
    if (http_status == 403) { /* it banned us: nothing more will pass between us for a while */
        let_go(n, p, "it refuses us (403)", now.mono);
        return;
    }
    if (http_status >= 400 && http_status <= 499) {
        /* Up, but it would not take this message (a NeuroSwarm node may want signed ones): a sign
         * of life, not a failure. */
        mark_alive(p, now);
        SWARM_DEBUG("[P2P] %s refused a %s (HTTP %d)", peer_id, swarm_msg_type_name(type), http_status);
        return;
    }
    if (!ok) {
        if (type == SWARM_MSG_PING)
            p->ping_outstanding = false; /* this failure is counted here, not again at the next round */
        reputation_event(n, p, p->id, SWARM_REP_MESSAGE_FAILURE, now);
        p = swarm_peer_table_find(n->peers, peer_id); /* a ban may have removed it */
        if (p)
            count_failure(n, p, http_status ? "Peer failed a message:" : "Error sending to", now);
        return;
    }
    mark_alive(p, now);
    if (type == SWARM_MSG_PING)
        reputation_event(n, p, p->id, SWARM_REP_HEALTH_CHECK, now);
    if (type == SWARM_MSG_PEER_LIST) {
        swarm_identity who;
        bool identified = swarm_reply_identity(reply, reply_len, &who) == 0;
        if (identified && swarm_node_is_self(n, NULL, 0, who.node_id)) {
            /* Another address of this very node: never a peer. */
            dead_remember(n, p->id, now.mono + 24ull * 3600 * 1000);
            remove_peer(n, p, "it is this node");
            return;
        }
        if (identified) {
            p = learn_identity(n, p, who.node_id, who.node_type, true); /* its reply to our request */
            if (who.accepted == 0 && p->source == SWARM_SOURCE_PEX) {
                let_go(n, p, "its table is full", now.mono);
            }
        } else {
            p->handshaken = true; /* a NeuroSwarm node: it tells its type in its own PEER_LIST */
            p->neuroswarm = true;
        }
    }
}

void swarm_node_on_overflow(swarm_node *n, const char *peer_id, swarm_time now)
{
    swarm_peer *p = swarm_peer_table_find(n->peers, peer_id);
    if (!p)
        return;
    SWARM_WARN("[P2P] Send queue to %s overflowed: dropping its link", peer_id);
    reputation_event(n, p, p->id, SWARM_REP_MESSAGE_FAILURE, now);
    p = swarm_peer_table_find(n->peers, peer_id);
    if (p)
        count_failure(n, p, "Send queue overflow for", now);
}

/* ------------------------------------------------------------------ time */

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* False for a PEX-learned swarm peer that has not sent us its list for three PEX rounds. Peers an
 * operator configured, and NeuroSwarm nodes (which send their list to one random peer), are
 * always kept. */
static bool keeps_us(const swarm_node *n, const swarm_peer *p, swarm_time now)
{
    if (p->source != SWARM_SOURCE_PEX || !p->speaks_swarm || !p->handshaken)
        return true;
    uint64_t since = p->last_contact > p->added_mono ? p->last_contact : p->added_mono;
    return now.mono - since <= 3 * n->cfg.pex_interval_ms;
}

static void retry_bootstrap(swarm_node *n, swarm_time now, uint64_t *next)
{
    for (size_t i = 0; i < n->n_boot; i++) {
        boot_entry *b = &n->boot[i];
        if (find_by_addr(n, b->addr.host, b->addr.port) ||
            swarm_node_is_self(n, b->addr.host, b->addr.port, NULL) || banned_key(n, b->id, now.mono))
            continue;
        if (b->next_try <= now.mono) {
            swarm_peer probe;
            memset(&probe, 0, sizeof probe);
            snprintf(probe.id, sizeof probe.id, "%s", b->id);
            snprintf(probe.host, sizeof probe.host, "%s", b->addr.host);
            probe.port = b->addr.port;
            snprintf(probe.node_type, sizeof probe.node_type, "%s", b->addr.node_type);
            /* Assume failure until told otherwise, so a probe that never answers still backs off. */
            b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : BACKOFF_MIN_MS;
            if (b->backoff_ms > BACKOFF_MAX_MS)
                b->backoff_ms = BACKOFF_MAX_MS;
            b->next_try = now.mono + b->backoff_ms;
            SWARM_DEBUG("[PeerManager] Retrying bootstrap peer %s", b->id);
            send_peer_list(n, &probe, true, -1, now);
        }
        *next = min_u64(*next, b->next_try);
    }
}

uint64_t swarm_node_tick(swarm_node *n, swarm_time now)
{
    n->last_tick = now.mono;
    uint64_t next = now.mono + 1000;
    bool ping_round = now.mono >= n->next_ping;
    bool pex_round = now.mono >= n->next_pex;
    if (ping_round)
        n->next_ping = now.mono + n->cfg.ping_interval_ms;
    if (pex_round)
        n->next_pex = now.mono + n->cfg.pex_interval_ms;

    swarm_peer *p, *nextp;
    for (p = swarm_peer_table_first(n->peers); p; p = nextp) {
        nextp = swarm_peer_table_next(p);
        if (now.mono - p->last_seen_mono >= n->cfg.inactive_ms) {
            n->stats.peers_pruned++;
            remove_peer(n, p, "inactive");
            continue;
        }
        if (!p->handshaken) {
            if (p->next_contact <= now.mono) {
                if (p->hello_outstanding) { /* sent on a link, and never answered */
                    bool last = p->failures + 1 >= n->cfg.max_failures;
                    count_failure(n, p, "No answer to our hello from", now);
                    if (last)
                        continue; /* removed; nextp is still valid */
                }
                p->hello_outstanding = true;
                p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
                if (p->backoff_ms > BACKOFF_MAX_MS)
                    p->backoff_ms = BACKOFF_MAX_MS;
                p->next_contact = now.mono + p->backoff_ms;
                send_peer_list(n, p, true, -1, now);
            }
            next = min_u64(next, p->next_contact);
            continue;
        }
        if (ping_round) {
            if (p->ping_outstanding) {
                count_failure(n, p, "No PONG from", now); /* may remove p; nextp stays valid */
                continue;
            }
            p->ping_outstanding = true;
            cJSON *payload = cJSON_CreateObject();
            cJSON_AddNumberToObject(payload, "timestamp", (double)now.wall);
            send_simple(n, p, SWARM_MSG_PING, payload, now);
        }
        if (pex_round && !keeps_us(n, p, now)) {
            /* A swarm peer sends us its list every round if it keeps us: one that stopped does
             * not, and a one-way edge only sends. Let it go and make room for a peer that will. */
            let_go(n, p, "it does not keep us as a peer", now.mono);
            continue;
        }
        if (pex_round)
            send_peer_list(n, p, false, -1, now);
    }
    retry_bootstrap(n, now, &next);
    swarm_seen_cache_expire(n->seen, now.mono);
    next = min_u64(next, n->next_ping);
    next = min_u64(next, n->next_pex);
    return next;
}
