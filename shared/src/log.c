#include "swarm/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

static swarm_log_level current_level = SWARM_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void swarm_log_set_level(swarm_log_level level) { current_level = level; }

swarm_log_level swarm_log_get_level(void) { return current_level; }

const char *swarm_log_level_name(swarm_log_level level)
{
    if ((unsigned)level > SWARM_LOG_DEBUG)
        return "?";
    return level_names[level];
}

int swarm_log_level_parse(const char *text, swarm_log_level *out)
{
    for (int i = 0; i <= SWARM_LOG_DEBUG; i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (swarm_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(text, "warning") == 0) {
        *out = SWARM_LOG_WARN;
        return 0;
    }
    return -1;
}

void swarm_log(swarm_log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so concurrent writers to a shared log file never interleave mid-line. */
    fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000, level_names[level], line);
}
