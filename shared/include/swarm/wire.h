/* The JSON codec: strict decoding of message envelopes and payloads, and encoding back.
 * The only module that knows wire field names; shapes are those of NeuroSwarm nodes (docs/protocol.md). */
#ifndef SWARM_WIRE_H
#define SWARM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swarm/config.h"

struct cJSON;

#define SWARM_MSG_ID_MAX 129  /* message id, 1..128 chars */
#define SWARM_JSON_DEPTH_MAX 32
#define SWARM_PEER_LIST_MAX 1000 /* entries accepted in one PEER_LIST */

typedef enum {
    SWARM_MSG_UNKNOWN = 0,
    SWARM_MSG_PEER_LIST,
    SWARM_MSG_NEW_BLOCK,
    SWARM_MSG_NEW_TX,
    SWARM_MSG_PING,
    SWARM_MSG_PONG,
} swarm_msg_type;

const char *swarm_msg_type_name(swarm_msg_type t); /* "PEER_LIST", ...; "UNKNOWN" */
swarm_msg_type swarm_msg_type_from_name(const char *name);

typedef struct swarm_envelope {
    char id[SWARM_MSG_ID_MAX];
    char type_name[SWARM_TYPE_MAX]; /* as received, so unknown types can be named in errors */
    swarm_msg_type type;
    char origin[SWARM_NODE_ID_MAX];
    int hops;
    struct cJSON *json;    /* the whole envelope object, owned; unknown fields (signatures) survive relay */
    struct cJSON *payload; /* borrowed from json: always an object */
} swarm_envelope;

/* Decodes one envelope from text. Returns 0, or -1 with a reason (e.g. "missing id"). On success
 * the caller owns env->json and frees it with swarm_envelope_clear. */
int swarm_envelope_decode(const char *text, size_t len, swarm_envelope *env, char *err, size_t errlen);
/* The same from an already parsed object; takes ownership of obj whatever the result. */
int swarm_envelope_from_json(struct cJSON *obj, swarm_envelope *env, char *err, size_t errlen);
void swarm_envelope_clear(swarm_envelope *env);

/* Builds a new envelope: id "<origin>-<wall ms>-<9 base-36 chars>", ISO timestamp, hops 0.
 * Takes ownership of payload (NULL = {}). rnd supplies the random suffix. */
int swarm_envelope_create(swarm_envelope *env, swarm_msg_type type, struct cJSON *payload,
                          const char *origin, uint64_t wall_ms, uint64_t rnd);
/* Serialises the envelope with its current hops. Returns a malloc'd string (caller frees) or NULL. */
char *swarm_envelope_encode(const swarm_envelope *env, size_t *len);
/* Sets hops on both the struct and the JSON. */
void swarm_envelope_set_hops(swarm_envelope *env, int hops);

/* Unwraps a /p2p/message body into the envelopes it carries, as JSON objects not yet validated:
 * a plain envelope; NeuroSwarm's compressed form {"compressed": true, "data": "<base64 gzip>"}
 * (inflated to at most max_inflated bytes); or a batch: a JSON array of envelopes, or
 * {"messages": [...]} / {"batch": [...]} (at most SWARM_BATCH_MAX). A compressed body may hold a
 * batch. Returns a cJSON array the caller frees, with *batched telling whether the body was a
 * batch; or NULL with err. */
#define SWARM_BATCH_MAX 100
struct cJSON *swarm_wire_unwrap(const char *body, size_t len, size_t max_inflated, bool *batched,
                                char *err, size_t errlen);

/* A peer as carried in PEER_LIST. */
typedef struct swarm_wire_peer {
    char host[SWARM_HOST_MAX];
    uint16_t port;
    char node_type[SWARM_TYPE_MAX]; /* "" if absent */
    char node_id[SWARM_NODE_ID_MAX]; /* "" if absent (NeuroSwarm nodes do not send it) */
} swarm_wire_peer;

typedef struct swarm_peer_list {
    swarm_wire_peer *peers; /* malloc'd, n entries */
    size_t n;
    char sender_type[SWARM_TYPE_MAX];   /* "" if absent */
    uint16_t sender_port;               /* 0 if absent */
    char sender_id[SWARM_NODE_ID_MAX];  /* "" if absent */
    char sender_host[SWARM_HOST_MAX];   /* "" if absent: the receiver uses the source address */
    bool hello;     /* swarm extension: the sender asks for our PEER_LIST in return */
    bool bootstrap; /* swarm extension: the receiver is in the sender's bootstrap list */
    int keepers;    /* swarm extension: how many peers keep the sender as a peer; -1 absent */
    int accepted; /* swarm extension, on a reply: 1 the sender keeps us as a peer, 0 it is full, -1 absent */
} swarm_peer_list;

/* Decodes a PEER_LIST payload strictly: any malformed entry rejects the whole list. */
int swarm_peer_list_decode(const struct cJSON *payload, swarm_peer_list *out, char *err, size_t errlen);
void swarm_peer_list_clear(swarm_peer_list *pl);

/* Builds a PEER_LIST payload from pl (the inverse of swarm_peer_list_decode). Empty strings, port 0,
 * false flags and accepted -1 are left out. Returns NULL on allocation failure. */
struct cJSON *swarm_peer_list_encode(const swarm_peer_list *pl);

/* A node's identity as sent in replies: {"nodeId","nodeType","port"}. */
typedef struct swarm_identity {
    char node_id[SWARM_NODE_ID_MAX];
    char node_type[SWARM_TYPE_MAX];
    uint16_t port;
    int accepted; /* 1 it keeps us as a peer, 0 its table is full, -1 not said */
} swarm_identity;
/* Finds result.node in a /p2p/message reply. Returns 0 if a valid identity was found, else -1
 * (a NeuroSwarm node's reply carries none). */
int swarm_reply_identity(const char *reply, size_t len, swarm_identity *out);

/* Depth of a JSON value (a scalar is 1). */
int swarm_json_depth(const struct cJSON *v);

/* ISO-8601 UTC with milliseconds, as NeuroSwarm writes it: "2026-11-23T10:00:00.000Z". */
void swarm_iso_time(uint64_t wall_ms, char out[32]);

#endif
