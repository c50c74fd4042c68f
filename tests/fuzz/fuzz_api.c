/* libFuzzer target: the REST API and the node core behind it, with a fake clock and no sockets.
 * The first byte picks the route and method; the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/api.h"
#include "swarm/log.h"

static swarm_node *node;
static uint64_t clock_ms = 1000;

static void sink(void *ctx, const swarm_peer *peer, swarm_msg_type type, const char *json, size_t len)
{
    (void)ctx, (void)peer, (void)type, (void)json, (void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!node) {
        swarm_log_set_level(SWARM_LOG_ERROR);
        swarm_config cfg;
        swarm_config_defaults(&cfg, "NS", 3009);
        cfg.max_peers = 16;
        swarm_node_io io = {.send = sink};
        node = swarm_node_new(&cfg, "ns-fuzz", &io, (swarm_time){clock_ms, clock_ms});
    }
    if (size == 0)
        return 0;
    static const struct {
        swarm_http_method m;
        const char *path;
    } routes[] = {
        {SWARM_HTTP_POST, "/p2p/message"}, {SWARM_HTTP_POST, "/peers/add"},
        {SWARM_HTTP_POST, "/p2p/broadcast"}, {SWARM_HTTP_GET, "/peers"},
        {SWARM_HTTP_DELETE, "/peers/127.0.0.1:4000"}, {SWARM_HTTP_GET, "/reputation"},
        {SWARM_HTTP_GET, "/p2p/messages"}, {SWARM_HTTP_PUT, "/health"},
    };
    unsigned pick = data[0] % (sizeof routes / sizeof *routes);
    clock_ms += data[0];
    swarm_time now = {clock_ms, clock_ms};
    char port[8];
    memcpy(port, "4000", 5);
    swarm_http_request req = {.method = routes[pick].m, .path = routes[pick].path,
                              .body = (const char *)data + 1, .body_len = size - 1,
                              .remote_host = "127.0.0.1", .sender_port = (uint16_t)(4000 + (data[0] & 3)),
                              .type_filter = (data[0] & 8) ? "NS" : NULL};
    (void)port;
    swarm_http_response resp;
    swarm_api_handle(node, &req, now, &resp);
    if (resp.status < 200 || resp.status > 499 || !resp.body)
        abort(); /* input never makes a 5xx or an empty answer */
    free(resp.body);
    swarm_node_tick(node, now);
    return 0;
}
