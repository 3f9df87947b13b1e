/* tensor_file.h — Q, K and V in files (docs/inputs.md, "Inputs from a
 * file"): read for the inputs `file:PATH`, written by `attnbench inputs`.
 *
 *   PATH ending in .safetensors   the tensors named q, k and v of a
 *                                 safetensors file (an 8-byte little-endian
 *                                 header length, a JSON header, the data)
 *   PATH a folder                 PATH/q.npy, PATH/k.npy, PATH/v.npy
 *   any other PATH                a prefix: PATHq.npy, PATHk.npy, PATHv.npy
 *
 * Each tensor is [B,H,N,d] or [N,d] (the same for every batch and head),
 * C order, little-endian: F32, F16 or BF16 in safetensors, <f4 or <f2 in
 * npy; it is converted to the point's dtype (rounded to nearest even).
 * The parsers read from memory, so that tests/fuzz can give them any bytes. */
#ifndef HARNESS_INPUTS_TENSOR_FILE_H
#define HARNESS_INPUTS_TENSOR_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "attn.h"

enum { TENSOR_MAX_RANK = 8 };

/* Where one tensor's data lies in its file, and what it is. */
struct tensor_info {
    enum attn_dtype dtype;
    int rank;
    int64_t shape[TENSOR_MAX_RANK];
    uint64_t offset;           /* of its first byte, from the file's start */
    uint64_t bytes;            /* elements x the dtype's size */
};

/* Tensor `name` of a safetensors file whose first `len` bytes are `head`
 * (the length and the whole JSON header at least) and whose size is
 * `file_len`. 0, or -1 with a message: a malformed header, no such tensor,
 * another dtype, data that lies outside the file or whose size does not
 * match its shape. */
int safetensors_find(const unsigned char *head, size_t len, uint64_t file_len, const char *name,
                     struct tensor_info *out, char *why, size_t why_len);

/* The header of an .npy file whose first `len` bytes are `head` (its whole
 * header at least) and whose size is `file_len`; the data follows it. 0, or
 * -1 with a message. */
int npy_parse(const unsigned char *head, size_t len, uint64_t file_len, struct tensor_info *out,
              char *why, size_t why_len);

/* Tensor `which` (0 = q, 1 = k, 2 = v) of the files at `path` (above) into
 * `dst`, as problem p's tensor in p->dtype. 0; -1 with a message that names
 * the file when it cannot give p this tensor (no such file, a malformed
 * one, another shape: "q is [1,8,1024,64], the point needs [1,8,2048,64]");
 * -2 when out of memory. */
int tensor_file_read(const char *path, int which, const struct attn_problem *p, void *dst,
                     char *why, size_t why_len);

/* Writes q, k and v (host memory, p->dtype, [B,H,N,d] each) as a
 * safetensors file at `path`, replacing what is there. 0, or -1 with a
 * message. */
int tensor_file_write_safetensors(const char *path, const struct attn_problem *p,
                                  const void *const qkv[3], char *why, size_t why_len);

#endif
