#include "swarm/reputation.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "swarm/log.h"

typedef struct rep_record {
    double score;
    uint64_t updated;      /* monotonic ms the decay was last applied */
    uint64_t banned_until; /* 0 = not banned */
    UT_hash_handle hh;
    char key[];
} rep_record;

struct swarm_reputation {
    swarm_reputation_config cfg;
    rep_record *records;
};

static const char *const event_names[SWARM_REP_EVENT_COUNT] = {
    "messageSuccess", "messageFailure", "invalidMessage", "spamDetected", "peerExchange", "healthCheck",
};

const char *swarm_rep_event_name(swarm_rep_event e)
{
    return (unsigned)e < SWARM_REP_EVENT_COUNT ? event_names[e] : "?";
}

void swarm_reputation_config_defaults(swarm_reputation_config *cfg)
{
    static const double weights[SWARM_REP_EVENT_COUNT] = {1, -2, -5, -10, 2, 1};
    memset(cfg, 0, sizeof *cfg);
    memcpy(cfg->weights, weights, sizeof weights);
    cfg->initial = SWARM_REP_DEFAULT_INITIAL;
    cfg->ban_threshold = SWARM_REP_DEFAULT_BAN_THRESHOLD;
    cfg->decay_per_hour = SWARM_REP_DEFAULT_DECAY_PER_HOUR;
    cfg->ban_ms = SWARM_REP_DEFAULT_BAN_MS;
    cfg->unban_score = SWARM_REP_DEFAULT_UNBAN_SCORE;
    cfg->max_records = SWARM_REP_MAX_RECORDS;
}

swarm_reputation *swarm_reputation_new(const swarm_reputation_config *cfg)
{
    swarm_reputation *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (cfg)
        r->cfg = *cfg;
    else
        swarm_reputation_config_defaults(&r->cfg);
    if (!r->cfg.max_records)
        r->cfg.max_records = SWARM_REP_MAX_RECORDS;
    return r;
}

void swarm_reputation_free(swarm_reputation *r)
{
    if (!r)
        return;
    rep_record *e, *tmp;
    HASH_ITER(hh, r->records, e, tmp) {
        HASH_DEL(r->records, e);
        free(e);
    }
    free(r);
}

static double clamp(double s) { return s < 0 ? 0 : s > 100 ? 100 : s; }

/* Moves the score toward neutral for the time since the last update, and lifts an expired ban. */
static void refresh(swarm_reputation *r, rep_record *e, uint64_t now)
{
    if (e->banned_until && now >= e->banned_until) {
        e->banned_until = 0;
        e->score = r->cfg.unban_score;
        e->updated = now;
        SWARM_INFO("[Reputation] %s | ban expired | Score: %.1f", e->key, e->score);
        return;
    }
    if (now <= e->updated)
        return;
    double step = r->cfg.decay_per_hour * (double)(now - e->updated) / 3600000.0;
    if (e->score > r->cfg.initial)
        e->score = e->score - step < r->cfg.initial ? r->cfg.initial : e->score - step;
    else if (e->score < r->cfg.initial && !e->banned_until)
        e->score = e->score + step > r->cfg.initial ? r->cfg.initial : e->score + step;
    e->updated = now;
}

static rep_record *find(swarm_reputation *r, const char *key)
{
    rep_record *e = NULL;
    HASH_FIND_STR(r->records, key, e);
    return e;
}

static rep_record *find_or_create(swarm_reputation *r, const char *key, uint64_t now)
{
    rep_record *e = find(r, key);
    if (e)
        return e;
    if (HASH_COUNT(r->records) >= r->cfg.max_records) {
        /* Oldest first (insertion order), sparing bans; when every record is a ban, the oldest ban
         * goes too: the bound holds whatever a flood of made-up senders does. */
        rep_record *victim = r->records;
        for (rep_record *old = r->records; old; old = old->hh.next) {
            if (!old->banned_until) {
                victim = old;
                break;
            }
        }
        if (victim) {
            HASH_DEL(r->records, victim);
            free(victim);
        }
    }
    size_t len = strlen(key);
    e = calloc(1, sizeof *e + len + 1);
    if (!e)
        return NULL;
    memcpy(e->key, key, len + 1);
    e->score = r->cfg.initial;
    e->updated = now;
    HASH_ADD(hh, r->records, key[0], len, e);
    return e;
}

double swarm_reputation_score(swarm_reputation *r, const char *key, uint64_t now)
{
    rep_record *e = find(r, key);
    if (!e)
        return r->cfg.initial;
    refresh(r, e, now);
    return e->score;
}

bool swarm_reputation_record(swarm_reputation *r, const char *key, swarm_rep_event ev, uint64_t now,
                             double *before, double *after)
{
    if ((unsigned)ev >= SWARM_REP_EVENT_COUNT)
        return false;
    rep_record *e = find_or_create(r, key, now);
    if (!e)
        return false;
    refresh(r, e, now);
    double old = e->score;
    e->score = clamp(e->score + r->cfg.weights[ev]);
    if (before)
        *before = old;
    if (after)
        *after = e->score;
    double w = r->cfg.weights[ev];
    SWARM_DEBUG("[Reputation] %s | %s (%+g) | Score: %.1f -> %.1f", key, event_names[ev], w, old, e->score);
    if (!e->banned_until && e->score < r->cfg.ban_threshold) {
        e->banned_until = now + r->cfg.ban_ms;
        SWARM_WARN("[Reputation] %s | banned for %llu s (score %.2f < %.0f)", key,
                   (unsigned long long)(r->cfg.ban_ms / 1000), e->score, r->cfg.ban_threshold);
        return true;
    }
    return false;
}

void swarm_reputation_ban(swarm_reputation *r, const char *key, uint64_t now)
{
    rep_record *e = find_or_create(r, key, now);
    if (!e)
        return;
    refresh(r, e, now);
    if (e->score >= r->cfg.ban_threshold)
        e->score = r->cfg.ban_threshold > 1 ? r->cfg.ban_threshold - 1 : 0;
    e->banned_until = now + r->cfg.ban_ms;
}

bool swarm_reputation_is_banned(swarm_reputation *r, const char *key, uint64_t now)
{
    return swarm_reputation_banned_until(r, key, now) != 0;
}

uint64_t swarm_reputation_banned_until(swarm_reputation *r, const char *key, uint64_t now)
{
    if (!key || !*key)
        return 0;
    rep_record *e = find(r, key);
    if (!e)
        return 0;
    refresh(r, e, now);
    return e->banned_until;
}

void swarm_reputation_stats_get(swarm_reputation *r, uint64_t now, swarm_reputation_stats *out)
{
    memset(out, 0, sizeof *out);
    double sum = 0;
    for (rep_record *e = r->records; e; e = e->hh.next) {
        refresh(r, e, now);
        if (out->count == 0 || e->score < out->min)
            out->min = e->score;
        if (out->count == 0 || e->score > out->max)
            out->max = e->score;
        sum += e->score;
        out->count++;
        out->banned += e->banned_until != 0;
        int b = (int)(e->score / 20);
        out->buckets[b > 4 ? 4 : b]++;
    }
    out->average = out->count ? sum / (double)out->count : 0;
}

void swarm_reputation_each_ban(swarm_reputation *r, uint64_t now,
                               void (*fn)(void *ctx, const char *key, uint64_t until, double score),
                               void *ctx)
{
    for (rep_record *e = r->records; e; e = e->hh.next) {
        refresh(r, e, now);
        if (e->banned_until)
            fn(ctx, e->key, e->banned_until, e->score);
    }
}
