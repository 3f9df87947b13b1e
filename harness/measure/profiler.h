/* profiler.h — hardware counters per kernel launch, read through CUPTI's
 * range profiler (CUDA 13: cupti_range_profiler.h, cupti_profiler_host.h),
 * for the profiling pass of `attnbench run --profile` and never while
 * timing: the run is replayed once per counter pass (user replay; kernel
 * replay where CUPTI refuses it), so it runs several times over.
 *
 * Auto ranges: one range per kernel launch, in launch order. A CUPTI
 * callback on every launch records the kernel's name (CUDA 13 numbers the
 * auto ranges) and the step that was open then (attn_nvtx.h), so that each
 * kernel carries its method step.
 *
 * A plain C interface; profiler.cu is the one C++ file that includes the
 * CUPTI host header (it includes <string>). Built only when HAVE_CUPTI.
 */
#ifndef HARNESS_PROFILER_H
#define HARNESS_PROFILER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PROFILER_NAME_LEN 96
#define PROFILER_STEP_LEN 32

/* One kernel launch. A value is NAN where this GPU lacks its metric. */
struct profiler_kernel {
    char name[PROFILER_NAME_LEN];  /* demangled, without parameters: "copy_kernel<4>" */
    char step[PROFILER_STEP_LEN];  /* the innermost step open at its launch; "" when none */
    double dram_read_bytes;        /* dram__bytes_read.sum */
    double dram_write_bytes;       /* dram__bytes_write.sum */
    double l2_bytes;               /* lts__t_bytes.sum: every byte through L2 */
    double ms;                     /* gpu__time_duration.sum */
    double tensor_fp16_flops;      /* sm__ops_path_tensor_src_fp16.sum (an FMA counts 2) */
    double tensor_bf16_flops;      /* sm__ops_path_tensor_src_bf16_dst_fp32.sum */
    double fp32_flops;             /* fadd + fmul + 2 ffma thread instructions */
    double flops;                  /* the three above summed */
};

struct profiler_result {
    int count;                        /* kernels launched, in launch order */
    struct profiler_kernel *kernels;  /* owned; profiler_result_free() */
    char note[256];                   /* what is missing or unsure, "" when nothing */
};

/* Opens this process's profiling session on the current CUDA device (a
 * context must exist). Returns 0, or non-zero with why counters cannot be
 * read here: no permission, an unsupported GPU, another profiler attached
 * (Nsight Compute or Systems). A second call returns the first one's
 * answer. */
int profiler_open(char *why, size_t why_len);

/* Runs `run(ctx)` under the range profiler and returns every kernel it
 * launched. `run` launches its work and waits for it; it returns 0, or
 * non-zero with a message. It may be called a second time, when it launched
 * more kernels than were provided for. Returns 0, or non-zero with a message
 * (*out is then empty). */
int profiler_measure(int (*run)(void *ctx, char *why, size_t why_len), void *ctx,
                     struct profiler_result *out, char *why, size_t why_len);

void profiler_result_free(struct profiler_result *r);

/* Runs `run(ctx)` (as profiler_measure takes it) once with every kernel
 * launch logged, no counters read and no session needed, and writes the
 * kernels it launched into names[len] (measure/kernel_list.h). Returns 0;
 * else non-zero with why, and *run_failed set when `run` failed rather than
 * the logging (CUPTI allows one subscriber: a tracing tool may hold it). */
int profiler_launch_names(int (*run)(void *ctx, char *why, size_t why_len), void *ctx,
                          char *names, size_t len, int *run_failed, char *why, size_t why_len);

/* The current device's L2 size in bytes, 0 when unknown. */
size_t profiler_l2_bytes(void);

/* Ends the session that profiler_open() began (the process may then open a
 * new one). */
void profiler_close(void);

/* Where this process's time in CUPTI went, as one line: the session's
 * set-up (profiler_open() in all, and its stages: initialize, counter
 * availability, host object and config image) and the mean profiled run
 * (enable, counter-data image, set config, replay passes, decode, evaluate,
 * disable, launch callbacks), in seconds. */
void profiler_costs(char *text, size_t len);

#ifdef __cplusplus
}
#endif

#endif
