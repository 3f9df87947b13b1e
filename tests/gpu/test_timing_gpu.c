/* test_timing_gpu.c — the measurement rules on the GPU (harness/measure/
 * timing.h): graph timing captures R forwards and agrees with events on a
 * point long enough for launch gaps not to matter; NVML reads clocks,
 * power and temperature for every sample; energy per forward is positive
 * and bounded by the board's power; the noise target stops sampling.
 *
 * Exits 77 (skipped) where there is no GPU. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gpu_test.h"
#include "measure/backend.h"
#include "measure/measure.h"

/* One point of full/flash, bf16, B=1 H=8 N d=64, under `timing`. */
static void measure(int64_t N, struct timing_rules timing, struct backend *b,
                    const struct device_info *info, struct result_row *row)
{
    struct sweep_point p;
    memset(&p, 0, sizeof p);
    snprintf(p.method, sizeof p.method, "full");
    snprintf(p.variant, sizeof p.variant, "flash");
    p.problem = (struct attn_problem){1, 8, N, 64, ATTN_BF16, ATTN_CUDA, 1};
    struct measure_options opt = {.timing = timing};
    measure_point(&p, b, info, &opt, row);
}

int main(void)
{
    if (gpu_test_sanitized()) {
        printf("under compute-sanitizer: timings would only measure the sanitizer; skipped\n");
        return 77;
    }
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return exit_status;
    static struct result_row events, graph, noisy;
    const struct timing_rules fixed =
        timing_rules_for(ATTN_CUDA, 3, 20, 0, TIMING_MIN_SAMPLES, 200, 0, TIMING_EVENTS, 0);
    const struct timing_rules as_graph =
        timing_rules_for(ATTN_CUDA, 3, 20, 0, TIMING_MIN_SAMPLES, 200, 0, TIMING_GRAPH, 0);
    measure(8192, fixed, b, &info, &events);
    measure(8192, as_graph, b, &info, &graph);
    printf("events %.4f ms, graph %.4f ms (R = %d), noise %.3g%% / %.3g%%\n", events.ms_median,
           graph.ms_median, graph.replicas, events.noise_pct, graph.noise_pct);
    gpu_test_verdict(!strcmp(events.status, "ok") && !strcmp(graph.status, "ok"),
                     "both points ok", NULL);
    gpu_test_verdict(events.replicas == 1 && graph.replicas > 1 && !strcmp(graph.timing, "graph"),
                     "graph timing replays several forwards a sample", NULL);
    /* ~0.5 ms a forward: launch gaps are small; warm L2 makes graph faster. */
    gpu_test_verdict(graph.ms_median < events.ms_median * 1.05 &&
                         graph.ms_median > events.ms_median * 0.7,
                     "graph and events agree within the warm-L2 advantage", NULL);

    printf("NVML: %s; SM %.0f MHz, mem %.0f MHz, %.1f W, %.0f C, energy %.4g J%s\n",
           events.has_readings ? "read" : events.gpu_note, events.sm_clock_median_mhz,
           events.mem_clock_median_mhz, events.power_median_w, events.temp_max_c, events.energy_j,
           events.energy_from_counter ? " (counter)" : " (power x time)");
    gpu_test_verdict(events.has_readings && events.sm_clock_median_mhz > 100 &&
                         events.power_median_w > 10 && events.temp_max_c > 0,
                     "NVML read clocks, power and temperature", NULL);
    /* Between 1 W and 1500 W during the forward's median time. */
    gpu_test_verdict(events.energy_j > events.ms_median * 1e-3 * 1 &&
                         events.energy_j < events.ms_median * 1e-3 * 1500,
                     "energy per forward within the board's power", NULL);
    gpu_test_verdict(isfinite(events.tflops_per_w) && events.tflops_per_w > 0,
                     "TFLOP/s per watt", NULL);

    struct timing_rules target =
        timing_rules_for(ATTN_CUDA, 3, 20, 2.0, TIMING_MIN_SAMPLES, 200, 0, TIMING_EVENTS, 0);
    measure(8192, target, b, &info, &noisy);
    printf("noise target 2%%: %d samples, noise %.3g%%, stopped: %s\n", noisy.reps,
           noisy.noise_pct, noisy.stop_reason);
    gpu_test_verdict(!strcmp(noisy.stop_reason, "noise") && noisy.noise_pct <= 2.0,
                     "the noise target stops sampling", NULL);
    b->shutdown(b);
    return gpu_test_summary("");
}
