#include "swarm/seen_cache.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct seen_entry {
    uint64_t at;
    UT_hash_handle hh;
    char id[]; /* flexible: ids are short, and one allocation per entry keeps it simple */
} seen_entry;

/* uthash keeps insertion order, so the head of the hash is always the oldest entry: eviction
 * and expiry look only at the head, which makes both O(1) per entry dropped. */
struct swarm_seen_cache {
    seen_entry *entries;
    size_t capacity;
    uint64_t ttl_ms;
};

swarm_seen_cache *swarm_seen_cache_new(size_t capacity, uint64_t ttl_ms)
{
    if (capacity == 0)
        return NULL;
    swarm_seen_cache *c = calloc(1, sizeof *c);
    if (c) {
        c->capacity = capacity;
        c->ttl_ms = ttl_ms;
    }
    return c;
}

static void drop(swarm_seen_cache *c, seen_entry *e)
{
    HASH_DEL(c->entries, e);
    free(e);
}

void swarm_seen_cache_free(swarm_seen_cache *c)
{
    if (!c)
        return;
    seen_entry *e, *tmp;
    HASH_ITER(hh, c->entries, e, tmp) drop(c, e);
    free(c);
}

size_t swarm_seen_cache_expire(swarm_seen_cache *c, uint64_t now)
{
    size_t n = 0;
    while (c->entries && now - c->entries->at >= c->ttl_ms) {
        drop(c, c->entries);
        n++;
    }
    return n;
}

bool swarm_seen_cache_contains(swarm_seen_cache *c, const char *id, uint64_t now)
{
    swarm_seen_cache_expire(c, now);
    seen_entry *e = NULL;
    HASH_FIND_STR(c->entries, id, e);
    return e != NULL;
}

bool swarm_seen_cache_insert(swarm_seen_cache *c, const char *id, uint64_t now)
{
    if (swarm_seen_cache_contains(c, id, now))
        return false;
    if (HASH_COUNT(c->entries) >= c->capacity)
        drop(c, c->entries);
    size_t len = strlen(id);
    seen_entry *e = malloc(sizeof *e + len + 1);
    if (!e)
        return true; /* cannot remember it: treat as new rather than lose the message */
    e->at = now;
    memcpy(e->id, id, len + 1);
    HASH_ADD(hh, c->entries, id[0], len, e);
    return true;
}

size_t swarm_seen_cache_count(const swarm_seen_cache *c) { return HASH_COUNT(c->entries); }
