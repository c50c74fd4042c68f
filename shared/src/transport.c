#include "swarm/transport.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>

#include "swarm/api.h"
#include "swarm/log.h"

/* A hard cap on POSTs in flight to one peer, probes included (queued sends keep well under it). */
#define MAX_INFLIGHT_PER_PEER 32
#define MAX_REPLY_BYTES (64 * 1024)
#define WRITE_CHUNK (16 * 1024)
#define TICK_MAX_MS 1000
#define LINK_PATH "/swarm"
#define LINK_PROTOCOL "swarm-p2p"
/* Link redial backoff; a peer that refused the upgrade is asked again after HTTP_ONLY_RETRY_MS. */
#define LINK_BACKOFF_MIN_MS 250u
#define LINK_BACKOFF_MAX_MS 30000u
#define HTTP_ONLY_RETRY_MS (5 * 60 * 1000)
/* POSTs in flight at once to one HTTP-only peer; the rest wait in its queue. */
#define HTTP_CONCURRENCY 8

typedef struct out_req {
    swarm_transport *t;
    struct lws *wsi;
    char peer_id[SWARM_PEER_ID_MAX];
    swarm_msg_type type;
    char *body; /* LWS_PRE headroom + json */
    size_t body_len;
    bool body_sent;
    char *reply;
    size_t reply_len;
    int status;    /* HTTP status once known */
    bool finished; /* outcome decided; waiting in the completion list */
    bool probe;    /* sent because a link dial failed: its outcome says whether the peer lives */
    bool overflow; /* not a send: the peer's queue overflowed, tell the core */
    struct out_req *next;
} out_req;

/* A queued message: LWS_PRE bytes of headroom, then the JSON. */
typedef struct qmsg {
    struct qmsg *next;
    swarm_msg_type type;
    size_t len;
    unsigned char buf[];
} qmsg;

/* Our persistent link to one peer. Each node dials its own link to each peer and sends only on
 * it; a link it accepted is only read. Two half-duplex links per pair need no tie-breaking when
 * both ends dial at once, and every message has exactly one way out. */
typedef enum { LINK_IDLE, LINK_CONNECTING, LINK_OPEN } link_state;
typedef struct peer_link {
    char peer_id[SWARM_PEER_ID_MAX];
    char host[SWARM_HOST_MAX];
    uint16_t port;
    link_state state;
    struct lws *wsi;
    qmsg *head, *tail;
    unsigned qlen;
    bool probing;       /* a dial failed; an HTTP POST is finding out if the peer is up */
    bool http_only;     /* the peer does not take the upgrade: POST each message */
    uint64_t http_only_until;
    bool ever_open;
    uint64_t next_dial;
    uint32_t backoff_ms;
    UT_hash_handle hh;
} peer_link;

struct swarm_transport {
    swarm_config cfg;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    swarm_node *node;
    swarm_tick_fn tick;
    void *tick_ctx;
    lws_sorted_usec_list_t sul;
    out_req *inflight;  /* sends under way */
    out_req *completed; /* outcomes to hand to the core at the next tick (never re-entrantly) */
    peer_link *links;
    bool closing;
};

typedef struct link_session { /* an accepted link: who is on the other end, and a partial message */
    char remote[128];
    uint16_t sender_port;
    char sender_id[SWARM_NODE_ID_MAX];
    char *buf;
    size_t len;
    bool too_big;
} link_session;

/* Appends n bytes to a NUL-terminated growable buffer. Returns 0, or -1 when out of memory. */
static int append(char **buf, size_t *len, const void *in, size_t n)
{
    char *nb = realloc(*buf, *len + n + 1);
    if (!nb)
        return -1;
    memcpy(nb + *len, in, n);
    *len += n;
    nb[*len] = 0;
    *buf = nb;
    return 0;
}

swarm_time swarm_now(void)
{
    struct timespec m, w;
    clock_gettime(CLOCK_MONOTONIC, &m);
    clock_gettime(CLOCK_REALTIME, &w);
    swarm_time t = {(uint64_t)m.tv_sec * 1000 + (uint64_t)m.tv_nsec / 1000000,
                    (uint64_t)w.tv_sec * 1000 + (uint64_t)w.tv_nsec / 1000000};
    return t;
}

/* ------------------------------------------------------------------ links and queues */

static peer_link *link_find(swarm_transport *t, const char *peer_id)
{
    peer_link *l = NULL;
    HASH_FIND_STR(t->links, peer_id, l);
    return l;
}

static void link_clear_queue(peer_link *l)
{
    for (qmsg *m = l->head, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    l->head = l->tail = NULL;
    l->qlen = 0;
}

static qmsg *link_pop(peer_link *l)
{
    qmsg *m = l->head;
    if (m) {
        l->head = m->next;
        if (!l->head)
            l->tail = NULL;
        l->qlen--;
    }
    return m;
}

/* Forgets a peer_link; its connection, if any, is closed asynchronously and never reaches us again. */
static void link_free(swarm_transport *t, peer_link *l)
{
    if (l->wsi) {
        lws_set_opaque_user_data(l->wsi, NULL);
        lws_set_timeout(l->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    }
    HASH_DEL(t->links, l);
    link_clear_queue(l);
    free(l);
}

static void io_peer_removed(void *ctx, const char *peer_id)
{
    swarm_transport *t = ctx;
    peer_link *l = link_find(t, peer_id);
    if (l)
        link_free(t, l);
}

static void link_backoff(peer_link *l, uint64_t now)
{
    l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : LINK_BACKOFF_MIN_MS;
    if (l->backoff_ms > LINK_BACKOFF_MAX_MS)
        l->backoff_ms = LINK_BACKOFF_MAX_MS;
    l->next_dial = now + l->backoff_ms;
}

static void http_post(swarm_transport *t, const char *peer_id, const char *host, uint16_t port,
                      swarm_msg_type type, const char *json, size_t len, bool probe);

static void link_dial(swarm_transport *t, peer_link *l)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = t->ctx;
    ci.vhost = t->vhost;
    ci.address = l->host;
    ci.port = l->port;
    ci.path = LINK_PATH;
    ci.host = l->host;
    ci.origin = l->host;
    ci.protocol = LINK_PROTOCOL;
    ci.local_protocol_name = LINK_PROTOCOL;
    ci.opaque_user_data = l;
    ci.pwsi = &l->wsi;
    l->state = LINK_CONNECTING;
    SWARM_DEBUG("[P2P] Dialling link to %s", l->peer_id);
    if (!lws_client_connect_via_info(&ci) && l->state == LINK_CONNECTING) {
        /* lws could not even start (e.g. the name does not resolve): same as a failed dial. */
        l->wsi = NULL;
        l->state = LINK_IDLE;
        link_backoff(l, swarm_now().mono);
    }
}

/* A dial failed. Perhaps the peer is down, perhaps it speaks only HTTP (a NeuroSwarm node): the
 * first queued message goes by HTTP POST and its outcome decides (see drain_completions). */
static void link_dial_failed(swarm_transport *t, peer_link *l)
{
    l->wsi = NULL;
    l->state = LINK_IDLE;
    link_backoff(l, swarm_now().mono);
    qmsg *m = link_pop(l);
    if (!m) {
        return;
    }
    l->probing = true;
    http_post(t, l->peer_id, l->host, l->port, m->type, (const char *)m->buf + LWS_PRE, m->len, true);
    free(m);
}

static unsigned inflight_to(const swarm_transport *t, const char *peer_id);

/* Sends what waits in an HTTP-only peer's queue, a few POSTs at a time. */
static void pump_http(swarm_transport *t, peer_link *l)
{
    while (l->head && inflight_to(t, l->peer_id) < HTTP_CONCURRENCY) {
        qmsg *m = link_pop(l);
        http_post(t, l->peer_id, l->host, l->port, m->type, (const char *)m->buf + LWS_PRE, m->len, false);
        free(m);
    }
}

/* ------------------------------------------------------------------ timer */

static void out_req_free(out_req *r)
{
    free(r->body);
    free(r->reply);
    free(r);
}

static void drain_completions(swarm_transport *t, swarm_time now)
{
    out_req *list = t->completed;
    t->completed = NULL;
    /* The list was built newest first: hand outcomes over in the order they happened. */
    out_req *ordered = NULL;
    while (list) {
        out_req *r = list;
        list = r->next;
        r->next = ordered;
        ordered = r;
    }
    while (ordered) {
        out_req *r = ordered;
        ordered = r->next;
        char peer_id[SWARM_PEER_ID_MAX];
        snprintf(peer_id, sizeof peer_id, "%s", r->peer_id);
        bool ok = r->status >= 200 && r->status <= 299;
        if (t->node) {
            if (r->overflow)
                swarm_node_on_overflow(t->node, peer_id, now);
            else
                swarm_node_on_sent(t->node, peer_id, r->type, r->status, r->reply, r->reply_len, now);
        }
        /* The core may have dropped the peer (and so its link) just now: look the link up again. */
        peer_link *l = link_find(t, peer_id);
        if (l && !r->probe && l->http_only)
            pump_http(t, l); /* a POST finished: the next may go */
        if (l && r->probe) {
            l->probing = false;
            if (ok) {
                SWARM_INFO("[P2P] %s takes no link upgrade: sending over HTTP POST", peer_id);
                l->http_only = true;
                l->http_only_until = now.mono + HTTP_ONLY_RETRY_MS;
                l->backoff_ms = 0;
                pump_http(t, l);
            } else {
                link_clear_queue(l); /* the peer is down: what waited for it is dropped */
            }
        }
        out_req_free(r);
    }
}

/* Redials links that dropped, once their backoff has passed and while the peer is still ours.
 * An idle link to an address that is no peer (a bootstrap probe, a reply to a sender we could not
 * take) is forgotten once it has nothing left to do, so such addresses cannot pile up. */
static void maintain_links(swarm_transport *t, swarm_time now)
{
    peer_link *l, *tmp;
    HASH_ITER(hh, t->links, l, tmp) {
        if (l->http_only && now.mono >= l->http_only_until)
            l->http_only = false;
        if (l->state != LINK_IDLE || l->probing)
            continue;
        bool ours = t->node && swarm_peer_table_find(swarm_node_peers(t->node), l->peer_id);
        if (!ours) {
            if (!l->head && inflight_to(t, l->peer_id) == 0)
                link_free(t, l);
            continue;
        }
        if (l->http_only || now.mono < l->next_dial || (!l->head && !l->ever_open))
            continue;
        link_dial(t, l);
    }
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    swarm_transport *t = lws_container_of(sul, swarm_transport, sul);
    swarm_time now = swarm_now();
    drain_completions(t, now);
    uint64_t next = t->tick ? t->tick(t->tick_ctx, now) : now.mono + TICK_MAX_MS;
    maintain_links(t, now);
    uint64_t delay = next > now.mono ? next - now.mono : 1;
    if (delay > TICK_MAX_MS)
        delay = TICK_MAX_MS;
    if (delay > 100 && t->links)
        delay = 100; /* links waiting to be redialled are checked often */
    lws_sul_schedule(t->ctx, 0, &t->sul, on_tick, (lws_usec_t)delay * LWS_US_PER_MS);
}

static void tick_soon(swarm_transport *t)
{
    lws_sul_schedule(t->ctx, 0, &t->sul, on_tick, 1);
}

/* ------------------------------------------------------------------ HTTP client: sends */

static void finish_req(out_req *r, int status)
{
    if (r->finished)
        return;
    swarm_transport *t = r->t;
    r->finished = true;
    r->status = status;
    if (r->wsi)
        lws_set_opaque_user_data(r->wsi, NULL);
    r->wsi = NULL;
    for (out_req **pp = &t->inflight; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    r->next = t->completed;
    t->completed = r;
    if (!t->closing)
        tick_soon(t);
}

static unsigned inflight_to(const swarm_transport *t, const char *peer_id)
{
    unsigned n = 0;
    for (const out_req *r = t->inflight; r; r = r->next)
        n += strcmp(r->peer_id, peer_id) == 0;
    return n;
}

static out_req *new_req(swarm_transport *t, const char *peer_id, swarm_msg_type type)
{
    out_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->t = t;
    r->type = type;
    snprintf(r->peer_id, sizeof r->peer_id, "%s", peer_id);
    r->next = t->inflight;
    t->inflight = r;
    return r;
}

/* One POST /p2p/message per envelope, one connection per POST. */
static void http_post(swarm_transport *t, const char *peer_id, const char *host, uint16_t port,
                      swarm_msg_type type, const char *json, size_t len, bool probe)
{
    out_req *r = new_req(t, peer_id, type);
    if (!r)
        return;
    r->probe = probe;
    if (inflight_to(t, peer_id) > MAX_INFLIGHT_PER_PEER) {
        SWARM_WARN("[P2P] Too many requests in flight to %s, dropping %s", peer_id, swarm_msg_type_name(type));
        r->overflow = true;
        finish_req(r, 0);
        return;
    }
    r->body = malloc(LWS_PRE + len + 1);
    if (!r->body) {
        finish_req(r, 0);
        return;
    }
    memcpy(r->body + LWS_PRE, json, len);
    r->body_len = len;

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = t->ctx;
    ci.vhost = t->vhost;
    ci.address = host;
    ci.port = port;
    ci.path = "/p2p/message";
    ci.host = host;
    ci.origin = host;
    ci.method = "POST";
    ci.protocol = "swarm-http-client";
    ci.local_protocol_name = "swarm-http-client";
    ci.opaque_user_data = r;
    ci.pwsi = &r->wsi;
    if (!lws_client_connect_via_info(&ci))
        finish_req(r, 0); /* no-op if lws already reported the error through the callback */
}

static void io_send(void *ctx, const swarm_peer *peer, swarm_msg_type type, const char *json, size_t len)
{
    swarm_transport *t = ctx;
    peer_link *l = link_find(t, peer->id);
    if (!l) {
        l = calloc(1, sizeof *l);
        if (!l)
            return;
        snprintf(l->peer_id, sizeof l->peer_id, "%s", peer->id);
        HASH_ADD_STR(t->links, peer_id, l);
    }
    /* The address may have been learned anew (a probe for a bootstrap entry, then the peer). */
    snprintf(l->host, sizeof l->host, "%s", peer->host);
    l->port = peer->port;
    if (l->qlen >= t->cfg.send_queue_max) {
        /* A peer that cannot keep up loses its link and its backlog, never our memory. */
        SWARM_WARN("[P2P] Send queue to %s full (%u messages): dropping the link", l->peer_id, l->qlen);
        out_req *r = new_req(t, l->peer_id, type);
        if (r) {
            r->overflow = true;
            finish_req(r, 0);
        }
        link_clear_queue(l);
        if (l->wsi) {
            lws_set_opaque_user_data(l->wsi, NULL);
            lws_set_timeout(l->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
            l->wsi = NULL;
        }
        l->state = LINK_IDLE;
        link_backoff(l, swarm_now().mono);
        return;
    }
    qmsg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return;
    m->next = NULL;
    m->type = type;
    m->len = len;
    memcpy(m->buf + LWS_PRE, json, len);
    if (l->tail)
        l->tail->next = m;
    else
        l->head = m;
    l->tail = m;
    l->qlen++;
    if (l->http_only)
        pump_http(t, l);
    else if (l->state == LINK_OPEN)
        lws_callback_on_writable(l->wsi);
    else if (l->state == LINK_IDLE && !l->probing && swarm_now().mono >= l->next_dial)
        link_dial(t, l);
}

/* Adds who we are to an outgoing handshake, for receivers that attribute messages to peers. */
static int add_identity_headers(struct lws *wsi, swarm_transport *t, unsigned char **p, unsigned char *end)
{
    char num[16];
    int n = snprintf(num, sizeof num, "%u", t->cfg.port);
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-swarm-port:", (unsigned char *)num, n, p, end))
        return -1;
    if (t->node) {
        const char *id = swarm_node_id(t->node);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-swarm-node-id:",
                                        (const unsigned char *)id, (int)strlen(id), p, end))
            return -1;
    }
    return 0;
}

/* Reads the sender's identity headers and source address on an accepted connection. */
static void read_identity(struct lws *wsi, char *remote, size_t remote_len, uint16_t *port,
                          char node_id[SWARM_NODE_ID_MAX])
{
    lws_get_peer_simple(wsi, remote, remote_len);
    /* An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d: peers know it as a.b.c.d. */
    if (strncmp(remote, "::ffff:", 7) == 0 && strchr(remote + 7, '.'))
        memmove(remote, remote + 7, strlen(remote + 7) + 1);
    char v[SWARM_NODE_ID_MAX];
    *port = 0;
    node_id[0] = 0;
    if (lws_hdr_custom_copy(wsi, v, sizeof v, "x-swarm-port:", 13) > 0) {
        uint16_t p16;
        if (swarm_parse_port(v, &p16) == 0)
            *port = p16;
    }
    if (lws_hdr_custom_copy(wsi, v, sizeof v, "x-swarm-node-id:", 16) > 0 && swarm_valid_node_id(v))
        snprintf(node_id, SWARM_NODE_ID_MAX, "%s", v);
}

static int callback_link(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    swarm_transport *t = lws_context_user(lws_get_context(wsi));
    link_session *s = user;
    switch (reason) {
    /* ---- our outbound link to a peer */
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return add_identity_headers(wsi, t, (unsigned char **)in, (*(unsigned char **)in) + len);
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
        peer_link *l = lws_get_opaque_user_data(wsi);
        if (!l)
            return -1;
        l->state = LINK_OPEN;
        l->ever_open = true;
        l->backoff_ms = 0;
        SWARM_DEBUG("[P2P] Link to %s open", l->peer_id);
        if (l->head)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        peer_link *l = lws_get_opaque_user_data(wsi);
        if (!l)
            return -1;
        qmsg *m = link_pop(l);
        if (!m)
            return 0;
        int w = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        free(m);
        if (w < 0)
            return -1;
        if (l->head)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return 0; /* links are one-way: the peer answers on its own link to us */
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        peer_link *l = lws_get_opaque_user_data(wsi);
        if (l) {
            SWARM_DEBUG("[P2P] Link to %s failed: %s", l->peer_id, in ? (const char *)in : "?");
            lws_set_opaque_user_data(wsi, NULL);
            link_dial_failed(t, l);
        }
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CLOSED: {
        peer_link *l = lws_get_opaque_user_data(wsi);
        if (l) {
            SWARM_INFO("[P2P] Link to %s closed", l->peer_id);
            l->wsi = NULL;
            l->state = LINK_IDLE;
            link_backoff(l, swarm_now().mono);
        }
        return 0;
    }

    /* ---- a peer's link to us */
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char path[32] = "";
        if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 || strcmp(path, LINK_PATH) != 0)
            return 1; /* links live at one path only */
        char remote[128], node_id[SWARM_NODE_ID_MAX];
        uint16_t port;
        read_identity(wsi, remote, sizeof remote, &port, node_id);
        swarm_from from = {.host = remote, .port = port, .node_id = node_id, .via_link = true};
        if (t->node && swarm_node_sender_banned(t->node, &from, swarm_now())) {
            SWARM_INFO("[P2P] Refused a link from banned peer %s:%u", remote, port);
            return 1;
        }
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof *s);
        read_identity(wsi, s->remote, sizeof s->remote, &s->sender_port, s->sender_id);
        /* A peer dials because it has something to send: a link silent from the start is closed
         * rather than left holding a descriptor. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_AWAITING_CLIENT_HS_SEND, 10);
        return 0;
    case LWS_CALLBACK_RECEIVE: {
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        if (!s->too_big && s->len + len > t->cfg.max_body) {
            s->too_big = true;
            free(s->buf);
            s->buf = NULL;
            s->len = 0;
        }
        if (!s->too_big && append(&s->buf, &s->len, in, len) != 0)
            return -1;
        if (!lws_is_final_fragment(wsi))
            return 0;
        swarm_from from = {.host = s->remote, .port = s->sender_port, .node_id = s->sender_id, .via_link = true};
        swarm_msg_result res;
        swarm_time now = swarm_now();
        char err[160];
        swarm_envelope env;
        if (s->too_big) {
            snprintf(err, sizeof err, "message larger than %zu bytes", t->cfg.max_body);
            swarm_node_on_invalid(t->node, &from, err, now, &res);
        } else if (swarm_envelope_decode(s->buf, s->len, &env, err, sizeof err) != 0) {
            swarm_node_on_invalid(t->node, &from, err, now, &res);
        } else {
            swarm_node_on_message(t->node, &from, &env, now, &res);
            swarm_envelope_clear(&env);
        }
        free(s->buf);
        s->buf = NULL;
        s->len = 0;
        s->too_big = false;
        if (res.status != 200)
            SWARM_DEBUG("[P2P] Link message from %s:%u refused (%d): %s", s->remote, s->sender_port,
                        res.status, res.reason);
        tick_soon(t);
        return res.status == 403 ? -1 : 0; /* a banned peer is disconnected */
    }
    case LWS_CALLBACK_CLOSED:
        if (s) {
            free(s->buf);
            s->buf = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

static int callback_client(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    (void)user;
    out_req *r = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        if (!r)
            return -1;
        unsigned char **p = (unsigned char **)in, *end = (*p) + len;
        char num[24];
        int n = snprintf(num, sizeof num, "%zu", r->body_len);
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                         (const unsigned char *)"application/json", 16, p, end) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (unsigned char *)num, n,
                                         p, end))
            return -1;
        if (add_identity_headers(wsi, r->t, p, end))
            return -1;
        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        if (!r || r->body_sent)
            return 0;
        r->body_sent = true;
        lws_client_http_body_pending(wsi, 0);
        if (lws_write(wsi, (unsigned char *)r->body + LWS_PRE, r->body_len, LWS_WRITE_HTTP_FINAL) !=
            (int)r->body_len)
            return -1;
        return 0;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        if (r)
            r->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buffer[4096 + LWS_PRE];
        char *px = buffer + LWS_PRE;
        int lenx = (int)sizeof buffer - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (r && r->reply_len + len <= MAX_REPLY_BYTES && append(&r->reply, &r->reply_len, in, len) != 0)
            return -1;
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        if (r)
            finish_req(r, r->status);
        return -1; /* one request per connection: close it */
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (r) {
            SWARM_DEBUG("[P2P] Error sending to %s: %s", r->peer_id, in ? (const char *)in : "connection failed");
            finish_req(r, 0);
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1; /* client-only protocol: never accepted */
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (r)
            finish_req(r, r->status); /* a status line came back: the peer answered */
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ------------------------------------------------------------------ HTTP server: the REST API */

typedef struct http_session {
    swarm_http_method method;
    char path[512];
    char type_filter[256];
    bool has_filter;
    char remote[128];
    uint16_t sender_port;
    char sender_id[SWARM_NODE_ID_MAX];
    char *body;
    size_t body_len;
    bool too_big;
    bool chunked;     /* body in chunked framing, which lws 4.1 passes through undecoded */
    bool close_after; /* the request body was not read: the connection cannot be reused */
    /* response */
    bool responding;
    int status;
    const char *allow;
    char *resp; /* LWS_PRE headroom + body */
    size_t resp_len, resp_sent;
    bool headers_sent;
} http_session;

static void session_reset(http_session *s)
{
    free(s->body);
    free(s->resp);
    memset(s, 0, sizeof *s);
}

static swarm_http_method method_of(int m)
{
    switch (m) {
    case LWSHUMETH_GET: return SWARM_HTTP_GET;
    case LWSHUMETH_POST: return SWARM_HTTP_POST;
    case LWSHUMETH_PUT: return SWARM_HTTP_PUT;
    case LWSHUMETH_PATCH: return SWARM_HTTP_PATCH;
    case LWSHUMETH_DELETE: return SWARM_HTTP_DELETE;
    case LWSHUMETH_OPTIONS: return SWARM_HTTP_OPTIONS;
    case LWSHUMETH_HEAD: return SWARM_HTTP_HEAD;
    default: return SWARM_HTTP_OTHER;
    }
}

static void start_response(struct lws *wsi, http_session *s, swarm_http_response *resp)
{
    s->responding = true;
    s->status = resp->status;
    s->allow = resp->allow;
    s->resp_len = resp->body_len;
    s->resp = malloc(LWS_PRE + resp->body_len + 1);
    if (s->resp)
        memcpy(s->resp + LWS_PRE, resp->body, resp->body_len);
    else
        s->resp_len = 0;
    free(resp->body);
    lws_callback_on_writable(wsi);
}

static void respond_error(struct lws *wsi, http_session *s, int status, const char *msg)
{
    swarm_http_response resp;
    memset(&resp, 0, sizeof resp);
    swarm_api_error(&resp, status, msg);
    start_response(wsi, s, &resp);
}

static void dispatch(struct lws *wsi, swarm_transport *t, http_session *s)
{
    swarm_http_request req = {
        .method = s->method,
        .path = s->path,
        .type_filter = s->has_filter ? s->type_filter : NULL,
        .body = s->body,
        .body_len = s->body_len,
        .remote_host = s->remote,
        .sender_port = s->sender_port,
        .sender_id = s->sender_id[0] ? s->sender_id : NULL,
    };
    swarm_http_response resp;
    swarm_api_handle(t->node, &req, swarm_now(), &resp);
    start_response(wsi, s, &resp);
    tick_soon(t); /* the request may have changed what the core wants to do next */
}

/* Walks a chunked body. With out NULL it only checks; with out it also copies the data there
 * (out may be body itself: data only moves toward the front). Returns 1 when the last chunk is
 * there (*out_len the data length), 0 when more is to come, -1 when the framing is malformed. */
static int walk_chunks(const char *body, size_t len, char *out, size_t *out_len)
{
    size_t in = 0, o = 0;
    for (;;) {
        size_t size = 0, digits = 0;
        while (in < len && isxdigit((unsigned char)body[in])) {
            if (++digits > 8)
                return -1;
            char c = body[in++];
            size = size * 16 + (size_t)(isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10);
        }
        if (!digits)
            return in < len ? -1 : 0;
        while (in < len && body[in] != '\n') /* chunk extensions are ignored */
            in++;
        if (in >= len)
            return 0;
        in++;
        if (size == 0) /* the last chunk; trailers, if any, are ignored */
            break;
        if (len - in < size + 2)
            return 0;
        if (out)
            memmove(out + o, body + in, size);
        o += size;
        in += size;
        if (body[in] != '\r' || body[in + 1] != '\n')
            return -1;
        in += 2;
    }
    if (out_len)
        *out_len = o;
    return 1;
}

/* Decodes a chunked body in place once it is complete (never before: a read that happens to end
 * in a blank line may still be mid-body). Returns as walk_chunks. */
static int dechunk(char *body, size_t *body_len)
{
    int rc = walk_chunks(body, *body_len, NULL, NULL);
    if (rc != 1)
        return rc;
    walk_chunks(body, *body_len, body, body_len);
    body[*body_len] = 0;
    return 1;
}

static void read_request_meta(struct lws *wsi, http_session *s, const char *uri_path)
{
    snprintf(s->path, sizeof s->path, "%s", uri_path ? uri_path : "/");
    char frag[256];
    for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
        if (strncmp(frag, "type=", 5) == 0) {
            snprintf(s->type_filter, sizeof s->type_filter, "%s", frag + 5);
            s->has_filter = true;
        }
    }
    read_identity(wsi, s->remote, sizeof s->remote, &s->sender_port, s->sender_id);
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    http_session *s = user;
    swarm_transport *t = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        session_reset(s);
        char *uri = NULL;
        int ulen = 0;
        s->method = method_of(lws_http_get_uri_and_method(wsi, &uri, &ulen));
        read_request_meta(wsi, s, in);
        char clen[32] = "";
        bool has_len = lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
        bool chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
        if (has_len && strspn(clen, "0123456789") != strlen(clen)) {
            s->close_after = true;
            respond_error(wsi, s, 400, "bad Content-Length");
            return 0;
        }
        unsigned long long declared = has_len ? strtoull(clen, NULL, 10) : 0;
        s->chunked = chunked && !has_len;
        if (declared > t->cfg.max_body) {
            char msg[96];
            snprintf(msg, sizeof msg, "request body too large (limit %zu bytes)", t->cfg.max_body);
            s->close_after = true;
            respond_error(wsi, s, 413, msg);
            return 0;
        }
        if ((declared > 0 || chunked) &&
            (s->method == SWARM_HTTP_POST || s->method == SWARM_HTTP_PUT || s->method == SWARM_HTTP_PATCH ||
             s->method == SWARM_HTTP_DELETE))
            return 0; /* the body follows: answer at LWS_CALLBACK_HTTP_BODY_COMPLETION */
        dispatch(wsi, t, s);
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (s->responding || s->too_big)
            return 0;
        if (s->body_len + len > t->cfg.max_body) {
            s->too_big = true;
            free(s->body);
            s->body = NULL;
            s->body_len = 0;
            if (s->chunked) { /* no end will be reported: answer now, and close */
                char msg[96];
                snprintf(msg, sizeof msg, "request body too large (limit %zu bytes)", t->cfg.max_body);
                s->close_after = true;
                respond_error(wsi, s, 413, msg);
            }
            return 0;
        }
        if (append(&s->body, &s->body_len, in, len) != 0)
            return -1;
        /* lws 4.1 hands a chunked body over still framed and never says it ended: the empty
         * last chunk does. */
        if (s->chunked && s->body_len >= 5 && memcmp(s->body + s->body_len - 4, "\r\n\r\n", 4) == 0) {
            int done = dechunk(s->body, &s->body_len);
            if (done < 0) {
                s->close_after = true;
                respond_error(wsi, s, 400, "malformed chunked request body");
            } else if (done > 0) {
                dispatch(wsi, t, s);
            }
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (s->responding)
            return 0;
        if (s->too_big) {
            char msg[96];
            snprintf(msg, sizeof msg, "request body too large (limit %zu bytes)", t->cfg.max_body);
            respond_error(wsi, s, 413, msg);
            return 0;
        }
        dispatch(wsi, t, s);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!s->responding)
            return 0;
        if (!s->headers_sent) {
            unsigned char hdr[LWS_PRE + 512];
            unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
            if (lws_add_http_common_headers(wsi, (unsigned)s->status, "application/json",
                                            (lws_filepos_t)s->resp_len, &p, end))
                return -1;
            if (s->allow && lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                                        (const unsigned char *)s->allow,
                                                        (int)strlen(s->allow), &p, end))
                return -1;
            if (s->close_after && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                                               (const unsigned char *)"close", 5, &p, end))
                return -1;
            if (lws_finalize_write_http_header(wsi, start, &p, end))
                return -1;
            s->headers_sent = true;
            lws_callback_on_writable(wsi);
            return 0;
        }
        size_t left = s->resp_len - s->resp_sent;
        size_t n = left > WRITE_CHUNK ? WRITE_CHUNK : left;
        bool last = n == left;
        /* Bytes before the chunk are already sent, so they serve as its LWS_PRE headroom. */
        if (lws_write(wsi, (unsigned char *)s->resp + LWS_PRE + s->resp_sent, n,
                      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        s->resp_sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        bool close_now = s->close_after;
        session_reset(s);
        if (close_now || lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1; /* a WebSocket upgrade without the swarm-p2p subprotocol */
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (s)
            session_reset(s);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ------------------------------------------------------------------ lifecycle */

static const struct lws_protocols protocols[] = {
    {"http", callback_http, sizeof(http_session), 0, 0, NULL, 0},
    {"swarm-http-client", callback_client, 0, 0, 0, NULL, 0},
    {LINK_PROTOCOL, callback_link, sizeof(link_session), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    swarm_log(level == LLL_ERR ? SWARM_LOG_WARN : SWARM_LOG_DEBUG, "[lws] %.*s", (int)n, line);
}

swarm_transport *swarm_transport_new(const swarm_config *cfg, char *err, size_t errlen)
{
    swarm_transport *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->cfg = *cfg;
    lws_set_log_level(swarm_log_get_level() >= SWARM_LOG_DEBUG ? (LLL_ERR | LLL_WARN) : LLL_ERR,
                      lws_log_bridge);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->port;
    info.iface = cfg->bind_host[0] ? cfg->bind_host : NULL;
    info.protocols = protocols;
    info.user = t;
    info.vhost_name = "swarm";
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    /* lws 4.1 on a dual-stack socket ignores an IPv4 address as the interface and listens on all
     * addresses; an IPv4-only socket honours it. */
    struct in_addr v4;
    if (cfg->bind_host[0] && inet_pton(AF_INET, cfg->bind_host, &v4) == 1)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 10;
    info.connect_timeout_secs = 5;
    info.max_http_header_data = 4096;
    info.server_string = "swarm";
    t->ctx = lws_create_context(&info);
    if (!t->ctx) {
        snprintf(err, errlen, "PORT: cannot listen on port %u (in use or not permitted)", cfg->port);
        free(t);
        return NULL;
    }
    t->vhost = lws_get_vhost_by_name(t->ctx, "swarm");
    if (!t->vhost) {
        snprintf(err, errlen, "PORT: cannot listen on port %u (in use or not permitted)", cfg->port);
        lws_context_destroy(t->ctx);
        free(t);
        return NULL;
    }
    return t;
}

swarm_node_io swarm_transport_io(swarm_transport *t)
{
    swarm_node_io io = {.ctx = t, .send = io_send, .peer_removed = io_peer_removed};
    return io;
}

void swarm_transport_attach(swarm_transport *t, swarm_node *node, swarm_tick_fn tick, void *tick_ctx)
{
    t->node = node;
    t->tick = tick;
    t->tick_ctx = tick_ctx;
    tick_soon(t);
}

int swarm_transport_run(swarm_transport *t, volatile sig_atomic_t *stop)
{
    while (!*stop)
        if (lws_service(t->ctx, 0) < 0)
            return -1;
    return 0;
}

void swarm_transport_wake(swarm_transport *t)
{
    if (t && t->ctx)
        lws_cancel_service(t->ctx);
}

void swarm_transport_free(swarm_transport *t)
{
    if (!t)
        return;
    lws_sul_cancel(&t->sul);
    t->closing = true;
    t->node = NULL; /* outcomes arriving during teardown have no core to go to */
    lws_context_destroy(t->ctx);
    for (out_req *r = t->inflight, *n; r; r = n) {
        n = r->next;
        out_req_free(r);
    }
    peer_link *l, *tmp;
    HASH_ITER(hh, t->links, l, tmp) {
        HASH_DEL(t->links, l);
        link_clear_queue(l);
        free(l);
    }
    for (out_req *r = t->completed, *n; r; r = n) {
        n = r->next;
        out_req_free(r);
    }
    free(t);
}
