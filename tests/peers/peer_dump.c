/* peer_dump.c — one point's inputs and double reference, written by attnbench's
 * own C code, for the PyTorch peers' tests (tests/peers/test_peers.py) to
 * compare with: q, k, v as attn_random_fill_host draws them (the dtype's raw
 * bits), o from attn/reference.c in double with its own selection, and that
 * selection (topk: keys [B,H,N,k]; mita: keys [B,H,m,k], routes [B,H,N,s_r],
 * int32). The file is safetensors: an 8-byte little-endian header length,
 * the JSON header, the raw tensors.
 *
 *   peer_dump METHOD[:VARIANT] B H N d DTYPE m k s_r SHARED_SCALE SEED OUT.safetensors
 *
 * Exits 0, or 2 with a message (a bad argument, a reference that refused). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/reference.h"

struct tensor {
    const char *name, *dtype; /* safetensors names: F64, F32, F16, BF16, I32 */
    int64_t shape[4];
    int rank;
    const void *data;
    size_t bytes;
};

static int fail(const char *what)
{
    fprintf(stderr, "peer_dump: %s\n", what);
    return 2;
}

static int write_safetensors(const char *path, const struct tensor *t, int n)
{
    char header[4096];
    size_t len = 0, offset = 0;
    len += (size_t)snprintf(header + len, sizeof header - len, "{");
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(header + len, sizeof header - len,
                                "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "",
                                t[i].name, t[i].dtype);
        for (int r = 0; r < t[i].rank; r++)
            len += (size_t)snprintf(header + len, sizeof header - len, "%s%" PRId64,
                                    r ? "," : "", t[i].shape[r]);
        len += (size_t)snprintf(header + len, sizeof header - len,
                                "],\"data_offsets\":[%zu,%zu]}", offset, offset + t[i].bytes);
        offset += t[i].bytes;
    }
    len += (size_t)snprintf(header + len, sizeof header - len, "}");
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned char size[8];
    for (int b = 0; b < 8; b++) size[b] = (unsigned char)((uint64_t)len >> (8 * b));
    int ok = fwrite(size, 1, 8, f) == 8 && fwrite(header, 1, len, f) == len;
    for (int i = 0; ok && i < n; i++) ok = fwrite(t[i].data, 1, t[i].bytes, f) == t[i].bytes;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 13)
        return fail("usage: peer_dump METHOD[:VARIANT] B H N d DTYPE m k s_r SHARED_SCALE SEED "
                    "OUT.safetensors");
    char method[64];
    snprintf(method, sizeof method, "%s", argv[1]);
    char *colon = strchr(method, ':');
    if (colon) *colon = '\0';
    struct attn_problem p = {.B = atoi(argv[2]), .H = atoi(argv[3]), .N = atoll(argv[4]),
                             .d = atoi(argv[5]), .backend = ATTN_CPU,
                             .seed = strtoull(argv[11], NULL, 10)};
    static const char *const dtypes[] = {"fp32", "fp16", "bf16"}, *const st[] = {"F32", "F16",
                                                                                  "BF16"};
    int t = 0;
    while (t < 3 && strcmp(argv[6], dtypes[t]) != 0) t++;
    if (t == 3) return fail("DTYPE is fp32, fp16 or bf16");
    p.dtype = (enum attn_dtype)t;
    struct attn_params a = {.m = atoll(argv[7]), .k = atoll(argv[8]), .s_r = atoi(argv[9]),
                            .variant = colon ? colon + 1 : NULL,
                            .shared_scale = strcmp(argv[10], "paper") == 0 ? ATTN_SHARED_PAPER
                                                                           : ATTN_SHARED_OFFICIAL};
    const int64_t n = (int64_t)p.B * p.H * p.N * p.d, bh = (int64_t)p.B * p.H;
    const size_t elem = p.dtype == ATTN_FP32 ? 4 : 2;
    void *raw[3];
    double *dbl[3], *o = calloc((size_t)n, sizeof(double));
    int32_t *keys = calloc((size_t)(bh * p.N * (a.k > 0 ? a.k : 1)), sizeof(int32_t));
    int32_t *routes = calloc((size_t)(bh * p.N * (a.s_r > 0 ? a.s_r : 1)), sizeof(int32_t));
    for (int w = 0; w < 3; w++) {
        raw[w] = malloc((size_t)n * elem);
        dbl[w] = malloc((size_t)n * sizeof(double));
        if (!raw[w] || !dbl[w]) return fail("out of memory");
        attn_random_fill_host(raw[w], p.dtype, p.seed, w, n);
        attn_to_double(raw[w], p.dtype, dbl[w], n);
    }
    if (!o || !keys || !routes) return fail("out of memory");
    struct attn_selection chosen = {keys, routes};
    char why[512];
    if (attn_reference(method, &p, &a, dbl[0], dbl[1], dbl[2], o, NULL, &chosen, why,
                       sizeof why) != 0)
        return fail(why);

    struct tensor out[6];
    int nt = 0;
    static const char *const names[] = {"q", "k", "v"};
    for (int w = 0; w < 3; w++)
        out[nt++] = (struct tensor){names[w], st[t], {p.B, p.H, p.N, p.d}, 4, raw[w],
                                    (size_t)n * elem};
    out[nt++] = (struct tensor){"o", "F64", {p.B, p.H, p.N, p.d}, 4, o, (size_t)n * 8};
    if (!strcmp(method, "topk"))
        out[nt++] = (struct tensor){"keys", "I32", {p.B, p.H, p.N, a.k}, 4, keys,
                                    (size_t)(bh * p.N * a.k) * 4};
    if (!strcmp(method, "mita")) {
        out[nt++] = (struct tensor){"keys", "I32", {p.B, p.H, a.m, a.k}, 4, keys,
                                    (size_t)(bh * a.m * a.k) * 4};
        out[nt++] = (struct tensor){"routes", "I32", {p.B, p.H, p.N, a.s_r}, 4, routes,
                                    (size_t)(bh * p.N * a.s_r) * 4};
    }
    if (write_safetensors(argv[12], out, nt) != 0) return fail("cannot write the output file");
    for (int w = 0; w < 3; w++) {
        free(raw[w]);
        free(dbl[w]);
    }
    free(o);
    free(keys);
    free(routes);
    return 0;
}
