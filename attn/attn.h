/* attn.h — the method interface of attnbench.
 *
 * An attention method is a `const struct attn_method`: a table of function
 * pointers, filled with designated initializers, much as SQLite describes a
 * VFS. The harness (and a user's plugin) never calls the pointers directly:
 * attn/method_call.h has one thin wrapper per operation that checks the ABI
 * version, fills defaults for optional operations and asserts the
 * preconditions.
 *
 * Contract of the operations (who allocates, what happens on failure):
 *
 *   validate(problem, params, why, why_len)
 *       Pure. Returns NULL when the method can run this shape, else an error
 *       text (usually `why`, filled with a message that names the parameter
 *       at fault and what would be valid). Called before anything else.
 *   workspace_bytes(problem, params)
 *       Pure. Bytes of scratch memory the method needs on its backend. The
 *       harness allocates it (cudaMalloc on the GPU, malloc on the CPU) and
 *       passes it to setup(); the method never allocates device memory itself.
 *   setup(state, problem, params, workspace, why, why_len)
 *       `state` is `state_size` zeroed bytes owned by the harness. setup may
 *       create handles (a cuBLAS handle, say). Returns 0, or non-zero with a
 *       message in `why`; teardown() is still called after a failed setup.
 *   run(state, tensors, stream)
 *       Only launches the work on `stream` (NULL on the CPU): no allocation,
 *       no synchronisation, no timing. May be called many times. Returns 0 or
 *       an error code (a cudaError_t value on the GPU).
 *   teardown(state)
 *       Releases what setup created. Optional.
 *   flops(problem, params), bytes(problem, params)
 *       The work models of docs/work-models.md, for the whole problem.
 *   export_selection(state, selection)
 *       Optional; selection-based methods (topk, mita). After a run, copies the
 *       indices the method chose to host arrays so that tests can check them.
 *
 * Tensors are [B, H, N, d], row-major and contiguous, in `problem->dtype`,
 * in the memory of `problem->backend`.
 */
#ifndef ATTN_ATTN_H
#define ATTN_ATTN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a field is appended to struct attn_method or struct
 * attn_plugin. A plugin built against a newer ABI than the harness is
 * refused; fields are only ever appended, so an older plugin still loads. */
#define ATTN_ABI_VERSION 2

enum attn_dtype { ATTN_FP32 = 0, ATTN_FP16 = 1, ATTN_BF16 = 2 };
enum attn_backend { ATTN_CPU = 0, ATTN_CUDA = 1 };
enum attn_shared_scale { ATTN_SHARED_OFFICIAL = 0, ATTN_SHARED_PAPER = 1 };

struct attn_problem {
    int B, H;              /* batch, heads */
    int64_t N;             /* sequence length */
    int d;                 /* head dimension */
    enum attn_dtype dtype;
    enum attn_backend backend;
    uint64_t seed;         /* the inputs are drawn from it (docs/inputs.md) */
};

struct attn_params {
    int64_t m;             /* landmarks / experts (agent, nystrom, mita) */
    int64_t k;             /* keys per expert (topk, mita) */
    int s_r;               /* routed experts per query (mita) */
    const char *variant;   /* one of the method's variants; NULL = default */
    enum attn_shared_scale shared_scale; /* mita only */
    /* --- ABI 2 --- (a method built for ABI 1 never reads these) */
    const char *gather;    /* mita: NULL or "fused" = K_E and V_E read in place;
                              else the gather version (struct attn_gather_version)
                              that materializes them in a step of their own */
};

struct attn_tensors {
    const void *q, *k, *v; /* [B,H,N,d] each */
    void *o;               /* [B,H,N,d] */
};

/* What a selection-based method chose, as host arrays of int32 key indices.
 * topk: `keys` is [B,H,N,k]. mita: `keys` is [B,H,m,k] (each expert's top-k)
 * and `routes` is [B,H,N,s_r] (each query's experts, best first). The caller
 * allocates both to those sizes. */
struct attn_selection {
    int32_t *keys;
    int32_t *routes;
};

/* Which parameters a method reads; the harness prints only these and leaves
 * the others out of its validation. */
enum attn_uses {
    ATTN_USES_M = 1u << 0,
    ATTN_USES_K = 1u << 1,
    ATTN_USES_S_R = 1u << 2,
    ATTN_USES_SHARED_SCALE = 1u << 3,
    ATTN_USES_GATHER = 1u << 4,      /* params.gather (ABI 2) */
};

/* Method and variant names are 1 to ATTN_NAME_MAX letters, digits, '_',
 * '-' and '.': they are given on the command line and in suites as
 * NAME:VARIANT, and kept in every results row. */
#define ATTN_NAME_MAX 63

struct attn_method {
    /* --- ABI 1 --- */
    int abi_version;                 /* ATTN_ABI_VERSION the method was built for */
    const char *name;                /* stable: command line, suites, CSV (ATTN_NAME_MAX) */
    const char *description;         /* one line for `attnbench list` */
    const char *const *variants;     /* NULL-terminated; the first is the default */
    enum attn_backend backend;       /* ATTN_CPU or ATTN_CUDA */
    unsigned uses;                   /* enum attn_uses bits */
    size_t state_size;

    const char *(*validate)(const struct attn_problem *p, const struct attn_params *a,
                            char *why, size_t why_len);
    size_t (*workspace_bytes)(const struct attn_problem *p, const struct attn_params *a);
    int (*setup)(void *state, const struct attn_problem *p, const struct attn_params *a,
                 void *workspace, char *why, size_t why_len);
    int (*run)(void *state, const struct attn_tensors *t, void *stream);
    void (*teardown)(void *state);
    double (*flops)(const struct attn_problem *p, const struct attn_params *a);
    double (*bytes)(const struct attn_problem *p, const struct attn_params *a);
    int (*export_selection)(void *state, struct attn_selection *out);
    /* --- ABI 2 --- read only when abi_version >= 2 (method_call.h) */
    const char *computes;            /* the built-in definition this method computes
                                        ("full", "mita", ...; docs/methods.md), which
                                        `check` and `run --verify` hold it to; NULL
                                        when it computes none of them. A plugin's
                                        that names no definition is refused at load */
};

/* A gather kernel: MiTA's step that copies each expert's key and value rows
 * out of K and V (docs/methods.md, "MiTA"),
 *     K, V: [heads, N, d]   idx: [heads, m, k] int32   ->   KE, VE: [heads, m, k, d]
 *     KE[h, j, t] = K[h, idx[h, j, t]],  VE likewise,
 * in the storage dtype (a gather moves bytes; it never converts). Every index
 * is in [0, N); pointers are device memory, 16-byte aligned. */
struct attn_gather_args {
    const void *K, *V;
    enum attn_dtype dtype;
    int heads;
    int64_t N;
    int d;
    const int32_t *idx;
    int64_t m, k;
    void *KE, *VE;
    void *scratch;         /* scratch_bytes() bytes, 256-byte aligned; NULL when 0 */
};

/* One version of a gather kernel: the built-in ones (kernels/gather.h) and a
 * plugin's (struct attn_plugin's `gathers`). `launch` only enqueues on
 * `stream` (a cudaStream_t) and returns 0 or a cudaError_t value; it
 * returns non-zero, launching nothing, for a shape it does not support. */
struct attn_gather_version {
    int abi_version;                 /* ATTN_ABI_VERSION, at least 2 */
    const char *name;                /* as a method's name (ATTN_NAME_MAX) */
    const char *description;
    size_t (*scratch_bytes)(const struct attn_gather_args *a); /* optional; NULL = 0 */
    int (*launch)(const struct attn_gather_args *a, void *stream);
};

/* A plugin is a shared object that exports one symbol,
 *     const struct attn_plugin *attnbench_plugin(void);
 * (ATTN_PLUGIN_ENTRY), returning a static descriptor. */
#define ATTN_PLUGIN_ENTRY "attnbench_plugin"

struct attn_plugin {
    /* --- ABI 1 --- */
    int abi_version;                       /* ATTN_ABI_VERSION */
    const char *name;
    const struct attn_method *const *methods; /* NULL-terminated */
    /* --- ABI 2 --- */
    const struct attn_gather_version *const *gathers; /* NULL-terminated, or NULL */
};

typedef const struct attn_plugin *(*attn_plugin_entry_fn)(void);

/* ---- Helpers every method may use (attn/common.c) ---- */

size_t attn_dtype_size(enum attn_dtype t);
const char *attn_dtype_name(enum attn_dtype t);
int attn_dtype_parse(const char *s, enum attn_dtype *out);      /* 0 on success */
const char *attn_backend_name(enum attn_backend b);
int attn_backend_parse(const char *s, enum attn_backend *out);  /* 0 on success */
const char *attn_shared_scale_name(enum attn_shared_scale s);
int attn_shared_scale_parse(const char *s, enum attn_shared_scale *out);

/* Elements in one of Q, K, V, O: B*H*N*d. */
int64_t attn_tensor_elems(const struct attn_problem *p);

/* The variant a params struct selects (its default when NULL), or NULL when
 * the method has no such variant. */
const char *attn_variant_of(const struct attn_method *m, const struct attn_params *a);

/* Checks the rules that docs/methods.md ("Notation and tensors", "Method
 * names, variants and parameters") states for every method and that
 * `uses` says apply: positive sizes, 1 <= m <= N, 1 <= k <= N, s_r in
 * [1, m], a known variant. Returns NULL or a message in `why`. Methods call
 * it first in their own validate(). */
const char *attn_validate_common(const struct attn_method *m, const struct attn_problem *p,
                                 const struct attn_params *a, char *why, size_t why_len);

/* Nyström's pseudo-inverse takes this many Newton–Schulz iterations: part
 * of the method's definition, so that every backend computes the same O. */
enum { ATTN_NYSTROM_PINV_ITERATIONS = 6 };

/* Window j of landmarks(X, m) covers rows [begin, end) (docs/methods.md,
 * "Landmarks"). Callable from C and CUDA. */
#if defined(__CUDACC__)
__host__ __device__
#endif
static inline int64_t attn_window_begin(int64_t j, int64_t N, int64_t m) { return j * N / m; }

/* The inputs of every run and check: element i of tensor `which` (0 = Q,
 * 1 = K, 2 = V) for a given seed. A counter-based hash, so the CPU and the
 * GPU draw exactly the same numbers without copying them: uniform on
 * [-sqrt(3), sqrt(3)), unit variance. Callable from C and CUDA. */
#if defined(__CUDACC__)
__host__ __device__
#endif
static inline float attn_random_value(uint64_t seed, int which, int64_t i)
{
    /* splitmix64 of (seed, which, i): well mixed, cheap, stateless. */
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + (uint64_t)which * 0xD1B54A32D192ED03ull +
                 (uint64_t)i * 0x94D049BB133111EBull + 0x2545F4914F6CDD1Dull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    float u = (float)(z >> 40) * (1.0f / 16777216.0f); /* [0, 1), 24 bits */
    return (2.0f * u - 1.0f) * 1.7320508f;
}

/* Rounding fp32 to the storage type and back, so that a reference sees
 * exactly what the device stored (round to nearest even). */
uint16_t attn_float_to_bf16(float x);
float attn_bf16_to_float(uint16_t h);
uint16_t attn_float_to_fp16(float x);
float attn_fp16_to_float(uint16_t h);

/* Fills `n` elements of tensor `which` on the host in `dtype`. */
void attn_random_fill_host(void *dst, enum attn_dtype dtype, uint64_t seed, int which, int64_t n);
/* Converts `n` elements of `dtype` to double (for references) and float. */
void attn_to_double(const void *src, enum attn_dtype dtype, double *dst, int64_t n);
void attn_to_float(const void *src, enum attn_dtype dtype, float *dst, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
