/* profiler.cu — per-kernel hardware counters through CUPTI's range profiler
 * (see profiler.h). C++ only because cupti_profiler_host.h includes
 * <string>; the code is C in style and uses no exceptions.
 *
 * The call order CUPTI needs, checked on an H100 with CUDA 13.0:
 *   session:  cuptiProfilerInitialize, cuptiDeviceGetChipName, counter
 *             availability (size, then image), cuptiProfilerHostInitialize,
 *             cuptiProfilerHostConfigAddMetrics, the config image;
 *   each run: cuptiRangeProfilerEnable, the counter-data image,
 *             cuptiRangeProfilerSetConfig (auto ranges, user replay),
 *             Start, the launches, Stop (once per pass), DecodeData, then
 *             per range its name and cuptiProfilerHostEvaluateToGpuValues,
 *             and Disable.
 * A session belongs to one process (a CUDA context and CUPTI's device side
 * cannot cross a fork): `run --profile` keeps one worker process for its
 * points (runner.c), so that it is set up once per run, not per point.
 * profiler_costs() says where the time goes.
 */
#include "measure/profiler.h"

#include <cxxabi.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cuda.h>
#include <cuda_runtime_api.h>
#include <cupti_callbacks.h>
#include <cupti_driver_cbid.h>
#include <cupti_runtime_cbid.h>
#include <cupti_profiler_host.h>
#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>

#include "attn/attn_nvtx.h"
#include "measure/kernel_list.h"

/* The metrics, in this order wherever values are kept. */
enum metric {
    DRAM_READ, DRAM_WRITE, L2_BYTES, DURATION,
    TENSOR_FP16, TENSOR_BF16, FP32_ADD, FP32_MUL, FP32_FMA,
    METRIC_COUNT,
};
static const char *const metric_names[METRIC_COUNT] = {
    "dram__bytes_read.sum",
    "dram__bytes_write.sum",
    "lts__t_bytes.sum",
    "gpu__time_duration.sum",
    "sm__ops_path_tensor_src_fp16.sum",
    "sm__ops_path_tensor_src_bf16_dst_fp32.sum",
    "smsp__sass_thread_inst_executed_op_fadd_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_fmul_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum",
};
/* Metrics before this one are the point of profiling: a GPU without one of
 * them has no counters for us. The FLOP counters are left out, with a note,
 * where the GPU names them differently. */
#define FIRST_OPTIONAL_METRIC TENSOR_FP16

/* Kernel launches one run may make; the first try provides for fewer and
 * grows when a run drops ranges. */
#define FIRST_CAPACITY 4096
/* User replay needs one pass per group of counters that can be read
 * together (4 for ours on an H100); a bound in case CUPTI never says done. */
#define MAX_USER_PASSES 64
#define MAX_CAPACITY 65536
/* A process that profiled just before (one cut short, say) can hold the
 * counters a moment after it is gone: CUPTI_ERROR_HARDWARE_BUSY, seen on an
 * H100 at the first point of a run. Waits up to BUSY_TRIES x BUSY_WAIT_US. */
#define BUSY_TRIES 50
#define BUSY_WAIT_US 200000

static struct {
    int state;                          /* 0 closed, 1 open, -1 failed to open */
    char why[256];                      /* why it failed */
    CUcontext ctx;
    char chip[64];
    CUpti_Profiler_Host_Object *host;
    uint8_t *availability;              /* the host object reads it until deinitialized */
    uint8_t *config;
    size_t config_size;
    const char *metrics[METRIC_COUNT];  /* the metrics collected, a prefix of enum metric */
    int metric_count;
    char note[160];                     /* what this GPU lacks, for every result */
    CUpti_ProfilerReplayMode replay;    /* user replay; kernel replay where it fails */
    size_t capacity;
} session;

/* ---- where the time goes ------------------------------------------------------ */

/* Seconds spent in each stage, for profiler_costs(): the session's stages
 * once per process, the others once per profiled run. */
enum stage {
    STAGE_INITIALIZE, STAGE_AVAILABILITY, STAGE_HOST,
    STAGE_ENABLE, STAGE_COUNTER_DATA, STAGE_SET_CONFIG, STAGE_PASSES, STAGE_DECODE,
    STAGE_EVALUATE, STAGE_DISABLE, STAGE_CALLBACKS,
    STAGE_COUNT, FIRST_RUN_STAGE = STAGE_ENABLE,
};
static const char *const stage_names[STAGE_COUNT] = {
    "initialize", "counter availability", "host object and config image",
    "enable", "counter-data image", "set config", "replay passes", "decode",
    "evaluate", "disable", "launch callbacks",
};

static struct {
    double seconds[STAGE_COUNT];
    double open;           /* profiler_open() in all, its stages and the rest */
    double mark;           /* when the stage being timed began */
    int runs;              /* profiled runs (captures) so far */
} costs;

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A stage begins. */
static void mark(void) { costs.mark = seconds_now(); }

/* The stage that began at the last mark ends; the next one begins. */
static void charge(enum stage s)
{
    const double now = seconds_now();
    costs.seconds[s] += now - costs.mark;
    costs.mark = now;
}

/* ---- errors ------------------------------------------------------------------ */

/* Formats a failed CUPTI call; returns non-zero. */
static int cupti_fail(CUptiResult r, const char *call, char *why, size_t why_len)
{
    const char *name = "?", *message = "";
    cuptiGetResultString(r, &name);
    cuptiGetErrorMessage(r, &message);
    const char *hint = "";
    if (r == CUPTI_ERROR_INSUFFICIENT_PRIVILEGES ||
        r == CUPTI_ERROR_VIRTUALIZED_DEVICE_INSUFFICIENT_PRIVILEGES)
        hint = " (counters need root, or the nvidia module option "
               "NVreg_RestrictProfilingToAdminUsers=0)";
    else if (r == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED ||
             r == CUPTI_ERROR_OLD_PROFILER_API_INITIALIZED)
        hint = " (another profiler is attached)";
    if (!message || !strcmp(message, name)) message = "";
    snprintf(why, why_len, "%s: %s%s%s%s", call, name, message[0] ? ": " : "", message, hint);
    return (int)r ? (int)r : -1;
}

/* A CUPTI parameter block: zeroed, its size set. */
#define CUPTI_PARAMS(type, name) \
    type name = {};              \
    name.structSize = type##_STRUCT_SIZE

#define CUPTI_CHECK(call, params)                                                       \
    do {                                                                                \
        CUptiResult r_ = call(&(params));                                               \
        if (r_ != CUPTI_SUCCESS) return cupti_fail(r_, #call, why, why_len);            \
    } while (0)

static int cuda_fail(cudaError_t e, const char *call, char *why, size_t why_len)
{
    snprintf(why, why_len, "%s: %s (%s)", call, cudaGetErrorName(e), cudaGetErrorString(e));
    return (int)e;
}

/* ---- kernel names ------------------------------------------------------------ */

/* "void ns::copy<4>(int4 const*, int4*)" or its mangled form -> "ns::copy<4>":
 * the demangled name without its return type and parameters. */
static void kernel_base_name(const char *raw, char *out, size_t len)
{
    int status = -1;
    char *demangled = raw[0] == '_' && raw[1] == 'Z'
                          ? abi::__cxa_demangle(raw, NULL, NULL, &status) : NULL;
    const char *s = status == 0 && demangled ? demangled : raw;
    size_t begin = 0, end = strlen(s);
    int depth = 0; /* of template brackets */
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '<') depth++;
        else if (s[i] == '>') depth--;
        else if (depth == 0 && s[i] == '(') {
            if (strncmp(s + i, "(anonymous namespace)", 21) == 0) {
                i += 20;
                continue;
            }
            end = i;
            break;
        } else if (depth == 0 && s[i] == ' ') {
            begin = i + 1; /* what came before was the return type */
        }
    }
    snprintf(out, len, "%.*s", (int)(end - begin), s + begin);
    free(demangled);
}

/* ---- the launch log: which step each launch belongs to ------------------------ */

/* The step open at a launch, and the kernel's name: CUDA 13's auto ranges
 * are named by their index only, so the name comes from the launch call:
 * the symbol name CUPTI gives the runtime's or the driver's launch
 * callback, else the driver's name of the launched handle (name_launch). */
struct launch {
    char step[PROFILER_STEP_LEN];
    char name[PROFILER_NAME_LEN];
};

static struct {
    struct launch *items;
    int count, cap;
    int overflow;          /* a launch could not be recorded (out of memory) */
} launch_log;

/* Runtime launches call the driver's launch in turn; only the outermost call
 * of this thread is a launch of its own. */
static thread_local int launch_depth;

/* cuFuncGetName and cuKernelGetName, from the runtime's driver entry points
 * (no link to libcuda). */
typedef CUresult (*func_get_name_fn)(const char **name, CUfunction f);
typedef CUresult (*kernel_get_name_fn)(const char **name, CUkernel k);
static func_get_name_fn func_get_name;
static kernel_get_name_fn kernel_get_name;

/* Looks up func_get_name and kernel_get_name once; either stays NULL where
 * this driver lacks it. */
static void find_name_functions(void)
{
    static int looked;
    if (looked) return;
    looked = 1;
    void *get_name = NULL;
    cudaDriverEntryPointQueryResult found;
    if (cudaGetDriverEntryPointByVersion("cuFuncGetName", &get_name, 12030, cudaEnableDefault,
                                         &found) == cudaSuccess &&
        found == cudaDriverEntryPointSuccess)
        func_get_name = (func_get_name_fn)get_name;
    if (cudaGetDriverEntryPointByVersion("cuKernelGetName", &get_name, 12030, cudaEnableDefault,
                                         &found) == cudaSuccess &&
        found == cudaDriverEntryPointSuccess)
        kernel_get_name = (kernel_get_name_fn)get_name;
}

/* The leading fields of cuLaunchKernel_params and cuLaunchKernelEx_params
 * (generated_cuda_meta.h, which does not compile on its own in CUDA 13). */
struct launch_kernel_params { CUfunction f; };
struct launch_kernel_ex_params { const CUlaunchConfig *config; CUfunction f; };

/* The kernel a driver launch callback launches, by name into the last log
 * entry when it has none yet. cuBLAS's kernels came out unnamed this way
 * with cuFuncGetName alone (results/h100/profile.steps.csv, full:naive):
 * cuBLAS launches through the runtime it links statically (no symbol name
 * came from there), and a driver launch may carry a CUkernel handle
 * (cuLaunchKernel takes either), which cuFuncGetName does not name. So:
 * CUPTI's symbol name for the driver launch first, then the handle's name
 * as a CUfunction, then as a CUkernel. */
static void name_launch(CUpti_CallbackId id, const CUpti_CallbackData *cb)
{
    if (launch_log.count == 0) return;
    struct launch *l = &launch_log.items[launch_log.count - 1];
    if (l->name[0]) return;
    if (cb->symbolName && cb->symbolName[0]) {
        kernel_base_name(cb->symbolName, l->name, sizeof l->name);
        return;
    }
    CUfunction f = NULL;
    if (id == CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel ||
        id == CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz)
        f = ((const struct launch_kernel_params *)cb->functionParams)->f;
    else if (id == CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx ||
             id == CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz)
        f = ((const struct launch_kernel_ex_params *)cb->functionParams)->f;
    const char *raw = NULL;
    if (f && !(func_get_name && func_get_name(&raw, f) == CUDA_SUCCESS && raw) &&
        !(kernel_get_name && kernel_get_name(&raw, (CUkernel)f) == CUDA_SUCCESS && raw))
        raw = NULL;
    if (raw) kernel_base_name(raw, l->name, sizeof l->name);
}

static void log_launch(void)
{
    if (launch_log.count == launch_log.cap) {
        int cap = launch_log.cap ? 2 * launch_log.cap : FIRST_CAPACITY;
        void *grown = realloc(launch_log.items, (size_t)cap * sizeof *launch_log.items);
        if (!grown) {
            launch_log.overflow = 1;
            return;
        }
        launch_log.items = (struct launch *)grown;
        launch_log.cap = cap;
    }
    struct launch *l = &launch_log.items[launch_log.count++];
    snprintf(l->step, sizeof l->step, "%s", attn_step_current());
    l->name[0] = 0;
}

static void CUPTIAPI on_launch(void *, CUpti_CallbackDomain domain, CUpti_CallbackId id,
                               const void *data)
{
    const CUpti_CallbackData *cb = (const CUpti_CallbackData *)data;
    if (cb->callbackSite == CUPTI_API_EXIT) {
        if (domain == CUPTI_CB_DOMAIN_RUNTIME_API) launch_depth--;
        return;
    }
    if (launch_depth == 0) {
        log_launch();
        /* A runtime launch names its kernel's symbol; a driver launch, or
         * the driver launch inside a runtime launch that named none, is
         * named below. */
        if (domain == CUPTI_CB_DOMAIN_RUNTIME_API && cb->symbolName && launch_log.count)
            kernel_base_name(cb->symbolName, launch_log.items[launch_log.count - 1].name,
                             sizeof launch_log.items[0].name);
    }
    if (domain == CUPTI_CB_DOMAIN_RUNTIME_API) launch_depth++;
    else name_launch(id, cb);
}

static const CUpti_CallbackId runtime_launches[] = {
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_ptsz_v7000,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_ptsz_v11060,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_v9000,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_ptsz_v9000,
    CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_v13000,
    CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_ptsz_v13000,
};
static const CUpti_CallbackId driver_launches[] = {
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz,
};

/* Subscribes to every kernel launch of the process. 0, or non-zero with why
 * (CUPTI allows one subscriber: a tracing tool may hold it). */
static int launch_log_start(CUpti_SubscriberHandle *sub, char *why, size_t why_len)
{
    launch_log.count = 0;
    launch_log.overflow = 0;
    launch_depth = 0;
    CUptiResult r = cuptiSubscribe(sub, on_launch, NULL);
    if (r != CUPTI_SUCCESS) return cupti_fail(r, "cuptiSubscribe", why, why_len);
    /* A launch API this CUDA lacks cannot be enabled, and need not be: a
     * launch the log misses shows as more ranges than launches, and the
     * steps are then left unknown (attach_steps). */
    int enabled = 0;
    for (size_t i = 0; i < sizeof runtime_launches / sizeof *runtime_launches; i++)
        enabled += cuptiEnableCallback(1, *sub, CUPTI_CB_DOMAIN_RUNTIME_API,
                                       runtime_launches[i]) == CUPTI_SUCCESS;
    for (size_t i = 0; i < sizeof driver_launches / sizeof *driver_launches; i++)
        enabled += cuptiEnableCallback(1, *sub, CUPTI_CB_DOMAIN_DRIVER_API,
                                       driver_launches[i]) == CUPTI_SUCCESS;
    if (!enabled) {
        cuptiUnsubscribe(*sub);
        snprintf(why, why_len, "cuptiEnableCallback: no kernel launch callback could be enabled");
        return -1;
    }
    return 0;
}

/* ---- the session ------------------------------------------------------------- */

/* cuptiProfilerGetCounterAvailability, waiting while the counters are busy. */
static CUptiResult counter_availability(CUpti_Profiler_GetCounterAvailability_Params *p)
{
    CUptiResult r;
    for (int tries = 1;
         (r = cuptiProfilerGetCounterAvailability(p)) == CUPTI_ERROR_HARDWARE_BUSY &&
         tries < BUSY_TRIES;
         tries++)
        usleep(BUSY_WAIT_US);
    return r;
}

static int open_session(char *why, size_t why_len)
{
    mark();
    /* A tool injected into CUDA through this variable holds CUPTI already,
     * and a process cannot be profiled twice; tools that inject otherwise
     * (Nsight Compute) are refused by cuptiProfilerInitialize below. */
    const char *injection = getenv("CUDA_INJECTION64_PATH");
    if (injection && injection[0]) {
        snprintf(why, why_len, "another profiler is attached (CUDA_INJECTION64_PATH=%s); "
                               "leave --profile off under Nsight Compute or Systems", injection);
        return -1;
    }
    cudaError_t e = cudaFree(0); /* makes the device's primary context current */
    if (e != cudaSuccess) return cuda_fail(e, "cudaFree(0)", why, why_len);
    /* The runtime hands out the driver's functions; no link to libcuda. */
    void *get_current = NULL;
    cudaDriverEntryPointQueryResult found;
    e = cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &get_current, 12000,
                                         cudaEnableDefault, &found);
    if (e != cudaSuccess || found != cudaDriverEntryPointSuccess)
        return cuda_fail(e != cudaSuccess ? e : cudaErrorSymbolNotFound,
                         "cudaGetDriverEntryPointByVersion(cuCtxGetCurrent)", why, why_len);
    if (((CUresult(*)(CUcontext *))get_current)(&session.ctx) != CUDA_SUCCESS || !session.ctx) {
        snprintf(why, why_len, "cuCtxGetCurrent: no current CUDA context");
        return -1;
    }
    /* Without them, a kernel CUPTI names no symbol for keeps its range's name
     * (its index). */
    find_name_functions();
    int device = 0;
    e = cudaGetDevice(&device);
    if (e != cudaSuccess) return cuda_fail(e, "cudaGetDevice", why, why_len);

    CUPTI_PARAMS(CUpti_Profiler_Initialize_Params, init);
    CUPTI_CHECK(cuptiProfilerInitialize, init);
    CUPTI_PARAMS(CUpti_Device_GetChipName_Params, chip);
    chip.deviceIndex = (size_t)device;
    CUPTI_CHECK(cuptiDeviceGetChipName, chip);
    snprintf(session.chip, sizeof session.chip, "%s", chip.pChipName);
    charge(STAGE_INITIALIZE);

    CUPTI_PARAMS(CUpti_Profiler_GetCounterAvailability_Params, avail);
    avail.ctx = session.ctx;
    CUptiResult r = counter_availability(&avail); /* its size */
    if (r != CUPTI_SUCCESS)
        return cupti_fail(r, "cuptiProfilerGetCounterAvailability", why, why_len);
    uint8_t *image = (uint8_t *)malloc(avail.counterAvailabilityImageSize);
    session.availability = image;
    if (!image) {
        snprintf(why, why_len, "out of memory for the counter availability image");
        return -1;
    }
    avail.pCounterAvailabilityImage = image;
    r = counter_availability(&avail);
    if (r != CUPTI_SUCCESS)
        return cupti_fail(r, "cuptiProfilerGetCounterAvailability", why, why_len);
    charge(STAGE_AVAILABILITY);

    /* The host side (libnvperf_host) needs no GPU: the chip's name and the
     * availability image. Measured without a GPU for GH100, it and the config
     * image below take under 0.1 s. */
    CUPTI_PARAMS(CUpti_Profiler_Host_Initialize_Params, host);
    host.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
    host.pChipName = session.chip;
    host.pCounterAvailabilityImage = image;
    /* The image lives as long as the session: the host object keeps reading
     * it (cuptiProfilerHostConfigAddMetrics crashed in libnvperf_host on an
     * H100 when it had been freed here). */
    CUPTI_CHECK(cuptiProfilerHostInitialize, host);
    session.host = host.pHostObject;

    /* The metrics this chip knows; a missing required one ends it here. */
    session.metric_count = 0;
    for (int m = 0; m < METRIC_COUNT; m++) {
        CUPTI_PARAMS(CUpti_Profiler_Host_GetMetricProperties_Params, props);
        props.pHostObject = session.host;
        props.pMetricName = metric_names[m];
        if (cuptiProfilerHostGetMetricProperties(&props) == CUPTI_SUCCESS) {
            session.metrics[session.metric_count++] = metric_names[m];
            continue;
        }
        if (m < FIRST_OPTIONAL_METRIC) {
            snprintf(why, why_len, "GPU %s has no metric %s", session.chip, metric_names[m]);
            return -1;
        }
        snprintf(session.note, sizeof session.note, "no FLOP counters on %s (it lacks %s)",
                 session.chip, metric_names[m]);
        session.metric_count = FIRST_OPTIONAL_METRIC; /* the FLOPs need all of them */
        break;
    }

    CUPTI_PARAMS(CUpti_Profiler_Host_ConfigAddMetrics_Params, add);
    add.pHostObject = session.host;
    add.ppMetricNames = session.metrics;
    add.numMetrics = (size_t)session.metric_count;
    CUPTI_CHECK(cuptiProfilerHostConfigAddMetrics, add);
    CUPTI_PARAMS(CUpti_Profiler_Host_GetConfigImageSize_Params, size);
    size.pHostObject = session.host;
    CUPTI_CHECK(cuptiProfilerHostGetConfigImageSize, size);
    session.config = (uint8_t *)malloc(size.configImageSize);
    if (!session.config) {
        snprintf(why, why_len, "out of memory for the profiler's config image");
        return -1;
    }
    session.config_size = size.configImageSize;
    CUPTI_PARAMS(CUpti_Profiler_Host_GetConfigImage_Params, config);
    config.pHostObject = session.host;
    config.configImageSize = session.config_size;
    config.pConfigImage = session.config;
    CUPTI_CHECK(cuptiProfilerHostGetConfigImage, config);
    charge(STAGE_HOST);
    session.capacity = FIRST_CAPACITY;
    session.replay = CUPTI_UserReplay;
    return 0;
}

int profiler_open(char *why, size_t why_len)
{
    if (session.state == 0) {
        const double start = seconds_now();
        int rc = open_session(session.why, sizeof session.why);
        session.state = rc ? -1 : 1;
        costs.open += seconds_now() - start;
    }
    if (session.state < 0) snprintf(why, why_len, "%s", session.why);
    return session.state < 0;
}

void profiler_close(void)
{
    if (session.host) {
        CUPTI_PARAMS(CUpti_Profiler_Host_Deinitialize_Params, host);
        host.pHostObject = session.host;
        cuptiProfilerHostDeinitialize(&host);
    }
    if (session.state != 0) {
        CUPTI_PARAMS(CUpti_Profiler_DeInitialize_Params, deinit);
        cuptiProfilerDeInitialize(&deinit);
    }
    free(session.config);
    free(session.availability);
    free(launch_log.items);
    memset(&session, 0, sizeof session);
    memset(&launch_log, 0, sizeof launch_log);
}

size_t profiler_l2_bytes(void)
{
    int device = 0, bytes = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&bytes, cudaDevAttrL2CacheSize, device) != cudaSuccess)
        return 0;
    return (size_t)bytes;
}

/* ---- one profiled run -------------------------------------------------------- */

/* What one profiled run leaves, before it is matched to the launch log. */
struct capture {
    CUpti_RangeProfiler_Object *profiler;
    uint8_t *data;             /* the counter-data image */
    size_t data_size;
    size_t ranges, dropped;
    int all_passes_submitted;
    int run_failed;            /* the method's run failed, not CUPTI */
};

/* Enable, Start, run, Stop, Decode. The caller disables the profiler. */
static int capture_run(int (*run)(void *, char *, size_t), void *ctx, size_t capacity,
                       struct capture *c, char *why, size_t why_len)
{
    costs.runs++;
    mark();
    CUPTI_PARAMS(CUpti_RangeProfiler_Enable_Params, enable);
    enable.ctx = session.ctx;
    CUPTI_CHECK(cuptiRangeProfilerEnable, enable);
    c->profiler = enable.pRangeProfilerObject;
    charge(STAGE_ENABLE);

    CUPTI_PARAMS(CUpti_RangeProfiler_GetCounterDataSize_Params, size);
    size.pRangeProfilerObject = c->profiler;
    size.pMetricNames = session.metrics;
    size.numMetrics = (size_t)session.metric_count;
    size.maxNumOfRanges = capacity;
    size.maxNumRangeTreeNodes = (uint32_t)capacity;
    CUPTI_CHECK(cuptiRangeProfilerGetCounterDataSize, size);
    c->data = (uint8_t *)malloc(size.counterDataSize);
    if (!c->data) {
        snprintf(why, why_len, "out of memory for a counter-data image of %zu bytes",
                 size.counterDataSize);
        return -1;
    }
    c->data_size = size.counterDataSize;
    CUPTI_PARAMS(CUpti_RangeProfiler_CounterDataImage_Initialize_Params, image);
    image.pRangeProfilerObject = c->profiler;
    image.counterDataSize = c->data_size;
    image.pCounterData = c->data;
    CUPTI_CHECK(cuptiRangeProfilerCounterDataImageInitialize, image);
    charge(STAGE_COUNTER_DATA);

    CUPTI_PARAMS(CUpti_RangeProfiler_SetConfig_Params, config);
    config.pRangeProfilerObject = c->profiler;
    config.configSize = session.config_size;
    config.pConfig = session.config;
    config.counterDataImageSize = c->data_size;
    config.pCounterDataImage = c->data;
    config.range = CUPTI_AutoRange;
    config.replayMode = session.replay;
    config.maxRangesPerPass = capacity;
    config.numNestingLevels = 1;
    config.minNestingLevel = 1;
    config.passIndex = 0;
    config.targetNestingLevel = 1;
    CUPTI_CHECK(cuptiRangeProfilerSetConfig, config);
    charge(STAGE_SET_CONFIG);

    /* User replay: the whole run once per counter pass, until CUPTI has every
     * pass; a method's run() is deterministic and overwrites what it writes,
     * so each pass sees the same kernels. (Kernel replay instead saves and
     * restores all device memory around every kernel and pass: minutes for a
     * point with gigabytes allocated.) Kernel replay: one run. */
    CUPTI_PARAMS(CUpti_RangeProfiler_Stop_Params, stop);
    for (int pass = 0; pass < MAX_USER_PASSES; pass++) {
        /* Every pass launches the same kernels: the log keeps the last. */
        launch_log.count = 0;
        launch_log.overflow = 0;
        CUPTI_PARAMS(CUpti_RangeProfiler_Start_Params, start);
        start.pRangeProfilerObject = c->profiler;
        CUPTI_CHECK(cuptiRangeProfilerStart, start);
        char run_why[256] = "";
        int run_rc = run(ctx, run_why, sizeof run_why);
        stop = CUpti_RangeProfiler_Stop_Params{};
        stop.structSize = CUpti_RangeProfiler_Stop_Params_STRUCT_SIZE;
        stop.pRangeProfilerObject = c->profiler;
        CUPTI_CHECK(cuptiRangeProfilerStop, stop);
        if (run_rc) {
            snprintf(why, why_len, "the profiled run failed: %s", run_why);
            c->run_failed = 1;
            return run_rc;
        }
        if (stop.isAllPassSubmitted || session.replay == CUPTI_KernelReplay) break;
    }
    c->all_passes_submitted = stop.isAllPassSubmitted;
    charge(STAGE_PASSES);

    CUPTI_PARAMS(CUpti_RangeProfiler_DecodeData_Params, decode);
    decode.pRangeProfilerObject = c->profiler;
    CUPTI_CHECK(cuptiRangeProfilerDecodeData, decode);
    c->dropped = decode.numOfRangeDropped;
    CUPTI_PARAMS(CUpti_RangeProfiler_GetCounterDataInfo_Params, info);
    info.pCounterDataImage = c->data;
    info.counterDataImageSize = c->data_size;
    CUPTI_CHECK(cuptiRangeProfilerGetCounterDataInfo, info);
    c->ranges = info.numTotalRanges;
    charge(STAGE_DECODE);
    return 0;
}

static void capture_release(struct capture *c)
{
    if (c->profiler) {
        mark();
        CUPTI_PARAMS(CUpti_RangeProfiler_Disable_Params, disable);
        disable.pRangeProfilerObject = c->profiler;
        cuptiRangeProfilerDisable(&disable);
        charge(STAGE_DISABLE);
    }
    free(c->data);
    memset(c, 0, sizeof *c);
}

/* The values of every range, into out->kernels (named after CUPTI's ranges). */
static int evaluate_ranges(const struct capture *c, struct profiler_result *out, char *why,
                           size_t why_len)
{
    out->kernels = (struct profiler_kernel *)calloc(c->ranges ? c->ranges : 1, sizeof *out->kernels);
    if (!out->kernels) {
        snprintf(why, why_len, "out of memory for %zu kernels", c->ranges);
        return -1;
    }
    out->count = (int)c->ranges;
    mark();
    for (size_t i = 0; i < c->ranges; i++) {
        struct profiler_kernel *k = &out->kernels[i];
        CUPTI_PARAMS(CUpti_RangeProfiler_CounterData_GetRangeInfo_Params, info);
        info.pCounterDataImage = c->data;
        info.counterDataImageSize = c->data_size;
        info.rangeIndex = i;
        info.rangeDelimiter = "/";
        CUPTI_CHECK(cuptiRangeProfilerCounterDataGetRangeInfo, info);
        /* The name's memory is CUPTI's; it is copied, never freed here. */
        kernel_base_name(info.rangeName ? info.rangeName : "", k->name, sizeof k->name);

        double values[METRIC_COUNT];
        for (int m = 0; m < METRIC_COUNT; m++) values[m] = NAN;
        CUPTI_PARAMS(CUpti_Profiler_Host_EvaluateToGpuValues_Params, eval);
        eval.pHostObject = session.host;
        eval.pCounterDataImage = c->data;
        eval.counterDataImageSize = c->data_size;
        eval.rangeIndex = i;
        eval.ppMetricNames = session.metrics;
        eval.numMetrics = (size_t)session.metric_count;
        eval.pMetricValues = values;
        CUPTI_CHECK(cuptiProfilerHostEvaluateToGpuValues, eval);
        k->dram_read_bytes = values[DRAM_READ];
        k->dram_write_bytes = values[DRAM_WRITE];
        k->l2_bytes = values[L2_BYTES];
        k->ms = values[DURATION] * 1e-6; /* gpu__time_duration is in ns */
        k->tensor_fp16_flops = values[TENSOR_FP16];
        k->tensor_bf16_flops = values[TENSOR_BF16];
        k->fp32_flops = values[FP32_ADD] + values[FP32_MUL] + 2 * values[FP32_FMA];
        k->flops = k->tensor_fp16_flops + k->tensor_bf16_flops + k->fp32_flops;
    }
    charge(STAGE_EVALUATE);
    return 0;
}

/* Appends "; text" (or text) to the result's note. */
static void add_note(struct profiler_result *out, const char *text)
{
    size_t used = strlen(out->note);
    snprintf(out->note + used, sizeof out->note - used, "%s%s", used ? "; " : "", text);
}

/* Gives each kernel the step of its launch: the launches and the ranges are
 * in the same order, one range per launch, when the log saw every launch. */
static void attach_steps(struct profiler_result *out, const char *log_why)
{
    char note[200];
    if (log_why[0]) {
        snprintf(note, sizeof note, "steps unknown: %s", log_why);
        add_note(out, note);
        return;
    }
    if (launch_log.overflow || launch_log.count != out->count) {
        snprintf(note, sizeof note, "steps unknown: %d launches seen, %d ranges measured",
                 launch_log.count, out->count);
        add_note(out, note);
        return;
    }
    for (int i = 0; i < out->count; i++) {
        snprintf(out->kernels[i].step, sizeof out->kernels[i].step, "%s", launch_log.items[i].step);
        if (launch_log.items[i].name[0])
            snprintf(out->kernels[i].name, sizeof out->kernels[i].name, "%s",
                     launch_log.items[i].name);
    }
}

int profiler_launch_names(int (*run)(void *ctx, char *why, size_t why_len), void *ctx,
                          char *names, size_t len, int *run_failed, char *why, size_t why_len)
{
    names[0] = '\0';
    *run_failed = 0;
    find_name_functions();
    /* Launches one by one: a method that replays a CUDA graph launches its
     * kernels directly while steps are recorded, and the graph's launch names
     * no kernel. */
    const int recorded = attn_steps_recorded();
    attn_steps_set_recorded(1);
    CUpti_SubscriberHandle sub = NULL;
    int rc = launch_log_start(&sub, why, why_len);
    if (rc == 0) {
        rc = run(ctx, why, why_len);
        *run_failed = rc != 0;
        cuptiUnsubscribe(sub);
    }
    attn_steps_set_recorded(recorded);
    if (rc) return rc;
    for (int i = 0; i < launch_log.count; i++)
        kernel_list_add(names, len, launch_log.items[i].name[0] ? launch_log.items[i].name
                                                                 : "(unnamed)");
    if (launch_log.overflow) kernel_list_add(names, len, "...");
    return 0;
}

int profiler_measure(int (*run)(void *ctx, char *why, size_t why_len), void *ctx,
                     struct profiler_result *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    if (session.state != 1) {
        snprintf(why, why_len, "profiler_measure: no open session (profiler_open first)");
        return -1;
    }
    /* Launches one by one, each filed under its step: no method replays a CUDA graph now. */
    attn_steps_set_recorded(1);
    for (;;) {
        struct capture c = {};
        CUpti_SubscriberHandle sub = NULL;
        char log_why[200] = "";
        mark();
        int logging = launch_log_start(&sub, log_why, sizeof log_why) == 0;
        charge(STAGE_CALLBACKS);
        int rc = capture_run(run, ctx, session.capacity, &c, why, why_len);
        mark();
        if (logging) cuptiUnsubscribe(sub);
        charge(STAGE_CALLBACKS);
        if (rc && logging) {
            /* Should the launch callbacks be what the profiler cannot work
             * with, the counters still count: again without the steps. */
            snprintf(log_why, sizeof log_why, "with launch callbacks, %.150s", why);
            logging = 0;
            capture_release(&c);
            rc = capture_run(run, ctx, session.capacity, &c, why, why_len);
        }
        if (rc && !c.run_failed && session.replay == CUPTI_UserReplay) {
            /* Where CUPTI refuses user replay, kernel replay still counts
             * (slowly); every later point of the session uses it. */
            snprintf(session.note, sizeof session.note, "kernel replay (user replay: %.100s)",
                     why);
            session.replay = CUPTI_KernelReplay;
            capture_release(&c);
            continue;
        }
        if (!rc && (c.dropped > 0 || (logging && (size_t)launch_log.count > session.capacity)) &&
            session.capacity < MAX_CAPACITY) {
            /* More launches than ranges provided for: again, with room. */
            size_t need = logging ? (size_t)launch_log.count : 2 * session.capacity;
            while (session.capacity < need && session.capacity < MAX_CAPACITY)
                session.capacity *= 2;
            capture_release(&c);
            continue;
        }
        if (!rc) rc = evaluate_ranges(&c, out, why, why_len);
        if (!rc) {
            char note[120];
            if (session.note[0]) add_note(out, session.note);
            if (c.dropped > 0) {
                snprintf(note, sizeof note, "%zu launches dropped beyond %zu: sums are partial",
                         c.dropped, session.capacity);
                add_note(out, note);
            }
            if (!c.all_passes_submitted) add_note(out, "CUPTI did not submit every replay pass");
            attach_steps(out, log_why);
        }
        capture_release(&c);
        if (rc) profiler_result_free(out);
        attn_steps_set_recorded(0);
        return rc;
    }
}

/* Appends to text[len] at *used; what does not fit is cut. */
static void append(char *text, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used + 1 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0) *used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

void profiler_costs(char *text, size_t len)
{
    double run = 0;
    for (int s = FIRST_RUN_STAGE; s < STAGE_COUNT; s++) run += costs.seconds[s];
    const int runs = costs.runs ? costs.runs : 1;
    size_t used = 0;
    text[0] = '\0';
    append(text, len, &used, "set-up %.2f s (", costs.open);
    for (int s = 0; s < STAGE_COUNT; s++) {
        if (s == FIRST_RUN_STAGE)
            append(text, len, &used, "); per profiled run, mean of %d: %.2f s (", costs.runs,
                   run / runs);
        append(text, len, &used, "%s%s %.2f", s == 0 || s == FIRST_RUN_STAGE ? "" : ", ",
               stage_names[s], costs.seconds[s] / (s < FIRST_RUN_STAGE ? 1 : runs));
    }
    append(text, len, &used, ")");
}

void profiler_result_free(struct profiler_result *r)
{
    free(r->kernels);
    memset(r, 0, sizeof *r);
}
