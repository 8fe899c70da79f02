// The step-size controller's power x^e, shared by the shared-step engine (engine.cpp) and the
// per-sample loop (engine_per_sample.cpp) so that a row solved per-sample gets the same bits as alone.
// It is glibc's vector pow (libmvec), lane by lane a deterministic function of (x, e) (a lane's value
// does not depend on the others), so the per-sample loop evaluates 4 (AVX2) or 2 (SSE) rows' factors
// in one call and the shared engine one lane of the same function. glibc's scalar pow cost about a
// quarter of a per-sample solve (oscillators-10k, one pow per row and step); libmvec's is within
// 4 ulp of x^e, far below what a step-size heuristic needs.
//
// Defined in namespace jdyn::JDYN_ISA: each engine variant gets its own copy, built with its own
// instruction set, so the AVX2 engines use the AVX2 entry and the base engines the SSE one (one
// inline name for both would let the linker keep either).
#pragma once

#include <immintrin.h>

#include <cstdint>

#ifndef JDYN_ISA
#define JDYN_ISA isa_base
#endif

extern "C" {
#ifdef __AVX2__
__m256d _ZGVdN4vv_pow(__m256d, __m256d);
#else
__m128d _ZGVbN2vv_pow(__m128d, __m128d);
#endif
}

namespace jdyn {
namespace JDYN_ISA {
namespace step_pow {

#ifdef __AVX2__
constexpr int kLanes = 4;
#else
constexpr int kLanes = 2;
#endif

// out[i] = x[i]^e[i] for i < n.
inline void pow_n(const double* x, const double* e, double* out, int64_t n) {
    int64_t i = 0;
#ifdef __AVX2__
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(out + i, _ZGVdN4vv_pow(_mm256_loadu_pd(x + i), _mm256_loadu_pd(e + i)));
    if (i < n) {
        alignas(32) double xs[4] = {1, 1, 1, 1}, es[4] = {1, 1, 1, 1}, os[4];
        for (int64_t j = i; j < n; ++j) xs[j - i] = x[j], es[j - i] = e[j];
        _mm256_store_pd(os, _ZGVdN4vv_pow(_mm256_load_pd(xs), _mm256_load_pd(es)));
        for (int64_t j = i; j < n; ++j) out[j] = os[j - i];
    }
#else
    for (; i + 2 <= n; i += 2)
        _mm_storeu_pd(out + i, _ZGVbN2vv_pow(_mm_loadu_pd(x + i), _mm_loadu_pd(e + i)));
    if (i < n) out[i] = _mm_cvtsd_f64(_ZGVbN2vv_pow(_mm_set_pd(1.0, x[i]), _mm_set_pd(1.0, e[i])));
#endif
}

// x^e, one lane of the same function.
inline double pow1(double x, double e) {
    double out;
    pow_n(&x, &e, &out, 1);
    return out;
}

}  // namespace step_pow
}  // namespace JDYN_ISA
}  // namespace jdyn
