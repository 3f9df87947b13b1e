#!/usr/bin/env python3
"""torch_sdpa.py — PyTorch's scaled_dot_product_attention as a peer of attnbench.

Times torch.nn.functional.scaled_dot_product_attention with one SDPA backend
at a time (torch.nn.attention.sdpa_kernel) on the shapes of an attnbench
suite, and writes rows in attnbench's CSV schema, so that `attnbench plot`
draws PyTorch's kernels next to attnbench's:

    python3 suites/peers/torch_sdpa.py seqlen --out out/seqlen-torch-sdpa.csv
    build/harness/attnbench plot out/seqlen-cuda.csv out/seqlen-torch-sdpa.csv

Rows: method `full`; backend and variant `torch-sdpa-flash`, `-cudnn` or
`-efficient`; status `ok`, `oom`, `skipped:budget`, `invalid:<why>` (the
backend has no kernel for the point) or `error:<what>`. The suite gives the
shapes (seqlen, B, H, d, dtype) and the settings (reps, warmup, budget,
seed); its methods and method parameters do not apply to PyTorch's full
attention and are ignored.

Measured as attnbench's CUDA backend measures (docs/measurement.md, "PyTorch
peers"): the inputs are uniform in [-sqrt 3, sqrt 3) (attnbench's
distribution, drawn by torch's generator from the row's seed), `warmup`
untimed calls, then `reps` calls each timed with CUDA events after the L2
cache was flushed by writing a buffer twice its size; the CSV keeps the
median, the spread and every sample.
Under a budget (seconds a point) a point takes as many samples as fit, from
the series' last N scaled by the FLOP model: `reps` at most, 3 at least, or
it is skipped (attnbench's own rule: docs/measurement.md, "Budget";
harness/measure/budget.h). Points run in this process: a sticky CUDA error
ends the sweep instead of costing one row.

--dry-run writes the rows without PyTorch or a GPU, from a fake timer
(made-up times, device "dry-run: fake timer, no GPU"), to test the CSV path.

An --out that holds rows is continued with --resume (only the points it lacks
are measured; a last row cut short is removed first), started afresh with
--force, and refused otherwise, as `attnbench run` does.

Exit status (as `attnbench run`): 0 when every row is ok, oom or skipped; 1
when a row is invalid or an error; 2 when the sweep cannot start (no
PyTorch, no GPU, a malformed suite, a foreign --out file, one with rows
without --resume or --force).
"""
import argparse
import csv
import ctypes
import datetime
import math
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))

# attnbench's results header, column for column (harness/results/csv.c, csv_columns());
# the test tests/plots "peers" checks it against the harness's own.
CSV_COLUMNS = [
    "suite", "method", "variant", "backend", "device", "dtype", "B", "H", "N", "d", "m", "k",
    "s_r", "shared_scale", "inputs", "gather", "reps", "ms_median", "ms_min", "ms_max", "ms_stddev", "ms_p10",
    "ms_p90", "flops_model", "bytes_model", "tflops", "gbps", "status", "git_rev", "timestamp",
    "driver", "runtime", "sm_clock_mhz", "seed", "samples_ms", "suite_hash", "shard",
    # attnbench run --profile's hardware counters: empty here.
    "dram_read_bytes", "dram_write_bytes", "l2_bytes", "kernel_ms", "flops_measured",
    "gather_dram_bytes", "intensity", "roof_fraction", "achieved_tflops", "profile_note",
    # How the samples were taken (events, a fixed count here) and the GPU's readings (empty).
    "timing", "replicas", "noise_pct", "stop_reason", "sm_clock_median_mhz",
    "mem_clock_median_mhz", "power_median_w", "temp_max_c", "throttled_samples",
    "discarded_samples", "energy_j", "tflops_per_w", "gpu_note",
    # attnbench run --verify's check of the output: not done here (empty).
    "verify", "verify_error", "verify_s",
    # MiTA's routing statistics: empty for other methods.
    "route_imbalance", "expert_overlap",
]
# The columns that identify a point (harness/results/csv.c, csv_key_column()), for --resume.
KEY_COLUMNS = ["method", "variant", "backend", "dtype", "B", "H", "N", "d", "m", "k", "s_r",
               "shared_scale", "inputs", "gather"]

BACKENDS = ("flash", "cudnn", "efficient")   # torch-sdpa-NAME
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
FAKE_TFLOPS = {"flash": 300.0, "cudnn": 450.0, "efficient": 200.0}  # the dry run's made-up rates


class UsageError(Exception):
    """The sweep cannot start; the message says why (exit status 2)."""


# ---- suites (the format of harness/sweep/suite.h) -----------------------------------------------

AXES = ("methods", "seqlen", "B", "H", "d", "dtype", "m", "k", "s_r", "shared_scale", "inputs",
        "gather")
SETTINGS = ("name", "describe", "backend", "reps", "warmup", "budget", "timeout", "seed",
            # attnbench's stopping rule and graph timing: this peer takes `reps` samples
            # of events around one call.
            "max_noise", "min_samples", "max_samples", "min_time", "timing")
VALUE_MAX = 2 ** 40


def parse_number(text):
    """'64' or '2^10' (any base^exponent)."""
    base, caret, exponent = text.partition("^")
    if not base.isdigit() or (caret and not exponent.isdigit()):
        raise ValueError("'%s' is not a number (need an integer such as 64 or 2^10, or a "
                         "doubling range such as 2^10..2^14)" % text)
    value = int(base) ** int(exponent) if caret else int(base)
    if value > VALUE_MAX:
        raise ValueError("'%s' is too large (need <= 2^40)" % text)
    return value


def parse_int_list(key, text):
    """'64', '64,128', '64 128', '2^10..2^14' (doubling) as harness/sweep/suite.c reads them."""
    values = []
    for item in text.replace(",", " ").split():
        lo_text, dots, hi_text = item.partition("..")
        lo = parse_number(lo_text)
        hi = parse_number(hi_text) if dots else lo
        if lo > hi:
            raise ValueError("'%s' is an empty range (need start <= end)" % item)
        if lo < 1:
            raise ValueError("%s=%d (need >= 1)" % (key, lo))
        v = lo
        while v <= hi:
            if v in values:
                raise ValueError("%d is listed twice in '%s'" % (v, key))
            values.append(v)
            v *= 2
    if not values:
        raise ValueError("empty list for '%s'" % key)
    return values


class Suite:
    def __init__(self, name):
        # harness/sweep/suite.c, suite_init_defaults()
        self.name = name
        self.seqlen, self.B, self.H, self.d = [1024, 2048, 4096], [1], [8], [64]
        self.dtypes = ["fp32"]
        self.reps, self.warmup, self.budget_s, self.seed = 10, 2, 0.0, 1

    def set(self, key, value):
        """One key of a suite line or a command-line override; ValueError says what is wrong."""
        if key in ("seqlen", "B", "H", "d"):
            setattr(self, key, parse_int_list(key, value))
        elif key == "dtype":
            dtypes = value.replace(",", " ").split()
            for t in dtypes:
                if t not in DTYPE_BYTES:
                    raise ValueError("unknown dtype '%s' (known: fp32, fp16, bf16)" % t)
            if not dtypes:
                raise ValueError("empty list for 'dtype'")
            if len(set(dtypes)) != len(dtypes):
                raise ValueError("a dtype is listed twice in 'dtype'")
            self.dtypes = dtypes
        elif key in ("reps", "warmup"):
            n = parse_number(value.strip())
            if n < (1 if key == "reps" else 0):
                raise ValueError("%s=%d (need >= %d)" % (key, n, 1 if key == "reps" else 0))
            setattr(self, key, n)
        elif key == "budget":
            try:
                budget = float(value)
            except ValueError:
                raise ValueError("budget '%s' is not a number (need seconds, e.g. 30)" % value)
            if not math.isfinite(budget) or budget < 0:
                raise ValueError("budget=%s (need >= 0 seconds; 0: no budget)" % value)
            self.budget_s = budget
        elif key == "seed":
            if not value.strip().isdigit():
                raise ValueError("seed '%s' is not a number (need an integer >= 0)" % value)
            self.seed = int(value)
        elif key == "name":
            self.name = value.strip()
        elif key == "inputs":
            if value.replace(",", " ").split() != ["iid"]:
                raise ValueError("inputs '%s': this peer draws iid inputs only" % value)
        elif key in AXES + SETTINGS:
            pass  # methods and their parameters, backend, describe, timeout: not PyTorch's
        else:
            raise ValueError("unknown key '%s' (known: %s)" % (key, ", ".join(AXES + SETTINGS)))


def find_suite(name):
    """A path as is; else NAME.suite in $ATTNBENCH_SUITES, then in the source tree's suites/."""
    if os.path.isfile(name):
        return name
    for folder in (os.environ.get("ATTNBENCH_SUITES"), os.path.join(SOURCE_ROOT, "suites")):
        if folder and os.path.isfile(os.path.join(folder, name + ".suite")):
            return os.path.join(folder, name + ".suite")
    raise UsageError("no suite '%s' (not a file, and no %s.suite in $ATTNBENCH_SUITES or %s)"
                     % (name, name, os.path.join(SOURCE_ROOT, "suites")))


def read_suite(path):
    suite = Suite(os.path.splitext(os.path.basename(path))[0])
    seen = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            words = line.split("#", 1)[0].strip().split(None, 1)
            if not words:
                continue
            key, value = words[0], words[1] if len(words) > 1 else ""
            try:
                if key in seen:
                    raise ValueError("'%s' given twice" % key)
                seen.add(key)
                suite.set(key, value)
            except ValueError as e:
                raise UsageError("%s:%d: %s" % (path, lineno, e))
    if "methods" not in seen:  # the format's one key without a default (harness/sweep/suite.c)
        raise UsageError("%s: %s: a suite names the methods it runs, e.g. 'methods full linear "
                         "mita' (the other keys have defaults: README.md, \"Suite files\")"
                         % (path, "no 'methods' line" if seen else "the suite is empty"))
    return suite


# ---- the points ---------------------------------------------------------------------------

class Point:
    def __init__(self, backend, dtype, B, H, N, d):
        self.backend, self.dtype, self.B, self.H, self.N, self.d = backend, dtype, B, H, N, d
        self.name = "torch-sdpa-" + backend

    def flops(self):
        return 4.0 * self.B * self.H * self.N * self.N * self.d          # docs/work-models.md: full

    def bytes(self):
        return 4.0 * self.B * self.H * self.N * self.d * DTYPE_BYTES[self.dtype]

    def series(self):
        return (self.backend, self.dtype, self.B, self.H, self.d)

    def key(self):
        return ("full", self.name, self.name, self.dtype, str(self.B), str(self.H), str(self.N),
                str(self.d), "", "", "", "", "iid", "")


def expand(suite, backends):
    """Backends outermost and N innermost, so each series runs N in ascending order."""
    return [Point(b, t, B, H, N, d) for b in backends for t in suite.dtypes for B in suite.B
            for H in suite.H for d in suite.d for N in sorted(suite.seqlen)]


def plan_hash(suite, points):
    """A fingerprint of this plan (FNV-1a 64): the suite_hash column, which tells `attnbench
    merge` which rows belong together. It is the adapter's own, never attnbench's."""
    h = 0xCBF29CE484222325
    text = "torch_sdpa reps=%d warmup=%d budget=%g seed=%d\n" % (
        suite.reps, suite.warmup, suite.budget_s, suite.seed)
    text += "".join(",".join(p.key()) + "\n" for p in points)
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


# ---- timers -------------------------------------------------------------------------------

class FakeTimer:
    """--dry-run: made-up times from the FLOP model, without PyTorch or a GPU."""

    def __init__(self):
        self.device = "dry-run: fake timer, no GPU"
        self.driver = self.runtime = "dry-run"
        self.sm_clock_mhz = 0

    def measure(self, point, reps, warmup, seed):
        ms = 0.02 + point.flops() / (FAKE_TFLOPS[point.backend] * 1e12) * 1e3
        return "ok", [ms * (1 + 0.01 * ((i % 3) - 1)) for i in range(reps)]


class TorchTimer:
    """CUDA events around each call of F.scaled_dot_product_attention under sdpa_kernel()."""

    def __init__(self):
        try:
            import torch
            import torch.nn.functional as F
            from torch.nn.attention import SDPBackend, sdpa_kernel
        except ImportError as e:
            raise UsageError("PyTorch is not installed here (%s); install PyTorch with CUDA, or "
                             "pass --dry-run to write rows from a fake timer" % e)
        if not torch.cuda.is_available():
            raise UsageError("no usable CUDA device (torch.cuda.is_available() is False)")
        self.torch, self.F, self.sdpa_kernel = torch, F, sdpa_kernel
        self.backends = {"flash": SDPBackend.FLASH_ATTENTION,
                         "cudnn": SDPBackend.CUDNN_ATTENTION,
                         "efficient": SDPBackend.EFFICIENT_ATTENTION}
        self.dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
        index = torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        self.device = props.name
        self.runtime = torch.version.cuda
        self.driver, self.sm_clock_mhz = driver_facts(index)
        # Writing twice the L2 size evicts what the last call left there.
        self.flush = torch.empty(2 * props.L2_cache_size, dtype=torch.uint8, device="cuda")
        self.start = torch.cuda.Event(enable_timing=True)
        self.stop = torch.cuda.Event(enable_timing=True)

    def inputs(self, point, seed):
        torch = self.torch
        shape = (point.B, point.H, point.N, point.d)
        g = torch.Generator(device="cuda")
        tensors = []
        for which in range(3):  # Q, K, V: attnbench's seeds differ by tensor too
            g.manual_seed(seed * 3 + which)
            t = torch.empty(shape, dtype=self.dtypes[point.dtype], device="cuda")
            tensors.append(t.uniform_(-math.sqrt(3), math.sqrt(3), generator=g))
        return tensors

    def measure(self, point, reps, warmup, seed):
        torch = self.torch
        q = k = v = None
        try:
            q, k, v = self.inputs(point, seed)
            samples = []
            with torch.inference_mode(), self.sdpa_kernel(self.backends[point.backend]):
                for _ in range(warmup):
                    self.F.scaled_dot_product_attention(q, k, v)
                torch.cuda.synchronize()
                for _ in range(reps):
                    self.flush.zero_()
                    self.start.record()
                    self.F.scaled_dot_product_attention(q, k, v)
                    self.stop.record()
                    self.stop.synchronize()
                    samples.append(self.start.elapsed_time(self.stop))
            return "ok", samples
        except torch.cuda.OutOfMemoryError:
            return "oom", []
        except RuntimeError as e:
            first_line = (str(e).strip().splitlines() or ["(no message)"])[0][:180]
            # sdpa_kernel() with a backend that cannot take this point (fp32 on flash, say)
            if first_line.startswith("No available kernel"):
                return "invalid:%s has no kernel for %s d=%d" % (point.name, point.dtype,
                                                                  point.d), []
            return "error:" + first_line, []
        finally:
            del q, k, v
            torch.cuda.empty_cache()


def driver_facts(index):
    """The CUDA driver's version ("13.0", as attnbench writes it) and the device's rated SM
    clock in MHz (0, written empty, where the driver does not say), from the driver API:
    PyTorch reports neither."""
    cuda = ctypes.CDLL("libcuda.so.1")
    version, device, clock_khz = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13
    if cuda.cuInit(0) or cuda.cuDriverGetVersion(ctypes.byref(version)):
        raise UsageError("the CUDA driver (libcuda.so.1) does not give its version")
    if (cuda.cuDeviceGet(ctypes.byref(device), index)
            or cuda.cuDeviceGetAttribute(ctypes.byref(clock_khz), CU_DEVICE_ATTRIBUTE_CLOCK_RATE,
                                         device)):
        clock_khz.value = 0
    return "%d.%d" % (version.value // 1000, version.value % 1000 // 10), clock_khz.value // 1000


# ---- the results file ---------------------------------------------------------------------

def csv_field(text):
    """RFC 4180 quoting exactly where harness/results/csv.c quotes: a comma, a quote or a line end."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


BUDGET_MIN_REPS = 3


def reps_within_budget(suite, run_s):
    """Samples a point takes under the suite's budget, given one run's predicted seconds (0:
    unknown): as many as fit after the warm-up, suite.reps at most, 3 at least; 0 when even the
    fewest do not fit."""
    if suite.budget_s <= 0 or run_s <= 0:
        return suite.reps
    fit = math.floor(suite.budget_s / run_s) - suite.warmup
    fewest = min(suite.reps, BUDGET_MIN_REPS)
    return 0 if fit < fewest else min(fit, suite.reps)


def git_rev():
    # A copy of the tree without .git (a lent GPU machine) is told its revision.
    if os.environ.get("ATTNBENCH_GIT_REV"):
        return os.environ["ATTNBENCH_GIT_REV"]
    try:
        out = subprocess.run(["git", "-C", SOURCE_ROOT, "describe", "--always", "--dirty",
                              "--abbrev=12"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def whole_length(text):
    """The length of `text` up to the end of its last whole line: a newline outside quotes (as
    harness/results/run_file.c cuts a row left cut short)."""
    whole, quoted = 0, False
    for i, c in enumerate(text):
        if c == '"':
            quoted = not quoted
        elif c == "\n" and not quoted:
            whole = i + 1
    return whole


def open_results(path, resume, force):
    """Appends to `path`: a new or empty file gets the header; an existing one must have exactly
    ours (never append to a foreign file, nor empty one). A file with rows is continued with
    `resume` (a last row without its newline, cut short, is removed and said on stderr),
    emptied with `force`, and refused otherwise, as `attnbench run` does (README.md,
    "Interruptions, locks and timeouts"). Returns the file and the keys of the points it has."""
    done = set()
    text = ""
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path, newline="", encoding="utf-8") as f:
            text = f.read()
        header = text.split("\n", 1)[0].rstrip("\r")
        if header != ",".join(CSV_COLUMNS):
            raise UsageError("%s: its header is not attnbench's (%s...); write to a new file"
                             % (path, header[:60]))
    after_header = text.split("\n", 1)[1] if "\n" in text else ""
    if after_header and not resume and not force:
        rows = after_header.count("\n") + (not after_header.endswith("\n"))
        raise UsageError("%s already holds %d row%s: --resume to continue it (only the points it "
                         "lacks are measured), or --force to start it afresh (its rows are "
                         "deleted)" % (path, rows, "" if rows == 1 else "s"))
    keep = 0 if force else whole_length(text)
    if keep < len(text):
        with open(path, "r+", encoding="utf-8", newline="") as f:
            f.truncate(len(text[:keep].encode("utf-8")))
        if not force:
            print("torch_sdpa: %s: its last row was cut short (no newline at its end): removed it "
                  "(%d bytes); that point is measured again"
                  % (path, len(text[keep:].encode("utf-8"))), file=sys.stderr)
        text = text[:keep]
    for row in csv.DictReader(text.splitlines()):
        done.add(tuple(row[c] for c in KEY_COLUMNS))
    try:
        f = open(path, "a", encoding="utf-8", newline="")
    except OSError as e:
        raise UsageError("%s: cannot open for appending: %s" % (path, e.strerror))
    if f.tell() == 0:
        f.write(",".join(CSV_COLUMNS) + "\n")
        f.flush()
    return f, done


def quantile(sorted_samples, q):
    """Linear interpolation, as harness/core/stats.c."""
    pos = q * (len(sorted_samples) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_samples) - 1)
    return sorted_samples[lo] + (pos - lo) * (sorted_samples[hi] - sorted_samples[lo])


def make_row(suite, point, timer, status, samples, meta):
    ok = status == "ok"
    s = sorted(samples)
    median = quantile(s, 0.5) if ok else 0.0
    cells = dict.fromkeys(CSV_COLUMNS, "")
    cells.update(meta)
    cells.update({
        "suite": suite.name, "method": "full", "variant": point.name, "backend": point.name,
        "device": timer.device, "dtype": point.dtype, "B": str(point.B), "H": str(point.H),
        "N": str(point.N), "d": str(point.d), "inputs": "iid", "reps": str(len(samples) if ok else 0),
        "flops_model": "%.6e" % point.flops(), "bytes_model": "%.6e" % point.bytes(),
        "status": status,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "driver": timer.driver, "runtime": timer.runtime,
        "sm_clock_mhz": str(timer.sm_clock_mhz) if timer.sm_clock_mhz else "",
        "seed": str(suite.seed),
    })
    if ok:
        cells.update({
            "ms_median": "%.9g" % median, "ms_min": "%.9g" % s[0], "ms_max": "%.9g" % s[-1],
            "ms_stddev": "%.9g" % (statistics.stdev(s) if len(s) > 1 else 0.0),
            "ms_p10": "%.9g" % quantile(s, 0.1), "ms_p90": "%.9g" % quantile(s, 0.9),
            "tflops": "%.4f" % (point.flops() / (median * 1e-3) / 1e12),
            "gbps": "%.4f" % (point.bytes() / (median * 1e-3) / 1e9),
            "samples_ms": ";".join("%.6g" % x for x in samples),
            "timing": "events", "replicas": "1",
            "stop_reason": "budget" if len(samples) < suite.reps else "max-samples",
        })
    return ",".join(csv_field(cells[c]) for c in CSV_COLUMNS) + "\n"


# ---- the sweep ----------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="torch_sdpa.py", description="Time PyTorch SDPA backends on an attnbench suite's "
        "shapes; write rows in attnbench's CSV schema.")
    ap.add_argument("suite", help="a suite name in suites/ or a path (e.g. seqlen)")
    ap.add_argument("--out", help="results CSV (default: SUITE-torch-sdpa.csv)")
    ap.add_argument("--backends", default="flash,cudnn",
                    help="SDPA backends, of %s (default: flash,cudnn)" % ",".join(BACKENDS))
    for key in ("seqlen", "B", "H", "d", "dtype", "reps", "warmup", "budget", "seed"):
        ap.add_argument("--" + key, metavar="VALUE", help="override the suite's " + key)
    ap.add_argument("--resume", action="store_true", help="skip points already in --out")
    ap.add_argument("--force", action="store_true",
                    help="start an --out that holds rows afresh (its rows are deleted)")
    ap.add_argument("--dry-run", action="store_true",
                    help="no PyTorch, no GPU: write rows from a fake timer (for tests)")
    return ap.parse_args(argv)


def run(args):
    suite = read_suite(find_suite(args.suite))
    for key in ("seqlen", "B", "H", "d", "dtype", "reps", "warmup", "budget", "seed"):
        value = getattr(args, key)
        if value is not None:
            try:
                suite.set(key, value)
            except ValueError as e:
                raise UsageError("--%s '%s': %s" % (key, value, e))
    backends = [b for b in args.backends.replace(",", " ").split()]
    for b in backends:
        if b not in BACKENDS:
            raise UsageError("unknown SDPA backend '%s' (known: %s)" % (b, ", ".join(BACKENDS)))
    if not backends:
        raise UsageError("--backends is empty")

    if args.resume and args.force:
        raise UsageError("--resume continues --out and --force starts it afresh: give one of them")
    points = expand(suite, backends)
    timer = FakeTimer() if args.dry_run else TorchTimer()
    out_path = args.out or "%s-torch-sdpa.csv" % suite.name
    out, done = open_results(out_path, args.resume, args.force)
    meta = {"git_rev": git_rev(), "suite_hash": plan_hash(suite, points), "shard": "1/1"}
    todo = [p for p in points if not (args.resume and p.key() in done)]
    print("torch_sdpa: suite %s, %d points on %s -> %s%s" % (
        suite.name, len(todo), timer.device, out_path,
        " (%d already there, skipped)" % (len(points) - len(todo)) if len(todo) < len(points)
        else ""), file=sys.stderr)

    last_ok = {}          # series -> (flops, median ms) of its last measured point
    failures = 0
    with out:
        for i, point in enumerate(todo, 1):
            status, samples = "skipped:budget", []
            last = last_ok.get(point.series())
            run_s = point.flops() / last[0] * last[1] * 1e-3 if last else 0.0
            reps = reps_within_budget(suite, run_s)
            if reps:
                status, samples = timer.measure(point, reps, suite.warmup, suite.seed)
            if status == "ok":
                last_ok[point.series()] = (point.flops(), statistics.median(samples))
            failures += status.startswith(("invalid:", "error:"))
            out.write(make_row(suite, point, timer, status, samples, meta))
            out.flush()   # every row on disk the moment it is measured
            print("[%d/%d] full/%s %s N=%d: %s" % (i, len(todo), point.name, point.dtype,
                                                  point.N, status), file=sys.stderr)
    return 1 if failures else 0


def main(argv):
    args = parse_args(argv)
    try:
        return run(args)
    except UsageError as e:
        print("torch_sdpa: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
