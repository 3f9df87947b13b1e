/* clock.h — the harness's two clocks: wall time for the rows' timestamps,
 * a monotonic clock for the progress and the budget. */
#ifndef HARNESS_CORE_CLOCK_H
#define HARNESS_CORE_CLOCK_H

#include <stddef.h>

/* UTC now as ISO 8601, "2026-11-22T06:30:00Z". */
void utc_timestamp(char *out, size_t len);

/* Seconds on a monotonic clock, for differences only. */
double monotonic_seconds(void);

#endif
