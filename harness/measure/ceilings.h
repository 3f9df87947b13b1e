/* ceilings.h — the best the current device does, measured on it: the roofs
 * of the roofline columns and figure, so that rows are compared with this
 * device's limits rather than datasheet figures (docs/measurement.md,
 * "Ceilings and the roofline").
 *
 *   attnbench ceilings [--backend cpu|cuda] [--out FILE]
 *                                      measures them and writes FILE
 *   attnbench run --profile --ceilings FILE
 *                                      reads them for intensity, roof_fraction
 *   attnbench plot ... --ceilings FILE the roofline's roofs
 *
 * Each ceiling is the best of several configurations (the ERT's rule: a
 * roof measured with one kernel is only that kernel's): the copy with
 * several kernels and cudaMemcpyAsync, the tensor-core peak with several
 * cuBLASLt algorithms and shapes; on the CPU, a streaming copy and FMA
 * chains at each vector width the CPU has.
 *
 * The file is a CSV, one row per ceiling:
 *   name,value,unit,status,device,driver,runtime,sm_clock_mhz,git_rev,timestamp,config
 * with the rows dram_copy_gbps, l2_read_gbps (GB/s, bytes read + written per
 * second), bf16_tensor_tflops, fp16_tensor_tflops, fp32_tflops (TFLOP/s) for
 * a GPU, and only dram_copy_gbps and fp32_tflops for a CPU (a device named
 * "cpu: ...", as backend_cpu.c describes it); status is `ok`, or
 * `error:<what failed>` with an empty value; config is the configuration
 * whose figure it is; the rest is the metadata a results row carries
 * (csv.h). Older files read: without config (`...,git_rev,timestamp`), and
 * without the status and runtime columns (`name,value,unit,device,driver,
 * timestamp,git_rev`, such as results/h100/ceilings.csv), as all `ok`.
 */
#ifndef HARNESS_CEILINGS_H
#define HARNESS_CEILINGS_H

#include <stddef.h>

#include "attn.h"

#ifdef __cplusplus
extern "C" {
#endif

struct device_info;

/* The ceilings, in the file's row order. */
enum ceiling_index {
    CEILING_DRAM_COPY, CEILING_L2_READ, CEILING_BF16_TENSOR, CEILING_FP16_TENSOR, CEILING_FP32,
    CEILINGS_COUNT,
};

struct ceilings {
    double dram_copy_gbps;      /* GPU: the best copy of 2 GiB to another buffer, of several
                                 * kernels and cudaMemcpyAsync; CPU: a streaming copy;
                                 * bytes read + written */
    double l2_read_gbps;        /* reads of a buffer a quarter of L2's size */
    double bf16_tensor_tflops;  /* the best cuBLASLt GEMM of a few algorithms and shapes,
                                 * bf16 in and out, fp32 accumulation */
    double fp16_tensor_tflops;  /* the same in fp16 */
    double fp32_tflops;         /* independent FMA chains, an FMA counted as 2 */
    char device[128];           /* the device they were measured on */
    /* Per ceiling, in row order: "ok", or "error:<what failed>" (its value
     * is then 0). "" reads as "ok": a ceiling given by hand. */
    char status[CEILINGS_COUNT][200];
    /* Per ceiling: the configuration whose figure it is, "" when not known
     * (a file from before the config column). */
    char config[CEILINGS_COUNT][128];
};

/* A ceiling's name in the file ("dram_copy_gbps" ... "fp32_tflops"), its
 * unit ("GB/s", "TFLOP/s"), and its field in `c`. */
const char *ceilings_name(enum ceiling_index i);
const char *ceilings_unit(enum ceiling_index i);
double *ceilings_value(struct ceilings *c, enum ceiling_index i);

/* Is `device` a CPU ("cpu: <model> (N threads)", backend_cpu.c)? And does
 * ceiling i belong to its file: every ceiling to a GPU's, only
 * dram_copy_gbps and fp32_tflops to a CPU's. */
int ceilings_device_is_cpu(const char *device);
int ceilings_apply(enum ceiling_index i, const char *device);

/* ---- measuring: the best of several configurations ------------------------- */

/* One configuration tried for a ceiling: its figure, or why it failed. */
struct ceiling_trial {
    enum ceiling_index ceiling;
    char config[104];
    double value;               /* in the ceiling's unit; 0 when it failed */
    char error[160];            /* "" when it ran */
};

/* Every configuration a measurement tried, in the order tried. */
enum { CEILINGS_MAX_TRIALS = 192 };
struct ceiling_trials {
    int count;
    struct ceiling_trial trial[CEILINGS_MAX_TRIALS];
};

/* Appends a trial to t; error NULL or "" when it ran. A trial past
 * CEILINGS_MAX_TRIALS is dropped (the measurements stay well under it). */
void ceilings_add_trial(struct ceiling_trials *t, enum ceiling_index i, const char *config,
                        double value, const char *error);

/* Sets each ceiling that has trials in t from them: the value and config of
 * the best that ran, with "(best of N)" when N > 1 ran (and how many
 * failed), status "ok"; or, when none ran, value 0 and status
 * "error:<the first one's error>". Ceilings without trials are left alone.
 * Returns how many ceilings had trials and none that ran. */
int ceilings_settle(struct ceilings *c, const struct ceiling_trials *t);

/* Measures every ceiling on the current CUDA device (ceilings.cu; CUDA
 * builds only), each configuration the median of timed repetitions after a
 * warm-up, into `trials` (emptied first) and, the best of each, into c. A
 * ceiling that fails gets its status and the others are still measured.
 * Leaves c->device alone. Returns how many failed (0: all ok). */
int ceilings_measure(struct ceilings *c, struct ceiling_trials *trials);

/* The same on the CPU (ceilings_cpu.c), with OpenMP's threads: a streaming
 * copy and the fp32 FMA peak, the ceilings that apply to a CPU. */
int ceilings_measure_cpu(struct ceilings *c, struct ceiling_trials *trials);

/* ---- the file --------------------------------------------------------------- */

/* Writes the file (replacing `path`): a row per ceiling that applies to
 * c->device, with its status, the metadata of `device` (driver, runtime, SM
 * clock), `git_rev`, the time now and its config. 0, or non-zero with a
 * message. */
int ceilings_write(const char *path, const struct ceilings *c, const struct device_info *device,
                   const char *git_rev, char *err, size_t err_len);

/* Reads a file that ceilings_write wrote (or an older one, without config
 * or status): every ceiling that applies to its device is required, once,
 * `ok`, in its unit, from one device. 0, or non-zero with "PATH: what". */
int ceilings_read(const char *path, struct ceilings *c, char *err, size_t err_len);

/* The compute roof for work in `dtype`: the tensor-core peak for bf16 and
 * fp16, the FFMA peak for fp32 (TFLOP/s); 0 where the file has none (bf16
 * and fp16 on a CPU). */
double ceilings_peak_tflops(const struct ceilings *c, enum attn_dtype dtype);

#ifdef __cplusplus
}
#endif

#endif
