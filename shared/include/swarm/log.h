/* One-line-per-event logging to stderr, filtered by level (LOG_LEVEL). */
#ifndef SWARM_LOG_H
#define SWARM_LOG_H

typedef enum {
    SWARM_LOG_ERROR = 0,
    SWARM_LOG_WARN = 1,
    SWARM_LOG_INFO = 2,
    SWARM_LOG_DEBUG = 3
} swarm_log_level;

void swarm_log_set_level(swarm_log_level level);
swarm_log_level swarm_log_get_level(void);
/* Accepts error|warn|info|debug (any case). Returns 0, or -1 for anything else. */
int swarm_log_level_parse(const char *text, swarm_log_level *out);
const char *swarm_log_level_name(swarm_log_level level);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void swarm_log(swarm_log_level level, const char *fmt, ...);

#define SWARM_ERROR(...) swarm_log(SWARM_LOG_ERROR, __VA_ARGS__)
#define SWARM_WARN(...) swarm_log(SWARM_LOG_WARN, __VA_ARGS__)
#define SWARM_INFO(...) swarm_log(SWARM_LOG_INFO, __VA_ARGS__)
#define SWARM_DEBUG(...) swarm_log(SWARM_LOG_DEBUG, __VA_ARGS__)

#endif
