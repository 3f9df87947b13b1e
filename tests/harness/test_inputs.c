/* test_inputs.c — the inputs axis (docs/inputs.md): each generated
 * distribution drawn on the host (core/inputs.h) is deterministic, of about
 * unit variance, and keeps its promise — clustered routes unevenly and a
 * landmark's top keys come from one cluster, image's neighbours are alike,
 * rising's scores never fall along the keys for any query or landmark —;
 * files of Q, K, V (inputs/tensor_file.h) read back what was written, and
 * every malformed or mismatched file is refused with a message naming it;
 * check_point gives a file's inputs the same verdict as the distribution
 * they were drawn from. */
#include <math.h>
#include <stdint.h>

#include "check/check.h"
#include "core/inputs.h"
#include "inputs/tensor_file.h"
#include "measure/load_inputs.h"
#include "test_util.h"

static float *draw(const struct attn_problem *p, enum attn_inputs kind, int which)
{
    float *x = malloc((size_t)attn_tensor_elems(p) * sizeof *x);
    if (!x) exit(1);
    inputs_fill_host(x, p, kind, which);
    return x;
}

static void test_deterministic_unit_variance(void)
{
    const struct attn_problem p = {.B = 2, .H = 2, .N = 1000, .d = 64, .dtype = ATTN_FP32,
                                   .seed = 11};
    const int64_t n = attn_tensor_elems(&p);
    for (int kind = 0; kind < ATTN_INPUTS_COUNT; kind++)
        for (int which = 0; which < 3; which++) {
            float *a = draw(&p, (enum attn_inputs)kind, which),
                  *b = draw(&p, (enum attn_inputs)kind, which);
            CHECK(memcmp(a, b, (size_t)n * sizeof *a) == 0);
            double sum = 0, squares = 0;
            for (int64_t i = 0; i < n; i++) sum += a[i], squares += (double)a[i] * a[i];
            const double mean = sum / n, ms = squares / n;
            if (fabs(mean) > 0.2 || ms < 0.75 || ms > 1.25) {
                fprintf(stderr, "%s tensor %d: mean %.3f, mean square %.3f (want ~0, ~1)\n",
                        inputs_kind_name((enum attn_inputs)kind), which, mean, ms);
                check_failures++;
            }
            struct attn_problem other = p;
            other.seed++;
            float *c = draw(&other, (enum attn_inputs)kind, which);
            CHECK(memcmp(a, c, (size_t)n * sizeof *a) != 0);
            free(a), free(b), free(c);
        }
    /* iid is the generator every result before the inputs axis used. */
    float *iid = draw(&p, ATTN_INPUTS_IID, 1), *old = malloc((size_t)n * sizeof *old);
    attn_random_fill_host(old, ATTN_FP32, p.seed, 1, n);
    CHECK(memcmp(iid, old, (size_t)n * sizeof *old) == 0);
    free(iid), free(old);
    /* The storage dtype is the float rounded to nearest even. */
    struct attn_problem bf = p;
    bf.dtype = ATTN_BF16;
    uint16_t *h = malloc((size_t)n * sizeof *h);
    float *f = draw(&p, ATTN_INPUTS_IMAGE, 0);
    inputs_fill_host(h, &bf, ATTN_INPUTS_IMAGE, 0);
    int same = 1;
    for (int64_t i = 0; i < n; i++) same &= h[i] == attn_float_to_bf16(f[i]);
    CHECK(same);
    free(h), free(f);
}

/* Window j's mean of the rows of X [N,d] (docs/methods.md, landmarks). */
static void landmarks(const float *x, int64_t N, int d, int64_t m, float *out)
{
    for (int64_t j = 0; j < m; j++) {
        const int64_t b = attn_window_begin(j, N, m), e = attn_window_begin(j + 1, N, m);
        for (int c = 0; c < d; c++) {
            float s = 0;
            for (int64_t i = b; i < e; i++) s += x[i * d + c];
            out[j * d + c] = s / (float)(e - b);
        }
    }
}

static float dot(const float *a, const float *b, int d)
{
    float s = 0;
    for (int c = 0; c < d; c++) s += a[c] * b[c];
    return s;
}

/* clustered, one head: a landmark's top-k keys come from one cluster, and
 * the queries' routes pile onto a few experts. */
static void test_clustered(void)
{
    enum { N = 1024, D = 64, M = 16, K = 16 };
    const struct attn_problem p = {.B = 1, .H = 1, .N = N, .d = D, .dtype = ATTN_FP32, .seed = 3};
    float *q = draw(&p, ATTN_INPUTS_CLUSTERED, 0), *k = draw(&p, ATTN_INPUTS_CLUSTERED, 1);
    static float lm[M * D], score[N];
    landmarks(q, N, D, M, lm);
    int one_cluster = 0;
    for (int j = 0; j < M; j++) {
        for (int n = 0; n < N; n++) score[n] = dot(&lm[j * D], &k[n * D], D);
        int count[ATTN_INPUTS_CLUSTERS] = {0};
        for (int t = 0; t < K; t++) { /* the top K, one at a time */
            int best = 0;
            for (int n = 1; n < N; n++)
                if (score[n] > score[best]) best = n;
            count[attn_inputs_cluster(p.seed, 1, 0, best)]++;
            score[best] = -INFINITY;
        }
        for (int c = 0; c < ATTN_INPUTS_CLUSTERS; c++) one_cluster += count[c] == K;
    }
    int load[M] = {0};
    for (int n = 0; n < N; n++) {
        int best = 0;
        float top = -INFINITY;
        for (int j = 0; j < M; j++) {
            float r = dot(&q[n * D], &lm[j * D], D);
            if (r > top) top = r, best = j;
        }
        load[best]++;
    }
    int busiest = 0;
    for (int j = 0; j < M; j++) busiest = load[j] > busiest ? load[j] : busiest;
    if (one_cluster < M * 3 / 4 || busiest < 3 * N / M) {
        fprintf(stderr, "clustered: %d of %d landmarks' top-%d keys from one cluster; the "
                        "busiest expert has %d of %d queries (want >= 3/4 and >= 3x the mean)\n",
                one_cluster, M, K, busiest, N);
        check_failures++;
    }
    free(q), free(k);
}

/* Pearson correlation of tokens n and n + step (same channel), over the
 * pairs of one grid row (image) or any (iid). */
static double neighbour_correlation(const float *x, int64_t N, int d, int64_t step, int64_t W)
{
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    long count = 0;
    for (int64_t n = 0; n + step < N; n++) {
        if (step == 1 && (n + 1) % W == 0) continue; /* the next row */
        for (int c = 0; c < d; c++) {
            double a = x[n * d + c], b = x[(n + step) * d + c];
            sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b;
            count++;
        }
    }
    double ma = sa / count, mb = sb / count;
    return (sab / count - ma * mb) /
           sqrt((saa / count - ma * ma) * (sbb / count - mb * mb));
}

static void test_image(void)
{
    const struct attn_problem p = {.B = 1, .H = 2, .N = 1000, .d = 64, .dtype = ATTN_FP32, .seed = 9};
    const int64_t W = attn_inputs_image_width(p.N);
    CHECK(W == 32 && attn_inputs_image_width(1024) == 32 && attn_inputs_image_width(1025) == 33 &&
          attn_inputs_image_width(1) == 1);
    for (int which = 0; which < 3; which++) {
        float *x = draw(&p, ATTN_INPUTS_IMAGE, which), *y = draw(&p, ATTN_INPUTS_IID, which);
        double beside = neighbour_correlation(x, p.N, p.d, 1, W),
               below = neighbour_correlation(x, p.N, p.d, W, W),
               noise = neighbour_correlation(y, p.N, p.d, 1, W);
        if (beside < 0.7 || below < 0.7 || fabs(noise) > 0.1) {
            fprintf(stderr, "image tensor %d: neighbours correlate %.2f (beside), %.2f (below); "
                            "iid %.2f\n", which, beside, below, noise);
            check_failures++;
        }
        free(x), free(y);
    }
}

/* rising: for every query and every landmark, q . k_n in fp32 never falls
 * along n; strictly rises in fp32 at this N. In bf16 it still never falls. */
static void test_rising(void)
{
    enum { N = 512, D = 64, M = 16 };
    for (int dt = 0; dt < 2; dt++) {
        const struct attn_problem p = {.B = 2, .H = 1, .N = N, .d = D,
                                       .dtype = dt ? ATTN_BF16 : ATTN_FP32, .seed = 4};
        const int64_t n = attn_tensor_elems(&p);
        float *q = malloc((size_t)n * sizeof *q), *k = malloc((size_t)n * sizeof *k);
        void *stored = malloc((size_t)n * sizeof(float));
        inputs_fill_host(stored, &p, ATTN_INPUTS_RISING, 0);
        attn_to_float(stored, p.dtype, q, n);
        inputs_fill_host(stored, &p, ATTN_INPUTS_RISING, 1);
        attn_to_float(stored, p.dtype, k, n);
        static float lm[M * D];
        long falls = 0, ties = 0;
        for (int bh = 0; bh < p.B * p.H; bh++) {
            const float *qh = q + (size_t)bh * N * D, *kh = k + (size_t)bh * N * D;
            landmarks(qh, N, D, M, lm);
            for (int r = 0; r < N + M; r++) {
                const float *row = r < N ? &qh[r * D] : &lm[(r - N) * D];
                float last = dot(row, &kh[0], D);
                for (int t = 1; t < N; t++) {
                    float s = dot(row, &kh[t * D], D);
                    falls += s < last;
                    ties += s == last;
                    last = s;
                }
            }
        }
        CHECK(falls == 0);
        if (!dt) CHECK(ties == 0);
        free(q), free(k), free(stored);
    }
}

/* ---- files ------------------------------------------------------------------ */

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) exit(1);
}

/* Every distribution and dtype: written by tensor_file_write_safetensors, read
 * back bit for bit; and through load_inputs_host as `file:PATH`. */
static void test_round_trip(const char *dir)
{
    char path[1024], why[512];
    scratch_path(path, sizeof path, dir, "qkv.safetensors");
    for (int kind = 0; kind < ATTN_INPUTS_COUNT; kind++)
        for (int dt = 0; dt < 3; dt++) {
            struct sweep_point pt;
            memset(&pt, 0, sizeof pt);
            pt.problem = (struct attn_problem){.B = 2, .H = 3, .N = 50, .d = 8,
                                               .dtype = (enum attn_dtype)dt, .seed = 77};
            snprintf(pt.inputs, sizeof pt.inputs, "%s", inputs_kind_name((enum attn_inputs)kind));
            const size_t bytes = (size_t)attn_tensor_elems(&pt.problem) * attn_dtype_size(pt.problem.dtype);
            void *qkv[3], *back = malloc(bytes);
            for (int w = 0; w < 3; w++) {
                qkv[w] = malloc(bytes);
                CHECK(load_inputs_host(&pt, w, qkv[w], why, sizeof why) == LOAD_INPUTS_OK);
            }
            CHECK(tensor_file_write_safetensors(path, &pt.problem, (const void *const *)qkv, why,
                                                sizeof why) == 0);
            struct sweep_point from_file = pt;
            CHECK(snprintf(from_file.inputs, sizeof from_file.inputs, "file:%s", path) <
                  (int)sizeof from_file.inputs);
            for (int w = 0; w < 3; w++) {
                memset(back, 0, bytes);
                CHECK(load_inputs_host(&from_file, w, back, why, sizeof why) == LOAD_INPUTS_OK);
                CHECK(memcmp(back, qkv[w], bytes) == 0);
                free(qkv[w]);
            }
            free(back);
        }
}

/* npy in a folder and by prefix; [N,d] serves every batch and head; <f2
 * converted to fp32 exactly. */
static void test_npy(const char *dir)
{
    char path[1024], why[512];
    const struct attn_problem p = {.B = 2, .H = 2, .N = 3, .d = 2, .dtype = ATTN_FP32};
    /* A version-1 header as numpy writes it, padded to 128 bytes. */
    static const char header[] = "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 2), }";
    unsigned char file[128 + 12];
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = 118, file[9] = 0;
    memset(file + 10, ' ', 118);
    memcpy(file + 10, header, strlen(header));
    file[127] = '\n';
    const uint16_t halves[6] = {0x3C00, 0xC000, 0x3800, 0x0000, 0x7BFF, 0x3555}; /* 1 -2 .5 0 */
    for (int i = 0; i < 6; i++) file[128 + 2 * i] = halves[i] & 0xFF, file[129 + 2 * i] = halves[i] >> 8;
    const char *names[] = {"q.npy", "k.npy", "v.npy", "pre_q.npy", "pre_k.npy", "pre_v.npy"};
    for (int i = 0; i < 6; i++) write_bytes(scratch_path(path, sizeof path, dir, names[i]), file, sizeof file);
    float got[24];
    for (int prefix = 0; prefix < 2; prefix++) {
        char where[1024];
        snprintf(where, sizeof where, "%s%s", dir, prefix ? "/pre_" : "");
        for (int w = 0; w < 3; w++) {
            if (tensor_file_read(where, w, &p, got, why, sizeof why) != 0) {
                fprintf(stderr, "%s\n", why);
                check_failures++;
                continue;
            }
            for (int i = 0; i < 24; i++) CHECK(got[i] == attn_fp16_to_float(halves[i % 6]));
        }
    }
}

/* A file that cannot serve the point: -1 and a message that names it. */
static void expect_refused(const char *path, const struct attn_problem *p, const char *part)
{
    char why[512] = "";
    float *dst = malloc((size_t)attn_tensor_elems(p) * sizeof *dst);
    CHECK(tensor_file_read(path, 0, p, dst, why, sizeof why) == -1);
    CHECK_CONTAINS(why, "inputs file ");
    CHECK_CONTAINS(why, part);
    free(dst);
}

/* A safetensors file of one header and `data` bytes of zeros. */
static void write_safetensors(const char *path, const char *header, size_t data)
{
    size_t n = strlen(header);
    unsigned char *b = calloc(8 + n + data, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(b + 8, header, n);
    write_bytes(path, b, 8 + n + data);
    free(b);
}

static void test_refused(const char *dir)
{
    char path[1024];
    const struct attn_problem p = {.B = 1, .H = 2, .N = 4, .d = 2, .dtype = ATTN_FP32};
    expect_refused(scratch_path(path, sizeof path, dir, "none.safetensors"), &p,
                   "none.safetensors: No such file or directory");
    static const struct {
        const char *header;
        size_t data;
        const char *part;
    } cases[] = {
        {"{\"q\":{\"dtype\":\"F32\",\"shape\":[1,2,8,2],\"data_offsets\":[0,128]}}", 128,
         "q is [1,2,8,2], the point needs [1,2,4,2] (or [4,2])"},
        {"{\"k\":{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[0,32]}}", 32,
         "no tensor named 'q'"},
        {"{\"q\":{\"dtype\":\"I32\",\"shape\":[4,2],\"data_offsets\":[0,32]}}", 32,
         "q is I32 (need F32, F16 or BF16)"},
        {"{\"q\":{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[0,64]}}", 32,
         "lie outside the file"},
        {"{\"q\":{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[0,16]}}", 32,
         "q: 16 bytes of data, its shape needs 32"},
        {"{\"q\":{\"dtype\":\"F32\",\"shape\":[4,2]}}", 32, "lacks its data_offsets"},
        {"{\"q\":{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[0,32]}", 32,
         "malformed header"},
        {"[1,2]", 0, "not a JSON object"},
        {"{\"q\":{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[0,32]}} x", 32,
         "text after its header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scratch_path(path, sizeof path, dir, "bad.safetensors");
        write_safetensors(path, cases[i].header, cases[i].data);
        expect_refused(path, &p, cases[i].part);
    }
    write_bytes(path, "\xff\xff\xff\xff\x00\x00\x00\x00{}", 10);
    expect_refused(path, &p, "exceeds the file");
    write_bytes(path, "\x02", 1);
    expect_refused(path, &p, "shorter than its 8-byte header length");

    static const struct {
        const char *header, *part;
    } npy[] = {
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (4, 2), }", "Fortran order"},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (4, 2), }", "dtype '>f4'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", "q is [4,3]"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2, }", "malformed header"},
        {"{'descr': '<f4', 'shape': (4, 2), }", "lacks fortran_order"},
    };
    for (size_t i = 0; i < sizeof npy / sizeof npy[0]; i++) {
        unsigned char file[10 + 64 + 48] = {0};
        memcpy(file, "\x93NUMPY\x01\x00", 8);
        file[8] = 64;
        memset(file + 10, ' ', 64);
        memcpy(file + 10, npy[i].header, strlen(npy[i].header));
        /* 48 bytes: a [4,3] float32's data; a [4,2] needs 32. */
        write_bytes(scratch_path(path, sizeof path, dir, "q.npy"), file,
                    strstr(npy[i].header, "(4, 3)") ? sizeof file : sizeof file - 16);
        expect_refused(dir, &p, npy[i].part);
    }
    expect_refused(scratch_path(path, sizeof path, dir, "none_"), &p,
                   "none_q.npy: No such file or directory (file:PATH is a .safetensors file, or "
                   "a folder or prefix of q.npy, k.npy, v.npy)");
    unsigned char bad[16] = "NUMPY";
    write_bytes(scratch_path(path, sizeof path, dir, "q.npy"), bad, sizeof bad);
    expect_refused(dir, &p, "not an .npy file");
}

/* check_point on inputs from a file gives the error of the distribution
 * they were drawn from, bit for bit the same inputs. */
static void test_check_from_file(const char *dir)
{
    struct backend *b = backend_get(ATTN_CPU);
    struct device_info info;
    char why[256], path[1024];
    CHECK(b->init(b, &info, why, sizeof why) == 0);
    struct sweep_point pt;
    memset(&pt, 0, sizeof pt);
    snprintf(pt.method, sizeof pt.method, "mita");
    pt.problem = (struct attn_problem){.B = 1, .H = 2, .N = 256, .d = 64, .dtype = ATTN_FP32,
                                       .backend = ATTN_CPU, .seed = 21};
    pt.params = (struct attn_params){.m = 16, .k = 32, .s_r = 1};
    pt.uses = ATTN_USES_M | ATTN_USES_K | ATTN_USES_S_R | ATTN_USES_GATHER;
    snprintf(pt.inputs, sizeof pt.inputs, "clustered");
    const size_t bytes = (size_t)attn_tensor_elems(&pt.problem) * sizeof(float);
    void *qkv[3];
    for (int w = 0; w < 3; w++) {
        qkv[w] = malloc(bytes);
        CHECK(load_inputs_host(&pt, w, qkv[w], why, sizeof why) == LOAD_INPUTS_OK);
    }
    scratch_path(path, sizeof path, dir, "c.safetensors");
    CHECK(tensor_file_write_safetensors(path, &pt.problem, (const void *const *)qkv, why,
                                        sizeof why) == 0);
    for (int w = 0; w < 3; w++) free(qkv[w]);
    struct check_result generated, from_file;
    check_point(&pt, b, &generated);
    CHECK(snprintf(pt.inputs, sizeof pt.inputs, "file:%s", path) < (int)sizeof pt.inputs);
    check_point(&pt, b, &from_file);
    CHECK(generated.passed && from_file.passed && generated.rel_error == from_file.rel_error);
    /* A file of another shape: the check fails, naming it. */
    pt.problem.N = 128;
    check_point(&pt, b, &from_file);
    CHECK(!from_file.passed);
    CHECK_CONTAINS(from_file.message, "q is [1,2,256,64], the point needs [1,2,128,64]");
    b->shutdown(b);
}

int main(void)
{
    char dir[512];
    scratch_make(dir, sizeof dir);
    test_deterministic_unit_variance();
    test_clustered();
    test_image();
    test_rising();
    test_round_trip(dir);
    test_npy(dir);
    test_refused(dir);
    test_check_from_file(dir);
    scratch_remove(dir);
    return check_exit("test_inputs");
}
