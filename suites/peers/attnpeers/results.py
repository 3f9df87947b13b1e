"""The results file: attnbench's CSV schema, rows, --resume and --force. No PyTorch here.

CSV_COLUMNS is the one copy of attnbench's header (tests/plots' peers case checks
it against csv_columns() of harness/results/csv.c): a column attnbench adds is
one more name here, and a peer leaves empty every column it does not fill.
"""
import csv
import datetime
import errno
import fcntl
import math
import os
import statistics
import subprocess
import sys

from .samples import noise_pct, quantile
from .suite import UsageError

# attnbench's results header, column for column (harness/results/csv.c, csv_columns()).
CSV_COLUMNS = [
    "suite", "method", "variant", "backend", "device", "dtype", "B", "H", "N", "d", "m", "k",
    "s_r", "shared_scale", "inputs", "gather", "reps", "ms_median", "ms_min", "ms_max",
    "ms_stddev", "ms_p10", "ms_p90", "flops_model", "bytes_model", "tflops", "gbps", "status",
    "git_rev", "timestamp", "driver", "runtime", "sm_clock_mhz", "seed", "samples_ms",
    "suite_hash", "shard",
    # attnbench run --profile's hardware counters: empty here.
    "dram_read_bytes", "dram_write_bytes", "l2_bytes", "kernel_ms", "flops_measured",
    "gather_dram_bytes", "intensity", "roof_fraction", "achieved_tflops", "profile_note",
    # How the samples were taken (events, the suite's stopping rule) and the GPU's readings
    # (empty).
    "timing", "replicas", "noise_pct", "stop_reason", "sm_clock_median_mhz",
    "mem_clock_median_mhz", "power_median_w", "temp_max_c", "throttled_samples",
    "discarded_samples", "energy_j", "tflops_per_w", "gpu_note",
    # attnbench run --verify's check of the output (a peer is checked before it is timed
    # instead) and MiTA's routing statistics: empty here.
    "verify", "verify_error", "verify_s", "route_imbalance", "expert_overlap",
    # The kernels one forward launched (attnbench's, through CUPTI): empty here.
    "kernels",
]
# The columns that identify a point (harness/results/csv.c, csv_key_column()), for --resume.
KEY_COLUMNS = ["method", "variant", "backend", "dtype", "B", "H", "N", "d", "m", "k", "s_r",
               "shared_scale", "inputs", "gather"]


def point_key(point):
    cells = point.cells()
    return tuple(cells.get(c, "") for c in KEY_COLUMNS)


def csv_field(text):
    """RFC 4180 quoting exactly where harness/results/csv.c quotes: a comma, a quote or a line end."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def plan_hash(suite, points):
    """A fingerprint of this plan (FNV-1a 64): the suite_hash column, which tells `attnbench
    merge` which rows belong together. It is the peers' own, never attnbench's."""
    h = 0xCBF29CE484222325
    text = "torch_peers reps=%d warmup=%d budget=%g seed=%d\n" % (
        suite.reps, suite.warmup, suite.budget_s, suite.seed)
    text += "".join(",".join(point_key(p)) + "\n" for p in points)
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def git_rev(source_root):
    # A copy of the tree without .git (a lent GPU machine) is told its revision.
    if os.environ.get("ATTNBENCH_GIT_REV"):
        return os.environ["ATTNBENCH_GIT_REV"]
    try:
        out = subprocess.run(["git", "-C", source_root, "describe", "--always", "--dirty",
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


def lock_results(fd, path):
    """Takes the file's write lock, as `attnbench run` does (harness/results/run_file.c: a
    POSIX fcntl lock over the whole file, so that a peer and a run of attnbench on the same
    file exclude each other too), or raises UsageError when another run holds it. Where the
    file system has no locks, says so and goes on unlocked."""
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EAGAIN):
            raise UsageError("%s is in use by another run: wait for it to end, or write to "
                             "another file" % path)
        if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
            print("torch_peers: %s: cannot be locked here (%s): nothing stops another run from "
                  "writing it at the same time" % (path, e.strerror), file=sys.stderr)
            return
        raise UsageError("%s: cannot lock: %s" % (path, e.strerror))


# The columns every attnbench results file has had (harness/results/csv.c,
# csv_table_to_current).
ALWAYS_COLUMNS = ("method", "variant", "backend", "N", "status")


def earlier_header(columns):
    """Whether `columns` are the header of an earlier attnbench's results file: ours, in our
    order, with some missing (columns are only ever added)."""
    at = 0
    for name in columns:
        if name not in CSV_COLUMNS[at:]:
            return False
        at = CSV_COLUMNS.index(name, at) + 1
    return all(c in columns for c in ALWAYS_COLUMNS)


def current_cells(row):
    """A peer's row of an earlier file in our columns, as a peer writes it today: the inputs
    axis at its default, iid, if absent (every method reads it); every other absent cell
    empty, the gather axis included (no peer reads it: suite.USES)."""
    cells = {c: row.get(c, "") for c in CSV_COLUMNS}
    if "inputs" not in row:
        cells["inputs"] = "iid"
    return cells


def rewrite_earlier(f, path, text):
    """Rewrites the results file `f` (open and locked on `path`), of an earlier attnbench,
    under our header, as `attnbench run --resume` does (harness/results/run_file.c,
    run_file_replace): a new file beside it, locked before anything is written, renamed over
    it, so that the path always holds the old content or the new. Returns the new file,
    locked, and its text; a last row cut short is left out."""
    keep = text[:whole_length(text)]
    reader = csv.DictReader(keep.splitlines())
    added = [c for c in CSV_COLUMNS if c not in reader.fieldnames]
    rows = [current_cells(r) for r in reader]
    tmp = "%s.rewrite-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    new = os.fdopen(fd, "r+", encoding="utf-8", newline="")
    try:
        lock_results(fd, tmp)
        new.write(",".join(CSV_COLUMNS) + "\n")
        for cells in rows:
            new.write(",".join(csv_field(cells[c]) for c in CSV_COLUMNS) + "\n")
        new.flush()
        os.fsync(fd)
        os.rename(tmp, path)
    except BaseException:
        new.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    f.close()
    print("torch_peers: %s: written by an earlier attnbench: rewrote its %d row%s under this "
          "one's header (added, empty: %s)%s" % (
              path, len(rows), "" if len(rows) == 1 else "s", ", ".join(added) or "none",
              "; its last row was cut short: left out, that point is measured again"
              if len(keep) < len(text) else ""), file=sys.stderr)
    new.seek(0)
    return new, new.read()


def open_results(path, resume, force):
    """Appends to `path`, locked for as long as the returned file is open: a new or empty file
    gets the header; an existing one must have exactly ours (never append to a foreign file,
    nor empty one), or, with `resume`, an earlier attnbench's, which is rewritten under ours
    first (rewrite_earlier). A file with rows is continued with `resume` (a last row without its
    newline, cut short, is removed and said on stderr), emptied with `force`, and refused
    otherwise, as `attnbench run` does (README.md, "Interruptions, locks and timeouts").
    Returns the file and the keys of the points it has. Every read and write goes through the
    one descriptor: closing any other descriptor of the file would let go of the lock."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise UsageError("%s: cannot open: %s" % (path, e.strerror))
    f = os.fdopen(fd, "r+", encoding="utf-8", newline="")
    try:
        lock_results(fd, path)
        text = f.read()
        if text:
            header = text.split("\n", 1)[0].rstrip("\r")
            if header != ",".join(CSV_COLUMNS):
                if not (resume and earlier_header(header.split(","))):
                    raise UsageError("%s: its header is not attnbench's (%s...); write to a new "
                                     "file" % (path, header[:60]))
                f, text = rewrite_earlier(f, path, text)
        after_header = text.split("\n", 1)[1] if "\n" in text else ""
        if after_header and not resume and not force:
            rows = after_header.count("\n") + (not after_header.endswith("\n"))
            raise UsageError("%s already holds %d row%s: --resume to continue it (only the points "
                             "it lacks are measured), or --force to start it afresh (its rows are "
                             "deleted)" % (path, rows, "" if rows == 1 else "s"))
        keep = 0 if force else whole_length(text)
        if keep < len(text):
            f.truncate(len(text[:keep].encode("utf-8")))
            if not force:
                print("torch_peers: %s: its last row was cut short (no newline at its end): "
                      "removed it (%d bytes); that point is measured again"
                      % (path, len(text[keep:].encode("utf-8"))), file=sys.stderr)
            text = text[:keep]
        done = {tuple(row[c] for c in KEY_COLUMNS) for row in csv.DictReader(text.splitlines())}
        f.seek(0, os.SEEK_END)
        if not text:
            f.write(",".join(CSV_COLUMNS) + "\n")
            f.flush()
        return f, done
    except BaseException:
        f.close()
        raise


def make_row(suite_name, point, timer, status, samples, stop_reason, meta, gpu_cells=None):
    """One whole line of the results file for `point`: `samples` taken until `stop_reason`
    (samples.Rule); `meta` holds the run's git_rev, suite_hash and shard; `gpu_cells` the GPU
    columns of an `ok` row (gpu.Readings.cells)."""
    ok = status == "ok"
    s = sorted(samples)
    cells = dict.fromkeys(CSV_COLUMNS, "")
    cells.update(meta)
    cells.update(point.cells())
    cells.update({
        "suite": suite_name, "device": timer.device, "reps": str(len(samples) if ok else 0),
        "flops_model": "%.6e" % point.flops(), "bytes_model": "%.6e" % point.bytes(),
        "status": status,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "driver": timer.driver, "runtime": timer.runtime,
        "sm_clock_mhz": str(timer.sm_clock_mhz) if timer.sm_clock_mhz else "",
        "seed": str(point.seed),
    })
    if ok:
        median, noise = quantile(s, 0.5), noise_pct(samples)
        cells.update({
            "ms_median": "%.9g" % median, "ms_min": "%.9g" % s[0], "ms_max": "%.9g" % s[-1],
            "ms_stddev": "%.9g" % (statistics.stdev(s) if len(s) > 1 else 0.0),
            "ms_p10": "%.9g" % quantile(s, 0.1), "ms_p90": "%.9g" % quantile(s, 0.9),
            "tflops": "%.4f" % (point.flops() / (median * 1e-3) / 1e12),
            "gbps": "%.4f" % (point.bytes() / (median * 1e-3) / 1e9),
            "samples_ms": ";".join("%.6g" % x for x in samples),
            "timing": "events", "replicas": "1",   # as attnbench names its default timing
            "noise_pct": "%.4g" % noise if math.isfinite(noise) else "",
            "stop_reason": stop_reason,
        })
        cells.update(gpu_cells or {})
    return ",".join(csv_field(cells[c]) for c in CSV_COLUMNS) + "\n"
