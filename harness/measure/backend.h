/* backend.h — where a method's tensors live and how one run is timed.
 *
 * The harness talks to the CPU and the GPU through this one table, so the
 * sweep runner, `check` and the tests never branch on the backend. Timing is
 * here and in timing.h, not in the methods: a method's run() only launches
 * work.
 */
#ifndef HARNESS_BACKEND_H
#define HARNESS_BACKEND_H

#include <stddef.h>

#include "attn.h"
#include "kernels/inputs.h"

struct device_info {
    char name[128];        /* "NVIDIA H100 80GB HBM3", "cpu: AMD EPYC ... (2 threads)" */
    char driver[32];       /* CUDA driver version ("13.0"), "" on the CPU */
    char runtime[32];      /* CUDA runtime version, "" on the CPU */
    int sm_clock_mhz;      /* current SM clock, 0 when unknown */
    char pci_bus_id[32];   /* the GPU's, for NVML (measure/nvml.h); "" on the CPU */
};

struct backend {
    enum attn_backend kind;
    void *stream;          /* cudaStream_t on the GPU, NULL on the CPU */

    /* Reads the device's description. 0, or non-zero with a message (no GPU,
     * driver too old, ...). */
    int (*init)(struct backend *b, struct device_info *info, char *why, size_t why_len);
    /* NULL when the memory is not there: the caller records `oom`. */
    void *(*alloc)(size_t bytes);
    void (*release)(void *ptr);
    /* Tensor `which` (0 = Q, 1 = K, 2 = V) of problem `p` drawn from the
     * generated distribution `kind`, stored as p->dtype: element i is
     * attn_inputs_value(kind, p->seed, which, p->N, p->d, i) (kernels/inputs.h),
     * the same bits on every backend. */
    int (*fill_inputs)(struct backend *b, void *dst, const struct attn_problem *p,
                       enum attn_inputs kind, int which);
    /* Copies host memory in (inputs read from a file). */
    int (*copy_from_host)(struct backend *b, void *dst, const void *host, size_t bytes);
    /* Fills with 0xFF bytes: NaN in fp32, fp16 and bf16. */
    int (*poison)(struct backend *b, void *dst, size_t bytes);
    int (*copy_to_host)(struct backend *b, void *host, const void *src, size_t bytes);
    /* Evicts the device's last-level cache, so that the next run starts
     * cold (on the GPU: writes twice the L2's size; on the CPU: nothing). */
    int (*flush_cache)(struct backend *b, char *why, size_t why_len);
    /* Times one call of the method's run(): on the GPU, events on the
     * backend's stream around it. Returns 0 and the time in *ms, or a
     * non-zero error with a message. The rules of when to flush, how many
     * runs and what to keep are measure/timing.h's. */
    int (*time_run)(struct backend *b, const struct attn_method *m, void *state,
                    const struct attn_tensors *t, double *ms, char *why, size_t why_len);
    /* Runs the method `count` times back to back and waits: *seconds is the
     * wall time (the energy pass of timing.h). */
    int (*run_many)(struct backend *b, const struct attn_method *m, void *state,
                    const struct attn_tensors *t, int count, double *seconds, char *why,
                    size_t why_len);
    /* CUDA graphs (NULL where there are none): capture `replicas` forwards
     * into one graph; time one replay of it (events, *ms for all of them);
     * release it. One graph at a time. */
    int (*graph_capture)(struct backend *b, const struct attn_method *m, void *state,
                         const struct attn_tensors *t, int replicas, char *why, size_t why_len);
    int (*graph_replay)(struct backend *b, double *ms, char *why, size_t why_len);
    void (*graph_release)(struct backend *b);
    /* Waits for the queued work; reports an asynchronous error. */
    int (*sync)(struct backend *b, char *why, size_t why_len);
    void (*shutdown)(struct backend *b);
};

/* The backend for `kind`, or NULL when this build lacks it (no CUDA). */
struct backend *backend_get(enum attn_backend kind);

/* The CUDA devices this process may use, -1 when this build has no CUDA or
 * the driver cannot say. Asked once, in a child process, so that the
 * caller's process never creates a CUDA context (sweep points fork). */
int backend_cuda_device_count(void);

/* 1 when a CUDA GPU can be used now: backend_cuda_device_count() > 0. */
int backend_cuda_available(void);

#endif
