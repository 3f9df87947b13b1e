"""A peer against the float64 definitions, before it is timed (docs/correctness.md).

The check runs the peer at a small shape of the point's own kind (its method,
variant, dtype, d and parameters; B and H at most 2; N at most 256, or m or k
where they are larger) on iid inputs from the point's seed, on the device the
point runs on, with a chunk of about a third of N so that the chunk loop and
its short last chunk are exercised, into an output poisoned with NaN. It then
asks, in this order, the questions of `attnbench check`: is every element
written and finite; for topk and mita, is the selection valid (every chosen
score >= every unchosen one - 1e-4·d, in double, routes best first); is the
output within the dtype's bound (fp32 1e-4, fp16 5e-3, bf16 2e-2, relative
Frobenius) of the reference computed with the peer's own selection.
"""
import math

import torch

from . import inputs, reference

BOUNDS = {"fp32": 1e-4, "fp16": 5e-3, "bf16": 2e-2}
CHECK_N = 256


def check_shape(point):
    """(B, H, N) of the check of `point`: small, but N no smaller than the point's m and k."""
    least = max([CHECK_N] + [point.params[key] for key in ("m", "k") if key in point.params])
    return min(point.B, 2), min(point.H, 2), min(point.N, least)


def check_peer(peer, point, device):
    """None when `peer` computes `point`'s definition within its bound; else what failed, as
    'output: 3 of 16384 elements not finite', 'selection: ...' or 'accuracy: ...'."""
    B, H, N = check_shape(point)
    shape = (B, H, N, point.d)
    q, k, v = (inputs.random_tensor(shape, point.dtype, point.seed, which, device)
               for which in range(3))
    out = torch.full(shape, math.nan, dtype=q.dtype, device=device)
    call = peer.prepare_call(point.method, point.variant, q, k, v, point.params,
                             memory_bytes=0, chunk=N // 3 + 1, out=out)
    o, selection = call()
    o = o.double().cpu()
    selection = {name: t.cpu() for name, t in selection.items()}
    q, k, v = q.cpu(), k.cpu(), v.cpu()
    bad = int((~torch.isfinite(o)).sum())
    if bad:
        return "output: %d of %d elements not finite" % (bad, o.numel())
    if selection:
        why = reference.selection_valid(point.method, q, k, selection, point.params,
                                        1e-4 * point.d)
        if why:
            return "selection: " + why
    ref, _ = reference.reference(point.method, point.variant, q, k, v, point.params,
                                 given=selection or None)
    error = ((o - ref).norm() / ref.norm()).item()
    if not error <= BOUNDS[point.dtype]:
        return "accuracy: error %.3g > %g (%s) at B=%d H=%d N=%d" % (
            error, BOUNDS[point.dtype], point.dtype, B, H, N)
    return None
