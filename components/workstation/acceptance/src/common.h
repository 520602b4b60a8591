// Shared by the aihpc GPU acceptance programs: error checks, argument parsing,
// event timing with warm-up and median, and JSON-lines output.
//
// Output contract (read by scripts/evaluate.py): one JSON object per line on
// stdout. {"type":"device",...} describes the GPU; {"type":"measurement",...}
// holds one figure: name, value, unit, the timing spread and whether the result
// was verified. Diagnostics go to stderr. Exit status: 0 all verified, 2 a
// result failed verification, 1 a CUDA/cuBLAS error or bad usage.
#pragma once
#include <cuda_runtime.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unistd.h>
#include <vector>
#include "options.h"

#define CUDA_CHECK(call)                                                                          \
    do {                                                                                          \
        cudaError_t err_ = (call);                                                                \
        if (err_ != cudaSuccess) {                                                                \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call,             \
                    cudaGetErrorName(err_), cudaGetErrorString(err_));                            \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

// After every kernel launch: launch errors now, execution errors at the next sync.
#define LAUNCH_CHECK() CUDA_CHECK(cudaGetLastError())

// Options and their parsing: options.h (no CUDA in it, so the unit tests
// compile it with g++ alone).

// Escape a string for a JSON value (device names are plain ASCII; be safe anyway).
static void json_string(const char* s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

// Select the device and print its description line. Returns its properties.
static cudaDeviceProp open_device(const Options& o) {
    int count = 0;
    CUDA_CHECK(cudaGetDeviceCount(&count));
    if (o.list) {
        printf("{\"type\":\"device_count\",\"count\":%d}\n", count);
        exit(0);
    }
    if (o.device < 0 || o.device >= count) {
        fprintf(stderr, "device %d: only %d CUDA device(s) visible\n", o.device, count);
        exit(1);
    }
    CUDA_CHECK(cudaSetDevice(o.device));
    cudaDeviceProp p;
    CUDA_CHECK(cudaGetDeviceProperties(&p, o.device));
    int driver = 0, runtime = 0;
    CUDA_CHECK(cudaDriverGetVersion(&driver));
    CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    char uuid[64];
    const unsigned char* u = (const unsigned char*)p.uuid.bytes;
    snprintf(uuid, sizeof uuid, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    char bus[32];
    snprintf(bus, sizeof bus, "%08x:%02x:%02x.0", p.pciDomainID, p.pciBusID, p.pciDeviceID);
    printf("{\"type\":\"device\",\"index\":%d,\"name\":", o.device);
    json_string(p.name);
    printf(",\"uuid\":\"%s\",\"pci_bus_id\":\"%s\",\"cc\":\"%d.%d\",\"sms\":%d,\"memory_bytes\":%zu,"
           "\"l2_bytes\":%d,\"driver_api\":%d,\"runtime_api\":%d}\n",
           uuid, bus, p.major, p.minor, p.multiProcessorCount, p.totalGlobalMem, p.l2CacheSize, driver, runtime);
    fflush(stdout);
    if (o.info) exit(0);
    return p;
}

struct Timing {
    double median_ms, min_ms, max_ms;
    int repeats;
};

// Time `fn` (which enqueues work on `stream`) with CUDA events: `warmup`
// untimed runs, then `repeats` timed ones; each timed run has its own events.
template <typename F>
static Timing time_events(cudaStream_t stream, int warmup, int repeats, F fn) {
    for (int i = 0; i < warmup; i++) fn();
    CUDA_CHECK(cudaStreamSynchronize(stream));
    std::vector<cudaEvent_t> ev(2 * repeats);
    for (auto& e : ev) CUDA_CHECK(cudaEventCreate(&e));
    for (int i = 0; i < repeats; i++) {
        CUDA_CHECK(cudaEventRecord(ev[2 * i], stream));
        fn();
        CUDA_CHECK(cudaEventRecord(ev[2 * i + 1], stream));
    }
    CUDA_CHECK(cudaStreamSynchronize(stream));
    std::vector<double> ms(repeats);
    for (int i = 0; i < repeats; i++) {
        float t = 0;
        CUDA_CHECK(cudaEventElapsedTime(&t, ev[2 * i], ev[2 * i + 1]));
        ms[i] = t;
    }
    for (auto& e : ev) CUDA_CHECK(cudaEventDestroy(e));
    std::sort(ms.begin(), ms.end());
    double med = repeats % 2 ? ms[repeats / 2] : 0.5 * (ms[repeats / 2 - 1] + ms[repeats / 2]);
    return Timing{med, ms.front(), ms.back(), repeats};
}

// A JSON number, or null where it is not finite (a NaN result must still parse).
static void json_number(double x) {
    if (x != x || x > 1.7e308 || x < -1.7e308) printf("null");
    else printf("%.6g", x);
}

// A seed that differs between runs: every run checks on fresh inputs.
static unsigned int run_seed() {
    const char* s = getenv("AIHPC_ACCEPTANCE_SEED");
    if (s && *s) return (unsigned int)strtoul(s, nullptr, 10);
    return (unsigned int)time(nullptr) ^ ((unsigned int)getpid() << 16);
}

// One measurement line. `value` is derived from the median time. `error` is the
// verification error (relative, or a mismatch count), `tolerance` its limit.
static void print_measurement(const char* name, double value, const char* unit, const Timing& t, double bytes_or_flops,
                              bool verified, double error, double tolerance, const char* note = nullptr) {
    printf("{\"type\":\"measurement\",\"name\":\"%s\",\"value\":", name);
    json_number(value);
    printf(",\"unit\":\"%s\",\"median_ms\":%.6g,\"min_ms\":%.6g,\"max_ms\":%.6g,\"repeats\":%d,\"work\":%.17g,"
           "\"verified\":%s,\"error\":",
           unit, t.median_ms, t.min_ms, t.max_ms, t.repeats, bytes_or_flops, verified ? "true" : "false");
    json_number(error);
    printf(",\"tolerance\":");
    json_number(tolerance);
    if (note) {
        printf(",\"note\":");
        json_string(note);
    }
    printf("}\n");
    fflush(stdout);
}

// A deterministic 32-bit hash of an index (lowbias32): fresh-looking data, no RNG state.
__host__ __device__ static inline unsigned int hash32(unsigned long long x, unsigned int seed) {
    unsigned int h = (unsigned int)(x ^ (x >> 32)) ^ seed * 0x9E3779B9u;
    h ^= h >> 16; h *= 0x7feb352dU; h ^= h >> 15; h *= 0x846ca68bU; h ^= h >> 16;
    return h;
}

// A measurement this GPU or library cannot make (e.g. a data type it lacks).
static void print_skipped(const char* name, const char* reason) {
    printf("{\"type\":\"skipped\",\"name\":\"%s\",\"reason\":", name);
    json_string(reason);
    printf("}\n");
    fflush(stdout);
}

// Fault injection for testing the suite itself: AIHPC_ACCEPTANCE_FAULT=NAME
// makes measurement NAME corrupt its output after timing, before the check
// (the check must then fail it). Never set in normal runs.
static bool inject_fault(const char* name) {
    const char* f = getenv("AIHPC_ACCEPTANCE_FAULT");
    return f && !strcmp(f, name);
}
