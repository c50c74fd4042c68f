/* Node configuration: environment variables first, command-line flags of the same meaning override
 * them. Every bad value is reported by name with the offending token. */
#ifndef SWARM_CONFIG_H
#define SWARM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swarm/log.h"
#include "swarm/reputation.h"

#define SWARM_HOST_MAX 256     /* including the NUL */
#define SWARM_TYPE_MAX 33      /* node type token, 1..32 chars */
#define SWARM_NODE_ID_MAX 65   /* node id token, 1..64 chars */
#define SWARM_PATH_MAX 1024

/* Defaults from the NeuroSwarm P2P design; each can be changed through configuration. */
#define SWARM_DEFAULT_MAX_PEERS 8
#define SWARM_DEFAULT_MAX_BODY (1024 * 1024)
#define SWARM_MAX_BOOTSTRAP 256
#define SWARM_DEFAULT_PEX_INTERVAL_MS 30000
#define SWARM_DEFAULT_PING_INTERVAL_MS 30000
#define SWARM_DEFAULT_MAX_FAILURES 5
#define SWARM_DEFAULT_INACTIVE_MS (60ull * 60 * 1000)
#define SWARM_DEFAULT_SEEN_CACHE_SIZE 1000
#define SWARM_DEFAULT_SEEN_TTL_MS (5ull * 60 * 1000)
#define SWARM_DEFAULT_MAX_HOPS 10
#define SWARM_DEFAULT_SPAM_WINDOW_MS 10000
#define SWARM_DEFAULT_SPAM_MAX_MESSAGES 500
#define SWARM_DEFAULT_SEND_QUEUE_MAX 256

typedef struct swarm_bootstrap_entry {
    char host[SWARM_HOST_MAX];
    uint16_t port;
    char node_type[SWARM_TYPE_MAX]; /* "" when the entry was plain host:port: learned from the peer */
} swarm_bootstrap_entry;

typedef struct swarm_config {
    char node_type[SWARM_TYPE_MAX];
    uint16_t port;
    char bind_host[SWARM_HOST_MAX];  /* "" = all interfaces */
    char advertise_host[SWARM_HOST_MAX]; /* how peers reach us; "" = let them use our source address */
    swarm_bootstrap_entry bootstrap[SWARM_MAX_BOOTSTRAP];
    size_t n_bootstrap;
    unsigned max_peers;
    char node_id[SWARM_NODE_ID_MAX]; /* "" = derived and kept in data_dir */
    char data_dir[SWARM_PATH_MAX];
    swarm_log_level log_level;
    bool tls;
    size_t max_body;

    /* protocol timing and limits */
    uint64_t pex_interval_ms;     /* PEER_LIST to every peer this often */
    uint64_t ping_interval_ms;    /* PING every peer this often */
    unsigned max_failures;        /* consecutive failures before a peer is removed */
    uint64_t inactive_ms;         /* a peer silent this long is pruned */
    size_t seen_cache_size;       /* message ids remembered for dedup */
    uint64_t seen_ttl_ms;         /* ... and for how long */
    unsigned max_hops;            /* a message at this many hops is not relayed further */
    uint64_t spam_window_ms;      /* spam rate window */
    unsigned spam_max_messages;   /* messages one peer may send per window */
    unsigned send_queue_max;      /* messages queued per peer before it is dropped */
    swarm_reputation_config reputation;
} swarm_config;

/* Fills cfg with the defaults of a node type (default data dir: ./data/<type lowercase>-<port>). */
void swarm_config_defaults(swarm_config *cfg, const char *node_type, uint16_t default_port);

enum { SWARM_CONFIG_OK = 0, SWARM_CONFIG_HELP = 1, SWARM_CONFIG_ERROR = -1 };

/* Applies envp ("NAME=value" strings, NULL-terminated; may be NULL) and then argv flags
 * (--port 3009, --port=3009, ...). Returns SWARM_CONFIG_OK, SWARM_CONFIG_HELP when --help was
 * asked for (usage written to `help_out` if non-NULL), or SWARM_CONFIG_ERROR with one line in err
 * naming the setting and the bad token. */
int swarm_config_load(swarm_config *cfg, char **envp, int argc, char **argv, char *err, size_t errlen,
                      void *help_out /* FILE *, or NULL */);

/* BOOTSTRAP_PEERS: "host:port[:type],...". IPv6 hosts in brackets: "[::1]:3009:NS". An empty
 * string is an empty list. Returns 0, or -1 with err naming the bad token. */
int swarm_bootstrap_parse(const char *text, swarm_bootstrap_entry *out, size_t max, size_t *n,
                          char *err, size_t errlen);

/* Validators shared with the REST API and the wire codec. */
bool swarm_valid_type(const char *s);    /* [A-Za-z0-9_.-]{1,32} */
bool swarm_valid_node_id(const char *s); /* [A-Za-z0-9_.:-]{1,64} */
bool swarm_valid_host(const char *s);    /* hostname, IPv4, or bare IPv6 literal; 1..255 chars */
/* A node type in lower case, for file and id names ("Gateway" -> "gateway"). */
void swarm_type_lower(const char *type, char out[SWARM_TYPE_MAX]);
/* Strict decimal port 1..65535. Returns 0 or -1. */
int swarm_parse_port(const char *s, uint16_t *out);

#endif
