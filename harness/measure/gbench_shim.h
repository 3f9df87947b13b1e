/* gbench_shim.h — the C face of Google Benchmark, the one C++ file.
 *
 * Google Benchmark runs the measurement loop with manual timing: we fix the
 * sample count ourselves (its automatic iteration count and wall-clock limit
 * do not apply to manually timed GPU work), hand every sample to
 * SetIterationTime, and keep each sample, because it computes aggregates only
 * across repetitions and we want the median and spread of the samples.
 */
#ifndef HARNESS_GBENCH_SHIM_H
#define HARNESS_GBENCH_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Takes one sample: returns 0 and its time in *ms, or non-zero with a
 * message in `why`. */
typedef int (*gbench_sample_fn)(void *ctx, double *ms, char *why, size_t why_len);

/* Runs `sample` `count` times as benchmark `name`, storing each time in
 * samples_ms[0..count). Returns 0, or non-zero with the first error. */
int gbench_measure(const char *name, int count, gbench_sample_fn sample, void *ctx,
                   double *samples_ms, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif
