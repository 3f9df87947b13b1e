// gbench_shim.cpp — runs attnbench's measurement loop inside Google
// Benchmark (the API shared by 1.7.1 on Debian 12 and 1.8 and later:
// SkipWithError, Iterations, UseManualTime; a run's error is read through
// run_error, which knows both spellings).
#include "measure/gbench_shim.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

namespace {

// A run's error message, "" when it has none. Google Benchmark 1.8 renamed
// Run::error_occurred and error_message to skipped and skip_message: the
// overload whose members exist is the one that compiles.
template <typename Run>
auto run_error(const Run &run, int) -> decltype(run.error_occurred, std::string())
{
    return run.error_occurred ? run.error_message : std::string();
}

template <typename Run>
auto run_error(const Run &run, long) -> decltype(run.skipped, std::string())
{
    return run.skipped != decltype(run.skipped){} ? run.skip_message : std::string();
}

// attnbench prints its own table; Google Benchmark's console output would
// interleave with it. This reporter only keeps the error, if any.
class QuietReporter : public benchmark::BenchmarkReporter {
  public:
    bool ReportContext(const Context &) override { return true; }
    void ReportRuns(const std::vector<Run> &runs) override
    {
        for (const Run &run : runs)
            if (!run_error(run, 0).empty()) error = run_error(run, 0);
    }
    std::string error;
};

struct Measurement {
    gbench_sample_fn sample;
    void *ctx;
    double *samples_ms;
    int taken = 0;
    char why[512] = "";
    int rc = 0;
};

void initialize_once()
{
    static bool done = false;
    if (done) return;
    static char arg0[] = "attnbench";
    static char *argv[] = {arg0, nullptr};
    int argc = 1;
    benchmark::Initialize(&argc, argv);
    done = true;
}

} // namespace

extern "C" int gbench_measure(const char *name, int count, gbench_sample_fn sample, void *ctx,
                              double *samples_ms, char *why, size_t why_len)
{
    initialize_once();
    Measurement m{sample, ctx, samples_ms};
    benchmark::RegisterBenchmark(name, [&m](benchmark::State &state) {
        for (auto _ : state) {
            double ms = 0;
            m.rc = m.sample(m.ctx, &ms, m.why, sizeof m.why);
            if (m.rc) {
                state.SkipWithError(m.why);
                break;
            }
            m.samples_ms[m.taken++] = ms;
            state.SetIterationTime(ms * 1e-3);
        }
    })
        ->UseManualTime()
        ->Iterations(count)
        ->Repetitions(1);
    QuietReporter reporter;
    // The registry holds this one benchmark (it is cleared after each
    // point), so the filter can match everything.
    benchmark::RunSpecifiedBenchmarks(&reporter, ".*");
    benchmark::ClearRegisteredBenchmarks();
    if (m.rc) {
        std::snprintf(why, why_len, "%s", m.why);
        return m.rc;
    }
    if (!reporter.error.empty() || m.taken != count) {
        std::snprintf(why, why_len, "Google Benchmark: %s (%d of %d samples)",
                      reporter.error.empty() ? "run incomplete" : reporter.error.c_str(),
                      m.taken, count);
        return -1;
    }
    return 0;
}
