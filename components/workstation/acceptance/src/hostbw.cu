// Host-device bandwidth over PCIe (or NVLink-C2C): cudaMemcpy of one large
// buffer host-to-device and device-to-host, from pinned (cudaMallocHost) and
// from pageable (malloc) host memory. GB/s = bytes copied / time; 1 GB = 1e9 B.
// Pinned copies are timed with CUDA events on a stream. A pageable copy is
// staged through a driver buffer by the calling thread, so it is timed on the
// host clock around the copy and a stream synchronisation (what a program
// sees). Every copy is checked: the device buffer against the pattern after
// host-to-device, the host buffer after device-to-host.
#include <chrono>
#include "common.h"

__global__ void count_mismatches(const unsigned int* d, size_t n, unsigned int seed, unsigned long long* bad) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    int miss = i < n && d[i] != hash32(i, seed);
    miss = __syncthreads_count(miss);
    if (threadIdx.x == 0 && miss) atomicAdd(bad, (unsigned long long)miss);
}

static void fill_host(unsigned int* h, size_t n, unsigned int seed) {
    for (size_t i = 0; i < n; i++) h[i] = hash32(i, seed);
}

static unsigned long long host_mismatches(const unsigned int* h, size_t n, unsigned int seed) {
    unsigned long long bad = 0;
    for (size_t i = 0; i < n; i++) bad += h[i] != hash32(i, seed);
    return bad;
}

template <typename F>
static Timing time_wall(cudaStream_t st, int warmup, int repeats, F fn) {
    for (int i = 0; i < warmup; i++) fn();
    CUDA_CHECK(cudaStreamSynchronize(st));
    std::vector<double> ms(repeats);
    for (int i = 0; i < repeats; i++) {
        auto t0 = std::chrono::steady_clock::now();
        fn();
        CUDA_CHECK(cudaStreamSynchronize(st));
        ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    std::sort(ms.begin(), ms.end());
    double med = repeats % 2 ? ms[repeats / 2] : 0.5 * (ms[repeats / 2 - 1] + ms[repeats / 2]);
    return Timing{med, ms.front(), ms.back(), repeats};
}

int main(int argc, char** argv) {
    // 10 repeats by default (each copy is tens of milliseconds); --repeats N runs N.
    Options o = parse_options(argc, argv, "  --gib X   size of the buffer copied (default 1)\n  (--repeats default 10)\n", 10);
    open_device(o);
    size_t bytes = (size_t)((o.gib > 0 ? o.gib : 1.0) * (1ull << 30)) / 4 * 4;
    size_t n = bytes / 4;
    unsigned int seed = run_seed();
    const int T = 256;

    unsigned int *pinned, *pageable, *dev;
    unsigned long long* bad;
    CUDA_CHECK(cudaMallocHost(&pinned, bytes));
    pageable = (unsigned int*)malloc(bytes);
    if (!pageable) { fprintf(stderr, "hostbw: malloc(%zu) failed\n", bytes); return 1; }
    CUDA_CHECK(cudaMalloc(&dev, bytes));
    CUDA_CHECK(cudaMalloc(&bad, sizeof *bad));
    cudaStream_t st;
    CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));

    auto device_mismatches = [&]() -> unsigned long long {
        unsigned long long h = 0;
        CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof *bad, st));
        count_mismatches<<<(unsigned int)((n + T - 1) / T), T, 0, st>>>(dev, n, seed, bad);
        LAUNCH_CHECK();
        CUDA_CHECK(cudaMemcpyAsync(&h, bad, sizeof h, cudaMemcpyDeviceToHost, st));
        CUDA_CHECK(cudaStreamSynchronize(st));
        return h;
    };
    int failed = 0;
    char note[160];
    auto report = [&](const char* name, Timing t, unsigned long long mism, const char* what) {
        snprintf(note, sizeof note, "%s; %zu MiB per copy; error = mismatched 4-byte words", what, bytes >> 20);
        print_measurement(name, bytes / (t.median_ms * 1e-3) / 1e9, "GB/s", t, (double)bytes, mism == 0, (double)mism, 0, note);
        if (mism) failed = 1;
    };

    for (int pass = 0; pass < 2; pass++) {
        bool pin = pass == 0;
        unsigned int* h = pin ? pinned : pageable;
        fill_host(h, n, seed);
        CUDA_CHECK(cudaMemsetAsync(dev, 0, bytes, st));
        CUDA_CHECK(cudaStreamSynchronize(st));
        auto h2d = [&] { CUDA_CHECK(cudaMemcpyAsync(dev, h, bytes, cudaMemcpyHostToDevice, st)); };
        Timing t = pin ? time_events(st, o.warmup, o.repeats, h2d) : time_wall(st, o.warmup, o.repeats, h2d);
        if (inject_fault(pin ? "h2d_pinned" : "h2d_pageable")) CUDA_CHECK(cudaMemsetAsync(dev, 0, 4096, st));
        report(pin ? "h2d_pinned" : "h2d_pageable", t, device_mismatches(),
               pin ? "host to device from pinned memory, CUDA events" : "host to device from pageable memory, host clock");

        memset(h, 0, bytes);  // the device holds the pattern; D2H must bring it back
        auto d2h = [&] { CUDA_CHECK(cudaMemcpyAsync(h, dev, bytes, cudaMemcpyDeviceToHost, st)); };
        t = pin ? time_events(st, o.warmup, o.repeats, d2h) : time_wall(st, o.warmup, o.repeats, d2h);
        if (inject_fault(pin ? "d2h_pinned" : "d2h_pageable")) memset(h + n / 2, 0, 4096);
        report(pin ? "d2h_pinned" : "d2h_pageable", t, host_mismatches(h, n, seed),
               pin ? "device to host into pinned memory, CUDA events" : "device to host into pageable memory, host clock");
    }

    CUDA_CHECK(cudaStreamDestroy(st));
    CUDA_CHECK(cudaFreeHost(pinned));
    free(pageable);
    CUDA_CHECK(cudaFree(dev));
    CUDA_CHECK(cudaFree(bad));
    return failed ? 2 : 0;
}
