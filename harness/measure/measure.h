/* measure.h — one sweep point, measured in this process: validate,
 * allocate, fill the inputs, set up, take the samples by the rules of
 * timing.h, summarize them, and profile when asked. */
#ifndef HARNESS_MEASURE_H
#define HARNESS_MEASURE_H

#include "measure/backend.h"
#include "measure/ceilings.h"
#include "measure/timing.h"
#include "core/point.h"

struct measure_options {
    struct timing_rules timing; /* warm-up, samples, cold cache (timing.h) */
    int profile;           /* then one run under the hardware counters (profile.h) */
    int verify;            /* then the output against the reference (verify.h) */
    int kernel_names;      /* then the kernels column (profile.h): CUPTI's launch callbacks,
                              which no process under compute-sanitizer may use */
    const struct ceilings *ceilings; /* the roofs of the roofline columns; NULL: none */
};

/* Fills everything in `row` but `suite`: the device description, the work
 * models, the statistics, the verification (with opt->verify) and the status
 * ("ok", "oom", "invalid:...", "error:...", "wrong:..."). Never fails
 * otherwise: a point that cannot run is a row that says why. `device` is the
 * backend's description, read once per process. */
void measure_point(const struct sweep_point *pt, struct backend *b,
                   const struct device_info *device, const struct measure_options *opt,
                   struct result_row *row);

#endif
