/* The REST API as a pure function: a parsed request in, a status and a JSON body out. The
 * transport does the HTTP; this module does routing, validation and rendering. */
#ifndef SWARM_API_H
#define SWARM_API_H

#include <stddef.h>

#include "swarm/node.h"

typedef enum {
    SWARM_HTTP_GET = 0,
    SWARM_HTTP_POST,
    SWARM_HTTP_PUT,
    SWARM_HTTP_PATCH,
    SWARM_HTTP_DELETE,
    SWARM_HTTP_OPTIONS,
    SWARM_HTTP_HEAD,
    SWARM_HTTP_OTHER,
} swarm_http_method;

typedef struct swarm_http_request {
    swarm_http_method method;
    const char *path;        /* decoded path, without the query string */
    const char *type_filter; /* decoded value of ?type=, NULL if absent */
    const char *body;        /* may be NULL */
    size_t body_len;
    const char *remote_host; /* source address of the request */
    uint16_t sender_port;    /* a swarm peer's listening port from its request header, 0 if none */
    const char *sender_id;   /* a swarm peer's node id from its request header, NULL if none */
} swarm_http_request;

typedef struct swarm_http_response {
    int status;
    char *body; /* malloc'd JSON text; the caller frees */
    size_t body_len;
    const char *allow; /* for 405: the methods the path accepts */
} swarm_http_response;

void swarm_api_handle(swarm_node *node, const swarm_http_request *req, swarm_time now,
                      swarm_http_response *resp);

/* A JSON error reply {"error": message}, for errors the transport detects itself (413, ...). */
void swarm_api_error(swarm_http_response *resp, int status, const char *message);

#endif
