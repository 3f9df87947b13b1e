/* method_call.h — the one way to call a method's operations: a thin wrapper
 * per operation (attn.h's contract), which
 *   - refuses a method built for an ABI this attnbench does not know (an
 *     abi_version outside 1..ATTN_ABI_VERSION): it may rely on fields we
 *     would never fill or call;
 *   - fills the defaults of the optional operations (workspace_bytes,
 *     setup, teardown, export_selection);
 *   - checks the preconditions: the method, problem, params, state and
 *     buffers named below are not NULL, and the mandatory operations
 *     (validate, run, flops, bytes) exist. A broken precondition is a bug
 *     in the caller: it is reported on stderr and the program aborts, in
 *     release builds too (they define NDEBUG, which would silence assert).
 *
 * Nothing else calls the function pointers of a struct attn_method
 * (attn/plugin.c only checks, when loading, that the mandatory ones exist).
 */
#ifndef ATTN_METHOD_CALL_H
#define ATTN_METHOD_CALL_H

#include "attn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NULL when `m` can run (p, a), else the message in `why`; a refused ABI
 * is such a message. The first call for a point: callers skip the rest
 * when it fails. */
const char *attn_method_validate(const struct attn_method *m, const struct attn_problem *p,
                                 const struct attn_params *a, char *why, size_t why_len);

/* The workspace in bytes; 0 when the method has no workspace_bytes.
 * SIZE_MAX (an allocation that fails) for a refused ABI. */
size_t attn_method_workspace_bytes(const struct attn_method *m, const struct attn_problem *p,
                                   const struct attn_params *a);

/* 0 when the method has no setup. Non-zero with a message in `why` for a
 * refused ABI. `workspace` may be NULL when the workspace is 0 bytes. */
int attn_method_setup(const struct attn_method *m, void *state, const struct attn_problem *p,
                      const struct attn_params *a, void *workspace, char *why, size_t why_len);

/* The method's return code; -1 for a refused ABI. */
int attn_method_run(const struct attn_method *m, void *state, const struct attn_tensors *t,
                    void *stream);

/* Nothing when the method has no teardown, for a refused ABI, or when
 * `state` is NULL (never allocated), so that a clean-up path can always
 * call it. */
void attn_method_teardown(const struct attn_method *m, void *state);

/* The work models; NAN for a refused ABI. */
double attn_method_flops(const struct attn_method *m, const struct attn_problem *p,
                         const struct attn_params *a);
double attn_method_bytes(const struct attn_method *m, const struct attn_problem *p,
                         const struct attn_params *a);

/* 1 when the method exports what it selected (topk, mita), else 0. */
int attn_method_has_selection(const struct attn_method *m);

/* The method's return code; -1 when it exports no selection or for a
 * refused ABI. */
int attn_method_export_selection(const struct attn_method *m, void *state,
                                 struct attn_selection *out);

/* The definition the method computes (attn.h's `computes`): NULL for a
 * method built for ABI 1, which has no such field. */
const char *attn_method_computes(const struct attn_method *m);

#ifdef __cplusplus
}
#endif
#endif
