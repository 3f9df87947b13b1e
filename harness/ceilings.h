/* ceilings.h — the best the current GPU does, measured on it: the roofs of
 * the roofline columns (METHOD.md: "measure the two ceilings once on the
 * device machine ... and use those", not datasheet figures).
 *
 *   attnbench ceilings [--out FILE]    measures them and writes FILE
 *   attnbench run --profile --ceilings FILE
 *                                      reads them for intensity, roof_fraction
 *
 * The file is a CSV, one row per ceiling:
 *   name,value,unit,device,driver,timestamp,git_rev
 * with the rows dram_copy_gbps, l2_read_gbps (GB/s, bytes read + written per
 * second), bf16_tensor_tflops, fp16_tensor_tflops, fp32_tflops (TFLOP/s).
 */
#ifndef HARNESS_CEILINGS_H
#define HARNESS_CEILINGS_H

#include <stddef.h>

#include "attn.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ceilings {
    double dram_copy_gbps;      /* a device-to-device copy of 1 GiB, read + written */
    double l2_read_gbps;        /* reads of a buffer a quarter of L2's size */
    double bf16_tensor_tflops;  /* cuBLAS GEMM 8192^3, bf16 in and out, fp32 accumulation */
    double fp16_tensor_tflops;  /* the same in fp16 */
    double fp32_tflops;         /* independent FFMA chains, an FMA counted as 2 */
    char device[128];           /* the GPU they were measured on */
};

/* Measures every ceiling on the current CUDA device (ceilings.cu; CUDA
 * builds only); each figure is the median of timed repetitions after a
 * warm-up. Leaves c->device alone. 0, or non-zero with the call that failed
 * in `why`. */
int ceilings_measure(struct ceilings *c, char *why, size_t why_len);

/* Writes the file (replacing `path`). 0, or non-zero with a message. */
int ceilings_write(const char *path, const struct ceilings *c, const char *driver,
                   const char *git_rev, char *err, size_t err_len);

/* Reads a file that ceilings_write wrote: every ceiling is required, once,
 * in its unit, from one device. 0, or non-zero with "PATH: what". */
int ceilings_read(const char *path, struct ceilings *c, char *err, size_t err_len);

/* The compute roof for work in `dtype`: the tensor-core peak for bf16 and
 * fp16, the FFMA peak for fp32 (TFLOP/s). */
double ceilings_peak_tflops(const struct ceilings *c, enum attn_dtype dtype);

#ifdef __cplusplus
}
#endif

#endif
