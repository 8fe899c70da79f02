// Products with a side of at most 4, faster than OpenBLAS on such shapes (see gemm_skinny.cpp).
#pragma once

#include <cstdint>

namespace jdyn {
namespace graph {

// C[m, n] = op(A) op(B) + beta C, row-major, when min(m, n, k) <= 4 and k >= 1; false (nothing done)
// for the shapes it does not cover.
bool gemm_skinny(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                 int64_t ldb, float beta, float* c, int64_t ldc);
bool gemm_skinny(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
                 int64_t ldb, double beta, double* c, int64_t ldc);

}  // namespace graph
}  // namespace jdyn
