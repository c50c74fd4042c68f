/* Bounded dedup cache of message ids: at most `capacity` entries, each forgotten `ttl_ms` after
 * it was first seen. Insert and lookup are O(1); memory never grows past the bound. */
#ifndef SWARM_SEEN_CACHE_H
#define SWARM_SEEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct swarm_seen_cache swarm_seen_cache;

/* capacity >= 1. Returns NULL on allocation failure. */
swarm_seen_cache *swarm_seen_cache_new(size_t capacity, uint64_t ttl_ms);
void swarm_seen_cache_free(swarm_seen_cache *c);

/* Records id as seen at now (monotonic ms). Returns true if it was new, false if already seen
 * (and not yet expired). When full, the oldest entry makes room. */
bool swarm_seen_cache_insert(swarm_seen_cache *c, const char *id, uint64_t now);
bool swarm_seen_cache_contains(swarm_seen_cache *c, const char *id, uint64_t now);
/* Drops entries older than the ttl. Returns how many were dropped. */
size_t swarm_seen_cache_expire(swarm_seen_cache *c, uint64_t now);
size_t swarm_seen_cache_count(const swarm_seen_cache *c);

#endif
