// Products with an inner or an outer side of at most 4 (a Neural ODE's state width: x[B, 2] W1^T,
// g[B, 2] W2, the weight gradients [64, B] x [B, 2] and [2, B] x [B, 64]), where OpenBLAS's blocked
// kernels spend much of their time packing. Measured on the moons shapes at B = 512 in float32
// (bench/README.md): 1.2 to 1.5 times faster than OpenBLAS. Every loop runs along a contiguous long
// dimension, so GCC vectorises it; the entry point is compiled for AVX-512, AVX2 and the x86-64-v2
// baseline and picks one from the CPU, as nn/activations does.
#include "graph/gemm_skinny.h"

#include <algorithm>
#include <cstring>
#include <vector>

#pragma GCC optimize("no-trapping-math")

namespace jdyn {
namespace graph {

namespace {

constexpr int64_t kSkinny = 4;
constexpr int64_t kChunk = 256;  // columns of C accumulated at a time in the sums over the batch

template <class T>
std::vector<T>& scratch() {
    thread_local std::vector<T> s;
    return s;
}

// C[i, :] = beta C[i, :] + sum_{p < K} A[i, p] R[p, :] for each row i, in one pass over C.
template <class T, int K>
__attribute__((always_inline)) inline void rank_k(int64_t m, int64_t n, const T* __restrict a, int64_t lda,
                                                  const T* __restrict r, int64_t ldr, T beta, T* __restrict c,
                                                  int64_t ldc) {
    for (int64_t i = 0; i < m; ++i) {
        const T* ai = a + i * lda;
        T* __restrict ci = c + i * ldc;
        T av[K];
        for (int p = 0; p < K; ++p) av[p] = ai[p];
        if (beta == T(0)) {
            for (int64_t j = 0; j < n; ++j) {
                T s = av[0] * r[j];
                for (int p = 1; p < K; ++p) s += av[p] * r[p * ldr + j];
                ci[j] = s;
            }
        } else {
            for (int64_t j = 0; j < n; ++j) {
                T s = beta * ci[j];
                for (int p = 0; p < K; ++p) s += av[p] * r[p * ldr + j];
                ci[j] = s;
            }
        }
    }
}

// D[j, :] = sum over rows q of X[q, j] Y[q, :] for j < N (X [k, N] at stride ldx, Y [k, w] at ldy),
// accumulated in chunks of columns that stay in the L1 cache; D is [N, w] contiguous.
template <class T, int N>
__attribute__((always_inline)) inline void outer_sum(int64_t k, int64_t w, const T* __restrict x, int64_t ldx,
                                                     const T* __restrict y, int64_t ldy, T* __restrict d) {
    for (int64_t j0 = 0; j0 < w; j0 += kChunk) {
        const int64_t len = std::min(kChunk, w - j0);
        T acc[N][kChunk];
        for (int j = 0; j < N; ++j)
            for (int64_t q = 0; q < len; ++q) acc[j][q] = T(0);
        for (int64_t r = 0; r < k; ++r) {
            const T* __restrict yr = y + r * ldy + j0;
            for (int j = 0; j < N; ++j) {
                const T xj = x[r * ldx + j];
                for (int64_t q = 0; q < len; ++q) acc[j][q] += xj * yr[q];
            }
        }
        for (int j = 0; j < N; ++j)
            for (int64_t q = 0; q < len; ++q) d[j * w + j0 + q] = acc[j][q];
    }
}

// C[m, n] = op(A) op(B) + beta C, row-major, when one of m, n, k is at most kSkinny. Returns false
// when no skinny kernel applies.
template <class T>
__attribute__((always_inline)) inline bool skinny(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a,
                                                  int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    if (!ta) {
        if (k <= kSkinny) {
            // Rows of C as combinations of B's k rows: B^T first when B is [n, k].
            const T* rows = b;
            int64_t ld = ldb;
            if (tb) {
                std::vector<T>& s = scratch<T>();
                s.resize((size_t)(k * n));
                for (int64_t j = 0; j < n; ++j)
                    for (int64_t p = 0; p < k; ++p) s[(size_t)(p * n + j)] = b[j * ldb + p];
                rows = s.data();
                ld = n;
            }
            switch (k) {
                case 1: rank_k<T, 1>(m, n, a, lda, rows, ld, beta, c, ldc); break;
                case 2: rank_k<T, 2>(m, n, a, lda, rows, ld, beta, c, ldc); break;
                case 3: rank_k<T, 3>(m, n, a, lda, rows, ld, beta, c, ldc); break;
                default: rank_k<T, 4>(m, n, a, lda, rows, ld, beta, c, ldc); break;
            }
            return true;
        }
        // A few dot products per row of A (n small, k long): OpenBLAS does as well as a plain loop
        // (the horizontal sums dominate), so it keeps them.
        return false;
    }
    if (tb || (m > kSkinny && n > kSkinny)) return false;
    // C = A^T B with A [k, m], B [k, n], summed over k (the batch): D = the sums with the skinny side
    // first ([m, n] when m is small, [n, m] when n is), then C = beta C + D (transposed when n is small).
    std::vector<T>& s = scratch<T>();
    s.resize((size_t)(m * n));
    const bool small_m = m <= kSkinny;
    const int64_t side = small_m ? m : n, w = small_m ? n : m;
    const T* x = small_m ? a : b;
    const T* y = small_m ? b : a;
    const int64_t ldx = small_m ? lda : ldb, ldy = small_m ? ldb : lda;
    switch (side) {
        case 1: outer_sum<T, 1>(k, w, x, ldx, y, ldy, s.data()); break;
        case 2: outer_sum<T, 2>(k, w, x, ldx, y, ldy, s.data()); break;
        case 3: outer_sum<T, 3>(k, w, x, ldx, y, ldy, s.data()); break;
        default: outer_sum<T, 4>(k, w, x, ldx, y, ldy, s.data()); break;
    }
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            const T v = small_m ? s[(size_t)(i * n + j)] : s[(size_t)(j * m + i)];
            T& cij = c[i * ldc + j];
            cij = beta == T(0) ? v : beta * cij + v;
        }
    return true;
}

#if defined(__x86_64__) && defined(__GNUC__)
int cpu_level() {
    static const int level = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) return 2;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
        return 0;
    }();
    return level;
}
#define JDYN_SKINNY_VARIANT(NAME, TARGET, T)                                                                       \
    TARGET bool NAME(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,       \
                     int64_t ldb, T beta, T* c, int64_t ldc) {                                                      \
        return skinny<T>(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);                                          \
    }
JDYN_SKINNY_VARIANT(skinny_f_avx512, __attribute__((target("avx512f"))), float)
JDYN_SKINNY_VARIANT(skinny_f_avx2, __attribute__((target("avx2,fma"))), float)
JDYN_SKINNY_VARIANT(skinny_f_base, , float)
JDYN_SKINNY_VARIANT(skinny_d_avx512, __attribute__((target("avx512f"))), double)
JDYN_SKINNY_VARIANT(skinny_d_avx2, __attribute__((target("avx2,fma"))), double)
JDYN_SKINNY_VARIANT(skinny_d_base, , double)
#endif

}  // namespace

bool gemm_skinny(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                 int64_t ldb, float beta, float* c, int64_t ldc) {
    if (std::min({m, n, k}) > kSkinny) return false;
#if defined(__x86_64__) && defined(__GNUC__)
    switch (cpu_level()) {
        case 2: return skinny_f_avx512(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
        case 1: return skinny_f_avx2(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
        default: return skinny_f_base(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }
#else
    return skinny<float>(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
#endif
}

bool gemm_skinny(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
                 int64_t ldb, double beta, double* c, int64_t ldc) {
    if (std::min({m, n, k}) > kSkinny) return false;
#if defined(__x86_64__) && defined(__GNUC__)
    switch (cpu_level()) {
        case 2: return skinny_d_avx512(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
        case 1: return skinny_d_avx2(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
        default: return skinny_d_base(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }
#else
    return skinny<double>(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
#endif
}

}  // namespace graph
}  // namespace jdyn
