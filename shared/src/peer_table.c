#include "swarm/peer_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct swarm_peer_table {
    swarm_peer *by_id;
    swarm_peer *by_node;
    unsigned capacity;
};

static const char *const source_names[] = {"bootstrap", "pex", "manual"};
static const char *const status_names[] = {"pending", "active", "unreachable"};

const char *swarm_peer_source_name(swarm_peer_source s)
{
    return (unsigned)s < 3 ? source_names[s] : "?";
}

int swarm_peer_source_parse(const char *s, swarm_peer_source *out)
{
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(s, source_names[i]) == 0)
            return (*out = (swarm_peer_source)i), 0;
    return -1;
}

const char *swarm_peer_status_name(swarm_peer_status s)
{
    return (unsigned)s < 3 ? status_names[s] : "?";
}

swarm_peer_table *swarm_peer_table_new(unsigned capacity)
{
    swarm_peer_table *t = calloc(1, sizeof *t);
    if (t)
        t->capacity = capacity;
    return t;
}

void swarm_peer_table_free(swarm_peer_table *t)
{
    if (!t)
        return;
    swarm_peer *p, *tmp;
    HASH_CLEAR(hh_node, t->by_node);
    HASH_ITER(hh, t->by_id, p, tmp) {
        HASH_DELETE(hh, t->by_id, p);
        free(p);
    }
    free(t);
}

void swarm_peer_make_id(const char *host, uint16_t port, char out[SWARM_PEER_ID_MAX])
{
    if (strchr(host, ':'))
        snprintf(out, SWARM_PEER_ID_MAX, "[%s]:%u", host, port);
    else
        snprintf(out, SWARM_PEER_ID_MAX, "%s:%u", host, port);
}

swarm_peer *swarm_peer_table_find(const swarm_peer_table *t, const char *id)
{
    swarm_peer *p = NULL;
    HASH_FIND(hh, t->by_id, id, strlen(id), p);
    return p;
}

swarm_peer *swarm_peer_table_find_node(const swarm_peer_table *t, const char *node_id)
{
    swarm_peer *p = NULL;
    if (node_id && *node_id)
        HASH_FIND(hh_node, t->by_node, node_id, strlen(node_id), p);
    return p;
}

int swarm_peer_table_add(swarm_peer_table *t, const char *host, uint16_t port, const char *node_type,
                         swarm_peer_source source, uint64_t now_wall, swarm_peer **out)
{
    if (!swarm_valid_host(host) || port == 0 || (node_type && *node_type && !swarm_valid_type(node_type)))
        return SWARM_PEER_INVALID;
    char id[SWARM_PEER_ID_MAX];
    swarm_peer_make_id(host, port, id);
    swarm_peer *p = swarm_peer_table_find(t, id);
    if (p) {
        if (out)
            *out = p;
        return SWARM_PEER_EXISTS;
    }
    if (HASH_CNT(hh, t->by_id) >= t->capacity)
        return SWARM_PEER_FULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return SWARM_PEER_INVALID;
    memcpy(p->id, id, sizeof id);
    snprintf(p->host, sizeof p->host, "%s", host);
    p->port = port;
    if (node_type)
        snprintf(p->node_type, sizeof p->node_type, "%s", node_type);
    p->source = source;
    p->status = SWARM_PEER_PENDING;
    p->added_at = now_wall;
    HASH_ADD_KEYPTR(hh, t->by_id, p->id, strlen(p->id), p);
    if (out)
        *out = p;
    return SWARM_PEER_ADDED;
}

int swarm_peer_table_set_node_id(swarm_peer_table *t, swarm_peer *p, const char *node_id)
{
    if (strcmp(p->node_id, node_id) == 0)
        return 0;
    if (*node_id && !swarm_valid_node_id(node_id))
        return -1; /* also rules out ids that would be cut short and collide */
    swarm_peer *holder = swarm_peer_table_find_node(t, node_id);
    if (holder && holder != p)
        return -1;
    if (p->node_id[0])
        HASH_DELETE(hh_node, t->by_node, p);
    snprintf(p->node_id, sizeof p->node_id, "%s", node_id);
    if (p->node_id[0])
        HASH_ADD_KEYPTR(hh_node, t->by_node, p->node_id, strlen(p->node_id), p);
    return 0;
}

int swarm_peer_table_remove(swarm_peer_table *t, const char *id)
{
    swarm_peer *p = swarm_peer_table_find(t, id);
    if (!p)
        return -1;
    if (p->node_id[0])
        HASH_DELETE(hh_node, t->by_node, p);
    HASH_DELETE(hh, t->by_id, p);
    free(p);
    return 0;
}

unsigned swarm_peer_table_count(const swarm_peer_table *t) { return HASH_CNT(hh, t->by_id); }

unsigned swarm_peer_table_capacity(const swarm_peer_table *t) { return t->capacity; }

unsigned swarm_peer_table_count_type(const swarm_peer_table *t, const char *node_type)
{
    unsigned n = 0;
    for (swarm_peer *p = t->by_id; p; p = p->hh.next)
        if (strcmp(p->node_type, node_type) == 0)
            n++;
    return n;
}

swarm_peer *swarm_peer_table_first(const swarm_peer_table *t) { return t->by_id; }

swarm_peer *swarm_peer_table_next(const swarm_peer *p) { return p->hh.next; }
