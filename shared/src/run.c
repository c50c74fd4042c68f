#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "swarm/config.h"
#include "swarm/log.h"
#include "swarm/node.h"
#include "swarm/store.h"
#include "swarm/swarm.h"
#include "swarm/transport.h"

extern char **environ;

/* peers.json is rewritten at most this often, so a burst of table changes costs one write. */
#define SAVE_INTERVAL_MS 500

typedef struct runner {
    swarm_node *node;
    const swarm_config *cfg;
    uint64_t last_save;
} runner;

static volatile sig_atomic_t stop_flag;
static swarm_transport *signal_transport;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
    swarm_transport_wake(signal_transport);
}

static void save_peers(runner *r)
{
    char err[256];
    if (swarm_store_save_peers(r->cfg->data_dir, r->node, err, sizeof err) != 0)
        SWARM_WARN("[PeerManager] %s", err);
}

static uint64_t run_tick(void *ctx, swarm_time now)
{
    runner *r = ctx;
    uint64_t next = swarm_node_tick(r->node, now);
    if (now.mono - r->last_save >= SAVE_INTERVAL_MS && swarm_node_take_dirty(r->node)) {
        r->last_save = now.mono;
        save_peers(r);
    }
    uint64_t save_due = r->last_save + SAVE_INTERVAL_MS;
    return next < save_due ? next : save_due;
}

/* lws 4.1 takes an IP address or an interface name to listen on, and given anything else listens
 * nowhere without failing. A host name is resolved here; one that does not resolve is an error. */
static int resolve_bind_host(swarm_config *cfg, char *err, size_t errlen)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if (!cfg->bind_host[0] || inet_pton(AF_INET, cfg->bind_host, addr) == 1 ||
        inet_pton(AF_INET6, cfg->bind_host, addr) == 1 || if_nametoindex(cfg->bind_host) != 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(cfg->bind_host, NULL, &hints, &res) != 0 || !res) {
        snprintf(err, errlen, "BIND_HOST: '%s' is not an address, an interface or a resolvable name",
                 cfg->bind_host);
        return -1;
    }
    char numeric[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, numeric, sizeof numeric);
    freeaddrinfo(res);
    snprintf(cfg->bind_host, sizeof cfg->bind_host, "%s", numeric);
    return 0;
}

static void add_bootstrap(swarm_node *node, const swarm_config *cfg, swarm_time now)
{
    for (size_t i = 0; i < cfg->n_bootstrap; i++) {
        const swarm_bootstrap_entry *e = &cfg->bootstrap[i];
        swarm_peer *p = NULL;
        switch (swarm_node_add_peer(node, e->host, e->port, e->node_type, SWARM_SOURCE_BOOTSTRAP, now, &p)) {
        case SWARM_ADD_SELF:
            SWARM_INFO("[PeerManager] Skipping bootstrap peer %s:%u: it is this node", e->host, e->port);
            break;
        case SWARM_ADD_FULL:
            SWARM_WARN("[PeerManager] Skipping bootstrap peer %s:%u: MAX_PEERS=%u reached", e->host,
                       e->port, cfg->max_peers);
            break;
        case SWARM_ADD_EXISTS:
            p->source = SWARM_SOURCE_BOOTSTRAP; /* configured now: it is a bootstrap peer again */
            break;
        default:
            break;
        }
    }
}

int swarm_main(const swarm_node_type *type, int argc, char **argv)
{
    const char *prog = argc > 0 && argv[0] ? argv[0] : "swarm-node";
    const char *slash = strrchr(prog, '/');
    prog = slash ? slash + 1 : prog;
    if (!type || !swarm_valid_type(type->name) || !type->default_port) {
        fprintf(stderr, "%s: invalid node type descriptor\n", prog);
        return 2;
    }
    swarm_config cfg;
    char err[512];
    swarm_config_defaults(&cfg, type->name, type->default_port);
    switch (swarm_config_load(&cfg, environ, argc, argv, err, sizeof err, stdout)) {
    case SWARM_CONFIG_HELP:
        if (type->description)
            printf("\n%s\n", type->description);
        return 0;
    case SWARM_CONFIG_ERROR:
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    default:
        break;
    }
    if (cfg.tls) {
        fprintf(stderr, "%s: P2P_ENABLE_TLS: 'true' is not supported by this version yet; unset it or "
                        "set it to false\n", prog);
        return 2;
    }
    if (resolve_bind_host(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    swarm_log_set_level(cfg.log_level);
    if (swarm_store_ensure_dir(cfg.data_dir, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    char node_id[SWARM_NODE_ID_MAX];
    if (cfg.node_id[0])
        snprintf(node_id, sizeof node_id, "%s", cfg.node_id);
    else if (swarm_store_node_id(cfg.data_dir, cfg.node_type, node_id, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    swarm_transport *t = swarm_transport_new(&cfg, err, sizeof err);
    if (!t) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    swarm_time now = swarm_now();
    swarm_node_io io = swarm_transport_io(t);
    swarm_node *node = swarm_node_new(&cfg, node_id, &io, now);
    if (!node) {
        fprintf(stderr, "%s: out of memory\n", prog);
        swarm_transport_free(t);
        return 1;
    }
    if (type->on_deliver)
        swarm_node_set_deliver(node, type->on_deliver, type->user);

    int loaded = swarm_store_load_peers(cfg.data_dir, node, now, err, sizeof err);
    if (loaded < 0)
        SWARM_WARN("[PeerManager] %s", err);
    else if (loaded > 0)
        SWARM_INFO("[PeerManager] Loaded %d saved peers from %s/peers.json", loaded, cfg.data_dir);
    add_bootstrap(node, &cfg, now);

    runner r = {.node = node, .cfg = &cfg, .last_save = now.mono};
    swarm_transport_attach(t, node, run_tick, &r);
    signal_transport = t;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    SWARM_INFO("[P2P] %s node %s listening on port %u (MAX_PEERS=%u, data %s, %u peers known)",
               cfg.node_type, node_id, cfg.port, cfg.max_peers, cfg.data_dir,
               swarm_peer_table_count(swarm_node_peers(node)));
    int rc = swarm_transport_run(t, &stop_flag) == 0 ? 0 : 1;
    SWARM_INFO("[P2P] Stopping %s node %s", cfg.node_type, node_id);
    save_peers(&r);
    signal_transport = NULL;
    swarm_transport_free(t);
    swarm_node_free(node);
    return rc;
}
