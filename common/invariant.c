/*
 * invariant.c - what a failed INVARIANT does (invariant.h): one log line
 * naming the expression and where it is, then abort() for a core dump.
 */
#include "common/invariant.h"

#include <stdlib.h>

#include "common/log.h"

_Noreturn void invariant_failed(const char *expression, const char *file, int line,
                                const char *function)
{
    log_error("invariant", "invariant failed expression=\"%s\" file=%s line=%d function=%s",
              expression, file, line, function);
    abort();
}
