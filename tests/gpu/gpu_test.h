/* gpu_test.h — what the GPU tests share: opening the CUDA backend (a test
 * without a GPU is skipped, exit 77) and the small mode of the
 * compute-sanitizer setups.
 *
 * `meson test -C build --setup memcheck --suite gpu` (also racecheck,
 * initcheck, synccheck: tests/gpu/meson.build) runs every GPU test under
 * that compute-sanitizer tool with ATTNBENCH_GPU_TEST_SANITIZER set: the
 * tests then take their small shapes (a sanitized kernel runs 10-100x
 * slower), and the tests of timing and of hardware counters, which a
 * sanitizer would only disturb (CUPTI and compute-sanitizer do not share a
 * process), skip. */
#ifndef TESTS_GPU_TEST_H
#define TESTS_GPU_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "attn/attn.h"
#include "measure/backend.h"

/* The initialized CUDA backend, its description in *info and a line on
 * stdout naming the device; or NULL after a line saying why, with the exit
 * status in *exit_status: 77 without a CUDA device, 1 when it cannot be
 * initialized. */
struct backend *gpu_test_open(struct device_info *info, int *exit_status);

/* A seed of this run's own (the time), printed so that a failure can be
 * replayed with it; it also seeds gpu_test_uniform. */
uint64_t gpu_test_seed(void);

/* The next number of a xorshift generator seeded by gpu_test_seed, uniform
 * on [-1, 1): the host-side inputs of the kernel tests. */
double gpu_test_uniform(void);

/* 1 under one of the compute-sanitizer setups. */
int gpu_test_sanitized(void);

/* The test's tally. gpu_test_verdict prints one check's line, "ok WHAT" or "FAIL WHAT", then
 * ": WHY" where WHY is given and not empty, and counts the check; gpu_test_summary prints
 * "N passed, N failed" and `suffix` for the checks so far and returns the exit status they
 * call for: 1 when one failed, else 0. */
void gpu_test_verdict(int ok, const char *what, const char *why);
int gpu_test_summary(const char *suffix);

/* Device memory of `bytes` holding a copy of `host` (NULL: left as it is); NULL when
 * allocating or copying fails. */
void *gpu_test_to_device(const void *host, size_t bytes);
/* n values of gpu_test_uniform stored as `dtype` (bf16 or fp16): the stored bits, and their
 * values as float. */
void gpu_test_random_16bit(enum attn_dtype dtype, size_t n, uint16_t *bits, float *values);
/* Whether picked[0..k) is a valid top k of scores[0..n) (double): indices in range and
 * distinct, best first, each within eps = 2^-14 of the largest |score| of the k-th best; why
 * says what is not. sorted: room for n doubles. */
int gpu_test_valid_top(const double *scores, int64_t n, const int32_t *picked, int64_t k,
                       double *sorted, char *why, size_t why_len);
/* Whether `list` (a test's --methods or --gathers: comma-separated NAME or NAME:VARIANT
 * entries; NULL: all) takes `name` with `variant` (NULL: any variant of it). Lets a
 * sanitizer run split one test over several processes. */
int gpu_test_listed(const char *list, const char *name, const char *variant);

#endif
