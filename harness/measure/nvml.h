/* nvml.h — what the GPU was doing while a sample ran: clocks, power,
 * temperature and the reasons its clocks were held down, from NVML, the
 * driver's management library, and its energy counter.
 *
 * NVML is loaded at run time (libnvidia-ml.so.1, which every NVIDIA driver
 * installs), so that the program builds and runs where it is missing: the
 * readings are then absent and a note says why, never an error. */
#ifndef HARNESS_MEASURE_NVML_H
#define HARNESS_MEASURE_NVML_H

#include <stddef.h>
#include <stdint.h>

/* One reading, taken right after a sample. */
struct gpu_reading {
    double sm_mhz, mem_mhz;    /* current clocks */
    double power_w;            /* board power */
    double temp_c;             /* GPU die */
    uint64_t reasons;          /* NVML's clock event reasons, a bit mask */
    int throttled;             /* held down by power or heat (not idle, not app clocks) */
};

/* Opens NVML for the GPU at PCI bus id `bus` (cudaDeviceGetPCIBusId's
 * form). 0, or -1 with a note that says why there are no readings. Once
 * per process; later calls return the first answer. */
int nvml_open(const char *bus, char *note, size_t note_len);

/* 0 and the reading, or -1 (NVML not open, or the query failed). */
int nvml_read(struct gpu_reading *r);

/* The GPU's energy counter since the driver loaded, in millijoules: 0, or
 * -1 where the GPU has none (before Volta) or NVML is not open. */
int nvml_energy_mj(uint64_t *mj);

#endif
