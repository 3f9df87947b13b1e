/* ceilings.h — the best the current GPU does, measured on it: the roofs of
 * the roofline columns, so that rows are compared with this device's limits
 * rather than datasheet figures (docs/measurement.md, "Ceilings and the
 * roofline").
 *
 *   attnbench ceilings [--out FILE]    measures them and writes FILE
 *   attnbench run --profile --ceilings FILE
 *                                      reads them for intensity, roof_fraction
 *
 * The file is a CSV, one row per ceiling:
 *   name,value,unit,status,device,driver,runtime,sm_clock_mhz,git_rev,timestamp
 * with the rows dram_copy_gbps, l2_read_gbps (GB/s, bytes read + written per
 * second), bf16_tensor_tflops, fp16_tensor_tflops, fp32_tflops (TFLOP/s);
 * status is `ok`, or `error:<what failed>` with an empty value, and the rest
 * is the metadata a results row carries (csv.h). Files written before the
 * status and runtime columns (`name,value,unit,device,driver,timestamp,
 * git_rev`, such as results/h100/ceilings.csv) read as all `ok`.
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
    double dram_copy_gbps;      /* a device-to-device copy of 1 GiB, read + written */
    double l2_read_gbps;        /* reads of a buffer a quarter of L2's size */
    double bf16_tensor_tflops;  /* cuBLAS GEMM 8192^3, bf16 in and out, fp32 accumulation */
    double fp16_tensor_tflops;  /* the same in fp16 */
    double fp32_tflops;         /* independent FFMA chains, an FMA counted as 2 */
    char device[128];           /* the GPU they were measured on */
    /* Per ceiling, in row order: "ok", or "error:<what failed>" (its value
     * is then 0). "" reads as "ok": a ceiling given by hand. */
    char status[CEILINGS_COUNT][200];
};

/* A ceiling's name in the file ("dram_copy_gbps" ... "fp32_tflops"), its
 * unit ("GB/s", "TFLOP/s"), and its field in `c`. */
const char *ceilings_name(enum ceiling_index i);
const char *ceilings_unit(enum ceiling_index i);
double *ceilings_value(struct ceilings *c, enum ceiling_index i);

/* Measures every ceiling on the current CUDA device (ceilings.cu; CUDA
 * builds only); each figure is the median of timed repetitions after a
 * warm-up. A ceiling that fails gets its status and the others are still
 * measured. Leaves c->device alone. Returns how many failed (0: all ok). */
int ceilings_measure(struct ceilings *c);

/* Writes the file (replacing `path`): a row per ceiling, with its status
 * and the metadata of `device` (name, driver, runtime, SM clock), `git_rev`
 * and the time now. 0, or non-zero with a message. */
int ceilings_write(const char *path, const struct ceilings *c, const struct device_info *device,
                   const char *git_rev, char *err, size_t err_len);

/* Reads a file that ceilings_write wrote (or an older one, without status):
 * every ceiling is required, once, `ok`, in its unit, from one device. 0,
 * or non-zero with "PATH: what". */
int ceilings_read(const char *path, struct ceilings *c, char *err, size_t err_len);

/* The compute roof for work in `dtype`: the tensor-core peak for bf16 and
 * fp16, the FFMA peak for fp32 (TFLOP/s). */
double ceilings_peak_tflops(const struct ceilings *c, enum attn_dtype dtype);

#ifdef __cplusplus
}
#endif

#endif
