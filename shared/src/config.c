#include "swarm/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

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
            seterr(err, errlen, "BOOTSTRAP_PEERS: bad entry '%s' (expected [ipv6]:port[:type])", tok);
            return -1;
        }
        size_t hl = (size_t)(close - tok - 1);
        if (hl == 0 || hl >= sizeof e->host) {
            seterr(err, errlen, "BOOTSTRAP_PEERS: empty or oversized host in '%s'", tok);
            return -1;
        }
        memcpy(e->host, tok + 1, hl);
        rest = close + 2;
    } else {
        const char *colon = strchr(tok, ':');
        if (!colon) {
            seterr(err, errlen, "BOOTSTRAP_PEERS: bad entry '%s' (expected host:port[:type])", tok);
            return -1;
        }
        size_t hl = (size_t)(colon - tok);
        if (hl == 0) {
            seterr(err, errlen, "BOOTSTRAP_PEERS: empty host in '%s'", tok);
            return -1;
        }
        if (hl >= sizeof e->host) {
            seterr(err, errlen, "BOOTSTRAP_PEERS: host too long in '%s'", tok);
            return -1;
        }
        memcpy(e->host, tok, hl);
        rest = colon + 1;
    }
    if (!swarm_valid_host(e->host)) {
        seterr(err, errlen, "BOOTSTRAP_PEERS: bad host '%s' in '%s'", e->host, tok);
        return -1;
    }
    char portbuf[16];
    const char *colon = strchr(rest, ':');
    size_t pl = colon ? (size_t)(colon - rest) : strlen(rest);
    if (pl == 0 || pl >= sizeof portbuf) {
        seterr(err, errlen, "BOOTSTRAP_PEERS: bad port in '%s' (expected 1-65535)", tok);
        return -1;
    }
    memcpy(portbuf, rest, pl);
    portbuf[pl] = 0;
    if (swarm_parse_port(portbuf, &e->port) != 0) {
        seterr(err, errlen, "BOOTSTRAP_PEERS: bad port '%s' in '%s' (expected 1-65535)", portbuf, tok);
        return -1;
    }
    if (colon) {
        const char *type = colon + 1;
        if (!swarm_valid_type(type)) {
            seterr(err, errlen, "BOOTSTRAP_PEERS: bad node type '%s' in '%s'", type, tok);
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
            seterr(err, errlen, "BOOTSTRAP_PEERS: entry too long: '%.40s...'", p);
            return -1;
        }
        trim_copy(tok, sizeof tok, p, len);
        if (!*tok) {
            seterr(err, errlen, "BOOTSTRAP_PEERS: empty entry in '%s'", text);
            return -1;
        }
        if (*n >= max) {
            seterr(err, errlen, "BOOTSTRAP_PEERS: more than %zu entries", max);
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
}

/* ---- the option table: one row per setting, shared by env, flags and --help ---- */

typedef int (*setter_fn)(swarm_config *cfg, const char *name, const char *value, char *err,
                         size_t errlen);

typedef struct option_row {
    const char *env;
    const char *flag; /* without the leading "--" */
    const char *arg;
    const char *help;
    setter_fn set;
} option_row;

static int set_port(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (swarm_parse_port(v, &cfg->port) != 0) {
        seterr(err, errlen, "%s: bad port '%s' (expected an integer 1-65535)", name, v);
        return -1;
    }
    return 0;
}

static int set_bootstrap(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    (void)name;
    return swarm_bootstrap_parse(v, cfg->bootstrap, SWARM_MAX_BOOTSTRAP, &cfg->n_bootstrap, err,
                                 errlen);
}

static int set_max_peers(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 1, 10000, &n) != 0) {
        seterr(err, errlen, "%s: bad value '%s' (expected an integer 1-10000)", name, v);
        return -1;
    }
    cfg->max_peers = (unsigned)n;
    return 0;
}

static int set_node_id(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (!swarm_valid_node_id(v)) {
        seterr(err, errlen, "%s: bad node id '%s' (1-64 of A-Z a-z 0-9 _ . : -)", name, v);
        return -1;
    }
    snprintf(cfg->node_id, sizeof cfg->node_id, "%s", v);
    return 0;
}

static int set_data_dir(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (!*v || strlen(v) >= sizeof cfg->data_dir - 32) {
        seterr(err, errlen, "%s: bad directory '%s' (empty or too long)", name, v);
        return -1;
    }
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", v);
    return 0;
}

static int set_log_level(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (swarm_log_level_parse(v, &cfg->log_level) != 0) {
        seterr(err, errlen, "%s: bad level '%s' (expected error, warn, info or debug)", name, v);
        return -1;
    }
    return 0;
}

static int set_tls(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    if (parse_bool(v, &cfg->tls) != 0) {
        seterr(err, errlen, "%s: bad boolean '%s' (expected true/false, 1/0, yes/no, on/off)", name, v);
        return -1;
    }
    return 0;
}

static int set_host_field(char *dst, const char *name, const char *v, char *err, size_t errlen)
{
    if (*v && !swarm_valid_host(v)) {
        seterr(err, errlen, "%s: bad host '%s'", name, v);
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

static int set_max_body(swarm_config *cfg, const char *name, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 1024, 64ull * 1024 * 1024, &n) != 0) {
        seterr(err, errlen, "%s: bad size '%s' (expected bytes, 1024-67108864)", name, v);
        return -1;
    }
    cfg->max_body = (size_t)n;
    return 0;
}

static const option_row options[] = {
    {"PORT", "port", "N", "listening port (HTTP API and peer links)", set_port},
    {"BIND_HOST", "bind-host", "ADDR", "address to listen on (default: all interfaces)", set_bind},
    {"ADVERTISE_HOST", "advertise-host", "HOST",
     "host peers should dial to reach this node (default: the address they see)", set_advertise},
    {"BOOTSTRAP_PEERS", "bootstrap-peers", "LIST", "initial peers, host:port[:type],...", set_bootstrap},
    {"MAX_PEERS", "max-peers", "N", "most peers kept in the table (default 8)", set_max_peers},
    {"NODE_ID", "node-id", "ID", "this node's id (default: derived, kept in DATA_DIR)", set_node_id},
    {"DATA_DIR", "data-dir", "DIR", "where node-id and peers.json live (default ./data/<type>-<port>)",
     set_data_dir},
    {"LOG_LEVEL", "log-level", "LEVEL", "error, warn, info or debug (default info)", set_log_level},
    {"P2P_ENABLE_TLS", "tls", "BOOL", "encrypt peer links (default false)", set_tls},
    {"MAX_BODY_BYTES", "max-body-bytes", "N", "largest accepted request body (default 1048576)",
     set_max_body},
};
#define N_OPTIONS (sizeof options / sizeof *options)

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
        fprintf(out, "  %-26s %-16s %s\n", left, options[i].env, options[i].help);
    }
    fprintf(out, "  %-26s %-16s %s\n\ndefault port for %s: %u\n", "--help", "", "show this help",
            cfg->node_type, cfg->port);
}

int swarm_config_load(swarm_config *cfg, char **envp, int argc, char **argv, char *err, size_t errlen,
                      void *help_out)
{
    if (err && errlen)
        err[0] = 0;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = env_lookup(envp, options[i].env);
        if (v && options[i].set(cfg, options[i].env, v, err, errlen) != 0)
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
            seterr(err, errlen, "unexpected argument '%s' (see --help)", arg);
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
            seterr(err, errlen, "unknown option '%s' (see --help)", arg);
            return SWARM_CONFIG_ERROR;
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            seterr(err, errlen, "--%s: missing value", row->flag);
            return SWARM_CONFIG_ERROR;
        }
        char flagname[64];
        snprintf(flagname, sizeof flagname, "--%s", row->flag);
        if (row->set(cfg, flagname, value, err, errlen) != 0)
            return SWARM_CONFIG_ERROR;
    }
    if (!cfg->data_dir[0]) {
        char lower[SWARM_TYPE_MAX];
        size_t i = 0;
        for (; cfg->node_type[i] && i < sizeof lower - 1; i++)
            lower[i] = (char)tolower((unsigned char)cfg->node_type[i]);
        lower[i] = 0;
        snprintf(cfg->data_dir, sizeof cfg->data_dir, "data/%s-%u", lower, cfg->port);
    }
    return SWARM_CONFIG_OK;
}
