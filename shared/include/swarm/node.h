/* The sans-IO node core: peer table, handshake and message intake, driven entirely by its caller.
 * Inputs are messages, send outcomes, ticks with the current time, and admin calls; outputs go
 * through the swarm_node_io functions the caller supplies. No sockets, no clock, no threads. */
#ifndef SWARM_NODE_H
#define SWARM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swarm/config.h"
#include "swarm/peer_table.h"
#include "swarm/wire.h"

typedef struct swarm_time {
    uint64_t mono; /* monotonic ms: intervals, timeouts */
    uint64_t wall; /* wall-clock ms since the epoch: timestamps shown to people and peers */
} swarm_time;

typedef struct swarm_node_io {
    void *ctx;
    /* Send one encoded envelope to a peer. The transport reports the outcome later through
     * swarm_node_on_sent. json is only valid during the call. */
    void (*send)(void *ctx, const swarm_peer *peer, swarm_msg_type type, const char *json, size_t len);
    /* A peer left the table: drop whatever the transport holds for it. May be NULL. */
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
uint64_t swarm_node_uptime_ms(const swarm_node *node, swarm_time now);

/* Where an incoming message came from, as far as the transport can tell. */
typedef struct swarm_from {
    const char *host;    /* source address of the connection */
    uint16_t port;       /* the sender's listening port, 0 if unknown */
    const char *node_id; /* "" or NULL if unknown */
} swarm_from;

typedef struct swarm_msg_result {
    int status;       /* HTTP-style: 200 handled (processed or dropped on purpose), 400 invalid, 403 refused */
    bool processed;   /* false when dropped on purpose (duplicate, hop limit, ...) */
    char reason[160]; /* why not processed, or the error */
} swarm_msg_result;

/* Hands one decoded envelope to the core. env stays the caller's. */
void swarm_node_on_message(swarm_node *node, const swarm_from *from, const swarm_envelope *env,
                           swarm_time now, swarm_msg_result *res);

/* The outcome of an earlier io.send: http_status 0 means the peer could not be reached; reply is
 * the response body (may be NULL). */
void swarm_node_on_sent(swarm_node *node, const char *peer_id, swarm_msg_type type, int http_status,
                        const char *reply, size_t reply_len, swarm_time now);

/* Runs what is due (handshakes and retries). Returns the monotonic time it next wants a tick. */
uint64_t swarm_node_tick(swarm_node *node, swarm_time now);

/* Admin: add a peer as the REST API or the bootstrap list does. */
typedef enum {
    SWARM_ADD_ADDED = 0,
    SWARM_ADD_EXISTS,
    SWARM_ADD_SELF,
    SWARM_ADD_FULL,
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

/* Application messages delivered here, per type. */
uint64_t swarm_node_delivered(const swarm_node *node, swarm_msg_type type);

#endif
