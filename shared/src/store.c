#include "swarm/store.h"

#include "fail.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_FILE_MAX (4 * 1024 * 1024)

int swarm_store_ensure_dir(const char *dir, char *err, size_t errlen)
{
    char path[SWARM_PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return swarm_fail(err, errlen, "DATA_DIR: path too long");
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return swarm_fail(err, errlen, "DATA_DIR: cannot create '%s': %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return swarm_fail(err, errlen, "DATA_DIR: cannot create '%s': %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return swarm_fail(err, errlen, "DATA_DIR: '%s' is not a directory", path);
    return 0;
}

/* Reads a whole small file. Returns a malloc'd NUL-terminated buffer, or NULL (errno set;
 * EFBIG when larger than STORE_FILE_MAX). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(STORE_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, STORE_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!buf)
        return NULL;
    if (n > STORE_FILE_MAX) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static int write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char tmp[SWARM_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return swarm_fail(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return swarm_fail(err, errlen, "cannot write '%s': %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return swarm_fail(err, errlen, "cannot flush '%s': %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return swarm_fail(err, errlen, "cannot rename '%s': %s", tmp, strerror(e));
    }
    return 0;
}

int swarm_store_node_id(const char *dir, const char *node_type, char out[SWARM_NODE_ID_MAX],
                        char *err, size_t errlen)
{
    char path[SWARM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/node-id", dir);
    size_t len;
    char *text = read_file(path, &len);
    if (text) {
        while (len && isspace((unsigned char)text[len - 1]))
            text[--len] = 0;
        int ok = swarm_valid_node_id(text);
        if (ok)
            snprintf(out, SWARM_NODE_ID_MAX, "%s", text);
        free(text);
        if (ok)
            return 0;
        return swarm_fail(err, errlen, "DATA_DIR: '%s' does not hold a valid node id (remove it to make a new one)",
                    path);
    }
    unsigned char rnd[6];
    FILE *ur = fopen("/dev/urandom", "rb");
    if (!ur || fread(rnd, 1, sizeof rnd, ur) != sizeof rnd) {
        if (ur)
            fclose(ur);
        return swarm_fail(err, errlen, "cannot read /dev/urandom to make a node id");
    }
    fclose(ur);
    char lower[SWARM_TYPE_MAX];
    swarm_type_lower(node_type, lower);
    snprintf(out, SWARM_NODE_ID_MAX, "%s-%02x%02x%02x%02x%02x%02x", lower, rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5]);
    char line[SWARM_NODE_ID_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", out);
    return write_atomic(path, line, (size_t)n, err, errlen);
}

int swarm_store_save_peers(const char *dir, swarm_node *node, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "nodeId", swarm_node_id(node));
    cJSON_AddStringToObject(root, "nodeType", swarm_node_type_name(node));
    cJSON *arr = cJSON_AddArrayToObject(root, "peers");
    for (swarm_peer *p = swarm_peer_table_first(swarm_node_peers(node)); p; p = swarm_peer_table_next(p)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", p->id);
        cJSON_AddStringToObject(o, "host", p->host);
        cJSON_AddNumberToObject(o, "port", p->port);
        if (p->node_type[0])
            cJSON_AddStringToObject(o, "nodeType", p->node_type);
        if (p->node_id[0])
            cJSON_AddStringToObject(o, "nodeId", p->node_id);
        cJSON_AddStringToObject(o, "source", swarm_peer_source_name(p->source));
        cJSON_AddNumberToObject(o, "addedAt", (double)p->added_at);
        cJSON_AddNumberToObject(o, "lastSeen", (double)p->last_seen);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return swarm_fail(err, errlen, "out of memory saving peers");
    char path[SWARM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/peers.json", dir);
    int rc = write_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

static int set_aside(const char *path, uint64_t now_wall, const char *why, char *err, size_t errlen)
{
    char aside[SWARM_PATH_MAX + 64];
    snprintf(aside, sizeof aside, "%s.corrupt-%llu", path, (unsigned long long)now_wall);
    rename(path, aside);
    return swarm_fail(err, errlen, "%s is corrupt (%s): moved to %s, starting without saved peers", path, why,
                aside);
}

int swarm_store_load_peers(const char *dir, swarm_node *node, swarm_time now, char *err, size_t errlen)
{
    char path[SWARM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/peers.json", dir);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        if (errno == ENOENT)
            return 0;
        if (errno == EFBIG)
            return set_aside(path, now.wall, "larger than 4 MiB", err, errlen);
        return swarm_fail(err, errlen, "cannot read %s: %s", path, strerror(errno));
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "peers");
    if (!root || !cJSON_IsArray(arr)) {
        cJSON_Delete(root);
        return set_aside(path, now.wall, "not a JSON object with a peers array", err, errlen);
    }
    int loaded = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
        const cJSON *host = cJSON_GetObjectItemCaseSensitive(o, "host");
        const cJSON *port = cJSON_GetObjectItemCaseSensitive(o, "port");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "nodeType");
        const cJSON *nid = cJSON_GetObjectItemCaseSensitive(o, "nodeId");
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
        const cJSON *added = cJSON_GetObjectItemCaseSensitive(o, "addedAt");
        const cJSON *seen = cJSON_GetObjectItemCaseSensitive(o, "lastSeen");
        swarm_peer_source source = SWARM_SOURCE_PEX;
        if (!cJSON_IsString(host) || !cJSON_IsNumber(port) || port->valuedouble < 1 ||
            port->valuedouble > 65535) {
            cJSON_Delete(root);
            return set_aside(path, now.wall, "a peer without a valid host and port", err, errlen);
        }
        if (cJSON_IsString(src))
            swarm_peer_source_parse(src->valuestring, &source);
        swarm_peer *p = NULL;
        swarm_add_result ar = swarm_node_add_peer(node, host->valuestring, (uint16_t)port->valuedouble,
                                                  cJSON_IsString(type) ? type->valuestring : NULL,
                                                  source, now, &p);
        if (ar != SWARM_ADD_ADDED)
            continue;
        if (cJSON_IsString(nid) && swarm_valid_node_id(nid->valuestring) &&
            !swarm_node_is_self(node, NULL, 0, nid->valuestring))
            swarm_peer_table_set_node_id(swarm_node_peers(node), p, nid->valuestring);
        if (cJSON_IsNumber(added) && added->valuedouble > 0)
            p->added_at = (uint64_t)added->valuedouble;
        if (cJSON_IsNumber(seen) && seen->valuedouble > 0)
            p->last_seen = (uint64_t)seen->valuedouble;
        loaded++;
    }
    cJSON_Delete(root);
    return loaded;
}
