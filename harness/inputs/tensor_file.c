/* tensor_file.c — safetensors and npy files of Q, K and V (see tensor_file.h). */
#include "inputs/tensor_file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/errors.h"

/* The safetensors format caps its header at 100 MB; npy headers are a few
 * hundred bytes, and one of a megabyte is not a tensor of ours. */
#define SAFETENSORS_HEADER_MAX (100u << 20)
#define NPY_HEADER_MAX (1u << 20)

static const char *const tensor_names[3] = {"q", "k", "v"};

static uint64_t load_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* The elements of a shape times `elem` bytes; -1 on overflow. */
static int shape_bytes(const struct tensor_info *t, uint64_t elem, uint64_t *bytes)
{
    uint64_t n = elem;
    for (int i = 0; i < t->rank; i++) {
        uint64_t s = (uint64_t)t->shape[i];
        if (s != 0 && n > UINT64_MAX / s) return -1;
        n *= s;
    }
    *bytes = n;
    return 0;
}

/* "[1,8,1024,64]" */
static void shape_text(const int64_t *shape, int rank, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "[");
    for (int i = 0; i < rank && n < len; i++)
        n += (size_t)snprintf(out + n, len - n, "%s%" PRId64, i ? "," : "", shape[i]);
    if (n < len) snprintf(out + n, len - n, "]");
}

/* ---- a JSON header (safetensors) ------------------------------------------ */

struct cursor {
    const char *p, *end;
    int depth;
};

static void skip_space(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int next_is(struct cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A string into out (cut to `cap` - 1 bytes; *cut says so). Escapes are
 * kept as the character after the backslash (\uXXXX as '?'): names of
 * ours never hold one. */
static int json_string(struct cursor *c, char *out, size_t cap, int *cut)
{
    size_t n = 0;
    *cut = 0;
    if (!next_is(c, '"')) return -1;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if ((unsigned char)ch < 0x20) return -1;
        if (ch == '\\') {
            if (c->p >= c->end) return -1;
            ch = *c->p++;
            if (ch == 'u') {
                for (int i = 0; i < 4; i++)
                    if (c->p >= c->end || !strchr("0123456789abcdefABCDEF", *c->p++)) return -1;
                ch = '?';
            } else if (!strchr("\"\\/bfnrt", ch)) {
                return -1;
            }
        }
        if (n + 1 < cap) out[n++] = ch;
        else *cut = 1;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

static int json_uint(struct cursor *c, uint64_t *v)
{
    skip_space(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return -1;
    uint64_t x = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned digit = (unsigned)(*c->p++ - '0');
        if (x > (UINT64_MAX - digit) / 10) return -1;
        x = x * 10 + digit;
    }
    *v = x;
    return 0;
}

static int skip_value(struct cursor *c);

/* An object or array of values, skipped. */
static int skip_container(struct cursor *c, char close)
{
    if (++c->depth > 64) return -1;
    if (next_is(c, close)) return c->depth--, 0;
    for (;;) {
        if (close == '}') {
            char key[8];
            int cut;
            if (json_string(c, key, sizeof key, &cut) != 0 || !next_is(c, ':')) return -1;
        }
        if (skip_value(c) != 0) return -1;
        if (next_is(c, ',')) continue;
        if (!next_is(c, close)) return -1;
        c->depth--;
        return 0;
    }
}

static int skip_value(struct cursor *c)
{
    skip_space(c);
    if (c->p >= c->end) return -1;
    if (*c->p == '{') return c->p++, skip_container(c, '}');
    if (*c->p == '[') return c->p++, skip_container(c, ']');
    if (*c->p == '"') {
        char s[8];
        int cut;
        return json_string(c, s, sizeof s, &cut);
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, words[i], n) == 0) return c->p += n, 0;
    }
    const char *start = c->p;
    while (c->p < c->end && strchr("0123456789+-.eE", *c->p)) c->p++;
    return c->p > start ? 0 : -1;
}

/* [a, b, ...] of unsigned integers, at most `max` of them. */
static int json_uints(struct cursor *c, uint64_t *v, int max, int *count)
{
    *count = 0;
    if (!next_is(c, '[')) return -1;
    if (next_is(c, ']')) return 0;
    for (;;) {
        if (*count == max || json_uint(c, &v[*count]) != 0) return -1;
        ++*count;
        if (next_is(c, ',')) continue;
        return next_is(c, ']') ? 0 : -1;
    }
}

/* One tensor's object: {"dtype": ..., "shape": [...], "data_offsets": [b, e]}. */
static int tensor_object(struct cursor *c, const char *name, struct tensor_info *t,
                         uint64_t *begin, uint64_t *end, char *why, size_t why_len)
{
    char dtype[16] = "";
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    if (!next_is(c, '{')) return harness_fail(why, why_len, "tensor '%s' is not an object", name);
    if (!next_is(c, '}'))
        for (;;) {
            char key[32];
            int cut;
            if (json_string(c, key, sizeof key, &cut) != 0 || !next_is(c, ':'))
                return harness_fail(why, why_len, "malformed header (in tensor '%s')", name);
            if (!strcmp(key, "dtype")) {
                if (json_string(c, dtype, sizeof dtype, &cut) != 0)
                    return harness_fail(why, why_len, "tensor '%s': dtype is not a string", name);
                have_dtype = 1;
            } else if (!strcmp(key, "shape")) {
                uint64_t dims[TENSOR_MAX_RANK];
                if (json_uints(c, dims, TENSOR_MAX_RANK, &t->rank) != 0)
                    return harness_fail(why, why_len,
                                        "tensor '%s': shape is not a list of at most %d sizes",
                                        name, TENSOR_MAX_RANK);
                for (int i = 0; i < t->rank; i++) {
                    if (dims[i] > (uint64_t)INT64_MAX)
                        return harness_fail(why, why_len, "tensor '%s': a size is too large", name);
                    t->shape[i] = (int64_t)dims[i];
                }
                have_shape = 1;
            } else if (!strcmp(key, "data_offsets")) {
                uint64_t off[2];
                int n;
                if (json_uints(c, off, 2, &n) != 0 || n != 2)
                    return harness_fail(why, why_len,
                                        "tensor '%s': data_offsets is not [begin, end]", name);
                *begin = off[0];
                *end = off[1];
                have_offsets = 1;
            } else if (skip_value(c) != 0) {
                return harness_fail(why, why_len, "malformed header (in tensor '%s')", name);
            }
            if (next_is(c, ',')) continue;
            if (!next_is(c, '}'))
                return harness_fail(why, why_len, "malformed header (in tensor '%s')", name);
            break;
        }
    if (!have_dtype || !have_shape || !have_offsets)
        return harness_fail(why, why_len, "tensor '%s' lacks its %s", name,
                            !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
    if (!strcmp(dtype, "F32")) t->dtype = ATTN_FP32;
    else if (!strcmp(dtype, "F16")) t->dtype = ATTN_FP16;
    else if (!strcmp(dtype, "BF16")) t->dtype = ATTN_BF16;
    else
        return harness_fail(why, why_len, "%s is %s (need F32, F16 or BF16)", name, dtype);
    return 0;
}

int safetensors_find(const unsigned char *head, size_t len, uint64_t file_len, const char *name,
                     struct tensor_info *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    if (len < 8 || file_len < 8) return harness_fail(why, why_len, "shorter than its 8-byte header length");
    const uint64_t header_len = load_le(head, 8);
    if (header_len > SAFETENSORS_HEADER_MAX || header_len > file_len - 8 || header_len > len - 8)
        return harness_fail(why, why_len,
                            "its header length %" PRIu64 " exceeds the file (not a safetensors file?)",
                            header_len);
    struct cursor c = {(const char *)head + 8, (const char *)head + 8 + header_len, 0};
    const uint64_t data_start = 8 + header_len;
    int found = 0;
    if (!next_is(&c, '{')) return harness_fail(why, why_len, "its header is not a JSON object");
    if (!next_is(&c, '}'))
        for (;;) {
            char key[256];
            int cut;
            if (json_string(&c, key, sizeof key, &cut) != 0 || !next_is(&c, ':'))
                return harness_fail(why, why_len, "malformed header (a key)");
            if (!cut && !strcmp(key, name) && !found) {
                uint64_t begin = 0, end = 0;
                if (tensor_object(&c, name, out, &begin, &end, why, why_len) != 0) return -1;
                uint64_t want;
                if (shape_bytes(out, attn_dtype_size(out->dtype), &want) != 0)
                    return harness_fail(why, why_len, "%s: its shape overflows", name);
                if (begin > end || end > file_len - data_start)
                    return harness_fail(why, why_len,
                                        "%s: data_offsets [%" PRIu64 ", %" PRIu64
                                        "] lie outside the file's %" PRIu64 " bytes of data",
                                        name, begin, end, file_len - data_start);
                if (end - begin != want)
                    return harness_fail(why, why_len,
                                        "%s: %" PRIu64 " bytes of data, its shape needs %" PRIu64,
                                        name, end - begin, want);
                out->offset = data_start + begin;
                out->bytes = want;
                found = 1;
            } else if (skip_value(&c) != 0) {
                return harness_fail(why, why_len, "malformed header (the value of '%s')", key);
            }
            if (next_is(&c, ',')) continue;
            if (!next_is(&c, '}')) return harness_fail(why, why_len, "malformed header");
            break;
        }
    skip_space(&c);
    if (c.p != c.end) return harness_fail(why, why_len, "text after its header's object");
    if (!found) return harness_fail(why, why_len, "no tensor named '%s'", name);
    return 0;
}

/* ---- npy ------------------------------------------------------------------ */

/* A quoted Python string ('...' or "..."), without escapes. */
static int py_string(struct cursor *c, char *out, size_t cap)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
    const char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (n + 1 >= cap || *c->p == '\\') return -1;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

int npy_parse(const unsigned char *head, size_t len, uint64_t file_len, struct tensor_info *out,
              char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(head, "\x93NUMPY", 6) != 0)
        return harness_fail(why, why_len, "not an .npy file (no \\x93NUMPY at its start)");
    const int major = head[6];
    if (major < 1 || major > 3)
        return harness_fail(why, why_len, "npy version %d (need 1, 2 or 3)", major);
    const size_t start = major == 1 ? 10 : 12;
    if (len < start) return harness_fail(why, why_len, "its header is cut short");
    const uint64_t header_len = load_le(head + 8, major == 1 ? 2 : 4);
    if (header_len > NPY_HEADER_MAX || header_len > len - start || start + header_len > file_len)
        return harness_fail(why, why_len, "its header length %" PRIu64 " exceeds the file",
                            header_len);
    struct cursor c = {(const char *)head + start, (const char *)head + start + header_len, 0};
    char descr[16] = "";
    int fortran = -1, have_shape = 0;
    if (!next_is(&c, '{')) return harness_fail(why, why_len, "its header is not a dict");
    while (!next_is(&c, '}')) {
        char key[32];
        if (py_string(&c, key, sizeof key) != 0 || !next_is(&c, ':'))
            return harness_fail(why, why_len, "malformed header (a key)");
        if (!strcmp(key, "descr")) {
            if (py_string(&c, descr, sizeof descr) != 0)
                return harness_fail(why, why_len, "malformed header (descr)");
        } else if (!strcmp(key, "fortran_order")) {
            skip_space(&c);
            size_t left = (size_t)(c.end - c.p);
            if (left >= 4 && !memcmp(c.p, "True", 4)) fortran = 1, c.p += 4;
            else if (left >= 5 && !memcmp(c.p, "False", 5)) fortran = 0, c.p += 5;
            else return harness_fail(why, why_len, "malformed header (fortran_order)");
        } else if (!strcmp(key, "shape")) {
            if (!next_is(&c, '(')) return harness_fail(why, why_len, "malformed header (shape)");
            while (!next_is(&c, ')')) {
                uint64_t v;
                if (out->rank == TENSOR_MAX_RANK || json_uint(&c, &v) != 0 || v > (uint64_t)INT64_MAX)
                    return harness_fail(why, why_len, "malformed header (shape)");
                out->shape[out->rank++] = (int64_t)v;
                if (!next_is(&c, ',') && (skip_space(&c), c.p >= c.end || *c.p != ')'))
                    return harness_fail(why, why_len, "malformed header (shape)");
            }
            have_shape = 1;
        } else {
            return harness_fail(why, why_len, "unexpected key '%s' in its header", key);
        }
        if (!next_is(&c, ',') && (skip_space(&c), c.p >= c.end || *c.p != '}'))
            return harness_fail(why, why_len, "malformed header");
    }
    if (!descr[0] || fortran < 0 || !have_shape)
        return harness_fail(why, why_len, "its header lacks %s",
                            !descr[0] ? "descr" : fortran < 0 ? "fortran_order" : "shape");
    if (fortran) return harness_fail(why, why_len, "Fortran order (need C order)");
    if (!strcmp(descr, "<f4")) out->dtype = ATTN_FP32;
    else if (!strcmp(descr, "<f2")) out->dtype = ATTN_FP16;
    else return harness_fail(why, why_len, "dtype '%s' (need '<f4' or '<f2')", descr);
    out->offset = start + header_len;
    if (shape_bytes(out, attn_dtype_size(out->dtype), &out->bytes) != 0)
        return harness_fail(why, why_len, "its shape overflows");
    if (file_len - out->offset != out->bytes)
        return harness_fail(why, why_len, "%" PRIu64 " bytes of data, its shape needs %" PRIu64,
                            file_len - out->offset, out->bytes);
    return 0;
}

/* ---- reading -------------------------------------------------------------- */

/* The file that holds tensor `which` at `path`, and the tensor's name in it
 * (NULL for npy). */
static void resolve(const char *path, int which, char *file, size_t len, const char **name)
{
    size_t n = strlen(path);
    struct stat st;
    if (n >= 12 && !strcmp(path + n - 12, ".safetensors")) {
        snprintf(file, len, "%s", path);
        *name = tensor_names[which];
    } else {
        const int folder = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        snprintf(file, len, "%s%s%s.npy", path, folder && path[n - 1] != '/' ? "/" : "",
                 tensor_names[which]);
        *name = NULL;
    }
}

/* The first `want` bytes of f (fewer at its end) into a malloc'd *head. */
static int read_head(FILE *f, size_t want, unsigned char **head, size_t *got)
{
    *head = malloc(want ? want : 1);
    if (!*head) return -2;
    *got = fread(*head, 1, want, f);
    return 0;
}

/* Where the tensor lies in f, from its header. */
static int locate(FILE *f, uint64_t file_len, const char *name, struct tensor_info *t, char *why,
                  size_t why_len)
{
    unsigned char *head = NULL;
    size_t got = 0;
    int rc;
    if (name) {
        unsigned char len8[8];
        if (fread(len8, 1, 8, f) != 8)
            return harness_fail(why, why_len, "shorter than its 8-byte header length");
        uint64_t header_len = load_le(len8, 8);
        if (header_len > SAFETENSORS_HEADER_MAX || header_len > file_len - 8)
            return harness_fail(why, why_len,
                                "its header length %" PRIu64 " exceeds the file (not a "
                                "safetensors file?)",
                                header_len);
        rewind(f);
        if ((rc = read_head(f, 8 + (size_t)header_len, &head, &got)) != 0) return rc;
        rc = safetensors_find(head, got, file_len, name, t, why, why_len);
    } else {
        if ((rc = read_head(f, file_len < NPY_HEADER_MAX + 12 ? (size_t)file_len
                                                              : NPY_HEADER_MAX + 12,
                            &head, &got)) != 0)
            return rc;
        rc = npy_parse(head, got, file_len, t, why, why_len);
    }
    free(head);
    return rc;
}

/* n elements of `from` into `to` (each a dtype), rounded to nearest even. */
static void convert(const unsigned char *src, enum attn_dtype from, void *dst,
                    enum attn_dtype to, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x;
        if (from == ATTN_FP32) {
            uint32_t bits = (uint32_t)load_le(src + 4 * i, 4);
            memcpy(&x, &bits, 4);
        } else {
            uint16_t h = (uint16_t)load_le(src + 2 * i, 2);
            x = from == ATTN_FP16 ? attn_fp16_to_float(h) : attn_bf16_to_float(h);
        }
        if (to == ATTN_FP32) ((float *)dst)[i] = x;
        else if (to == ATTN_FP16) ((uint16_t *)dst)[i] = attn_float_to_fp16(x);
        else ((uint16_t *)dst)[i] = attn_float_to_bf16(x);
    }
}

/* The tensor's data from f into dst, converted; [N,d] copied to each head. */
static int read_data(FILE *f, const struct tensor_info *t, const struct attn_problem *p,
                     void *dst, char *why, size_t why_len)
{
    const size_t in = attn_dtype_size(t->dtype), out = attn_dtype_size(p->dtype);
    const uint64_t elems = t->bytes / in;
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc((size_t)CHUNK * in);
    if (!buf) return -2;
    if (fseeko(f, (off_t)t->offset, SEEK_SET) != 0) {
        free(buf);
        return harness_fail(why, why_len, "cannot seek to its data: %s", strerror(errno));
    }
    for (uint64_t done = 0; done < elems;) {
        size_t n = elems - done < CHUNK ? (size_t)(elems - done) : CHUNK;
        if (fread(buf, in, n, f) != n) {
            free(buf);
            return harness_fail(why, why_len, "its data ends early");
        }
        convert(buf, t->dtype, (unsigned char *)dst + done * out, p->dtype, n);
        done += n;
    }
    free(buf);
    /* [N,d]: the same for every batch and head. */
    const size_t head_bytes = (size_t)elems * out;
    for (int64_t bh = 1; t->rank == 2 && bh < (int64_t)p->B * p->H; bh++)
        memcpy((unsigned char *)dst + (size_t)bh * head_bytes, dst, head_bytes);
    return 0;
}

int tensor_file_read(const char *path, int which, const struct attn_problem *p, void *dst,
                     char *why, size_t why_len)
{
    char file[1024], msg[512];
    const char *name;
    resolve(path, which, file, sizeof file, &name);
    FILE *f = fopen(file, "rb");
    if (!f)
        return harness_fail(why, why_len, "inputs file %s: %s%s", file, strerror(errno),
                            name ? "" : " (file:PATH is a .safetensors file, or a folder or "
                                        "prefix of q.npy, k.npy, v.npy)");
    struct stat st;
    struct tensor_info t;
    int rc = fstat(fileno(f), &st) == 0 ? 0 : harness_fail(msg, sizeof msg, "%s", strerror(errno));
    if (rc == 0) rc = locate(f, (uint64_t)st.st_size, name, &t, msg, sizeof msg);
    const int64_t want4[4] = {p->B, p->H, p->N, p->d};
    if (rc == 0) {
        const int whole = t.rank == 4 && !memcmp(t.shape, want4, sizeof want4);
        const int per_head = t.rank == 2 && t.shape[0] == p->N && t.shape[1] == p->d;
        if (!whole && !per_head) {
            char got[128], need[128];
            shape_text(t.shape, t.rank, got, sizeof got);
            shape_text(want4, 4, need, sizeof need);
            rc = harness_fail(msg, sizeof msg, "%s is %s, the point needs %s (or [%" PRId64 ",%d])",
                              tensor_names[which], got, need, p->N, p->d);
        }
    }
    if (rc == 0) rc = read_data(f, &t, p, dst, msg, sizeof msg);
    fclose(f);
    if (rc == -2) return harness_fail(why, why_len, "inputs file %s: out of memory", file), -2;
    if (rc != 0) return harness_fail(why, why_len, "inputs file %s: %s", file, msg);
    return 0;
}

/* ---- writing -------------------------------------------------------------- */

int tensor_file_write_safetensors(const char *path, const struct attn_problem *p,
                                  const void *const qkv[3], char *why, size_t why_len)
{
    static const char *const dtype_names[] = {[ATTN_FP32] = "F32", [ATTN_FP16] = "F16",
                                              [ATTN_BF16] = "BF16"};
    const uint64_t bytes = (uint64_t)attn_tensor_elems(p) * attn_dtype_size(p->dtype);
    char header[1024];
    int n = snprintf(header, sizeof header, "{");
    for (int w = 0; w < 3; w++)
        n += snprintf(header + n, sizeof header - (size_t)n,
                      "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%d,%d,%" PRId64
                      ",%d],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}",
                      w ? "," : "", tensor_names[w], dtype_names[p->dtype], p->B, p->H, p->N,
                      p->d, w * bytes, (w + 1) * bytes);
    n += snprintf(header + n, sizeof header - (size_t)n, "}");
    while (n % 8) header[n++] = ' '; /* the data 8-byte aligned, as the format advises */
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)n >> (8 * i));
    FILE *f = fopen(path, "wb");
    if (!f) return harness_fail(why, why_len, "%s: %s", path, strerror(errno));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(header, 1, (size_t)n, f) == (size_t)n;
    for (int w = 0; w < 3 && ok; w++) ok = fwrite(qkv[w], 1, (size_t)bytes, f) == bytes;
    /* Stored little-endian, as the format requires: the hosts we build for are. */
    if (fclose(f) != 0) ok = 0;
    if (!ok) return harness_fail(why, why_len, "writing %s failed: %s", path, strerror(errno));
    return 0;
}
