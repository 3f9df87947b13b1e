/* test_profiler.cu — the hardware counters (harness/measure/profiler.cu) against
 * work whose size is known, and the ceilings (harness/measure/ceilings.cu):
 *
 *   copy_bytes, 256 MiB        dram__bytes_read and _write within 5% of 256 MiB
 *   cuBLAS GEMM 4096^3 bf16    the bf16 tensor FLOP counter within 5% of 2·M·N·K
 *                              (and the fp16 one near 0); fp16 likewise; its
 *                              kernels named (cuBLAS's own launches)
 *   ffma_count                 fp32 FLOPs within 5% of the FMAs it does, times 2
 *   steps                      kernels carry the attn_step_begin() open at
 *                              their launch, and their names
 *   600 launches in one run    more than the first capacity: every one counted
 *   ceilings                   measured, in a plausible range, each the best
 *                              of its configurations: the copy at least
 *                              cudaMemcpyAsync's figure and the first
 *                              kernel's, the tensor peaks at least cuBLAS's
 *                              default GEMM's; and measured where the
 *                              counters cannot be read
 *   costs                      where CUPTI's time went (printed, not checked)
 *   launch names               the kernels column's list: 600 launches of one
 *                              kernel counted, two kernels in launch order,
 *                              and a failing run reported as the run's failure
 *
 * Exits 77 (skipped) without a GPU, or, the ceilings checked, where the
 * counters cannot be read (the reason is printed); 1 on a failed check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "attn/attn_nvtx.h"
#include "measure/ceilings.h"
#include "measure/profiler.h"

static int failures;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            printf(__VA_ARGS__);                                                          \
            printf("\n");                                                                 \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

#define CUDA_OK(call)                                                                     \
    do {                                                                                  \
        cudaError_t e_ = (call);                                                          \
        if (e_ != cudaSuccess) {                                                          \
            printf("FAIL %s: %s\n", #call, cudaGetErrorString(e_));                       \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

enum { COPY_INTS = 1 << 26, GEMM_N = 4096, FFMA_THREADS = 132 * 256, FFMA_ITERS = 1000,
       MANY = 600 };

// src, dst: [n] int
__global__ void copy_bytes(const int *src, int *dst, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = src[i];
}

// out: [threads]. Exactly 4 * iters FFMA per thread.
__global__ void ffma_count(float *out, int iters)
{
    float a = threadIdx.x, b = 1.0f, c = 2.0f, d = 3.0f;
    for (int i = 0; i < iters; i++) {
        a = fmaf(a, 0.999f, 0.5f);
        b = fmaf(b, 0.999f, 0.5f);
        c = fmaf(c, 0.999f, 0.5f);
        d = fmaf(d, 0.999f, 0.5f);
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = a + b + c + d;
}

__global__ void tiny(int *x) { x[threadIdx.x] += 1; }

template <typename T> __global__ void fill(T *x, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = (T)((float)((i * 2654435761u) % 1000) / 500.0f - 1.0f);
}

struct buffers {
    int *src, *dst, *small;
    void *a, *b, *c;
    float *ffma;
    cublasHandle_t blas;
};

static int sync_or_say(char *why, size_t why_len)
{
    cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) e = cudaGetLastError();
    if (e != cudaSuccess) snprintf(why, why_len, "%s", cudaGetErrorString(e));
    return (int)e;
}

static int run_copy(void *ctx, char *why, size_t why_len)
{
    struct buffers *b = (struct buffers *)ctx;
    attn_step_begin("copy");
    copy_bytes<<<COPY_INTS / 256, 256>>>(b->src, b->dst, COPY_INTS);
    attn_step_end();
    ffma_count<<<FFMA_THREADS / 256, 256>>>(b->ffma, FFMA_ITERS); /* outside every step */
    return sync_or_say(why, why_len);
}

static cudaDataType_t gemm_type;

static int run_gemm(void *ctx, char *why, size_t why_len)
{
    struct buffers *b = (struct buffers *)ctx;
    const float one = 1, zero = 0;
    attn_step_begin("gemm");
    cublasStatus_t s = cublasGemmEx(b->blas, CUBLAS_OP_N, CUBLAS_OP_N, GEMM_N, GEMM_N, GEMM_N,
                                    &one, b->a, gemm_type, GEMM_N, b->b, gemm_type, GEMM_N,
                                    &zero, b->c, gemm_type, GEMM_N, CUBLAS_COMPUTE_32F,
                                    CUBLAS_GEMM_DEFAULT);
    attn_step_end();
    if (s != CUBLAS_STATUS_SUCCESS) {
        snprintf(why, why_len, "cublasGemmEx: %s", cublasGetStatusName(s));
        return (int)s;
    }
    return sync_or_say(why, why_len);
}

static int run_many(void *ctx, char *why, size_t why_len)
{
    struct buffers *b = (struct buffers *)ctx;
    attn_step_begin("many");
    /* A memset is no kernel launch of ours: it must not shift the steps. */
    cudaError_t e = cudaMemsetAsync(b->small, 0, 32 * sizeof(int));
    if (e != cudaSuccess) {
        snprintf(why, why_len, "cudaMemsetAsync: %s", cudaGetErrorString(e));
        return (int)e;
    }
    for (int i = 0; i < MANY; i++) tiny<<<1, 32>>>(b->small);
    attn_step_end();
    return sync_or_say(why, why_len);
}

static void print_kernels(const char *what, const struct profiler_result *r)
{
    printf("%s: %d kernels%s%s\n", what, r->count, r->note[0] ? "; note: " : "", r->note);
    for (int i = 0; i < r->count && i < 6; i++) {
        const struct profiler_kernel *k = &r->kernels[i];
        printf("  [%d] %-40.40s step=%-5s dram r/w %.4g/%.4g MB  l2 %.4g MB  %.4g ms  "
               "tensor fp16 %.4g bf16 %.4g  fp32 %.4g\n",
               i, k->name, k->step, k->dram_read_bytes / 1e6, k->dram_write_bytes / 1e6,
               k->l2_bytes / 1e6, k->ms, k->tensor_fp16_flops, k->tensor_bf16_flops,
               k->fp32_flops);
    }
}

static int near(double got, double want) { return fabs(got - want) <= 0.05 * want; }

static void check_copy(const struct profiler_result *r)
{
    const double bytes = 4.0 * COPY_INTS;
    print_kernels("copy", r);
    CHECK(r->count == 2, "%d kernels", r->count);
    if (r->count != 2) return;
    const struct profiler_kernel *copy = &r->kernels[0], *ffma = &r->kernels[1];
    CHECK(near(copy->dram_read_bytes, bytes), "read %.6g of %.6g", copy->dram_read_bytes, bytes);
    CHECK(near(copy->dram_write_bytes, bytes), "written %.6g of %.6g", copy->dram_write_bytes,
          bytes);
    CHECK(!strcmp(copy->name, "copy_bytes"), "name '%s'", copy->name);
    CHECK(!strcmp(copy->step, "copy"), "step '%s'", copy->step);
    CHECK(!strcmp(ffma->name, "ffma_count"), "name '%s'", ffma->name);
    CHECK(!strcmp(ffma->step, ""), "step '%s' outside every step", ffma->step);
    const double fp32 = 2.0 * 4 * FFMA_ITERS * FFMA_THREADS;
    CHECK(near(ffma->fp32_flops, fp32), "fp32 %.6g of %.6g", ffma->fp32_flops, fp32);
    CHECK(copy->ms > 0 && copy->l2_bytes >= bytes, "ms %g, l2 %g", copy->ms, copy->l2_bytes);
}

static void check_gemm(const struct profiler_result *r, int bf16)
{
    const double flops = 2.0 * GEMM_N * GEMM_N * GEMM_N;
    print_kernels(bf16 ? "gemm bf16" : "gemm fp16", r);
    double mine = 0, other = 0;
    for (int i = 0; i < r->count; i++) {
        const struct profiler_kernel *k = &r->kernels[i];
        mine += bf16 ? k->tensor_bf16_flops : k->tensor_fp16_flops;
        other += bf16 ? k->tensor_fp16_flops : k->tensor_bf16_flops;
        CHECK(!strcmp(k->step, "gemm"), "kernel %s in step '%s'", k->name, k->step);
    }
    CHECK(r->count >= 1, "no kernels");
    /* Unnamed, a kernel keeps its range's name: its index. */
    for (int i = 0; i < r->count; i++)
        CHECK(r->kernels[i].name[0] && strspn(r->kernels[i].name, "0123456789") <
                                           strlen(r->kernels[i].name),
              "kernel %d has no name ('%s')", i, r->kernels[i].name);
    CHECK(near(mine, flops), "%s tensor FLOPs %.6g of %.6g", bf16 ? "bf16" : "fp16", mine, flops);
    CHECK(other < 0.01 * flops, "the other dtype's counter reads %.6g", other);
}

static void check_many(const struct profiler_result *r)
{
    printf("many: %d kernels%s%s\n", r->count, r->note[0] ? "; note: " : "", r->note);
    CHECK(r->count == MANY, "%d of %d launches", r->count, MANY);
    int in_step = 0;
    for (int i = 0; i < r->count; i++) in_step += !strcmp(r->kernels[i].step, "many");
    CHECK(in_step == r->count, "%d of %d in step 'many'", in_step, r->count);
}

/* The figure of the trial of ceiling i whose config begins with `config`;
 * 0 when there is none or it failed. */
static double trial_value(const struct ceiling_trials *t, enum ceiling_index i, const char *config)
{
    for (int k = 0; k < t->count; k++)
        if (t->trial[k].ceiling == i && !strncmp(t->trial[k].config, config, strlen(config)))
            return t->trial[k].error[0] ? 0 : t->trial[k].value;
    return 0;
}

static void check_ceilings(void)
{
    static struct ceilings c;
    static struct ceiling_trials t;
    int failed = ceilings_measure(&c, &t);
    CHECK(failed == 0, "ceilings_measure: %d failed", failed);
    int copies = 0, gemms = 0;
    for (int k = 0; k < t.count; k++) {
        const struct ceiling_trial *r = &t.trial[k];
        CHECK(!r->error[0], "%s, %s: %s", ceilings_name(r->ceiling), r->config, r->error);
        copies += r->ceiling == CEILING_DRAM_COPY;
        gemms += r->ceiling == CEILING_BF16_TENSOR;
    }
    printf("ceilings: %d trials, %d of the copy, %d of the bf16 GEMM\n", t.count, copies, gemms);
    for (int i = 0; i < CEILINGS_COUNT; i++)
        printf("  %-19s %s\n", ceilings_name((enum ceiling_index)i), c.config[i]);
    CHECK(copies >= 20 && gemms >= 5, "%d copy and %d GEMM configurations", copies, gemms);
    /* The best of its configurations, cudaMemcpyAsync's among them. */
    const double memcpy_gbps = trial_value(&t, CEILING_DRAM_COPY, "cudaMemcpyAsync");
    const double kernel_gbps = trial_value(&t, CEILING_DRAM_COPY, "copy 16 B x1 per thread, plain");
    printf("copy: cudaMemcpyAsync %.1f GB/s, the plainest kernel %.1f GB/s, the best %.1f GB/s\n",
           memcpy_gbps, kernel_gbps, c.dram_copy_gbps);
    CHECK(memcpy_gbps > 0 && c.dram_copy_gbps >= memcpy_gbps, "dram %g under cudaMemcpyAsync %g",
          c.dram_copy_gbps, memcpy_gbps);
    CHECK(kernel_gbps > 0 && c.dram_copy_gbps >= kernel_gbps, "dram %g under a kernel's %g",
          c.dram_copy_gbps, kernel_gbps);
    const double gemm_ex = trial_value(&t, CEILING_BF16_TENSOR, "cublasGemmEx");
    CHECK(gemm_ex > 0 && c.bf16_tensor_tflops >= gemm_ex, "bf16 %g under cublasGemmEx's %g",
          c.bf16_tensor_tflops, gemm_ex);
    CHECK(strstr(c.config[CEILING_DRAM_COPY], "(best of ") != NULL, "copy config '%s'",
          c.config[CEILING_DRAM_COPY]);
    for (int i = 0; i < CEILINGS_COUNT; i++)
        CHECK(!strcmp(c.status[i], "ok"), "%s: %s", ceilings_name((enum ceiling_index)i),
              c.status[i]);
    printf("ceilings: dram copy %.1f GB/s, l2 read %.1f GB/s, bf16 %.1f, fp16 %.1f, fp32 %.2f "
           "TFLOP/s\n", c.dram_copy_gbps, c.l2_read_gbps, c.bf16_tensor_tflops,
           c.fp16_tensor_tflops, c.fp32_tflops);
    /* Wide bounds: any GPU this runs on, from a laptop's to a B200. */
    CHECK(c.dram_copy_gbps > 100 && c.dram_copy_gbps < 20000, "dram %g", c.dram_copy_gbps);
    CHECK(c.l2_read_gbps > c.dram_copy_gbps, "l2 %g under dram %g", c.l2_read_gbps,
          c.dram_copy_gbps);
    CHECK(c.bf16_tensor_tflops > 10 && c.bf16_tensor_tflops < 5000, "bf16 %g",
          c.bf16_tensor_tflops);
    CHECK(c.fp16_tensor_tflops > 10 && c.fp16_tensor_tflops < 5000, "fp16 %g",
          c.fp16_tensor_tflops);
    CHECK(c.fp32_tflops > 1 && c.fp32_tflops < c.bf16_tensor_tflops, "fp32 %g", c.fp32_tflops);
}

static int run_failing(void *, char *why, size_t why_len)
{
    snprintf(why, why_len, "planted failure");
    return 1;
}

/* profiler_launch_names: the kernels of a run in launch order, repeats
 * counted, with no profiling session open; a failing run said as such. */
static int check_launch_names(struct buffers *b)
{
    char names[1024], why[256];
    int run_failed = -1;
    int rc = profiler_launch_names(run_many, b, names, sizeof names, &run_failed, why, sizeof why);
    CHECK(rc == 0 && !run_failed, "many: %s", why);
    char want[64];
    snprintf(want, sizeof want, "tiny x%d", MANY);
    CHECK(!rc && strcmp(names, want) == 0, "many: '%s', want '%s'", names, want);
    CUDA_OK(cudaMalloc(&b->src, 4 * (size_t)COPY_INTS));
    CUDA_OK(cudaMalloc(&b->dst, 4 * (size_t)COPY_INTS));
    rc = profiler_launch_names(run_copy, b, names, sizeof names, &run_failed, why, sizeof why);
    CHECK(rc == 0 && strcmp(names, "copy_bytes; ffma_count") == 0, "copy: '%s' (%s)", names,
          rc ? why : "");
    printf("  %s\n", names);
    CUDA_OK(cudaFree(b->src));
    CUDA_OK(cudaFree(b->dst));
    rc = profiler_launch_names(run_failing, b, names, sizeof names, &run_failed, why, sizeof why);
    CHECK(rc != 0 && run_failed && strcmp(why, "planted failure") == 0 && !names[0],
          "failing run: rc %d run_failed %d why '%s'", rc, run_failed, why);
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* every line out before a crash, even into a pipe */
    if (getenv("ATTNBENCH_GPU_TEST_SANITIZER")) { /* tests/gpu/gpu_test.h */
        printf("under compute-sanitizer: CUPTI and compute-sanitizer do not share a process; "
               "skipped\n");
        return 77;
    }
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count < 1) {
        printf("no CUDA device: skipped\n");
        return 77;
    }
    struct buffers b;
    memset(&b, 0, sizeof b);
    const size_t gemm_elems = (size_t)GEMM_N * GEMM_N;
    CUDA_OK(cudaMalloc(&b.src, 4 * (size_t)COPY_INTS));
    CUDA_OK(cudaMalloc(&b.dst, 4 * (size_t)COPY_INTS));
    CUDA_OK(cudaMalloc(&b.small, 32 * sizeof(int)));
    CUDA_OK(cudaMalloc(&b.ffma, FFMA_THREADS * sizeof(float)));
    CUDA_OK(cudaMemset(b.src, 1, 4 * (size_t)COPY_INTS));
    CUDA_OK(cudaMemset(b.small, 0, 32 * sizeof(int)));
    char why[256];
    if (profiler_open(why, sizeof why) != 0) {
        printf("counters unavailable: %s: their checks skipped\n", why);
        CUDA_OK(cudaFree(b.src));
        CUDA_OK(cudaFree(b.dst));
        printf("measuring the ceilings\n");
        check_ceilings();
        printf("%s\n", failures ? "FAILED" : "ceilings passed; counters skipped");
        return failures ? 1 : 77;
    }
    printf("profiling a copy and an FFMA kernel\n");
    struct profiler_result r;
    int rc = profiler_measure(run_copy, &b, &r, why, sizeof why);
    CHECK(rc == 0, "copy: %s", why);
    if (!rc) check_copy(&r);
    profiler_result_free(&r);

    /* The copy's buffers go first: kernel replay saves what kernels may write. */
    CUDA_OK(cudaFree(b.src));
    CUDA_OK(cudaFree(b.dst));
    CUDA_OK(cudaMalloc(&b.a, 2 * gemm_elems));
    CUDA_OK(cudaMalloc(&b.b, 2 * gemm_elems));
    CUDA_OK(cudaMalloc(&b.c, 2 * gemm_elems));
    if (cublasCreate(&b.blas) != CUBLAS_STATUS_SUCCESS) {
        printf("FAIL cublasCreate\n");
        return 1;
    }
    for (int bf16 = 1; bf16 >= 0; bf16--) {
        gemm_type = bf16 ? CUDA_R_16BF : CUDA_R_16F;
        const unsigned blocks = (unsigned)((gemm_elems + 255) / 256);
        void *inputs[2] = {b.a, b.b};
        for (int i = 0; i < 2; i++) {
            if (bf16) fill<<<blocks, 256>>>((__nv_bfloat16 *)inputs[i], gemm_elems);
            else fill<<<blocks, 256>>>((__half *)inputs[i], gemm_elems);
        }
        CUDA_OK(cudaDeviceSynchronize());
        printf("profiling a cuBLAS GEMM in %s\n", bf16 ? "bf16" : "fp16");
        rc = profiler_measure(run_gemm, &b, &r, why, sizeof why);
        CHECK(rc == 0, "gemm: %s", why);
        if (!rc) check_gemm(&r, bf16);
        profiler_result_free(&r);
    }
    cublasDestroy(b.blas);
    CUDA_OK(cudaFree(b.a));
    CUDA_OK(cudaFree(b.b));
    CUDA_OK(cudaFree(b.c));

    printf("profiling %d launches\n", MANY);
    rc = profiler_measure(run_many, &b, &r, why, sizeof why);
    CHECK(rc == 0, "many: %s", why);
    if (!rc) check_many(&r);
    profiler_result_free(&r);
    char costs[512];
    profiler_costs(costs, sizeof costs);
    printf("CUPTI %s\n", costs);
    profiler_close();

    printf("naming the kernels of a run (the kernels column)\n");
    if (check_launch_names(&b) != 0) return 1;

    printf("measuring the ceilings\n");
    check_ceilings();
    printf("%s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
