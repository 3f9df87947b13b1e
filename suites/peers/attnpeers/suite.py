"""Suites and axis flags as attnbench reads them (harness/sweep/suite.c), and the
points they expand to for the peers. No PyTorch here: --dry-run runs without it.

A suite line is `key value...`; `#` starts a comment. The peers read the axes
methods, seqlen, B, H, d, dtype, m, k, s_r, shared_scale and inputs, the
settings name, reps, warmup, budget, seed and the stopping rule (max_noise,
min_samples, max_samples, min_time), and `zip` (groups of axes that take their
i-th values together, such as seqlen+B). attnbench's other settings (backend,
timeout, timing) and its `gather` axis (the version of MiTA's gather kernel:
a peer gathers its own way) do not apply and are ignored; a key neither knows
is ignored with a warning, so that a suite of a newer attnbench still runs.
"""
import itertools
import math
import os
import sys

from . import samples

# What each peer runs (its rows' backend is torch-NAME): every method, or full attention only.
ALL_METHODS = ("full", "linear", "agent", "nystrom", "topk", "mita")
PEER_METHODS = {"eager": ALL_METHODS, "compile": ALL_METHODS, "flex": ("full",),
                "sdpa-flash": ("full",), "sdpa-cudnn": ("full",), "sdpa-efficient": ("full",)}
DEFAULT_PEERS = ("eager", "compile", "flex", "sdpa-flash", "sdpa-cudnn")
# The parameters each method reads (attn/methods.h), in the CSV's order.
USES = {"full": (), "linear": (), "agent": ("m",), "nystrom": ("m",), "topk": ("k",),
        "mita": ("m", "k", "s_r", "shared_scale")}
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
SHARED_SCALES = ("official", "paper")
VALUE_MAX = 2 ** 40

AXES = ("methods", "seqlen", "B", "H", "d", "dtype", "m", "k", "s_r", "shared_scale", "inputs")
SETTINGS = ("name", "reps", "warmup", "budget", "seed", "max_noise", "min_samples",
            "max_samples", "min_time", "zip")
NOT_FOR_PEERS = ("describe", "backend", "timeout", "timing", "gather")


class UsageError(Exception):
    """The sweep cannot start; the message says why (exit status 2)."""


def warn(text):
    print("torch_peers: warning: %s" % text, file=sys.stderr)


def parse_amount(key, value, unit):
    """A number >= 0 of seconds (budget, min_time) or a percentage (max_noise, which may end
    in '%'), as parse_amount of harness/sweep/suite.c; 0 means none."""
    text = value.strip()
    if unit == "percent" and text.endswith("%"):
        text = text[:-1]
    try:
        amount = float(text)
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount):
        raise ValueError("%s '%s' is not a number (need %s, e.g. %s)"
                         % (key, value.strip(), unit, "1%" if unit == "percent" else "30"))
    if amount < 0:
        raise ValueError("%s=%g (need >= 0 %s; 0: none)" % (key, amount, unit))
    return amount


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


def parse_names(key, text, known=None):
    names = text.replace(",", " ").split()
    if not names:
        raise ValueError("empty list for '%s'" % key)
    for name in names:
        if known and name not in known:
            raise ValueError("unknown %s '%s' (known: %s)" % (key, name, ", ".join(known)))
    if len(set(names)) != len(names):
        raise ValueError("a value is listed twice in '%s'" % key)
    return names


def parse_axis(key, text):
    """The values of axis `key` (not methods) as its suite line gives them."""
    if key == "dtype":
        return parse_names(key, text, DTYPE_BYTES)
    if key == "shared_scale":
        return parse_names(key, text, SHARED_SCALES)
    if key == "inputs":
        return parse_names(key, text)
    return parse_int_list(key, text)


def parse_only(entry, text):
    """The `axis=v+v` after a methods entry's '@' (harness/sweep/suite.c): (axis, values)."""
    key, eq, values = text.partition("=")
    if not eq or not values or key not in AXES or key == "methods":
        raise ValueError("'%s': need name:variant@axis=value+value after '@' (an axis key such "
                         "as d, dtype or seqlen; e.g. full:flash_wgmma_bn80@d=256)" % entry)
    return key, tuple(parse_axis(key, values.replace("+", " ")))


def parse_methods(text):
    """attnbench's method list as the definitions the peers compute, (method, variant, only)
    in the suite's order: full's variants (flash, naive, ...) are ways of computing one
    definition; MiTA's (shared, route_only) are two. `only` is None, or (axis, values) where
    every entry of the definition runs only at those values (`name:variant@axis=v+v`; one
    entry without a restriction, or restrictions on different axes, leave it None). `gather`
    (not attention) and methods attnbench does not define (a plugin's) have no peer and are
    left out with a warning."""
    definitions, only = [], {}
    for entry in parse_names("methods", text):
        name, at, restriction = entry.partition("@")
        method, _, variant = name.partition(":")
        if method == "mita":
            variant = variant or "shared"
            if variant not in ("shared", "route_only"):
                raise ValueError("unknown variant 'mita:%s' (known: shared, route_only)"
                                 % variant)
        elif method in ALL_METHODS:
            variant = ""
        else:
            warn("no peer computes '%s' (%s): left out" % (
                entry, "not attention" if method == "gather" else "not a method of "
                "docs/methods.md"))
            continue
        mine = parse_only(entry, restriction) if at else None
        if (method, variant) not in only:
            definitions.append((method, variant))
            only[(method, variant)] = mine
        else:
            theirs = only[(method, variant)]
            only[(method, variant)] = (
                (mine[0], tuple(dict.fromkeys(theirs[1] + mine[1])))
                if mine and theirs and mine[0] == theirs[0] else None)
    return [(m, v, only[(m, v)]) for m, v in definitions]


class Suite:
    def __init__(self, name):
        # harness/sweep/suite.c, suite_init_defaults()
        self.name = name
        self.methods = [(m, "shared" if m == "mita" else "", None) for m in ALL_METHODS]
        self.seqlen, self.B, self.H, self.d = [1024, 2048, 4096], [1], [8], [64]
        self.dtype = ["fp32"]
        self.m, self.k, self.s_r, self.shared_scale = [64], [64], [1], ["official"]
        self.inputs = ["iid"]
        self.reps, self.warmup, self.budget_s, self.seed = 10, 2, 0.0, 1
        # The stopping rule (docs/measurement.md): none, a fixed count of reps.
        self.max_noise_pct, self.min_time_s = 0.0, 0.0
        self.min_samples, self.max_samples = samples.MIN_SAMPLES, samples.MAX_SAMPLES
        self.zip = []  # groups of axis keys that take their i-th values together

    def set(self, key, value):
        """One key of a suite line or a command-line override; ValueError says what is wrong."""
        if key == "methods":
            self.methods = parse_methods(value)
        elif key in AXES:
            setattr(self, key, parse_axis(key, value))
        elif key in ("reps", "warmup"):
            n = parse_number(value.strip())
            if n < (1 if key == "reps" else 0):
                raise ValueError("%s=%d (need >= %d)" % (key, n, 1 if key == "reps" else 0))
            setattr(self, key, n)
        elif key in ("min_samples", "max_samples"):
            n = parse_number(value.strip())
            if not 1 <= n <= samples.MAX_SAMPLES:
                raise ValueError("%s=%d (need %s)" % (key, n, ">= 1" if n < 1 else
                                                      "<= %d" % samples.MAX_SAMPLES))
            setattr(self, key, n)
        elif key == "budget":
            self.budget_s = parse_amount(key, value, "seconds")
        elif key == "min_time":
            self.min_time_s = parse_amount(key, value, "seconds")
        elif key == "max_noise":
            self.max_noise_pct = parse_amount(key, value, "percent")
        elif key == "seed":
            if not value.strip().isdigit():
                raise ValueError("seed '%s' is not a number (need an integer >= 0)" % value)
            self.seed = int(value)
        elif key == "name":
            self.name = value.strip()
        elif key == "zip":
            self.zip = parse_zip(value)
        elif key not in NOT_FOR_PEERS:
            raise KeyError(key)

    def check(self):
        """As suite_check() of harness/sweep/suite.c: a zip group's axes list as many values
        each; ValueError says which do not."""
        for group in self.zip:
            counts = [(key, len(getattr(self, key))) for key in group]
            for (a, na), (b, nb) in itertools.combinations(counts, 2):
                if na != nb:
                    raise ValueError("%s and %s are zipped (they take their i-th values "
                                     "together) but %s has %d value%s and %s %d"
                                     % (a, b, a, na, "" if na == 1 else "s", b, nb))

    def combinations(self, keys):
        """Every combination of the axes `keys` as dicts, the first key outermost; a zip group
        is one axis of tuples, placed where its innermost member is. The group holding seqlen
        runs in ascending N, as attnbench runs each series."""
        digits = []  # (the keys of a digit, its list of value tuples)
        for key in keys:
            group = next((g for g in self.zip if key in g), (key,))
            if key != max(group, key=lambda k: keys.index(k) if k in keys else -1):
                continue
            rows = list(zip(*(getattr(self, k) for k in group)))
            if "seqlen" in group:
                rows.sort(key=lambda row: row[group.index("seqlen")])
            digits.append((group, rows))
        for chosen in itertools.product(*(rows for _, rows in digits)):
            values = {}
            for (group, _), row in zip(digits, chosen):
                values.update(zip(group, row))
            yield values


def parse_zip(text):
    """`seqlen+B H+d`: groups of two or more of the peers' axes joined by '+' (attnbench's
    `gather` among them is left out: the peers do not read it)."""
    groups, seen = [], set()
    for item in text.replace(",", " ").split():
        group = tuple(key for key in item.split("+") if key != "gather")
        for key in group:
            if key not in AXES or key == "methods":
                raise ValueError("zip: '%s' is not an axis (a group is axes joined by '+', such "
                                 "as seqlen+B)" % key)
            if key in seen:
                raise ValueError("zip: %s is in more than one group, or twice in one" % key)
            seen.add(key)
        if len(item.split("+")) < 2:
            raise ValueError("zip: '%s' is one axis; a group joins two or more, such as seqlen+B"
                             % item)
        if len(group) >= 2:
            groups.append(group)
    if not text.split():
        raise ValueError("no value for 'zip'")
    return groups


def find_suite(name, source_root):
    """A path as is; else NAME.suite in $ATTNBENCH_SUITES, then in the source tree's suites/."""
    if os.path.isfile(name):
        return name
    for folder in (os.environ.get("ATTNBENCH_SUITES"), os.path.join(source_root, "suites")):
        if folder and os.path.isfile(os.path.join(folder, name + ".suite")):
            return os.path.join(folder, name + ".suite")
    raise UsageError("no suite '%s' (not a file, and no %s.suite in $ATTNBENCH_SUITES or %s)"
                     % (name, name, os.path.join(source_root, "suites")))


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
                if key == "gather":
                    warn("%s:%d: 'gather' (the version of attnbench's gather kernel) does not "
                         "apply to the peers, which gather their own way: ignored"
                         % (path, lineno))
            except ValueError as e:
                raise UsageError("%s:%d: %s" % (path, lineno, e))
            except KeyError:
                warn("%s:%d: unknown key '%s' (the peers know %s): ignored"
                     % (path, lineno, key, ", ".join(AXES + SETTINGS)))
    if "methods" not in seen:  # the format's one key without a default (harness/sweep/suite.c)
        raise UsageError("%s: %s: a suite names the methods it runs, e.g. 'methods full linear "
                         "mita' (the other keys have defaults: README.md, \"Suite files\")"
                         % (path, "no 'methods' line" if seen else "the suite is empty"))
    try:
        suite.check()
    except ValueError as e:
        raise UsageError("%s: %s" % (path, e))
    return suite


# ---- the points ---------------------------------------------------------------------------

class Point:
    """One row: a peer computing one definition at one shape, dtype and set of parameters."""

    def __init__(self, peer, method, variant, dtype, B, H, N, d, params, inputs, seed):
        self.peer, self.method, self.variant = peer, method, variant
        self.dtype, self.B, self.H, self.N, self.d = dtype, B, H, N, d
        self.params, self.inputs, self.seed = params, inputs, seed
        self.backend = "torch-" + peer
        # The rows' variant names the peer, after MiTA's own variant (route_only-torch-eager).
        self.row_variant = (variant + "-" if variant else "") + self.backend

    def flops(self):
        """docs/work-models.md, as attn/work_models.c computes it."""
        N, d, p = float(self.N), float(self.d), self.params
        per_head = {
            "full": lambda: 4 * N * N * d,
            "linear": lambda: 4 * N * d * d,
            "agent": lambda: 8 * N * p["m"] * d,
            "nystrom": lambda: 8 * N * p["m"] * d + 4.0 * p["m"] ** 2 * d + 6 * 4.0 * p["m"] ** 3,
            "topk": lambda: 2 * N * N * d + 4 * N * p["k"] * d,
            "mita": lambda: 6 * p["m"] * N * d + 4 * N * (p["m"] + p["s_r"] * p["k"]) * d,
        }[self.method]()
        return self.B * self.H * per_head

    def bytes(self):
        """The byte floor: each input read once and O written once; MiTA's six passes."""
        passes = 6 if self.method == "mita" else 4
        return float(passes * self.B * self.H * self.N * self.d * DTYPE_BYTES[self.dtype])

    def invalid(self):
        """Why the definition does not apply to this shape (as attn_validate_common), or None."""
        p = self.params
        if "m" in p and p["m"] > self.N:
            return "m=%d exceeds N=%d (need 1 <= m <= N)" % (p["m"], self.N)
        if "k" in p and p["k"] > self.N:
            return "k=%d exceeds N=%d (need 1 <= k <= N)" % (p["k"], self.N)
        if "s_r" in p and p["s_r"] > p["m"]:
            return "s_r=%d exceeds m=%d (need 1 <= s_r <= m)" % (p["s_r"], p["m"])
        return None

    def series(self):
        """What the budget's prediction carries over: all of the key but N."""
        return (self.backend, self.method, self.variant, self.dtype, self.B, self.H, self.d,
                self.inputs, tuple(sorted(self.params.items())))

    def cells(self):
        """The key columns' cells (harness/results/csv.c, csv_key_column())."""
        cells = {"method": self.method, "variant": self.row_variant, "backend": self.backend,
                 "dtype": self.dtype, "B": str(self.B), "H": str(self.H), "N": str(self.N),
                 "d": str(self.d), "inputs": self.inputs}
        cells.update({key: str(value) for key, value in self.params.items()})
        return cells


def expand(suite, peers):
    """Definitions in the suite's order, each peer that runs it, then dtype, shape and the
    parameters the method reads; N innermost and ascending, so that each series runs N in
    order (the budget predicts from the last N)."""
    points = []
    for method, variant, only in suite.methods:
        for peer in peers:
            if method not in PEER_METHODS[peer]:
                continue
            keys = ["dtype", "inputs", "B", "H", "d"] + list(USES[method]) + ["seqlen"]
            for v in suite.combinations(keys):
                # A restriction on an axis the method does not read leaves its points as they
                # are (attnbench's rows of such a method differ only in that axis: one row).
                if only and only[0] in v and v[only[0]] not in only[1]:
                    continue
                params = {key: v[key] for key in USES[method]}
                points.append(Point(peer, method, variant, v["dtype"], v["B"], v["H"],
                                    v["seqlen"], v["d"], params, v["inputs"], suite.seed))
    return points
