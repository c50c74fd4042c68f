#include "sim.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_BASE_PORT 20000

typedef struct sim_msg {
    struct sim_msg *next;
    size_t from, to;
    char *json;
    size_t len;
} sim_msg;

typedef struct sim_ctx {
    sim *s;
    size_t index;
} sim_ctx;

struct sim {
    size_t n;
    swarm_node **nodes;
    sim_ctx *ctx;
    swarm_time now;
    sim_msg *head, *tail;
    uint64_t delivered;
    uint64_t rng;
};

static uint64_t rnd(sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static void sim_send(void *ctx, const swarm_peer *peer, swarm_msg_type type, const char *json, size_t len)
{
    (void)type;
    sim_ctx *c = ctx;
    sim *s = c->s;
    if (peer->port < SIM_BASE_PORT || peer->port >= SIM_BASE_PORT + s->n)
        return; /* no such node: a send into the void */
    sim_msg *m = malloc(sizeof *m);
    m->next = NULL;
    m->from = c->index;
    m->to = peer->port - SIM_BASE_PORT;
    m->json = malloc(len + 1);
    memcpy(m->json, json, len);
    m->json[len] = 0;
    m->len = len;
    if (s->tail)
        s->tail->next = m;
    else
        s->head = m;
    s->tail = m;
}

sim *sim_new(const sim_options *opt)
{
    swarm_log_set_level(SWARM_LOG_ERROR); /* thousands of nodes share one stderr */
    sim *s = calloc(1, sizeof *s);
    s->n = opt->nodes;
    s->nodes = calloc(s->n, sizeof *s->nodes);
    s->ctx = calloc(s->n, sizeof *s->ctx);
    s->rng = opt->seed ? opt->seed : 88172645463325252ull;
    s->now.mono = 1000;
    s->now.wall = 1795400000000ull;
    for (size_t i = 0; i < s->n; i++) {
        swarm_config cfg;
        swarm_config_defaults(&cfg, i % 3 == 0 ? "NS" : i % 3 == 1 ? "Gateway" : "VP",
                              (uint16_t)(SIM_BASE_PORT + i));
        cfg.max_peers = opt->max_peers;
        cfg.pex_interval_ms = opt->pex_interval_ms;
        cfg.ping_interval_ms = opt->ping_interval_ms;
        cfg.spam_max_messages = 1000000; /* the simulator's bursts are not spam */
        if (opt->max_hops)
            cfg.max_hops = opt->max_hops;
        if (i > 0) {
            size_t to = opt->bootstrap == SIM_LINE ? i - 1 : (size_t)(rnd(s) % i);
            snprintf(cfg.bootstrap[0].host, sizeof cfg.bootstrap[0].host, "127.0.0.1");
            cfg.bootstrap[0].port = (uint16_t)(SIM_BASE_PORT + to);
            cfg.n_bootstrap = 1;
        }
        char id[32];
        snprintf(id, sizeof id, "sim-%zu", i);
        s->ctx[i] = (sim_ctx){s, i};
        swarm_node_io io = {.ctx = &s->ctx[i], .send = sim_send};
        s->nodes[i] = swarm_node_new(&cfg, id, &io, s->now);
        if (i > 0)
            swarm_node_add_peer(s->nodes[i], "127.0.0.1", cfg.bootstrap[0].port, NULL,
                                SWARM_SOURCE_BOOTSTRAP, s->now, NULL);
    }
    return s;
}

void sim_free(sim *s)
{
    for (sim_msg *m = s->head, *n; m; m = n) {
        n = m->next;
        free(m->json);
        free(m);
    }
    for (size_t i = 0; i < s->n; i++)
        swarm_node_free(s->nodes[i]);
    free(s->nodes);
    free(s->ctx);
    free(s);
}

static void deliver_all(sim *s)
{
    while (s->head) {
        sim_msg *m = s->head;
        s->head = m->next;
        if (!s->head)
            s->tail = NULL;
        swarm_envelope env;
        char err[160];
        char sender_id[32];
        snprintf(sender_id, sizeof sender_id, "sim-%zu", m->from);
        swarm_from from = {.host = "127.0.0.1", .port = (uint16_t)(SIM_BASE_PORT + m->from),
                           .node_id = sender_id, .via_link = true};
        if (swarm_envelope_decode(m->json, m->len, &env, err, sizeof err) == 0) {
            swarm_msg_result res;
            swarm_node_on_message(s->nodes[m->to], &from, &env, s->now, &res);
            swarm_envelope_clear(&env);
            s->delivered++;
        }
        free(m->json);
        free(m);
    }
}

void sim_step(sim *s, unsigned step_ms)
{
    s->now.mono += step_ms;
    s->now.wall += step_ms;
    for (size_t i = 0; i < s->n; i++)
        swarm_node_tick(s->nodes[i], s->now);
    deliver_all(s);
}

swarm_node *sim_node(sim *s, size_t i) { return s->nodes[i]; }
size_t sim_size(const sim *s) { return s->n; }
uint64_t sim_messages(const sim *s) { return s->delivered; }

size_t sim_nodes_with_full_view(sim *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        unsigned want = swarm_node_config(s->nodes[i])->max_peers;
        if (want > s->n - 1)
            want = (unsigned)(s->n - 1);
        k += swarm_peer_table_count(swarm_node_peers(s->nodes[i])) >= want;
    }
    return k;
}

size_t sim_reachable_from(sim *s, size_t start)
{
    char *seen = calloc(s->n, 1);
    size_t *stack = malloc(s->n * sizeof *stack), top = 0, count = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top) {
        size_t i = stack[--top];
        count++;
        for (swarm_peer *p = swarm_peer_table_first(swarm_node_peers(s->nodes[i])); p; p = swarm_peer_table_next(p)) {
            size_t j = (size_t)p->port - SIM_BASE_PORT;
            if (j < s->n && !seen[j]) {
                seen[j] = 1;
                stack[top++] = j;
            }
        }
    }
    free(seen);
    free(stack);
    return count;
}
