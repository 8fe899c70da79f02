// Per-element bodies of the Runge-Kutta engine, written once for both backends: the CPU engine calls
// them in plain loops (engine.cpp), the CUDA library calls them from one thread per element
// (cuda-src/rk_ops.cu). Nothing here allocates, branches on the backend or touches global state.
#pragma once

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define JDYN_HD __host__ __device__ inline
#else
#define JDYN_HD inline
#endif

namespace jdyn {
namespace kernels {

// Kernels work on a block of `len` consecutive elements starting at i0, with W >= len the block
// capacity: the CPU engine calls them with W = 256 (the inner loops vectorise), a CUDA thread with
// W = 1 and len = 1. Sums run in double whatever the state type.

// acc[e] = sum_j w[j] * k[j][i0 + e] for the block, skipping zero weights: the loop all the kernels
// below share.
template <class T, int W>
JDYN_HD void accumulate(int64_t i0, int len, const double* w, const T* const* k, int nk, double* acc) {
    for (int e = 0; e < len; ++e) acc[e] = 0.0;
    for (int j = 0; j < nk; ++j) {
        const double wj = w[j];
        if (wj == 0.0) continue;
        const T* kj = k[j] + i0;
        for (int e = 0; e < len; ++e) acc[e] += wj * (double)kj[e];
    }
}

// out[i] = y0[i] + h * sum_j w[j] * k[j][i]: a stage input, a new state, or a dense-output point.
template <class T, int W>
JDYN_HD void stage_combine(int64_t i0, int len, const T* y0, double h, const double* w, const T* const* k, int nk,
                           T* out) {
    double acc[W];
    accumulate<T, W>(i0, len, w, k, nk, acc);
    for (int e = 0; e < len; ++e) out[i0 + e] = (T)((double)y0[i0 + e] + h * acc[e]);
}

// The tolerance scale of one component: atol + rtol * max(|y0|, |y1|).
JDYN_HD double tolerance_scale(double y0, double y1, double rtol, double atol) {
    // A plain comparison rather than fmax: libm's fmax is an out-of-line call that blocks vectorisation.
    const double a = fabs(y0), b = fabs(y1);
    return atol + rtol * (a > b ? a : b);
}

// Sum over the block of mask_d * ((h sum_j e_j k_j[i]) / scale_i)^2, where d = i mod dim indexes the
// per-component tolerances and the 0/1 norm mask (the seminorm). With Uniform, every component has
// rtol[0], atol[0] and mask 1, and the loop vectorises.
template <class T, int W, bool Uniform>
JDYN_HD double scaled_error_sq(int64_t i0, int len, int64_t dim, double h, const double* e, const T* const* k, int nk,
                               const T* y0, const T* y1, const double* rtol, const double* atol,
                               const double* mask) {
    double acc[W];
    accumulate<T, W>(i0, len, e, k, nk, acc);
    double sum = 0.0;
    if (Uniform) {
        const double rt = rtol[0], at = atol[0];
        for (int q = 0; q < len; ++q) {
            const double r = h * acc[q] / tolerance_scale((double)y0[i0 + q], (double)y1[i0 + q], rt, at);
            sum += r * r;
        }
        return sum;
    }
    int64_t d = i0 % dim;
    for (int q = 0; q < len; ++q) {
        const double sc = tolerance_scale((double)y0[i0 + q], (double)y1[i0 + q], rtol[d], atol[d]);
        const double r = h * acc[q] / sc;
        sum += mask[d] * r * r;
        if (++d == dim) d = 0;
    }
    return sum;
}

// out[i] = h * sum_j w[j] * k[j][i]: one coefficient vector of a stored dense step.
template <class T, int W>
JDYN_HD void weighted_sum(int64_t i0, int len, double h, const double* w, const T* const* k, int nk, T* out) {
    double acc[W];
    accumulate<T, W>(i0, len, w, k, nk, acc);
    for (int e = 0; e < len; ++e) out[i0 + e] = (T)(h * acc[e]);
}

// out[i] = y[i] + a * x[i]
template <class T>
JDYN_HD void axpy(int64_t i, double a, const T* x, const T* y, T* out) {
    out[i] = (T)((double)y[i] + a * (double)x[i]);
}

// Horner evaluation of a stored dense step: y0 + theta (c1 + theta (c2 + ... theta c_deg)), where
// coef holds c1..c_deg contiguously, each of length n.
template <class T>
JDYN_HD void dense_horner(int64_t i, int64_t n, const T* y0, const T* coef, int degree, double theta, T* out) {
    double acc = 0.0;
    for (int p = degree - 1; p >= 0; --p) acc = theta * (acc + (double)coef[(int64_t)p * n + i]);
    out[i] = (T)((double)y0[i] + acc);
}

}  // namespace kernels
}  // namespace jdyn
