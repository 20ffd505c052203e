/*
 * invariant.c - what a failed INVARIANT does (invariant.h): one log line
 * naming the expression and where it is, then abort() for a core dump.
 */
#include "common/invariant.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

_Noreturn void invariant_failed(const char *expression, const char *file, int line,
                                const char *function)
{
    if (log_enabled(LOG_ERROR))
        log_error("invariant", "invariant failed expression=\"%s\" file=%s line=%d function=%s",
                  expression, file, line, function);
    else /* logging turned off (a test): still say why the process stops */
        fprintf(stderr, "invariant failed expression=\"%s\" file=%s line=%d function=%s\n",
                expression, file, line, function);
    abort();
}
