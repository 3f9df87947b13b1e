/* timeline.h — NVTX names and ranges, so that an Nsight Systems timeline of
 * a sweep reads like the sweep: a range per point ("mita/s_r N=4096") with
 * the method's own steps (attn_nvtx.h) inside, a range around the profiling
 * pass, and the harness thread and its CUDA stream named "attnbench".
 * Without NVTX (HAVE_NVTX 0) these do nothing. */
#ifndef HARNESS_TIMELINE_H
#define HARNESS_TIMELINE_H

#include "core/point.h"

/* Opens the point's range; the first call of a process also names the
 * thread and `stream` (a cudaStream_t, or NULL on the CPU). */
void timeline_point_begin(const struct sweep_point *pt, void *stream);

/* A range inside the point's ("profile"). */
void timeline_range_begin(const char *name);

/* Closes the innermost range: a point's or a timeline_range_begin()'s. */
void timeline_range_end(void);

#endif
