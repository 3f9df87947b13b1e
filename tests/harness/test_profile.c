/* test_profile.c — what `run --profile` computes without a GPU
 * (harness/measure/profile.c, harness/measure/ceilings_file.c): the ceilings file written
 * with its status, metadata and config and read back, older files without
 * them read (the committed results/h100/ceilings.csv among them), a ceiling
 * that was not measured or a malformed file refused; a CPU's file of its two
 * ceilings; a ceiling as the best of its trials; the roofline columns under
 * compute and memory roofs, and the notes where a roof is missing; the
 * per-step file; the CPU backend's note. The counters themselves are
 * tests/gpu/test_profiler.cu's. */
#include "measure/profile.h"
#include "results/steps_csv.h"

#include <math.h>

#include "measure/backend.h"
#include "config.h"
#include "test_util.h"

static const struct ceilings h100 = {
    .dram_copy_gbps = 3000, .l2_read_gbps = 6000, .bf16_tensor_tflops = 800,
    .fp16_tensor_tflops = 780, .fp32_tflops = 60, .device = "NVIDIA H100 80GB HBM3",
    .config = {[CEILING_DRAM_COPY] = "cudaMemcpyAsync device to device (best of 73)",
               [CEILING_BF16_TENSOR] = "cublasLt 16384x8192x8192 TN, heuristic's #2 (algo 66)"},
};

#define CHECK_NEAR(got, want) CHECK(fabs((got) - (double)(want)) <= 1e-9 * fabs((double)(want)))

static const struct device_info h100_info = {
    .name = "NVIDIA H100 80GB HBM3", .driver = "13.0", .runtime = "13.0", .sm_clock_mhz = 1980,
};

/* A ceilings file as an older attnbench wrote it: the header
 * name,value,unit,`columns`, then a row per ceiling, `values[i]`, its unit,
 * and `rest`. */
static void write_ceilings_rows(const char *path, const char *columns, const double *values,
                                const char *rest)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "name,value,unit,%s\n", columns);
    for (int i = 0; i < CEILINGS_COUNT; i++)
        fprintf(f, "%s,%.9g,%s,%s\n", ceilings_name((enum ceiling_index)i), values[i],
                ceilings_unit((enum ceiling_index)i), rest);
    CHECK(fclose(f) == 0);
}

/* The file as written: a row per ceiling, with its status and metadata. */
static void test_ceilings_columns(const char *dir)
{
    char path[1024], err[1024];
    static struct ceilings failed;
    failed = h100;
    snprintf(failed.status[CEILING_DRAM_COPY], sizeof failed.status[0], "ok");
    snprintf(failed.status[CEILING_FP16_TENSOR], sizeof failed.status[0],
             "error:cublasGemmEx: CUBLAS_STATUS_NOT_SUPPORTED");
    scratch_path(path, sizeof path, dir, "failed.csv");
    CHECK(ceilings_write(path, &failed, &h100_info, "0123abc", err, sizeof err) == 0);
    struct csv_table t;
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    static const char *const columns[] = {"name", "value", "unit", "status", "device", "driver",
                                          "runtime", "sm_clock_mhz", "git_rev", "timestamp",
                                          "config"};
    CHECK(t.ncols == 11 && t.nrows == CEILINGS_COUNT);
    if (t.ncols == 11 && t.nrows == CEILINGS_COUNT) {
        for (int c = 0; c < 11; c++) CHECK_STR(t.header[c], columns[c]);
        for (int r = 0; r < CEILINGS_COUNT; r++) {
            CHECK_STR(t.rows[r][0], ceilings_name((enum ceiling_index)r));
            CHECK_STR(t.rows[r][2], ceilings_unit((enum ceiling_index)r));
            CHECK_STR(t.rows[r][4], "NVIDIA H100 80GB HBM3");
            CHECK_STR(t.rows[r][5], "13.0");
            CHECK_STR(t.rows[r][6], "13.0");
            CHECK_STR(t.rows[r][7], "1980");
            CHECK_STR(t.rows[r][8], "0123abc");
            CHECK(strlen(t.rows[r][9]) == 20 && t.rows[r][9][19] == 'Z'); /* ISO 8601, UTC */
        }
        CHECK_STR(t.rows[CEILING_DRAM_COPY][1], "3000");
        CHECK_STR(t.rows[CEILING_DRAM_COPY][3], "ok");
        CHECK_STR(t.rows[CEILING_L2_READ][3], "ok"); /* no status given: ok */
        CHECK_STR(t.rows[CEILING_FP16_TENSOR][1], ""); /* no figure where it failed */
        CHECK_STR(t.rows[CEILING_FP16_TENSOR][3], "error:cublasGemmEx: CUBLAS_STATUS_NOT_SUPPORTED");
        CHECK_STR(t.rows[CEILING_DRAM_COPY][10], "cudaMemcpyAsync device to device (best of 73)");
        CHECK_STR(t.rows[CEILING_L2_READ][10], "");
    }
    csv_table_free(&t);
    /* `run --ceilings` needs every ceiling: the one that failed is named. */
    struct ceilings back;
    CHECK(ceilings_read(path, &back, err, sizeof err) != 0);
    CHECK_CONTAINS(err, ":5: fp16_tensor_tflops was not measured (error:cublasGemmEx: "
                        "CUBLAS_STATUS_NOT_SUPPORTED)");

    /* A file written before the status column (harness/measure/ceilings.h). */
    scratch_path(path, sizeof path, dir, "old.csv");
    static const double old_values[CEILINGS_COUNT] = {2941.95, 7061.59, 757.724, 747.203, 61.7136};
    write_ceilings_rows(path, "device,driver,timestamp,git_rev", old_values,
                        "NVIDIA H100 80GB HBM3,13.0,2026-11-22T07:21:02Z,25ccf094005c");
    CHECK(ceilings_read(path, &back, err, sizeof err) == 0);
    CHECK_NEAR(back.dram_copy_gbps, 2941.95);
    CHECK_NEAR(back.fp32_tflops, 61.7136);
    CHECK_STR(back.device, "NVIDIA H100 80GB HBM3");
    CHECK_STR(back.config[CEILING_DRAM_COPY], "");
    /* One with status and without config (attnbench before the config column). */
    static const double h200_values[CEILINGS_COUNT] = {4047.2, 9000, 790, 780, 60};
    write_ceilings_rows(path, "status,device,driver,runtime,sm_clock_mhz,git_rev,timestamp",
                        h200_values, "ok,NVIDIA H200,13.0,13.0,1980,0a59d49,2026-12-04T07:00:00Z");
    CHECK(ceilings_read(path, &back, err, sizeof err) == 0);
    CHECK_NEAR(back.dram_copy_gbps, 4047.2);
    CHECK_STR(back.config[CEILING_DRAM_COPY], "");
    /* And the one committed, as the README's plot command reads it. */
    CHECK(ceilings_read(ATTN_SOURCE_DIR "/results/h100/ceilings.csv", &back, err, sizeof err) ==
          0);
    CHECK(back.dram_copy_gbps > 0 && back.bf16_tensor_tflops > 0);
}

static void test_ceilings_file(const char *dir)
{
    char path[1024], err[1024];
    struct ceilings back;
    scratch_path(path, sizeof path, dir, "ceilings.csv");
    CHECK(ceilings_write(path, &h100, &h100_info, "0123abc", err, sizeof err) == 0);
    CHECK(ceilings_read(path, &back, err, sizeof err) == 0);
    CHECK_NEAR(back.dram_copy_gbps, 3000);
    CHECK_NEAR(back.l2_read_gbps, 6000);
    CHECK_NEAR(back.bf16_tensor_tflops, 800);
    CHECK_NEAR(back.fp16_tensor_tflops, 780);
    CHECK_NEAR(back.fp32_tflops, 60);
    CHECK_STR(back.device, h100.device);
    for (int i = 0; i < CEILINGS_COUNT; i++) CHECK_STR(back.config[i], h100.config[i]);
    CHECK_NEAR(ceilings_peak_tflops(&back, ATTN_BF16), 800);
    CHECK_NEAR(ceilings_peak_tflops(&back, ATTN_FP16), 780);
    CHECK_NEAR(ceilings_peak_tflops(&back, ATTN_FP32), 60);

    static const struct {
        const char *text, *message;
    } bad[] = {
        {"name,value,unit,device\ndram_copy_gbps,3000,GB/s,g\n", "no l2_read_gbps row"},
        {"name,value\n", "not a ceilings file"},
        {"name,value,unit,device\ndram_copy_gbps,3000,GB/s,g\ndram_copy_gbps,1,GB/s,g\n",
         ":3: dram_copy_gbps is given twice"},
        {"name,value,unit,device\ndram_copy_gbps,3,TB/s,g\n", ":2: dram_copy_gbps is in 'TB/s'"},
        {"name,value,unit,device\nfp32_tflops,fast,TFLOP/s,g\n", "fp32_tflops = 'fast'"},
        {"name,value,unit,device\nfp32_tflops,-1,TFLOP/s,g\n", "need a number > 0"},
        {"name,value,unit,device\nfp32_tflops,60,TFLOP/s,a\nl2_read_gbps,9,GB/s,b\n",
         ":3: measured on 'b', the rows above on 'a'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scratch_write(path, bad[i].text);
        err[0] = '\0';
        CHECK(ceilings_read(path, &back, err, sizeof err) != 0);
        CHECK_CONTAINS(err, path);
        CHECK_CONTAINS(err, bad[i].message);
    }
    CHECK(ceilings_read(scratch_path(path, sizeof path, dir, "absent.csv"), &back, err,
                        sizeof err) != 0);
}

/* A CPU's file (attnbench ceilings --backend cpu): its two ceilings only,
 * written and read back; a CPU's file with a GPU's ceiling refused. */
static void test_cpu_ceilings_file(const char *dir)
{
    char path[1024], err[1024];
    static struct ceilings cpu, back;
    const struct device_info info = {.name = "cpu: AMD EPYC (2 threads)"};
    cpu = (struct ceilings){.dram_copy_gbps = 41.5, .fp32_tflops = 0.234,
                            .device = "cpu: AMD EPYC (2 threads)",
                            .status = {[CEILING_DRAM_COPY] = "ok", [CEILING_FP32] = "ok"},
                            .config = {[CEILING_FP32] = "fp32 FMA chains, AVX-512 (best of 3)"}};
    CHECK(ceilings_device_is_cpu(cpu.device) && !ceilings_device_is_cpu(h100.device));
    CHECK(ceilings_apply(CEILING_FP32, cpu.device) && !ceilings_apply(CEILING_L2_READ, cpu.device));
    CHECK(ceilings_apply(CEILING_L2_READ, h100.device));
    scratch_path(path, sizeof path, dir, "cpu.csv");
    CHECK(ceilings_write(path, &cpu, &info, "0123abc", err, sizeof err) == 0);
    struct csv_table t;
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(t.nrows == 2);
    if (t.nrows == 2) {
        CHECK_STR(t.rows[0][0], "dram_copy_gbps");
        CHECK_STR(t.rows[1][0], "fp32_tflops");
        CHECK_STR(t.rows[1][4], "cpu: AMD EPYC (2 threads)");
        CHECK_STR(t.rows[1][5], ""); /* no driver on the CPU */
        CHECK_STR(t.rows[1][7], "");
        CHECK_STR(t.rows[1][10], "fp32 FMA chains, AVX-512 (best of 3)");
    }
    csv_table_free(&t);
    CHECK(ceilings_read(path, &back, err, sizeof err) == 0);
    CHECK_NEAR(back.dram_copy_gbps, 41.5);
    CHECK_NEAR(back.fp32_tflops, 0.234);
    CHECK_NEAR(ceilings_peak_tflops(&back, ATTN_FP32), 0.234);
    CHECK(ceilings_peak_tflops(&back, ATTN_BF16) == 0); /* no tensor cores: no roof */
    CHECK_STR(back.config[CEILING_FP32], "fp32 FMA chains, AVX-512 (best of 3)");

    scratch_write(path, "name,value,unit,device\n"
                        "dram_copy_gbps,40,GB/s,cpu: x\nfp32_tflops,0.2,TFLOP/s,cpu: x\n"
                        "l2_read_gbps,90,GB/s,cpu: x\n");
    CHECK(ceilings_read(path, &back, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "l2_read_gbps on 'cpu: x': a CPU has no such ceiling");
    scratch_write(path, "name,value,unit,device\nfp32_tflops,0.2,TFLOP/s,cpu: x\n");
    CHECK(ceilings_read(path, &back, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "no dram_copy_gbps row");
}

/* A ceiling is the best of the trials that ran; it fails only when none did. */
static void test_ceilings_settle(void)
{
    static struct ceiling_trials t;
    static struct ceilings c;
    memset(&c, 0, sizeof c);
    t.count = 0;
    ceilings_add_trial(&t, CEILING_DRAM_COPY, "copy 16 B x4 per thread, plain, a block per tile",
                       4047, NULL);
    ceilings_add_trial(&t, CEILING_DRAM_COPY, "copy 32 B x8 per thread, ld/st.cs, 8 blocks/SM",
                       4310, "");
    ceilings_add_trial(&t, CEILING_DRAM_COPY, "copy 32 B x1 per thread, plain, 2 blocks/SM", 0,
                       "ceilings.cu:1: launch: cudaErrorInvalidConfiguration");
    ceilings_add_trial(&t, CEILING_DRAM_COPY, "cudaMemcpyAsync device to device", 4279, NULL);
    ceilings_add_trial(&t, CEILING_L2_READ, "", 0, "ceilings.cu:2: cudaMalloc: out of memory");
    ceilings_add_trial(&t, CEILING_L2_READ, "ld.global.cg", 0, "ceilings.cu:3: later");
    ceilings_add_trial(&t, CEILING_FP32, "ffma, 8 chains", 61.5, NULL);
    ceilings_add_trial(&t, CEILING_BF16_TENSOR, "cublasGemmEx", 790, NULL);
    ceilings_add_trial(&t, CEILING_BF16_TENSOR, "cublasLt #1", 0, "not supported");
    CHECK(t.count == 9);
    CHECK(t.trial[2].value == 0 && t.trial[1].error[0] == '\0');
    CHECK(ceilings_settle(&c, &t) == 1); /* l2: none ran */
    CHECK_NEAR(c.dram_copy_gbps, 4310);
    CHECK_STR(c.status[CEILING_DRAM_COPY], "ok");
    CHECK_STR(c.config[CEILING_DRAM_COPY],
              "copy 32 B x8 per thread, ld/st.cs, 8 blocks/SM (best of 3; 1 failed)");
    CHECK(c.l2_read_gbps == 0);
    CHECK_STR(c.status[CEILING_L2_READ], "error:ceilings.cu:2: cudaMalloc: out of memory");
    CHECK_NEAR(c.fp32_tflops, 61.5);
    CHECK_STR(c.config[CEILING_FP32], "ffma, 8 chains");
    CHECK_STR(c.config[CEILING_BF16_TENSOR], "cublasGemmEx (1 other failed)");
    CHECK_STR(c.status[CEILING_FP16_TENSOR], ""); /* no trials: left alone */

    /* A full list keeps the trials it has. */
    t.count = CEILINGS_MAX_TRIALS;
    ceilings_add_trial(&t, CEILING_FP32, "one too many", 1e9, NULL);
    CHECK(t.count == CEILINGS_MAX_TRIALS);
}

/* A timed row with counters: `flops` over `bytes` in `ms`. */
static struct result_row profiled_row(double flops, double bytes, double ms)
{
    struct result_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.status, sizeof r.status, "ok");
    snprintf(r.device, sizeof r.device, "%s", h100.device);
    r.point.problem.dtype = ATTN_BF16;
    r.ms_median = ms;
    r.flops_model = 3 * flops;
    r.has_counters = r.has_flops_measured = 1;
    r.flops_measured = flops;
    r.dram_read_bytes = bytes / 4;
    r.dram_write_bytes = 3 * bytes / 4;
    return r;
}

static void test_roofline(void)
{
    /* Compute-bound: 2000 FLOP/byte, far right of the ridge (800/3 = 267). */
    struct result_row r = profiled_row(2e12, 1e9, 10);
    profile_roofline(&r, &h100);
    CHECK(r.has_intensity && r.has_roof);
    CHECK_NEAR(r.intensity, 2000);
    CHECK_NEAR(r.achieved_tflops, 200);
    CHECK_NEAR(r.roof_fraction, 200.0 / 800);
    CHECK_STR(r.profile_note, "");

    /* Memory-bound: 10 FLOP/byte, under a roof of 10 x 3000 GB/s = 30 TFLOP/s. */
    r = profiled_row(1e10, 1e9, 1);
    profile_roofline(&r, &h100);
    CHECK_NEAR(r.achieved_tflops, 10);
    CHECK_NEAR(r.roof_fraction, 10.0 / 30);

    /* No FLOP counters: the model's FLOPs, said so. */
    r = profiled_row(1e10, 1e9, 1);
    r.has_flops_measured = 0;
    profile_roofline(&r, &h100);
    CHECK_NEAR(r.intensity, 30);
    CHECK_CONTAINS(r.profile_note, "roofline from the FLOP model");

    /* No ceilings, or another device's: intensity and rate, no roof. */
    r = profiled_row(1e10, 1e9, 1);
    profile_roofline(&r, NULL);
    CHECK(r.has_intensity && !r.has_roof);
    CHECK_CONTAINS(r.profile_note, "give --ceilings FILE");
    r = profiled_row(1e10, 1e9, 1);
    snprintf(r.device, sizeof r.device, "NVIDIA H200");
    profile_roofline(&r, &h100);
    CHECK(r.has_intensity && !r.has_roof);
    CHECK_CONTAINS(r.profile_note, "the ceilings are of 'NVIDIA H100 80GB HBM3'");

    /* No counters, or no time: nothing derived, and nothing more to say. */
    r = profiled_row(1e10, 1e9, 1);
    r.has_counters = 0;
    profile_roofline(&r, &h100);
    CHECK(!r.has_intensity && !r.has_roof);
    r = profiled_row(1e10, 1e9, 1);
    snprintf(r.status, sizeof r.status, "oom");
    profile_roofline(&r, &h100);
    CHECK(!r.has_intensity && !r.has_roof);
}

static void test_steps_file(const char *dir)
{
    char out[1024], path[1024], err[1024];
    scratch_path(out, sizeof out, dir, "results.csv");
    struct steps_writer w;
    CHECK(steps_writer_open(&w, out, RUN_FILE_NEW, NULL, err, sizeof err) == 0);
    CHECK_STR(w.file.path, scratch_path(path, sizeof path, dir, "results.steps.csv"));
    struct result_row r = profiled_row(1e10, 1e9, 1);
    snprintf(r.suite, sizeof r.suite, "unit");
    snprintf(r.point.method, sizeof r.point.method, "mita");
    r.point.problem = (struct attn_problem){.B = 1, .H = 8, .N = 4096, .d = 64,
                                            .dtype = ATTN_BF16, .backend = ATTN_CUDA};
    r.point.params.m = 64;
    r.point.uses = ATTN_USES_M;
    snprintf(r.device, sizeof r.device, "NVIDIA H100 80GB HBM3");
    snprintf(r.git_rev, sizeof r.git_rev, "abc123");
    snprintf(r.timestamp, sizeof r.timestamp, "2026-11-22T07:00:00Z");
    snprintf(r.status, sizeof r.status, "ok");
    r.step_count = 2;
    r.steps[0] = (struct profile_step){"gather", "mita_gather<64>", 2, 1e6, 2e6, 5e6, 0.5, NAN};
    r.steps[1] = (struct profile_step){"", "sm90_xmma_gemm, bf16", 1, 10, 20, 30, 0.25, 1e9};
    CHECK(steps_writer_rows(&w, &r) == 0);
    r.has_counters = 0; /* a row without counters has no steps */
    CHECK(steps_writer_rows(&w, &r) == 0);
    steps_writer_close(&w);
    CHECK(steps_writer_open(&w, out, RUN_FILE_RESUME, NULL, err, sizeof err) == 0);
    steps_writer_close(&w); /* resumed: no second header */

    struct csv_table t;
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(t.ncols == 27 && t.nrows == 2);
    if (t.ncols == 27 && t.nrows == 2) {
        const char *want[2][27] = {
            {"unit", "mita", "", "cuda", "bf16", "1", "8", "4096", "64", "64", "", "", "", "iid",
             "", "gather", "mita_gather<64>", "2", "1000000", "2000000", "5000000", "0.5", "",
             "NVIDIA H100 80GB HBM3", "abc123", "2026-11-22T07:00:00Z", "ok"},
            {"unit", "mita", "", "cuda", "bf16", "1", "8", "4096", "64", "64", "", "", "", "iid",
             "", "",
             "sm90_xmma_gemm, bf16", "1", "10", "20", "30", "0.25", "1.000000e+09",
             "NVIDIA H100 80GB HBM3", "abc123", "2026-11-22T07:00:00Z", "ok"},
        };
        for (int row = 0; row < 2; row++)
            for (int c = 0; c < 27; c++) CHECK_STR(t.rows[row][c], want[row][c]);
        CHECK_STR(t.header[13], "inputs");
        CHECK_STR(t.header[15], "step");
        CHECK_STR(t.header[22], "flops");
        CHECK_STR(t.header[23], "device");
        CHECK_STR(t.header[26], "status");
    }
    csv_table_free(&t);

    /* As the results file: rows there and neither --resume nor --force,
     * refused; resumed, a last row cut short is cut off; forced, emptied. */
    CHECK(steps_writer_open(&w, out, RUN_FILE_NEW, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "results.steps.csv already holds 2 rows: --resume to continue it");
    FILE *f = fopen(path, "a");
    fputs("unit,mita,,cuda,bf16,1,8,8192,64,64,,,,attend,\"mita_att", f);
    fclose(f);
    char log_text[1024] = "";
    FILE *log = fmemopen(log_text, sizeof log_text, "w");
    CHECK(steps_writer_open(&w, out, RUN_FILE_RESUME, log, err, sizeof err) == 0);
    fclose(log);
    CHECK_CONTAINS(log_text, "results.steps.csv: its last row was cut short");
    steps_writer_close(&w);
    CHECK(csv_read(path, &t, err, sizeof err) == 0 && t.nrows == 2);
    csv_table_free(&t);
    CHECK(steps_writer_open(&w, out, RUN_FILE_FORCE, NULL, err, sizeof err) == 0);
    steps_writer_close(&w);
    CHECK(csv_read(path, &t, err, sizeof err) == 0 && t.nrows == 0 && t.ncols == 27);
    csv_table_free(&t);

    scratch_write(path, "suite,method\n");
    CHECK(steps_writer_open(&w, out, RUN_FILE_FORCE, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "not a steps file of this attnbench");
}

static void test_cpu_note(void)
{
    struct result_row r;
    memset(&r, 0, sizeof r);
    profile_point(backend_get(ATTN_CPU), NULL, NULL, NULL, 0, &r);
    CHECK(!r.has_counters);
    CHECK_STR(r.profile_note, "no hardware counters on the cpu backend");
}

int main(void)
{
    char dir[512];
    scratch_make(dir, sizeof dir);
    test_ceilings_file(dir);
    test_ceilings_columns(dir);
    test_cpu_ceilings_file(dir);
    test_ceilings_settle();
    test_roofline();
    test_steps_file(dir);
    test_cpu_note();
    scratch_remove(dir);
    return check_exit("test_profile");
}
