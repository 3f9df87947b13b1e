/* nvml.c — NVML loaded at run time (see nvml.h). The few declarations
 * below are NVML's stable C ABI (nvml.h of the CUDA toolkit and of PyPI's
 * nvidia-nvml-dev): functions return 0 on success, a device is an opaque
 * handle, clocks are MHz, power mW, energy mJ, temperatures °C. */
#include "measure/nvml.h"

#include <dlfcn.h>
#include <stdio.h>

typedef struct nvml_device *nvml_device_t;

enum { NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_TEMPERATURE_GPU = 0 };

/* nvmlClocksEventReason*: SwPowerCap, HwSlowdown, SwThermalSlowdown,
 * HwThermalSlowdown, HwPowerBrakeSlowdown. GpuIdle, ApplicationsClocksSetting,
 * SyncBoost and DisplayClockSetting are not throttling. */
#define THROTTLE_MASK (0x4ull | 0x8ull | 0x20ull | 0x40ull | 0x80ull)

static struct {
    int tried, ok;
    char note[160];
    nvml_device_t device;
    int (*clock)(nvml_device_t, int, unsigned *);
    int (*power)(nvml_device_t, unsigned *);
    int (*temperature)(nvml_device_t, int, unsigned *);
    int (*reasons)(nvml_device_t, unsigned long long *);
    int (*energy)(nvml_device_t, unsigned long long *);
} nvml;

static void *symbol(void *lib, const char *name, const char *older)
{
    void *f = dlsym(lib, name);
    return f || !older ? f : dlsym(lib, older);
}

static int open_once(const char *bus)
{
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(nvml.note, sizeof nvml.note, "no NVML (libnvidia-ml.so.1 not found)");
        return -1;
    }
    int (*init)(void) = (int (*)(void))symbol(lib, "nvmlInit_v2", "nvmlInit");
    int (*by_bus)(const char *, nvml_device_t *) = (int (*)(const char *, nvml_device_t *))symbol(
        lib, "nvmlDeviceGetHandleByPciBusId_v2", "nvmlDeviceGetHandleByPciBusId");
    nvml.clock = (int (*)(nvml_device_t, int, unsigned *))symbol(lib, "nvmlDeviceGetClockInfo", NULL);
    nvml.power = (int (*)(nvml_device_t, unsigned *))symbol(lib, "nvmlDeviceGetPowerUsage", NULL);
    nvml.temperature =
        (int (*)(nvml_device_t, int, unsigned *))symbol(lib, "nvmlDeviceGetTemperature", NULL);
    nvml.reasons = (int (*)(nvml_device_t, unsigned long long *))symbol(
        lib, "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons");
    nvml.energy = (int (*)(nvml_device_t, unsigned long long *))symbol(
        lib, "nvmlDeviceGetTotalEnergyConsumption", NULL);
    if (!init || !by_bus || !nvml.clock || !nvml.power || !nvml.temperature || !nvml.reasons) {
        snprintf(nvml.note, sizeof nvml.note, "NVML lacks the functions this needs (an old driver?)");
        return -1;
    }
    int rc = init();
    if (rc != 0) {
        snprintf(nvml.note, sizeof nvml.note, "nvmlInit failed (NVML error %d)", rc);
        return -1;
    }
    rc = by_bus(bus, &nvml.device);
    if (rc != 0) {
        snprintf(nvml.note, sizeof nvml.note, "NVML does not know the GPU at %s (NVML error %d)",
                 bus, rc);
        return -1;
    }
    return 0;
}

int nvml_open(const char *bus, char *note, size_t note_len)
{
    if (!nvml.tried) {
        nvml.tried = 1;
        nvml.ok = bus && *bus ? open_once(bus) == 0 : 0;
        if (!nvml.ok && !nvml.note[0]) snprintf(nvml.note, sizeof nvml.note, "not a GPU");
    }
    if (!nvml.ok) snprintf(note, note_len, "%s", nvml.note);
    return nvml.ok ? 0 : -1;
}

int nvml_read(struct gpu_reading *r)
{
    unsigned sm = 0, mem = 0, mw = 0, temp = 0;
    unsigned long long reasons = 0;
    if (!nvml.ok || nvml.clock(nvml.device, NVML_CLOCK_SM, &sm) ||
        nvml.clock(nvml.device, NVML_CLOCK_MEM, &mem) || nvml.power(nvml.device, &mw) ||
        nvml.temperature(nvml.device, NVML_TEMPERATURE_GPU, &temp) ||
        nvml.reasons(nvml.device, &reasons))
        return -1;
    *r = (struct gpu_reading){.sm_mhz = sm, .mem_mhz = mem, .power_w = mw / 1000.0,
                              .temp_c = temp, .reasons = reasons,
                              .throttled = (reasons & THROTTLE_MASK) != 0};
    return 0;
}

int nvml_energy_mj(uint64_t *mj)
{
    unsigned long long e = 0;
    if (!nvml.ok || !nvml.energy || nvml.energy(nvml.device, &e) != 0) return -1;
    *mj = e;
    return 0;
}
