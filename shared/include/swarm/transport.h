/* The transport: the only module that touches libwebsockets. One lws context, one service loop,
 * one thread. Serves the REST API and peer links on one port, sends envelopes to peers over
 * persistent WebSocket links (or one HTTP POST /p2p/message each, for peers that speak only HTTP),
 * and drives the node core's clock. */
#ifndef SWARM_TRANSPORT_H
#define SWARM_TRANSPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "swarm/node.h"

typedef struct swarm_transport swarm_transport;

/* Called on the service thread when the core wants a tick; returns the monotonic ms of the next. */
typedef uint64_t (*swarm_tick_fn)(void *ctx, swarm_time now);

/* Creates the lws context and starts listening on cfg->port. Returns NULL with err on failure
 * (e.g. the port is taken). */
swarm_transport *swarm_transport_new(const swarm_config *cfg, char *err, size_t errlen);
void swarm_transport_free(swarm_transport *t);

/* The io table to give swarm_node_new; its ctx is the transport. */
swarm_node_io swarm_transport_io(swarm_transport *t);
/* Binds the node (after swarm_node_new) and the tick function. */
void swarm_transport_attach(swarm_transport *t, swarm_node *node, swarm_tick_fn tick, void *tick_ctx);

/* Serves until *stop becomes non-zero. Returns 0, or -1 if the loop failed. */
int swarm_transport_run(swarm_transport *t, volatile sig_atomic_t *stop);
/* Wakes the service loop from a signal handler so it notices *stop. */
void swarm_transport_wake(swarm_transport *t);

swarm_time swarm_now(void);

#endif
