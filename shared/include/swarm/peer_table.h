/* The peer table: peers keyed by id ("host:port"), with a second index by node id, a capacity
 * (MAX_PEERS) and insertion-ordered iteration. Pure data: no I/O, no clock. */
#ifndef SWARM_PEER_TABLE_H
#define SWARM_PEER_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "swarm/config.h"

#define SWARM_PEER_ID_MAX (SWARM_HOST_MAX + 8) /* "[host]:65535" */

typedef enum { SWARM_SOURCE_BOOTSTRAP = 0, SWARM_SOURCE_PEX, SWARM_SOURCE_MANUAL } swarm_peer_source;
typedef enum { SWARM_PEER_PENDING = 0, SWARM_PEER_ACTIVE, SWARM_PEER_UNREACHABLE } swarm_peer_status;

const char *swarm_peer_source_name(swarm_peer_source s); /* "bootstrap" | "pex" | "manual" */
int swarm_peer_source_parse(const char *s, swarm_peer_source *out);
const char *swarm_peer_status_name(swarm_peer_status s); /* "pending" | "active" | "unreachable" */

/* A peer record. Fields are read freely; change them only through this module's functions
 * (the id and node id are hash keys), except the core-owned bookkeeping at the bottom. */
typedef struct swarm_peer {
    char id[SWARM_PEER_ID_MAX];
    char host[SWARM_HOST_MAX];
    uint16_t port;
    char node_type[SWARM_TYPE_MAX];  /* "" until known */
    char node_id[SWARM_NODE_ID_MAX]; /* "" until known */
    swarm_peer_source source;
    swarm_peer_status status;
    uint64_t added_at;  /* wall-clock ms */
    uint64_t last_seen; /* wall-clock ms of the last message or reply from it; 0 = never */

    /* bookkeeping owned by the node core */
    uint64_t last_seen_mono;  /* monotonic ms, for pruning */
    uint64_t next_contact;    /* monotonic ms of the next handshake attempt */
    uint32_t backoff_ms;      /* current retry backoff */
    unsigned failures;        /* consecutive failed contacts */
    bool handshaken;          /* we have its id and type from the peer itself */
    bool ping_outstanding;    /* a PING went out and nothing has come back since */
    bool hello_outstanding;   /* a hello went out and no answer or outcome has come back */
    uint64_t last_contact;    /* monotonic ms it last sent us its PEER_LIST (it keeps us as a peer) */
    bool names_us_bootstrap;  /* we are in its bootstrap list: the link the mesh is built on */
    bool speaks_swarm;        /* it sends swarm's PEER_LIST (periodic PEX to every peer) */
    bool neuroswarm;          /* it speaks NeuroSwarm's dialect: no swarm fields in its hello or reply */
    int keepers;              /* how many peers keep it, as it last said; -1 unknown */
    uint64_t added_mono;      /* monotonic ms it entered the table */
    uint64_t window_start;    /* spam: start of the current rate window */
    unsigned window_count;    /*       messages in it */
    uint64_t recent_ids[32];  /*       hashes of the last ids it sent, to spot replays */
    unsigned recent_pos;

    UT_hash_handle hh;      /* by id */
    UT_hash_handle hh_node; /* by node_id, when known */
} swarm_peer;

typedef struct swarm_peer_table swarm_peer_table;

/* capacity: most peers held (MAX_PEERS). Returns NULL on allocation failure. */
swarm_peer_table *swarm_peer_table_new(unsigned capacity);
void swarm_peer_table_free(swarm_peer_table *t);

/* Writes "host:port" ("[v6]:port" for IPv6 literals) into out. */
void swarm_peer_make_id(const char *host, uint16_t port, char out[SWARM_PEER_ID_MAX]);

enum {
    SWARM_PEER_ADDED = 0,
    SWARM_PEER_EXISTS = 1,
    SWARM_PEER_FULL = -1,
    SWARM_PEER_INVALID = -2,
};
/* Adds a peer. node_type may be "" or NULL. On ADDED or EXISTS, *out (if non-NULL) points at the
 * record, owned by the table. A full table refuses new peers: the ones already held are kept. */
int swarm_peer_table_add(swarm_peer_table *t, const char *host, uint16_t port, const char *node_type,
                         swarm_peer_source source, uint64_t now_wall, swarm_peer **out);
swarm_peer *swarm_peer_table_find(const swarm_peer_table *t, const char *id);
swarm_peer *swarm_peer_table_find_node(const swarm_peer_table *t, const char *node_id);
/* Sets (or clears with "") a peer's node id and keeps the index right. Returns -1 if another
 * record already holds that node id (the caller decides which to keep). */
int swarm_peer_table_set_node_id(swarm_peer_table *t, swarm_peer *p, const char *node_id);
/* Removes and frees the record. Returns 0, or -1 if no such id. */
int swarm_peer_table_remove(swarm_peer_table *t, const char *id);

unsigned swarm_peer_table_count(const swarm_peer_table *t);
unsigned swarm_peer_table_capacity(const swarm_peer_table *t);
unsigned swarm_peer_table_count_type(const swarm_peer_table *t, const char *node_type);
/* Insertion-ordered iteration: for (p = first(t); p; p = next(p)). Save next before removing. */
swarm_peer *swarm_peer_table_first(const swarm_peer_table *t);
swarm_peer *swarm_peer_table_next(const swarm_peer *p);

#endif
