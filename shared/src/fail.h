/* Internal: formats an error message into a caller's buffer (if any) and returns -1. */
#ifndef SWARM_FAIL_H
#define SWARM_FAIL_H

#include <stddef.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int swarm_fail(char *err, size_t errlen, const char *fmt, ...);

#endif
