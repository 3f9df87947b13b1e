/* cuda_check.c — the record behind CUDA_CHECK (kernels/cuda_check.h). */
#include "kernels/cuda_check.h"

#include <stdio.h>

/* One failure: `call` and `file` are the check's string literals, so that
 * recording copies nothing. err == cudaSuccess: no record. */
struct cuda_check_record {
    cudaError_t err;
    const char *call, *file;
    int line;
};

static _Thread_local struct cuda_check_record record;

void cuda_check_failed(cudaError_t err, const char *call, const char *file, int line)
{
    /* The same error again is the recorded failure on its way out (or one
     * not yet described): the innermost site is the one worth naming. */
    if (err != record.err) record = (struct cuda_check_record){err, call, file, line};
}

/* The path from the source root: Meson's nvcc and cc see "../kernels/x.cu". */
static const char *source_path(const char *file)
{
    for (;;) {
        if (file[0] == '.' && file[1] == '/') file += 2;
        else if (file[0] == '.' && file[1] == '.' && file[2] == '/') file += 3;
        else return file;
    }
}

static void format_record(cudaError_t err, char *out, size_t len)
{
    if (err == cudaSuccess) {
        if (len) out[0] = '\0';
    } else if (record.err == err) {
        snprintf(out, len, "%s:%d: %s: %s (%s)", source_path(record.file), record.line,
                 record.call, cudaGetErrorName(err), cudaGetErrorString(err));
    } else {
        snprintf(out, len, "%s (%s)", cudaGetErrorName(err), cudaGetErrorString(err));
    }
}

const char *cuda_check_last_failure(void)
{
    static _Thread_local char text[1024];
    format_record(record.err, text, sizeof text);
    return text;
}

int cuda_check_describe(cudaError_t err, char *why, size_t why_len)
{
    format_record(err, why, why_len);
    cuda_check_clear();
    return (int)err;
}

void cuda_check_clear(void) { record = (struct cuda_check_record){cudaSuccess, NULL, NULL, 0}; }
