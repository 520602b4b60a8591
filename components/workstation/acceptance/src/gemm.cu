// GEMM throughput through cuBLAS: C = A * B, square N x N x N (default 8192),
// column-major, alpha 1, beta 0, random inputs in [-1, 1).
//   gemm_fp32  cublasSgemm, default math mode (no tensor cores)
//   gemm_tf32  cublasGemmEx, fp32 data, CUBLAS_COMPUTE_32F_FAST_TF32
//   gemm_fp16  cublasGemmEx, fp16 A/B/C, fp32 accumulation
//   gemm_bf16  cublasGemmEx, bf16 A/B/C, fp32 accumulation (what PyTorch does)
// TFLOP/s = 2 N^3 / median time. C is poisoned with NaN before the timed runs;
// afterwards every element must be finite and a sample of elements is checked
// against a float64 dot product of the same stored inputs:
// error = ||C_s - ref_s|| / ||ref_s|| over the sample, against a tolerance
// per precision. A fast wrong answer fails.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cmath>
#include "common.h"

#define CUBLAS_CHECK(call)                                                                            \
    do {                                                                                              \
        cublasStatus_t st_ = (call);                                                                  \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                           \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, cublasGetStatusString(st_)); \
            exit(1);                                                                                  \
        }                                                                                             \
    } while (0)

static const int SAMPLES = 1024;

template <typename T> __device__ inline T from_float(float x);
template <> __device__ inline float from_float<float>(float x) { return x; }
template <> __device__ inline __half from_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ inline __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
__device__ inline double to_double(float x) { return x; }
__device__ inline double to_double(__half x) { return __half2float(x); }
__device__ inline double to_double(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T>
__global__ void fill_uniform(T* x, size_t n, unsigned int seed) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) x[i] = from_float<T>((float)(hash32(i, seed) >> 8) * (1.0f / 8388608.0f) - 1.0f);
}

template <typename T>
__global__ void count_nonfinite(const T* x, size_t n, unsigned long long* bad) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    int miss = 0;
    if (i < n) {
        double v = to_double(x[i]);
        miss = !(v == v) || v > 1e300 || v < -1e300;
    }
    miss = __syncthreads_count(miss);
    if (threadIdx.x == 0 && miss) atomicAdd(bad, (unsigned long long)miss);
}

// One block per sampled element (row r, column c): float64 dot product of
// row r of A and column c of B, next to the stored result.
template <typename TI, typename TO>
__global__ void reference(const TI* A, const TI* B, const TO* C, int n, unsigned int seed, double* out) {
    __shared__ double part[256];
    unsigned int h = hash32(blockIdx.x, seed ^ 0xabcdefu);
    int r = h % n, c = hash32(h, seed) % n;
    double s = 0;
    for (int k = threadIdx.x; k < n; k += blockDim.x) s += to_double(A[r + (size_t)k * n]) * to_double(B[k + (size_t)c * n]);
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        out[2 * blockIdx.x] = part[0];
        out[2 * blockIdx.x + 1] = to_double(C[r + (size_t)c * n]);
    }
}

struct Variant {
    const char* name;
    cudaDataType_t type;  // of A, B and C
    cublasComputeType_t compute;
    double tolerance;
    const char* what;
};

template <typename T>
static int run(const Variant& v, cublasHandle_t handle, cudaStream_t st, const Options& o, int n, unsigned int seed) {
    size_t elems = (size_t)n * n, bytes = elems * sizeof(T);
    const int TH = 256;
    unsigned int blocks = (unsigned int)((elems + TH - 1) / TH);
    T *A, *B, *C;
    double* samples;
    unsigned long long* bad;
    CUDA_CHECK(cudaMalloc(&A, bytes));
    CUDA_CHECK(cudaMalloc(&B, bytes));
    CUDA_CHECK(cudaMalloc(&C, bytes));
    CUDA_CHECK(cudaMalloc(&samples, 2 * SAMPLES * sizeof(double)));
    CUDA_CHECK(cudaMalloc(&bad, sizeof *bad));
    fill_uniform<T><<<blocks, TH, 0, st>>>(A, elems, seed);
    LAUNCH_CHECK();
    fill_uniform<T><<<blocks, TH, 0, st>>>(B, elems, seed + 7);
    LAUNCH_CHECK();
    CUDA_CHECK(cudaMemsetAsync(C, 0xff, bytes, st));  // NaN in fp32, fp16 and bf16

    const float one = 1.0f, zero = 0.0f;
    auto gemm = [&]() -> cublasStatus_t {
        if (v.type == CUDA_R_32F && v.compute == CUBLAS_COMPUTE_32F)
            return cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, (const float*)A, n, (const float*)B, n, &zero, (float*)C, n);
        return cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, A, v.type, n, B, v.type, n, &zero, C, v.type, n,
                            v.compute, CUBLAS_GEMM_DEFAULT);
    };
    cublasStatus_t first = gemm();
    if (first == CUBLAS_STATUS_NOT_SUPPORTED || first == CUBLAS_STATUS_ARCH_MISMATCH) {
        print_skipped(v.name, cublasGetStatusString(first));
        CUDA_CHECK(cudaFree(A)); CUDA_CHECK(cudaFree(B)); CUDA_CHECK(cudaFree(C));
        CUDA_CHECK(cudaFree(samples)); CUDA_CHECK(cudaFree(bad));
        return 0;
    }
    CUBLAS_CHECK(first);
    Timing t = time_events(st, o.warmup, o.repeats, [&] { CUBLAS_CHECK(gemm()); });

    // Check: every element finite, and the sample against float64.
    if (inject_fault(v.name)) CUDA_CHECK(cudaMemsetAsync(C, 0, bytes / 2, st));  // half the work "skipped"
    CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof *bad, st));
    count_nonfinite<T><<<blocks, TH, 0, st>>>(C, elems, bad);
    LAUNCH_CHECK();
    reference<T, T><<<SAMPLES, 256, 0, st>>>(A, B, C, n, seed, samples);
    LAUNCH_CHECK();
    unsigned long long nonfinite = 0;
    std::vector<double> h(2 * SAMPLES);
    CUDA_CHECK(cudaMemcpyAsync(&nonfinite, bad, sizeof nonfinite, cudaMemcpyDeviceToHost, st));
    CUDA_CHECK(cudaMemcpyAsync(h.data(), samples, h.size() * sizeof(double), cudaMemcpyDeviceToHost, st));
    CUDA_CHECK(cudaStreamSynchronize(st));
    double num = 0, den = 0;
    for (int i = 0; i < SAMPLES; i++) {
        double d = h[2 * i + 1] - h[2 * i];
        num += d * d;
        den += h[2 * i] * h[2 * i];
    }
    double err = den > 0 ? sqrt(num / den) : 1.0;
    bool ok = nonfinite == 0 && err == err && err <= v.tolerance;
    double flops = 2.0 * n * (double)n * n;
    char note[200];
    snprintf(note, sizeof note, "%s; N=%d; %llu non-finite of %zu; error = ||C-ref||/||ref|| on %d sampled elements",
             v.what, n, nonfinite, elems, SAMPLES);
    print_measurement(v.name, flops / (t.median_ms * 1e-3) / 1e12, "TFLOP/s", t, flops, ok, nonfinite ? NAN : err, v.tolerance, note);
    CUDA_CHECK(cudaFree(A)); CUDA_CHECK(cudaFree(B)); CUDA_CHECK(cudaFree(C));
    CUDA_CHECK(cudaFree(samples)); CUDA_CHECK(cudaFree(bad));
    return ok ? 0 : 2;
}

int main(int argc, char** argv) {
    Options o = parse_options(argc, argv, "  --size N  matrix dimension (default 8192)\n");
    open_device(o);
    int n = o.size > 0 ? o.size : 8192;
    unsigned int seed = run_seed();
    cudaStream_t st;
    CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    cublasHandle_t handle;
    CUBLAS_CHECK(cublasCreate(&handle));
    CUBLAS_CHECK(cublasSetStream(handle, st));
    CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));

    const Variant fp32{"gemm_fp32", CUDA_R_32F, CUBLAS_COMPUTE_32F, 1e-4, "cublasSgemm fp32"};
    const Variant tf32{"gemm_tf32", CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 5e-3, "cublasGemmEx fp32 data, TF32 tensor cores"};
    const Variant fp16{"gemm_fp16", CUDA_R_16F, CUBLAS_COMPUTE_32F, 2e-3, "cublasGemmEx fp16 in/out, fp32 accumulate"};
    const Variant bf16{"gemm_bf16", CUDA_R_16BF, CUBLAS_COMPUTE_32F, 1e-2, "cublasGemmEx bf16 in/out, fp32 accumulate"};
    int rc = 0;
    rc |= run<float>(fp32, handle, st, o, n, seed);
    rc |= run<float>(tf32, handle, st, o, n, seed + 1);
    rc |= run<__half>(fp16, handle, st, o, n, seed + 2);
    rc |= run<__nv_bfloat16>(bf16, handle, st, o, n, seed + 3);
    CUBLAS_CHECK(cublasDestroy(handle));
    CUDA_CHECK(cudaStreamDestroy(st));
    return rc;
}
