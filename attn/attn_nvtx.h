/* attn_nvtx.h — naming the steps of a method, so that a timeline and the
 * hardware counters read like the algorithm.
 *
 *     attn_step_begin("probe");
 *     ... launch the probe's kernels (or call cuBLAS) ...
 *     attn_step_end();
 *
 * Each step is an NVTX range (Nsight Systems shows it on the timeline) and
 * the profiler of `attnbench run --profile` files every kernel launched
 * inside it under its name in `<out>.steps.csv`; steps nest, the innermost
 * names the launch. Name MiTA's steps as docs/methods.md does ("MiTA",
 * "Step names"): "landmarks", "probe",
 * "experts", "compress", "route", "gather", "attend"; the DRAM bytes of
 * kernels in a step or with a name that contains "gather" are the CSV's
 * gather_dram_bytes.
 *
 * `name` must outlive the step (a string literal). CPU code may call these
 * too. Without NVTX (HAVE_NVTX 0) the range is left out; the step is still
 * recorded, which costs a store, so that the profiler never depends on NVTX.
 */
#ifndef ATTN_ATTN_NVTX_H
#define ATTN_ATTN_NVTX_H

#include "config.h"

#if HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The step stack of the calling thread (attn/common.c). */
void attn_step_push(const char *name);
void attn_step_pop(void);
/* The innermost open step of the calling thread, "" outside every step. */
const char *attn_step_current(void);

/* Whether a profiler files each launch under its step (attnbench run
 * --profile sets it around the profiled run). It sees only kernels launched
 * one by one, so a method that replays its launches as a CUDA graph launches
 * them directly while it is set (attn/cuda/cuda_method.h, "CUDA graphs"). */
void attn_steps_set_recorded(int on);
int attn_steps_recorded(void);

#ifdef __cplusplus
}
#endif

static inline void attn_step_begin(const char *name)
{
#if HAVE_NVTX
    nvtxRangePushA(name);
#endif
    attn_step_push(name);
}

static inline void attn_step_end(void)
{
    attn_step_pop();
#if HAVE_NVTX
    nvtxRangePop();
#endif
}

#endif
