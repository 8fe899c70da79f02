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

// out[i] = y0[i] + h * sum_j w[j] * k[j][i]: a stage input, a new state, or a dense-output point.
template <class T>
JDYN_HD void stage_combine(int64_t i, const T* y0, double h, const double* w, const T* const* k, int nk,
                           T* out) {
    double acc = 0.0;
    for (int j = 0; j < nk; ++j) {
        if (w[j] != 0.0) acc += w[j] * (double)k[j][i];
    }
    out[i] = (T)((double)y0[i] + h * acc);
}

// The tolerance scale of component i (d = i mod dim): atol_d + rtol_d * max(|y0|, |y1|).
JDYN_HD double tolerance_scale(double y0, double y1, double rtol, double atol) {
    return atol + rtol * fmax(fabs(y0), fabs(y1));
}

// Squared scaled error of component i for error weights e over the stages: ((h sum_j e_j k_j[i]) / scale)^2.
template <class T>
JDYN_HD double scaled_error_sq(int64_t i, double h, const double* e, const T* const* k, int nk, double scale) {
    double acc = 0.0;
    for (int j = 0; j < nk; ++j) {
        if (e[j] != 0.0) acc += e[j] * (double)k[j][i];
    }
    double r = h * acc / scale;
    return r * r;
}

// out[i] = h * sum_j w[j] * k[j][i]: one coefficient vector of a stored dense step.
template <class T>
JDYN_HD void weighted_sum(int64_t i, double h, const double* w, const T* const* k, int nk, T* out) {
    double acc = 0.0;
    for (int j = 0; j < nk; ++j) {
        if (w[j] != 0.0) acc += w[j] * (double)k[j][i];
    }
    out[i] = (T)(h * acc);
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
