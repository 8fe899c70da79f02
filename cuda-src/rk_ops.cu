// CUDA twins of native-core's per-element kernels: the bodies come from the same header the CPU
// engine uses, so the two backends cannot drift apart.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "jdyn_cuda.h"
#include "kernels/rk_kernels.h"

namespace {

constexpr int kMaxStages = 16;
constexpr int kThreads = 256;

struct Weights {
    double w[kMaxStages];
    const double* k[kMaxStages];
};

__global__ void stage_combine_kernel(const double* y0, double h, Weights p, int nk, int64_t n, double* out) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) jdyn::kernels::stage_combine<double, 1>(i, 1, y0, h, p.w, p.k, nk, out);
}

__global__ void error_sum_kernel(const double* y0, const double* y1, double h, Weights p, int nk, int64_t n,
                                 double rtol, double atol, double* block_sums) {
    __shared__ double partial[kThreads];
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    double v = 0.0;
    if (i < n) {
        const double one = 1.0;
        v = jdyn::kernels::scaled_error_sq<double, 1, true>(i, 1, 1, h, p.w, p.k, nk, y0, y1, &rtol, &atol, &one);
    }
    partial[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) block_sums[blockIdx.x] = partial[0];
}

int32_t fill(Weights& p, const double* w, const double* const* k, int32_t nk) {
    if (nk < 1 || nk > kMaxStages) return (int32_t)cudaErrorInvalidValue;
    for (int j = 0; j < nk; ++j) {
        p.w[j] = w[j];
        p.k[j] = k[j];
    }
    return 0;
}

int blocks_for(int64_t n) { return (int)((n + kThreads - 1) / kThreads); }

}  // namespace

extern "C" {

int32_t jdyn_cuda_device_count(int32_t* count) {
    int c = 0;
    cudaError_t e = cudaGetDeviceCount(&c);
    if (e != cudaSuccess) {
        cudaGetLastError();  // clear the sticky error so that a later probe starts clean
        if (count) *count = 0;
        return (int32_t)e;
    }
    if (count) *count = c;
    return c > 0 ? 0 : (int32_t)cudaErrorNoDevice;
}

const char* jdyn_cuda_error_string(int32_t status) { return cudaGetErrorString((cudaError_t)status); }

int32_t jdyn_cuda_stage_combine_f64(const double* y0, double h, const double* w, const double* const* k, int32_t nk,
                                    int64_t n, double* out) {
    Weights p;
    if (int32_t rc = fill(p, w, k, nk)) return rc;
    if (n <= 0) return 0;
    stage_combine_kernel<<<blocks_for(n), kThreads>>>(y0, h, p, nk, n, out);
    return (int32_t)cudaGetLastError();
}

int32_t jdyn_cuda_error_sum_f64(const double* y0, const double* y1, double h, const double* e,
                                const double* const* k, int32_t nk, int64_t n, double rtol, double atol,
                                double* result) {
    Weights p;
    if (int32_t rc = fill(p, e, k, nk)) return rc;
    const int blocks = blocks_for(n);
    double* sums = nullptr;
    cudaError_t err = cudaMalloc(&sums, sizeof(double) * (size_t)blocks);
    if (err != cudaSuccess) return (int32_t)err;
    error_sum_kernel<<<blocks, kThreads>>>(y0, y1, h, p, nk, n, rtol, atol, sums);
    std::vector<double> host((size_t)blocks);
    err = cudaMemcpy(host.data(), sums, sizeof(double) * (size_t)blocks, cudaMemcpyDeviceToHost);
    cudaFree(sums);
    if (err != cudaSuccess) return (int32_t)err;
    double total = 0;
    for (double s : host) total += s;
    *result = total;
    return 0;
}

int32_t jdyn_cuda_selftest(double* max_diff) {
    const int64_t n = 1000;
    const int nk = 3;
    std::vector<double> y0(n), k0(n), k1(n), k2(n), host_out(n), dev_out(n);
    for (int64_t i = 0; i < n; ++i) {
        y0[i] = std::sin(0.1 * i);
        k0[i] = std::cos(0.2 * i);
        k1[i] = 0.5 - 0.001 * i;
        k2[i] = std::sin(0.3 * i + 1);
    }
    const double w[nk] = {0.25, -0.5, 1.0 / 3};
    const double* hk[nk] = {k0.data(), k1.data(), k2.data()};
    // The host twin: the same kernel body, in the CPU engine's block form.
    for (int64_t i = 0; i < n; i += 256)
        jdyn::kernels::stage_combine<double, 256>(i, (int)std::min<int64_t>(256, n - i), y0.data(), 0.1, w, hk, nk,
                                                  host_out.data());

    double* d = nullptr;
    cudaError_t e = cudaMalloc(&d, sizeof(double) * (size_t)(5 * n));
    if (e != cudaSuccess) return (int32_t)e;
    double *dy0 = d, *dk0 = d + n, *dk1 = d + 2 * n, *dk2 = d + 3 * n, *dout = d + 4 * n;
    cudaMemcpy(dy0, y0.data(), sizeof(double) * n, cudaMemcpyHostToDevice);
    cudaMemcpy(dk0, k0.data(), sizeof(double) * n, cudaMemcpyHostToDevice);
    cudaMemcpy(dk1, k1.data(), sizeof(double) * n, cudaMemcpyHostToDevice);
    cudaMemcpy(dk2, k2.data(), sizeof(double) * n, cudaMemcpyHostToDevice);
    const double* dk[nk] = {dk0, dk1, dk2};
    int32_t rc = jdyn_cuda_stage_combine_f64(dy0, 0.1, w, dk, nk, n, dout);
    if (rc == 0) rc = (int32_t)cudaMemcpy(dev_out.data(), dout, sizeof(double) * n, cudaMemcpyDeviceToHost);
    double host_sum = 0, dev_sum = 0;
    if (rc == 0) {
        const double rtol = 1e-3, atol = 1e-6, one = 1.0;
        for (int64_t i = 0; i < n; i += 256)
            host_sum += jdyn::kernels::scaled_error_sq<double, 256, true>(i, (int)std::min<int64_t>(256, n - i), 1, 0.1, w,
                                                                    hk, nk, y0.data(), host_out.data(), &rtol, &atol,
                                                                    &one);
        rc = jdyn_cuda_error_sum_f64(dy0, dout, 0.1, w, dk, nk, n, 1e-3, 1e-6, &dev_sum);
    }
    cudaFree(d);
    if (rc != 0) return rc;
    double worst = std::fabs(host_sum - dev_sum) / std::fmax(1.0, std::fabs(host_sum));
    for (int64_t i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(host_out[i] - dev_out[i]));
    *max_diff = worst;
    return 0;
}

}  // extern "C"
