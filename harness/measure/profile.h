/* profile.h — the profiling pass of `attnbench run --profile`.
 *
 * After a point is timed, in the same process, run() goes once more under
 * the CUPTI range profiler (profiler.h): never while timing, since the
 * replay runs it once per counter pass. Its counters fill the row's
 * columns dram_read_bytes ... gather_dram_bytes, summed over the kernels of
 * one run(), and one row per (step, kernel) of `<out>.steps.csv`. With
 * `--ceilings FILE`, the roofline columns place the point under the roofs
 * that `attnbench ceilings` measured.
 *
 * Counters never fail a point: where they cannot be read (the CPU backend, a
 * build without CUPTI, no permission, another profiler attached) the columns
 * stay empty and profile_note says why.
 */
#ifndef HARNESS_PROFILE_H
#define HARNESS_PROFILE_H

#include <stdio.h>

#include "measure/backend.h"
#include "measure/ceilings.h"
#include "results/csv.h"

/* Profiles one run() of a point that was just timed; fills the counter
 * columns, the steps and profile_note of `row`. `working_set_bytes` is what
 * the point allocated (tensors and workspace): below twice the L2 size the
 * DRAM counts can read low, and the note says so. */
void profile_point(struct backend *b, const struct attn_method *m, void *state,
                   const struct attn_tensors *t, size_t working_set_bytes,
                   struct result_row *row);

/* The `kernels` column (measure/kernel_list.h): one more run() of a point
 * that was just timed, its kernel launches logged through CUPTI's callbacks
 * (no counters, no replay). Returns 0 with row->kernels filled, or left empty
 * where launches cannot be logged (the CPU backend, a build without CUPTI, a
 * tracing tool holding CUPTI: said once on stderr); non-zero, with row->status
 * an `error:`, when that run() itself failed. */
int profile_kernel_names(struct backend *b, const struct attn_method *m, void *state,
                         const struct attn_tensors *t, struct result_row *row);

/* The roofline columns of a timed, profiled row: the achieved rate, the
 * arithmetic intensity (FLOPs over measured DRAM bytes read + written) and,
 * with `c` (NULL: no ceilings given), the fraction of the roof
 * min(peak of the dtype, intensity x DRAM copy bandwidth). FLOPs are the
 * measured ones where the GPU counts them, else the model's. */
void profile_roofline(struct result_row *row, const struct ceilings *c);

#endif
