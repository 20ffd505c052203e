/* clock.h - wall-clock and monotonic milliseconds. */
#ifndef STRAIT_CLOCK_H
#define STRAIT_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (record timestamps, file ages). */
int64_t clock_wall_ms(void);
/* Monotonic milliseconds (timeouts, intervals). */
int64_t clock_mono_ms(void);

#endif
