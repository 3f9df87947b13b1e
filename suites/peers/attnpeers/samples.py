"""A point's samples: how many to take (the stopping rule of harness/measure/timing.c) and
their statistics (harness/core/stats.c), so that a peer's row is sampled and summarised as
attnbench's row of the same point (docs/measurement.md, "Stopping rule"). No PyTorch here.
"""
import math

MIN_SAMPLES = 5     # TIMING_MIN_SAMPLES: the first round under a noise target or a minimum time
MAX_SAMPLES = 200   # STATS_MAX_SAMPLES: what a row keeps


def quantile(sorted_samples, q):
    """Linear interpolation, as harness/core/stats.c."""
    pos = q * (len(sorted_samples) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_samples) - 1)
    return sorted_samples[lo] + (pos - lo) * (sorted_samples[hi] - sorted_samples[lo])


def c_round(x):
    """C's lround: halves away from zero (Python's round() takes halves to even)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def noise_pct(samples):
    """The half-width of the median's distribution-free 95% interval over the median, in
    percent (sample_noise_pct): the sorted samples of ranks n/2 - 0.98 sqrt(n) and
    1 + n/2 + 0.98 sqrt(n). Infinite below 6 samples, where there is no such interval."""
    n = len(samples)
    if n < 6:
        return math.inf
    s = sorted(samples)
    half = 0.98 * math.sqrt(n)
    lo = max(c_round(n / 2.0 - half), 1)
    hi = min(c_round(1 + n / 2.0 + half), n)
    median = quantile(s, 0.5)
    if not median > 0:
        return math.inf
    return 100.0 * (s[hi - 1] - s[lo - 1]) / 2.0 / median


class Rule:
    """The suite's stopping rule for one point: a fixed count (`reps`) unless the suite sets a
    noise target (max_noise, percent) or a minimum time (min_time, seconds); then rounds, the
    first of min_samples, each later one a quarter of those taken, until the rule is met or
    max_samples are in. `cap` is what the budget leaves of the most samples (`most`)."""

    def __init__(self, suite, cap):
        self.max_noise_pct, self.min_time_s = suite.max_noise_pct, suite.min_time_s
        self.min_samples, self.fixed = suite.min_samples, fixed_count(suite)
        self.cap, self.capped_by_budget = cap, cap < most_samples(suite)
        self.stop_reason = ""

    def take(self, sample):
        """Samples from sample() (one forward's milliseconds) until the rule stops;
        self.stop_reason then says why, as the stop_reason column."""
        samples = []
        while not self.should_stop(samples):
            left = self.cap - len(samples)
            size = left if self.fixed else self.min_samples if not samples else len(samples) // 4
            samples += [sample() for _ in range(min(max(size, 1), left))]
        return samples

    def should_stop(self, samples):
        if len(samples) >= self.cap:
            self.stop_reason = "budget" if self.capped_by_budget else "max-samples"
            return True
        if not samples or self.fixed:
            return False
        enough = (len(samples) >= self.min_samples
                  and sum(samples) * 1e-3 >= self.min_time_s)
        if self.max_noise_pct > 0:
            if enough and noise_pct(samples) <= self.max_noise_pct:
                self.stop_reason = "noise"
                return True
            return False
        if enough:
            self.stop_reason = "time"
        return enough


def fixed_count(suite):
    """Whether the suite takes a fixed count of samples: no noise target, no minimum time."""
    return not suite.max_noise_pct > 0 and not suite.min_time_s > 0


def most_samples(suite):
    """The samples a point takes at most before the budget: reps for a fixed count, else
    max_samples (timing_rules_for)."""
    return suite.reps if fixed_count(suite) else suite.max_samples
