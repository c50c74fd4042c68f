#include "swarm/config.h"

#include "fail.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool all_chars(const char *s, const char *extra, size_t maxlen)
{
    size_t n = strlen(s);
    if (n == 0 || n > maxlen)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && !strchr(extra, c))
            return false;
    }
    return true;
}

bool swarm_valid_type(const char *s) { return s && all_chars(s, "_.-", SWARM_TYPE_MAX - 1); }

bool swarm_valid_node_id(const char *s) { return s && all_chars(s, "_.:-", SWARM_NODE_ID_MAX - 1); }

bool swarm_valid_host(const char *s)
{
    if (!s || !*s || strlen(s) >= SWARM_HOST_MAX)
        return false;
    if (strchr(s, ':')) { /* IPv6 literal */
        for (const char *p = s; *p; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return false;
        return true;
    }
    if (s[0] == '-' || s[0] == '.')
        return false;
    return all_chars(s, "-._", SWARM_HOST_MAX - 1);
}

void swarm_type_lower(const char *type, char out[SWARM_TYPE_MAX])
{
    size_t i = 0;
    for (; type[i] && i < SWARM_TYPE_MAX - 1; i++)
        out[i] = (char)tolower((unsigned char)type[i]);
    out[i] = 0;
}

int swarm_parse_port(const char *s, uint16_t *out)
{
    if (!s || !*s || strlen(s) > 5)
        return -1;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static int parse_uint(const char *s, unsigned long long min, unsigned long long max,
                      unsigned long long *out)
{
    if (!s || !*s || strlen(s) > 19)
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return (*out = true), 0;
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (strcasecmp(s, no[i]) == 0)
            return (*out = false), 0;
    return -1;
}

static void trim_copy(char *dst, size_t dstlen, const char *start, size_t len)
{
    while (len && isspace((unsigned char)*start))
        start++, len--;
    while (len && isspace((unsigned char)start[len - 1]))
        len--;
    if (len >= dstlen)
        len = dstlen - 1;
    memcpy(dst, start, len);
    dst[len] = 0;
}

static int parse_bootstrap_entry(const char *tok, swarm_bootstrap_entry *e, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    const char *rest;
    if (tok[0] == '[') { /* [v6]:port[:type] */
        const char *close = strchr(tok, ']');
        if (!close || close[1] != ':') {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: bad entry '%s' (expected [ipv6]:port[:type])", tok);
            return -1;
        }
        size_t hl = (size_t)(close - tok - 1);
        if (hl == 0 || hl >= sizeof e->host) {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: empty or oversized host in '%s'", tok);
            return -1;
        }
        memcpy(e->host, tok + 1, hl);
        rest = close + 2;
    } else {
        const char *colon = strchr(tok, ':');
        if (!colon) {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: bad entry '%s' (expected host:port[:type])", tok);
            return -1;
        }
        size_t hl = (size_t)(colon - tok);
        if (hl == 0) {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: empty host in '%s'", tok);
            return -1;
        }
        if (hl >= sizeof e->host) {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: host too long in '%s'", tok);
            return -1;
        }
        memcpy(e->host, tok, hl);
        rest = colon + 1;
    }
    if (!swarm_valid_host(e->host)) {
        swarm_fail(err, errlen, "BOOTSTRAP_PEERS: bad host '%s' in '%s'", e->host, tok);
        return -1;
    }
    char portbuf[16];
    const char *colon = strchr(rest, ':');
    size_t pl = colon ? (size_t)(colon - rest) : strlen(rest);
    if (pl == 0 || pl >= sizeof portbuf) {
        swarm_fail(err, errlen, "BOOTSTRAP_PEERS: bad port in '%s' (expected 1-65535)", tok);
        return -1;
    }
    memcpy(portbuf, rest, pl);
    portbuf[pl] = 0;
    if (swarm_parse_port(portbuf, &e->port) != 0) {
        swarm_fail(err, errlen, "BOOTSTRAP_PEERS: bad port '%s' in '%s' (expected 1-65535)", portbuf, tok);
        return -1;
    }
    if (colon) {
        const char *type = colon + 1;
        if (!swarm_valid_type(type)) {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: bad node type '%s' in '%s'", type, tok);
            return -1;
        }
        snprintf(e->node_type, sizeof e->node_type, "%s", type);
    }
    return 0;
}

int swarm_bootstrap_parse(const char *text, swarm_bootstrap_entry *out, size_t max, size_t *n,
                          char *err, size_t errlen)
{
    *n = 0;
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char tok[SWARM_HOST_MAX + 64];
        if (len >= sizeof tok) {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: entry too long: '%.40s...'", p);
            return -1;
        }
        trim_copy(tok, sizeof tok, p, len);
        if (!*tok) {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: empty entry in '%s'", text);
            return -1;
        }
        if (*n >= max) {
            swarm_fail(err, errlen, "BOOTSTRAP_PEERS: more than %zu entries", max);
            return -1;
        }
        if (parse_bootstrap_entry(tok, &out[*n], err, errlen) != 0)
            return -1;
        (*n)++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

void swarm_config_defaults(swarm_config *cfg, const char *node_type, uint16_t default_port)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->node_type, sizeof cfg->node_type, "%s", node_type);
    cfg->port = default_port;
    cfg->max_peers = SWARM_DEFAULT_MAX_PEERS;
    cfg->log_level = SWARM_LOG_INFO;
    cfg->max_body = SWARM_DEFAULT_MAX_BODY;
    cfg->pex_interval_ms = SWARM_DEFAULT_PEX_INTERVAL_MS;
    cfg->ping_interval_ms = SWARM_DEFAULT_PING_INTERVAL_MS;
    cfg->max_failures = SWARM_DEFAULT_MAX_FAILURES;
    cfg->inactive_ms = SWARM_DEFAULT_INACTIVE_MS;
    cfg->seen_cache_size = SWARM_DEFAULT_SEEN_CACHE_SIZE;
    cfg->seen_ttl_ms = SWARM_DEFAULT_SEEN_TTL_MS;
    cfg->max_hops = SWARM_DEFAULT_MAX_HOPS;
    cfg->spam_window_ms = SWARM_DEFAULT_SPAM_WINDOW_MS;
    cfg->spam_max_messages = SWARM_DEFAULT_SPAM_MAX_MESSAGES;
    cfg->send_queue_max = SWARM_DEFAULT_SEND_QUEUE_MAX;
    swarm_reputation_config_defaults(&cfg->reputation);
}

/* ---- the option table: one row per setting, shared by env, flags and --help ---- */

typedef int (*setter_fn)(swarm_config *cfg, const char *name, const char *value, char *err,
                         size_t errlen);

typedef struct option_row {
    const char *env;
    const char *flag; /* without the leading "--" */
    const char *arg;
    const char *help;
    setter_fn set; /* NULL for a plain integer field: */
    size_t offset; /* where it is in swarm_config */
    int width;     /* its size: 4 (unsigned) or 8 (uint64_t, size_t) */
    unsigned long long min, max;
} option_row;

static int set_port(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (swarm_parse_port(v, &cfg->port) != 0) {
        swarm_fail(err, errlen, "%s: bad port '%s' (expected an integer 1-65535)", name, v);
        return -1;
    }
    return 0;
}

static int set_bootstrap(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (swarm_bootstrap_parse(v, cfg->bootstrap, SWARM_MAX_BOOTSTRAP, &cfg->n_bootstrap, err, errlen) == 0)
        return 0;
    if (name[0] == '-' && err && strncmp(err, "BOOTSTRAP_PEERS", 15) == 0) { /* name the flag used */
        char msg[512];
        snprintf(msg, sizeof msg, "%s%s", name, err + 15);
        snprintf(err, errlen, "%s", msg);
    }
    return -1;
}

static int set_node_id(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (!swarm_valid_node_id(v)) {
        swarm_fail(err, errlen, "%s: bad node id '%s' (1-64 of A-Z a-z 0-9 _ . : -)", name, v);
        return -1;
    }
    snprintf(cfg->node_id, sizeof cfg->node_id, "%s", v);
    return 0;
}

static int set_data_dir(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (!*v || strlen(v) >= sizeof cfg->data_dir - 32) {
        swarm_fail(err, errlen, "%s: bad directory '%s' (empty or too long)", name, v);
        return -1;
    }
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", v);
    return 0;
}

static int set_log_level(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (swarm_log_level_parse(v, &cfg->log_level) != 0) {
        swarm_fail(err, errlen, "%s: bad level '%s' (expected error, warn, info or debug)", name, v);
        return -1;
    }
    return 0;
}

static int set_tls(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (parse_bool(v, &cfg->tls) != 0) {
        swarm_fail(err, errlen, "%s: bad boolean '%s' (expected true/false, 1/0, yes/no, on/off)", name, v);
        return -1;
    }
    return 0;
}

static int set_host_field(char *dst, const char *name, const char *v, char *err, size_t errlen)
{
    if (*v && !swarm_valid_host(v)) {
        swarm_fail(err, errlen, "%s: bad host '%s'", name, v);
        return -1;
    }
    snprintf(dst, SWARM_HOST_MAX, "%s", v);
    return 0;
}

static int set_bind(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    return set_host_field(cfg->bind_host, name, v, err, errlen);
}

static int set_advertise(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    return set_host_field(cfg->advertise_host, name, v, err, errlen);
}

/* Integer settings share one parser: the row gives the bounds and the field's place. */
static int set_number(swarm_config *cfg, const option_row *row, const char *name, const char *v,
                      char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, row->min, row->max, &n) != 0)
        return swarm_fail(err, errlen, "%s: bad value '%s' (expected an integer %llu-%llu)", name, v,
                          row->min, row->max);
    char *field = (char *)cfg + row->offset;
    if (row->width == 4) {
        unsigned x = (unsigned)n;
        memcpy(field, &x, sizeof x);
    } else {
        uint64_t x = n;
        memcpy(field, &x, sizeof x);
    }
    return 0;
}

static int parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end || d != d || d < min || d > max)
        return -1;
    *out = d;
    return 0;
}

static int set_ban_threshold(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (parse_double(v, 0, 100, &cfg->reputation.ban_threshold) != 0) {
        swarm_fail(err, errlen, "%s: bad score '%s' (expected a number 0-100)", name, v);
        return -1;
    }
    return 0;
}

static int set_decay(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (parse_double(v, 0, 1e6, &cfg->reputation.decay_per_hour) != 0) {
        swarm_fail(err, errlen, "%s: bad rate '%s' (expected points per hour, 0-1000000)", name, v);
        return -1;
    }
    return 0;
}

/* "messageSuccess=1,invalidMessage=-5,...": any subset, by NeuroSwarm's event names. */
static int set_weights(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    double w[SWARM_REP_EVENT_COUNT];
    memcpy(w, cfg->reputation.weights, sizeof w);
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char tok[64];
        trim_copy(tok, sizeof tok, p, len);
        char *eq = strchr(tok, '=');
        int ev = -1;
        if (eq) {
            *eq = 0;
            for (int i = 0; i < SWARM_REP_EVENT_COUNT; i++)
                if (strcmp(tok, swarm_rep_event_name((swarm_rep_event)i)) == 0)
                    ev = i;
        }
        if (ev < 0 || parse_double(eq + 1, -100, 100, &w[ev]) != 0) {
            if (eq)
                *eq = '=';
            swarm_fail(err, errlen, "%s: bad weight '%s' (expected event=number, events: messageSuccess, "
                                "messageFailure, invalidMessage, spamDetected, peerExchange, healthCheck)",
                   name, tok);
            return -1;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    memcpy(cfg->reputation.weights, w, sizeof w);
    return 0;
}

/* One row per setting, shared by the environment, the flags and --help. */
#define NUMBER(env, flag, arg, help, field, lo, hi)                                                \
    env, flag, arg, help, NULL, offsetof(swarm_config, field), (int)sizeof(((swarm_config *)0)->field), lo, hi
static const option_row options[] = {
    {"PORT", "port", "N", "listening port (HTTP API and peer links)", set_port},
    {"BIND_HOST", "bind-host", "ADDR", "address to listen on (default: all interfaces)", set_bind},
    {"ADVERTISE_HOST", "advertise-host", "HOST",
     "host peers should dial to reach this node (default: the address they see)", set_advertise},
    {"BOOTSTRAP_PEERS", "bootstrap-peers", "LIST", "initial peers, host:port[:type],...", set_bootstrap},
    {NUMBER("MAX_PEERS", "max-peers", "N", "most peers kept in the table (default 8)", max_peers, 1, 10000)},
    {"NODE_ID", "node-id", "ID", "this node's id (default: derived, kept in DATA_DIR)", set_node_id},
    {"DATA_DIR", "data-dir", "DIR", "where node-id and peers.json live (default ./data/<type>-<port>)",
     set_data_dir},
    {"LOG_LEVEL", "log-level", "LEVEL", "error, warn, info or debug (default info)", set_log_level},
    {"P2P_ENABLE_TLS", "tls", "BOOL", "encrypt peer links (default false)", set_tls},
    {NUMBER("MAX_BODY_BYTES", "max-body-bytes", "N", "largest accepted request body (default 1048576)",
     max_body, 1024, 64ull * 1024 * 1024)},
    {NUMBER("PEX_INTERVAL_MS", "pex-interval-ms", "MS", "send PEER_LIST to every peer this often (30000)",
     pex_interval_ms, 50, 86400000)},
    {NUMBER("PING_INTERVAL_MS", "ping-interval-ms", "MS", "PING every peer this often (30000)",
     ping_interval_ms, 50, 86400000)},
    {NUMBER("MAX_FAILURES", "max-failures", "N", "consecutive failures before a peer is removed (5)",
     max_failures, 1, 1000)},
    {NUMBER("PEER_INACTIVE_MS", "peer-inactive-ms", "MS", "prune a peer silent this long (3600000)",
     inactive_ms, 1000, 30ull * 86400000)},
    {NUMBER("SEEN_CACHE_SIZE", "seen-cache-size", "N", "message ids kept for dedup (1000)",
     seen_cache_size, 1, 10000000)},
    {NUMBER("SEEN_CACHE_TTL_MS", "seen-cache-ttl-ms", "MS", "how long a message id is kept (300000)",
     seen_ttl_ms, 100, 86400000)},
    {NUMBER("MAX_HOPS", "max-hops", "N", "a message at this many hops is not relayed (10)",
     max_hops, 0, 1000)},
    {NUMBER("SPAM_WINDOW_MS", "spam-window-ms", "MS", "window for the per-peer message rate (10000)",
     spam_window_ms, 100, 3600000)},
    {NUMBER("SPAM_MAX_MESSAGES", "spam-max-messages", "N", "messages one peer may send per window (500)",
     spam_max_messages, 1, 10000000)},
    {NUMBER("SEND_QUEUE_MAX", "send-queue-max", "N", "messages queued per peer before it is dropped (256)",
     send_queue_max, 1, 1000000)},
    {"REPUTATION_BAN_THRESHOLD", "reputation-ban-threshold", "SCORE", "a score below this bans (20)",
     set_ban_threshold},
    {NUMBER("REPUTATION_BAN_MS", "reputation-ban-ms", "MS", "how long a ban lasts (3600000)",
     reputation.ban_ms, 1000, 365ull * 86400000)},
    {"REPUTATION_DECAY_PER_HOUR", "reputation-decay-per-hour", "PTS",
     "score points per hour back toward 50 (0.1)", set_decay},
    {"REPUTATION_WEIGHTS", "reputation-weights", "LIST",
     "event=weight,... (messageSuccess=1,messageFailure=-2,invalidMessage=-5,spamDetected=-10,"
     "peerExchange=2,healthCheck=1)",
     set_weights},
};
#define N_OPTIONS (sizeof options / sizeof *options)

static int apply(swarm_config *cfg, const option_row *row, const char *name, const char *v, char *err,
                 size_t errlen)
{
    return row->set ? row->set(cfg, name, v, err, errlen) : set_number(cfg, row, name, v, err, errlen);
}

static const char *env_lookup(char **envp, const char *name)
{
    if (!envp)
        return NULL;
    size_t nl = strlen(name);
    for (char **e = envp; *e; e++)
        if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=')
            return *e + nl + 1;
    return NULL;
}

static void print_help(FILE *out, const swarm_config *cfg)
{
    fprintf(out, "usage: %s-node [options]\n\nA swarm node of type %s. Every option can also be set "
                 "through the environment variable shown.\n\n",
            cfg->node_type, cfg->node_type);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s %s", options[i].flag, options[i].arg);
        fprintf(out, "  %-36s %-26s %s\n", left, options[i].env, options[i].help);
    }
    fprintf(out, "  %-36s %-26s %s\n\ndefault port for %s: %u\n", "--help", "", "show this help",
            cfg->node_type, cfg->port);
}

int swarm_config_load(swarm_config *cfg, char **envp, int argc, char **argv, char *err, size_t errlen,
                      void *help_out)
{
    if (err && errlen)
        err[0] = 0;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = env_lookup(envp, options[i].env);
        if (v && apply(cfg, &options[i], options[i].env, v, err, errlen) != 0)
            return SWARM_CONFIG_ERROR;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            if (help_out)
                print_help((FILE *)help_out, cfg);
            return SWARM_CONFIG_HELP;
        }
        if (strncmp(arg, "--", 2) != 0) {
            swarm_fail(err, errlen, "unexpected argument '%s' (see --help)", arg);
            return SWARM_CONFIG_ERROR;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const option_row *row = NULL;
        for (size_t i = 0; i < N_OPTIONS; i++)
            if (strlen(options[i].flag) == nl && strncmp(options[i].flag, name, nl) == 0)
                row = &options[i];
        if (!row) {
            swarm_fail(err, errlen, "unknown option '%s' (see --help)", arg);
            return SWARM_CONFIG_ERROR;
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            swarm_fail(err, errlen, "--%s: missing value", row->flag);
            return SWARM_CONFIG_ERROR;
        }
        char flagname[64];
        snprintf(flagname, sizeof flagname, "--%s", row->flag);
        if (apply(cfg, row, flagname, value, err, errlen) != 0)
            return SWARM_CONFIG_ERROR;
    }
    if (!cfg->data_dir[0]) {
        char lower[SWARM_TYPE_MAX];
        swarm_type_lower(cfg->node_type, lower);
        snprintf(cfg->data_dir, sizeof cfg->data_dir, "data/%s-%u", lower, cfg->port);
    }
    return SWARM_CONFIG_OK;
}
