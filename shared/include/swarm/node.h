/* The sans-IO node core: peer table, handshake, gossip, peer exchange, health and reputation,
 * driven entirely by its caller. Inputs are messages, send outcomes, ticks with the current time
 * and admin calls; outputs go through the swarm_node_io functions the caller supplies. No
 * sockets, no clock, no threads: a test drives it with a fake clock, a simulator wires many. */
#ifndef SWARM_NODE_H
#define SWARM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swarm/config.h"
#include "swarm/peer_table.h"
#include "swarm/reputation.h"
#include "swarm/wire.h"

struct cJSON;

typedef struct swarm_time {
    uint64_t mono; /* monotonic ms: intervals, timeouts */
    uint64_t wall; /* wall-clock ms since the epoch: timestamps shown to people and peers */
} swarm_time;

typedef struct swarm_node_io {
    void *ctx;
    /* Send one encoded envelope to a peer (peer may be a bootstrap address not in the table; only
     * id, host and port are meaningful then). Failures come back through swarm_node_on_sent;
     * json is only valid during the call. */
    void (*send)(void *ctx, const swarm_peer *peer, swarm_msg_type type, const char *json, size_t len);
    /* A peer left the table (removed, pruned, banned): drop its links and queue. May be NULL. */
    void (*peer_removed)(void *ctx, const char *peer_id);
} swarm_node_io;

/* The application's hook: a NEW_BLOCK/NEW_TX delivered to this node for the first time. */
typedef void (*swarm_deliver_fn)(void *user, const swarm_envelope *env);

typedef struct swarm_node swarm_node;

/* cfg is copied. node_id must be valid (see swarm_valid_node_id). io is copied. */
swarm_node *swarm_node_new(const swarm_config *cfg, const char *node_id, const swarm_node_io *io,
                           swarm_time now);
void swarm_node_free(swarm_node *node);
void swarm_node_set_deliver(swarm_node *node, swarm_deliver_fn fn, void *user);

const char *swarm_node_id(const swarm_node *node);
const char *swarm_node_type_name(const swarm_node *node);
uint16_t swarm_node_port(const swarm_node *node);
const swarm_config *swarm_node_config(const swarm_node *node);
swarm_peer_table *swarm_node_peers(swarm_node *node);
swarm_reputation *swarm_node_reputation(swarm_node *node);
uint64_t swarm_node_uptime_ms(const swarm_node *node, swarm_time now);

/* Where an incoming message came from, as far as the transport can tell. */
typedef struct swarm_from {
    const char *host;    /* source address of the connection */
    uint16_t port;       /* the sender's listening port (header or link hello), 0 if unknown */
    const char *node_id; /* the sender's node id (header or link hello), "" or NULL if unknown */
    bool via_link;       /* arrived on a persistent link (answers go back as messages), not HTTP */
} swarm_from;

typedef struct swarm_msg_result {
    int status;       /* HTTP-style: 200 handled (processed or dropped on purpose), 400 invalid,
                         403 banned sender, 429 over the sender's rate */
    bool processed;   /* false when dropped on purpose (duplicate, own message, ...) */
    bool relayed;     /* sent on to other peers */
    unsigned relay_count;
    char reason[160]; /* why not processed, or the error */
} swarm_msg_result;

/* Hands one decoded envelope to the core. env stays the caller's (its hops may be changed). */
void swarm_node_on_message(swarm_node *node, const swarm_from *from, swarm_envelope *env,
                           swarm_time now, swarm_msg_result *res);
/* A message from `from` that could not be decoded (reason from the codec): penalises the sender
 * if it can be told, and answers 400 (403 if the sender is banned). */
void swarm_node_on_invalid(swarm_node *node, const swarm_from *from, const char *reason,
                           swarm_time now, swarm_msg_result *res);
/* Whether traffic from this sender is refused (banned). */
bool swarm_node_sender_banned(swarm_node *node, const swarm_from *from, swarm_time now);

/* The outcome of an earlier io.send: http_status 0 means the peer could not be reached (or its
 * link failed); 2xx is an HTTP reply, whose body (may be NULL) can carry the peer's identity. */
void swarm_node_on_sent(swarm_node *node, const char *peer_id, swarm_msg_type type, int http_status,
                        const char *reply, size_t reply_len, swarm_time now);
/* The peer's send queue overflowed: it is penalised and its link dropped. */
void swarm_node_on_overflow(swarm_node *node, const char *peer_id, swarm_time now);

/* Runs what is due: handshakes, bootstrap retries, PING and PEX rounds, failure removal, pruning,
 * cache expiry. Returns the monotonic time it next wants a tick. */
uint64_t swarm_node_tick(swarm_node *node, swarm_time now);

/* Creates a NEW_BLOCK/NEW_TX from this node, delivers it locally and gossips it. Takes ownership
 * of payload (NULL = {}). Writes the new message id into id_out. Returns peers sent to, or -1. */
int swarm_node_broadcast(swarm_node *node, swarm_msg_type type, struct cJSON *payload, swarm_time now,
                         char id_out[SWARM_MSG_ID_MAX]);

/* Admin: add a peer as the REST API or the bootstrap list does. */
typedef enum {
    SWARM_ADD_ADDED = 0,
    SWARM_ADD_EXISTS,
    SWARM_ADD_SELF,
    SWARM_ADD_FULL,
    SWARM_ADD_BANNED,
    SWARM_ADD_INVALID,
} swarm_add_result;
swarm_add_result swarm_node_add_peer(swarm_node *node, const char *host, uint16_t port,
                                     const char *node_type, swarm_peer_source source, swarm_time now,
                                     swarm_peer **out);
/* Returns 0, or -1 for an unknown id. */
int swarm_node_remove_peer(swarm_node *node, const char *peer_id);

/* True once per change of the peer table since the last call: time to save peers.json. */
bool swarm_node_take_dirty(swarm_node *node);

/* Whether host:port names this node itself (loopback aliases, the bind and advertise hosts). */
bool swarm_node_is_self(const swarm_node *node, const char *host, uint16_t port, const char *node_id);

/* Counters for the API and tests. */
typedef struct swarm_node_stats {
    uint64_t delivered[SWARM_MSG_PONG + 1]; /* first deliveries, per type */
    uint64_t received;       /* envelopes handed in */
    uint64_t duplicates;     /* dropped by the seen-cache */
    uint64_t relayed;        /* envelopes sent on as relays (one per target) */
    uint64_t hop_limited;    /* delivered but not relayed: at the hop limit */
    uint64_t own_echoes;     /* our own messages coming back */
    uint64_t invalid;        /* undecodable or unknown */
    uint64_t refused_banned; /* from banned senders */
    uint64_t spam;           /* over rate or replayed by the same peer */
    uint64_t originated;     /* broadcasts made here */
    uint64_t peers_removed;  /* after repeated failures */
    uint64_t peers_pruned;   /* inactive */
    uint64_t peers_let_go;   /* PEX-learned peers that do not keep us, or whose table is full */
    uint64_t bans;
} swarm_node_stats;
const swarm_node_stats *swarm_node_get_stats(const swarm_node *node);

#define SWARM_RECENT_MAX 32
typedef struct swarm_delivery {
    char id[SWARM_MSG_ID_MAX];
    swarm_msg_type type;
    char origin[SWARM_NODE_ID_MAX];
    int hops;
    char from[SWARM_PEER_ID_MAX]; /* the peer it came from, "" when local or unknown */
    uint64_t at_wall;
} swarm_delivery;
/* Copies up to max of the last deliveries into out, oldest first; returns how many. */
size_t swarm_node_recent(const swarm_node *node, swarm_delivery *out, size_t max);

#endif
