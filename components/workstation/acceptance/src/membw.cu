// Device memory bandwidth: coalesced copy and triad kernels (16-byte accesses),
// a copy with a stride of 32 elements (informational: each 4-byte access
// touches its own 32-byte sector), and cudaMemcpy device-to-device as the
// reference. GB/s count the bytes read plus the bytes written; 1 GB = 1e9 B.
// Every output is poisoned before its timed runs and checked element by
// element afterwards: a kernel that skips or garbles data fails.
#include "common.h"

static const int STRIDE = 32;
static const float TRIAD_SCALAR = 3.0f;

// 16-bit integers stored as floats: sums like b + 3c stay exact.
__host__ __device__ static inline float pattern(unsigned long long i, unsigned int seed) {
    return (float)(hash32(i, seed) & 0xffffu);
}

__global__ void fill(float* x, size_t n, unsigned int seed) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) x[i] = pattern(i, seed);
}

__global__ void copy4(const float4* __restrict__ in, float4* __restrict__ out, size_t n4) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n4) out[i] = in[i];
}

__global__ void triad4(float4* __restrict__ a, const float4* __restrict__ b, const float4* __restrict__ c, float s, size_t n4) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n4) {
        float4 x = b[i], y = c[i];
        a[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
    }
}

// Thread t copies element (t % rows) * STRIDE + t / rows: neighbouring threads
// are STRIDE elements apart, and every element is copied exactly once.
__global__ void copy_strided(const float* __restrict__ in, float* __restrict__ out, size_t n) {
    size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    size_t rows = n / STRIDE;
    if (t < n) {
        size_t i = (t % rows) * STRIDE + t / rows;
        out[i] = in[i];
    }
}

// Count elements that differ from the expected value: out == pattern(seed_b)
// (copy), or out == pattern(seed_b) + s * pattern(seed_c) (triad).
__global__ void count_mismatches(const float* out, size_t n, unsigned int seed_b, unsigned int seed_c, int triad,
                                 unsigned long long* bad) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    int miss = 0;
    if (i < n) {
        float want = triad ? pattern(i, seed_b) + TRIAD_SCALAR * pattern(i, seed_c) : pattern(i, seed_b);
        miss = out[i] != want;
    }
    miss = __syncthreads_count(miss);
    if (threadIdx.x == 0 && miss) atomicAdd(bad, (unsigned long long)miss);
}

static unsigned int blocks_for(size_t n, int threads) { return (unsigned int)((n + threads - 1) / threads); }

int main(int argc, char** argv) {
    Options o = parse_options(argc, argv, "  --gib X   size of each of the three buffers (default 2, less when memory is short)\n");
    cudaDeviceProp p = open_device(o);
    (void)p;
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    double gib = o.gib > 0 ? o.gib : 2.0;
    size_t bytes = (size_t)(gib * (1ull << 30));
    if (o.gib == 0 && 3 * bytes > free_b / 10 * 8) bytes = free_b / 10 * 8 / 3;  // a smaller card
    size_t n = bytes / sizeof(float) / (4 * STRIDE) * (4 * STRIDE);                // whole float4s and stride rows
    bytes = n * sizeof(float);
    if (n == 0) { fprintf(stderr, "membw: buffer size too small\n"); return 1; }
    size_t n4 = n / 4;
    const int T = 256;
    unsigned int seed = run_seed();
    unsigned int sb = seed, sc = seed + 1;

    float *a, *b, *c;
    unsigned long long* bad;
    CUDA_CHECK(cudaMalloc(&a, bytes));
    CUDA_CHECK(cudaMalloc(&b, bytes));
    CUDA_CHECK(cudaMalloc(&c, bytes));
    CUDA_CHECK(cudaMalloc(&bad, sizeof *bad));
    cudaStream_t st;
    CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    fill<<<blocks_for(n, T), T, 0, st>>>(b, n, sb);
    LAUNCH_CHECK();
    fill<<<blocks_for(n, T), T, 0, st>>>(c, n, sc);
    LAUNCH_CHECK();
    CUDA_CHECK(cudaStreamSynchronize(st));

    const char* current = "";
    auto verify = [&](float* out, int triad) -> unsigned long long {
        unsigned long long h = 0;
        if (inject_fault(current)) CUDA_CHECK(cudaMemsetAsync(out + n / 2, 0, 4096, st));
        CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof *bad, st));
        count_mismatches<<<blocks_for(n, T), T, 0, st>>>(out, n, sb, sc, triad, bad);
        LAUNCH_CHECK();
        CUDA_CHECK(cudaMemcpyAsync(&h, bad, sizeof h, cudaMemcpyDeviceToHost, st));
        CUDA_CHECK(cudaStreamSynchronize(st));
        return h;
    };
    char note[160];
    int failed = 0;
    auto report = [&](const char* name, double moved, Timing t, unsigned long long mism, const char* what) {
        snprintf(note, sizeof note, "%s; %zu MiB per buffer; error = mismatched elements", what, bytes >> 20);
        print_measurement(name, moved / (t.median_ms * 1e-3) / 1e9, "GB/s", t, moved, mism == 0, (double)mism, 0, note);
        if (mism) failed = 1;
    };

    // Coalesced copy a <- b.
    current = "device_copy";
    CUDA_CHECK(cudaMemsetAsync(a, 0xff, bytes, st));
    Timing t = time_events(st, o.warmup, o.repeats, [&] {
        copy4<<<blocks_for(n4, T), T, 0, st>>>((const float4*)b, (float4*)a, n4);
        LAUNCH_CHECK();
    });
    report("device_copy", 2.0 * bytes, t, verify(a, 0), "coalesced float4 copy, read + write");

    // Coalesced triad a <- b + s*c.
    current = "device_triad";
    CUDA_CHECK(cudaMemsetAsync(a, 0xff, bytes, st));
    t = time_events(st, o.warmup, o.repeats, [&] {
        triad4<<<blocks_for(n4, T), T, 0, st>>>((float4*)a, (const float4*)b, (const float4*)c, TRIAD_SCALAR, n4);
        LAUNCH_CHECK();
    });
    report("device_triad", 3.0 * bytes, t, verify(a, 1), "coalesced float4 triad a=b+s*c, 2 reads + 1 write");

    // Strided copy a <- b, neighbouring threads STRIDE elements apart.
    current = "device_copy_strided32";
    CUDA_CHECK(cudaMemsetAsync(a, 0xff, bytes, st));
    t = time_events(st, o.warmup, o.repeats, [&] {
        copy_strided<<<blocks_for(n, T), T, 0, st>>>(b, a, n);
        LAUNCH_CHECK();
    });
    report("device_copy_strided32", 2.0 * bytes, t, verify(a, 0), "copy with stride 32 elements (4-byte accesses), useful bytes read + write");

    // Reference: cudaMemcpy device to device.
    current = "device_memcpy_d2d";
    CUDA_CHECK(cudaMemsetAsync(a, 0xff, bytes, st));
    t = time_events(st, o.warmup, o.repeats, [&] {
        CUDA_CHECK(cudaMemcpyAsync(a, b, bytes, cudaMemcpyDeviceToDevice, st));
    });
    report("device_memcpy_d2d", 2.0 * bytes, t, verify(a, 0), "cudaMemcpyAsync device to device (reference), read + write");

    CUDA_CHECK(cudaStreamDestroy(st));
    CUDA_CHECK(cudaFree(a));
    CUDA_CHECK(cudaFree(b));
    CUDA_CHECK(cudaFree(c));
    CUDA_CHECK(cudaFree(bad));
    return failed ? 2 : 0;
}
