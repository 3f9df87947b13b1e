"""What the GPU does while a peer's samples run, read as attnbench reads it
(harness/measure/nvml.c; docs/measurement.md, "GPU readings and energy"), so that a peer's
row carries the same GPU columns as attnbench's: after every sample the SM and memory clocks,
the board power, the temperature and whether power or heat held the clocks down; after the
samples, the energy of one forward from the GPU's energy counter over forwards run back to
back (else the median power times the median time).

NVML, the driver's management library (libnvidia-ml.so.1, which every NVIDIA driver
installs), is loaded with ctypes: where it is missing or fails, the readings are absent and
`note` says why, never an error. Its C ABI: functions return 0 on success, a device is an
opaque handle, clocks are MHz, power mW, energy mJ, temperatures degrees C.
"""
import collections
import ctypes
import math

from .samples import quantile

# nvmlClocksEventReason*: SwPowerCap, HwSlowdown, SwThermalSlowdown, HwThermalSlowdown,
# HwPowerBrakeSlowdown. GpuIdle, ApplicationsClocksSetting, SyncBoost and
# DisplayClockSetting are not throttling (nvml.c's THROTTLE_MASK).
THROTTLE_MASK = 0x4 | 0x8 | 0x20 | 0x40 | 0x80
NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU = 1, 2, 0
# The forwards back to back under the energy counter: about this long, at most this many
# (timing.h's TIMING_ENERGY_S and timing.c's cap).
ENERGY_S = 0.3
ENERGY_MAX_FORWARDS = 100000

Reading = collections.namedtuple("Reading", "sm_mhz mem_mhz power_w temp_c throttled")


class Nvml:
    """NVML for the GPU at PCI bus id `bus_id` (the driver's form, "0000:18:00.0"); `bus_id`
    None or empty: not a GPU. `library`: the shared object to load (tests give another)."""

    def __init__(self, bus_id, library="libnvidia-ml.so.1"):
        self.note, self.device = "", None
        if not bus_id:
            self.note = "not a GPU"
            return
        try:
            lib = ctypes.CDLL(library)
        except OSError:
            self.note = "no NVML (%s not found)" % library
            return

        def function(*names):
            for name in names:
                f = getattr(lib, name, None)
                if f is not None:
                    return f
            return None

        init = function("nvmlInit_v2", "nvmlInit")
        by_bus = function("nvmlDeviceGetHandleByPciBusId_v2", "nvmlDeviceGetHandleByPciBusId")
        self.clock = function("nvmlDeviceGetClockInfo")
        self.power = function("nvmlDeviceGetPowerUsage")
        self.temperature = function("nvmlDeviceGetTemperature")
        self.reasons = function("nvmlDeviceGetCurrentClocksEventReasons",
                                "nvmlDeviceGetCurrentClocksThrottleReasons")
        self.energy = function("nvmlDeviceGetTotalEnergyConsumption")
        if None in (init, by_bus, self.clock, self.power, self.temperature, self.reasons):
            self.note = "NVML lacks the functions this needs (an old driver?)"
            return
        rc = init()
        if rc:
            self.note = "nvmlInit failed (NVML error %d)" % rc
            return
        device = ctypes.c_void_p()
        rc = by_bus(bus_id.encode(), ctypes.byref(device))
        if rc:
            self.note = "NVML does not know the GPU at %s (NVML error %d)" % (bus_id, rc)
            return
        self.device = device

    def read(self):
        """A Reading, or None (NVML not open, or a query failed)."""
        if self.device is None:
            return None
        sm, mem, mw, temp = (ctypes.c_uint() for _ in range(4))
        reasons = ctypes.c_ulonglong()
        if (self.clock(self.device, NVML_CLOCK_SM, ctypes.byref(sm))
                or self.clock(self.device, NVML_CLOCK_MEM, ctypes.byref(mem))
                or self.power(self.device, ctypes.byref(mw))
                or self.temperature(self.device, NVML_TEMPERATURE_GPU, ctypes.byref(temp))
                or self.reasons(self.device, ctypes.byref(reasons))):
            return None
        return Reading(float(sm.value), float(mem.value), mw.value / 1000.0, float(temp.value),
                       bool(reasons.value & THROTTLE_MASK))

    def energy_mj(self):
        """The energy counter since the driver loaded (mJ), or None: no counter (before
        Volta) or NVML not open."""
        if self.device is None or self.energy is None:
            return None
        mj = ctypes.c_ulonglong()
        return None if self.energy(self.device, ctypes.byref(mj)) else mj.value


class Readings:
    """One point's readings: take() after each sample, energy() after the samples, cells()
    for its row. A reading that fails stops the readings, with a note, as in attnbench."""

    def __init__(self, nvml):
        self.nvml, self.note = nvml, nvml.note
        self.taken = [] if nvml.device is not None else None
        self.energy_j = math.nan

    def take(self):
        if self.taken is None:
            return
        reading = self.nvml.read()
        if reading is None:
            self.taken, self.note = None, "NVML stopped answering during the samples"
        else:
            self.taken.append(reading)

    def energy(self, run_forwards, median_ms):
        """Energy per forward: run_forwards(count) runs `count` forwards back to back (no
        flush, no synchronisation between them) and waits for them; the counter's difference
        over them, else the median power times `median_ms`."""
        if not self.taken:
            return
        count = min(ENERGY_MAX_FORWARDS, max(1, math.ceil(ENERGY_S / (median_ms * 1e-3))))
        before = self.nvml.energy_mj()
        if before is not None:
            run_forwards(count)
            after = self.nvml.energy_mj()
            if after is not None and after > before:
                self.energy_j = (after - before) * 1e-3 / count
                return
        power = sorted(r.power_w for r in self.taken)
        self.energy_j = quantile(power, 0.5) * median_ms * 1e-3

    def cells(self, flops):
        """The row's GPU columns, formatted as attnbench's results file has them
        (harness/results/csv.c): empty where there are no readings, `gpu_note` saying why."""
        cells = {"gpu_note": self.note}
        if not self.taken:
            return cells

        def median(field):
            return quantile(sorted(getattr(r, field) for r in self.taken), 0.5)

        cells.update({
            "sm_clock_median_mhz": "%.0f" % median("sm_mhz"),
            "mem_clock_median_mhz": "%.0f" % median("mem_mhz"),
            "power_median_w": "%.1f" % median("power_w"),
            "temp_max_c": "%.0f" % max(r.temp_c for r in self.taken),
            "throttled_samples": "%d" % sum(r.throttled for r in self.taken),
            "discarded_samples": "0",   # the peers keep every sample (no --discard-throttled)
        })
        if math.isfinite(self.energy_j):
            cells["energy_j"] = "%.6g" % self.energy_j
            if self.energy_j > 0:
                cells["tflops_per_w"] = "%.6g" % (flops / self.energy_j / 1e12)
        return cells
