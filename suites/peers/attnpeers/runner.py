"""The sweep: points in, rows out, timed by the harness's rules (docs/measurement.md).

For each point: the definition's own bounds (m, k, s_r against N: `invalid:`),
the budget (docs/measurement.md, "Budget": `skipped:budget`), then the
timer's measure(): the inputs (attnbench's iid generator, or `attnbench
inputs`), the peer checked against the float64 definitions at a small N
(check.py; a failure is an `error:check: ...` row and nothing is timed), a
first untimed call where the peer compiles (torch.compile, FlexAttention),
`warmup` untimed calls, then the samples, as many as the suite's stopping
rule takes (samples.Rule: a fixed count of reps, or until a noise target or a
minimum time is met), each followed by a reading of the GPU's clocks, power and
temperature, and last the energy of a forward (gpu.py: the same GPU columns as
attnbench's rows).

On CUDA each call is timed with CUDA events after writing a buffer twice the
L2's size (cold L2, as attnbench's CUDA backend); on the CPU (--device cpu,
for tests) with time.perf_counter, no flush. --dry-run uses a fake timer and
never imports PyTorch, to test the CSV path anywhere.
"""
import argparse
import ctypes
import itertools
import math
import os
import statistics
import sys
import time

from . import gpu, results, samples
from .suite import (DEFAULT_PEERS, PEER_METHODS, Suite, UsageError, expand, find_suite,
                    read_suite)

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BUDGET_MIN_REPS = 3
# The dry run's made-up rates (TFLOP/s) per peer; a launch costs 0.02 ms.
FAKE_TFLOPS = {"eager": 100.0, "compile": 150.0, "flex": 250.0, "sdpa-flash": 300.0,
               "sdpa-cudnn": 450.0, "sdpa-efficient": 200.0}
# What the check, the chunk sizing and the first call may take of the device's free memory.
CHUNK_SHARE_OF_FREE = 0.25
CPU_CHUNK_BYTES = 256 << 20


def reps_within_budget(suite, run_s):
    """Samples a point takes at most under the suite's budget, given one run's predicted
    seconds (0: unknown): as many as fit after the warm-up, the stopping rule's most at most
    (samples.most_samples), 3 at least; 0 when even the fewest do not fit."""
    most = samples.most_samples(suite)
    if suite.budget_s <= 0 or run_s <= 0:
        return most
    fit = math.floor(suite.budget_s / run_s) - suite.warmup
    fewest = min(most, BUDGET_MIN_REPS)
    return 0 if fit < fewest else min(fit, most)


# ---- timers -------------------------------------------------------------------------------

class FakeTimer:
    """--dry-run: made-up times from the FLOP model, without PyTorch or a GPU."""

    def __init__(self):
        self.device = "dry-run: fake timer, no GPU"
        self.driver = self.runtime = "dry-run"
        self.sm_clock_mhz = 0

    def measure(self, point, rule, warmup):
        ms = 0.02 + point.flops() / (FAKE_TFLOPS[point.peer] * 1e12) * 1e3
        taken = itertools.count()
        samples_ms = rule.take(lambda: ms * (1 + 0.01 * (next(taken) % 3 - 1)))
        return "ok", samples_ms, gpu.Readings(gpu.Nvml(None)).cells(point.flops())


class TorchTimer:
    """Runs points with PyTorch on `device` ("cuda" or "cpu")."""

    def __init__(self, device, attnbench):
        try:
            import torch
        except ImportError as e:
            raise UsageError("PyTorch is not installed here (%s); install PyTorch with CUDA, or "
                             "pass --dry-run to write rows from a fake timer" % e)
        from . import check, inputs, methods
        self.torch, self.check, self.inputs, self.methods = torch, check, inputs, methods
        self.device_kind, self.attnbench = device, attnbench
        torch.set_float32_matmul_precision("highest")   # fp32 is fp32: no TF32
        self.peers, self.checked = {}, {}
        version = "torch %s" % torch.__version__
        if device == "cuda":
            if not torch.cuda.is_available():
                raise UsageError("no usable CUDA device (torch.cuda.is_available() is False); "
                                 "--device cpu runs the peers on the CPU")
            index = torch.cuda.current_device()
            props = torch.cuda.get_device_properties(index)
            self.device = props.name
            self.runtime = "%s (%s)" % (torch.version.cuda, version)
            self.driver, self.sm_clock_mhz, bus_id = driver_facts(index)
            self.nvml = gpu.Nvml(bus_id)
            # Writing twice the L2 size evicts what the last call left there.
            self.flush = torch.empty(2 * props.L2_cache_size, dtype=torch.uint8, device="cuda")
            if not self.inputs.same_as_on_cpu("cuda"):
                raise UsageError("the GPU draws other inputs than the CPU (attnbench's "
                                 "generator in attnpeers/inputs.py): its int64 arithmetic "
                                 "does not wrap as the CPU's")
            self.start = torch.cuda.Event(enable_timing=True)
            self.stop = torch.cuda.Event(enable_timing=True)
        else:
            self.device = "cpu: %s (%d threads)" % (cpu_model(), torch.get_num_threads())
            self.runtime, self.driver, self.sm_clock_mhz = version, "", 0
            self.nvml = gpu.Nvml(None)

    def peer(self, name):
        if name not in self.peers:
            self.peers[name] = self.methods.make_peer(name)
        return self.peers[name]

    def memory_bytes(self):
        if self.device_kind == "cuda":
            return int(self.torch.cuda.mem_get_info()[0] * CHUNK_SHARE_OF_FREE)
        return CPU_CHUNK_BYTES

    def sample_ms(self, call):
        """One timed call: events around it after the L2 flush on CUDA, the wall clock on
        the CPU."""
        if self.device_kind == "cuda":
            self.flush.zero_()
            self.start.record()
            call()
            self.stop.record()
            self.stop.synchronize()
            return self.start.elapsed_time(self.stop)
        begin = time.perf_counter()
        call()
        return (time.perf_counter() - begin) * 1e3

    def forwards(self, call, count):
        """`count` calls back to back, no flush and no synchronisation between them, waited
        for: what the energy counter reads over."""
        for _ in range(count):
            call()
        if self.device_kind == "cuda":
            self.torch.cuda.synchronize()

    def checked_peer(self, peer, point):
        """check.check_peer once per peer and kind of point (the check's shape and everything
        but N): None or why it failed."""
        key = (peer.name, point.method, point.variant, point.dtype, point.d, point.seed,
               tuple(sorted(point.params.items())), self.check.check_shape(point))
        if key not in self.checked:
            self.checked[key] = self.check.check_peer(peer, point, self.device_kind)
        return self.checked[key]

    def make_inputs(self, point):
        shape = (point.B, point.H, point.N, point.d)
        if point.inputs == "iid":
            return [self.inputs.random_tensor(shape, point.dtype, point.seed, which,
                                              self.device_kind) for which in range(3)]
        return self.inputs.attnbench_inputs(self.attnbench, point, self.device_kind)

    def measure(self, point, rule, warmup):
        """The point's status, its samples, taken by `rule` (samples.Rule), and its row's GPU
        columns (gpu.Readings.cells; {} where nothing was timed)."""
        torch = self.torch
        q = k = v = call = None
        try:
            peer = self.peer(point.peer)
            why = self.checked_peer(peer, point)
            if why:
                return "error:check: " + why, [], {}
            try:
                q, k, v = self.make_inputs(point)
            except ValueError as e:   # `attnbench inputs` failed, or its file is not the point's
                return "error:inputs: %s" % first_line(e), [], {}
            call = peer.prepare_call(point.method, point.variant, q, k, v, point.params,
                                     self.memory_bytes())
            readings = gpu.Readings(self.nvml)

            def sample():
                ms = self.sample_ms(call)
                readings.take()
                return ms

            with torch.inference_mode():
                for _ in range(warmup + peer.compiles):
                    call()
                if self.device_kind == "cuda":
                    torch.cuda.synchronize()
                taken = rule.take(sample)
                readings.energy(lambda count: self.forwards(call, count),
                                statistics.median(taken))
            return "ok", taken, readings.cells(point.flops())
        except torch.OutOfMemoryError:
            return "oom", [], {}
        except Exception as e:  # noqa: BLE001 — any failure of one point is its row, never the sweep's
            text = first_line(e)
            # a backend that cannot take this point (SDPA's flash in fp32, say)
            if text.startswith(("No available kernel", "No viable backend")):
                return "invalid:%s has no kernel for %s d=%d" % (point.backend, point.dtype,
                                                                  point.d), [], {}
            if "out of memory" in text or "can't allocate memory" in text:
                return "oom", [], {}
            return "error:%s: %s" % (type(e).__name__, text), [], {}
        finally:
            del q, k, v, call
            if self.device_kind == "cuda":
                torch.cuda.empty_cache()


def first_line(error):
    return (str(error).strip().splitlines() or ["(no message)"])[0][:180]


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def driver_facts(index):
    """The CUDA driver's version ("13.0", as attnbench writes it), the device's rated SM
    clock in MHz (0, written empty, where the driver does not say) and its PCI bus id (the
    driver's "0000:18:00.0", by which NVML finds it; None where the driver does not say),
    from the driver API: PyTorch reports none of them in these forms."""
    cuda = ctypes.CDLL("libcuda.so.1")
    version, device, clock_khz = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    bus = ctypes.create_string_buffer(32)
    CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13
    if cuda.cuInit(0) or cuda.cuDriverGetVersion(ctypes.byref(version)):
        raise UsageError("the CUDA driver (libcuda.so.1) does not give its version")
    driver = "%d.%d" % (version.value // 1000, version.value % 1000 // 10)
    if cuda.cuDeviceGet(ctypes.byref(device), index):
        return driver, 0, None
    if cuda.cuDeviceGetAttribute(ctypes.byref(clock_khz), CU_DEVICE_ATTRIBUTE_CLOCK_RATE, device):
        clock_khz.value = 0
    bus_id = None if cuda.cuDeviceGetPCIBusId(bus, len(bus), device) else bus.value.decode()
    return driver, clock_khz.value // 1000, bus_id


# ---- the command line ---------------------------------------------------------------------

AXIS_FLAGS = (("methods", "methods"), ("seqlen", "seqlen"), ("B", "B"), ("H", "H"), ("d", "d"),
              ("dtype", "dtype"), ("m", "m"), ("k", "k"), ("s_r", "s_r"),
              ("shared-scale", "shared_scale"), ("inputs", "inputs"), ("reps", "reps"),
              ("warmup", "warmup"), ("budget", "budget"), ("seed", "seed"),
              ("max-noise", "max_noise"), ("min-samples", "min_samples"),
              ("max-samples", "max_samples"), ("min-time", "min_time"), ("zip", "zip"))


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="torch_peers.py", description="Time PyTorch peers of attnbench's methods on a "
        "suite's points; write rows in attnbench's CSV schema.")
    ap.add_argument("suite", nargs="?", help="a suite name in suites/ or a path (e.g. seqlen); "
                    "without one, attnbench's defaults and the flags")
    ap.add_argument("--out", help="results CSV (default: SUITE-torch.csv)")
    ap.add_argument("--peers", default=",".join(DEFAULT_PEERS),
                    help="of %s (default: %s)" % (", ".join(PEER_METHODS),
                                                   ",".join(DEFAULT_PEERS)))
    for flag, key in AXIS_FLAGS:
        ap.add_argument("--" + flag, dest=key, metavar="VALUE",
                        help="override the suite's " + key)
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                    help="where the peers run (default cuda; cpu: the wall clock, for tests)")
    ap.add_argument("--attnbench", default=os.environ.get("ATTNBENCH") or os.path.join(
                    SOURCE_ROOT, "build", "harness", "attnbench"),
                    help="the attnbench program, for inputs other than iid (default: $ATTNBENCH, "
                    "else build/harness/attnbench)")
    ap.add_argument("--resume", action="store_true", help="skip points already in --out")
    ap.add_argument("--force", action="store_true",
                    help="start an --out that holds rows afresh (its rows are deleted)")
    ap.add_argument("--dry-run", action="store_true",
                    help="no PyTorch, no GPU: write rows from a fake timer (for tests)")
    return ap.parse_args(argv)


def run(args):
    suite = read_suite(find_suite(args.suite, SOURCE_ROOT)) if args.suite else Suite("default")
    for flag, key in AXIS_FLAGS:
        value = getattr(args, key)
        if value is not None:
            try:
                suite.set(key, value)
            except ValueError as e:
                raise UsageError("--%s '%s': %s" % (flag, value, e))
    try:
        suite.check()
    except ValueError as e:
        raise UsageError("with the flags given: %s" % e)
    peers = args.peers.replace(",", " ").split()
    for p in peers:
        if p not in PEER_METHODS:
            raise UsageError("unknown peer '%s' (known: %s)" % (p, ", ".join(PEER_METHODS)))
    if not peers:
        raise UsageError("--peers is empty")
    if args.resume and args.force:
        raise UsageError("--resume continues --out and --force starts it afresh: give one of them")
    points = expand(suite, peers)
    if not points:
        raise UsageError("no point to run: no peer of %s computes a method of the suite"
                         % ",".join(peers))
    timer = FakeTimer() if args.dry_run else TorchTimer(args.device, args.attnbench)
    out_path = args.out or "%s-torch.csv" % suite.name
    out, done = results.open_results(out_path, args.resume, args.force)
    meta = {"git_rev": results.git_rev(SOURCE_ROOT),
            "suite_hash": results.plan_hash(suite, points), "shard": "1/1"}
    todo = [p for p in points if not (args.resume and results.point_key(p) in done)]
    print("torch_peers: suite %s, %d points on %s -> %s%s" % (
        suite.name, len(todo), timer.device, out_path,
        " (%d already there, skipped)" % (len(points) - len(todo)) if len(todo) < len(points)
        else ""), file=sys.stderr)

    last_ok = {}          # series -> (flops, median ms) of its last measured point
    failures = 0
    with out:
        for i, point in enumerate(todo, 1):
            status, taken, gpu_cells = "skipped:budget", [], {}
            last = last_ok.get(point.series())
            run_s = point.flops() / last[0] * last[1] * 1e-3 if last else 0.0
            rule = samples.Rule(suite, reps_within_budget(suite, run_s))
            if point.invalid():
                status = "invalid:" + point.invalid()
            elif rule.cap:
                status, taken, gpu_cells = timer.measure(point, rule, suite.warmup)
            if status == "ok":
                last_ok[point.series()] = (point.flops(), statistics.median(taken))
            failures += status.startswith(("invalid:", "error:"))
            out.write(results.make_row(suite.name, point, timer, status, taken, rule.stop_reason,
                                       meta, gpu_cells))
            out.flush()   # every row on disk the moment it is measured
            print("[%d/%d] %s/%s %s N=%d: %s" % (i, len(todo), point.method, point.row_variant,
                                                point.dtype, point.N, status), file=sys.stderr)
    return 1 if failures else 0


def main(argv):
    args = parse_args(argv)
    try:
        return run(args)
    except UsageError as e:
        print("torch_peers: %s" % e, file=sys.stderr)
        return 2
