/* Peer reputation: a 0-100 score per key (a peer id "host:port", or a node id), moved by weighted
 * events, decaying toward neutral over time, with automatic bans below a threshold. Pure: the
 * caller passes the time. */
#ifndef SWARM_REPUTATION_H
#define SWARM_REPUTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SWARM_REP_MESSAGE_SUCCESS = 0, /* a valid message delivered */
    SWARM_REP_MESSAGE_FAILURE,     /* a send to the peer failed */
    SWARM_REP_INVALID_MESSAGE,     /* malformed or unknown message */
    SWARM_REP_SPAM_DETECTED,       /* see docs/protocol.md, "Spam" */
    SWARM_REP_PEER_EXCHANGE,       /* a valid PEER_LIST */
    SWARM_REP_HEALTH_CHECK,        /* answered a PING */
    SWARM_REP_EVENT_COUNT
} swarm_rep_event;

const char *swarm_rep_event_name(swarm_rep_event e); /* "messageSuccess", ... */

/* NeuroSwarm's numbers are the defaults. */
#define SWARM_REP_DEFAULT_INITIAL 50.0
#define SWARM_REP_DEFAULT_BAN_THRESHOLD 20.0
#define SWARM_REP_DEFAULT_DECAY_PER_HOUR 0.1
#define SWARM_REP_DEFAULT_BAN_MS (60ull * 60 * 1000)
#define SWARM_REP_DEFAULT_UNBAN_SCORE 30.0
#define SWARM_REP_MAX_RECORDS 4096

typedef struct swarm_reputation_config {
    double weights[SWARM_REP_EVENT_COUNT]; /* +1, -2, -5, -10, +2, +1 */
    double initial;                        /* 50: where every peer starts, and decays toward */
    double ban_threshold;                  /* a score below this bans */
    double decay_per_hour;                 /* points per hour toward `initial` */
    uint64_t ban_ms;                       /* how long a ban lasts */
    double unban_score;                    /* the score a peer comes back with after a ban */
    size_t max_records;                    /* records kept; the oldest unbanned go first */
} swarm_reputation_config;

void swarm_reputation_config_defaults(swarm_reputation_config *cfg);

typedef struct swarm_reputation swarm_reputation;

swarm_reputation *swarm_reputation_new(const swarm_reputation_config *cfg);
void swarm_reputation_free(swarm_reputation *r);

/* The current score (decay applied); `initial` for an unknown key. */
double swarm_reputation_score(swarm_reputation *r, const char *key, uint64_t now);
/* Applies an event. Returns true if it made the key banned just now. before/after may be NULL. */
bool swarm_reputation_record(swarm_reputation *r, const char *key, swarm_rep_event ev, uint64_t now,
                             double *before, double *after);
/* Bans key until now + ban_ms whatever its score (used to ban a node id along with its address). */
void swarm_reputation_ban(swarm_reputation *r, const char *key, uint64_t now);
/* True while banned; a ban that has expired is lifted here (score set to unban_score). */
bool swarm_reputation_is_banned(swarm_reputation *r, const char *key, uint64_t now);
/* Monotonic ms the ban ends, or 0. */
uint64_t swarm_reputation_banned_until(swarm_reputation *r, const char *key, uint64_t now);

typedef struct swarm_reputation_stats {
    size_t count;
    double average, min, max;
    size_t banned;
    size_t buckets[5]; /* scores 0-19, 20-39, 40-59, 60-79, 80-100 */
} swarm_reputation_stats;
void swarm_reputation_stats_get(swarm_reputation *r, uint64_t now, swarm_reputation_stats *out);

/* Visits every banned key with its ban end (monotonic ms) and score. */
void swarm_reputation_each_ban(swarm_reputation *r, uint64_t now,
                               void (*fn)(void *ctx, const char *key, uint64_t until, double score),
                               void *ctx);

#endif
