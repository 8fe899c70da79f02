// The skinny products (graph/gemm_skinny.h) against a naive triple loop: every transpose mode the
// graph uses, each skinny side from 1 to 4, beta 0, 1 and 0.5, leading dimensions wider than the
// matrices, float and double.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "graph/gemm_skinny.h"

namespace {

template <class T>
void check_case(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T beta, std::mt19937& rng) {
    std::uniform_real_distribution<double> u(-1, 1);
    const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
    std::vector<T> a((size_t)((ta ? k : m) * lda)), b((size_t)((tb ? n : k) * ldb)), c((size_t)(m * ldc));
    for (auto& v : a) v = (T)u(rng);
    for (auto& v : b) v = (T)u(rng);
    for (auto& v : c) v = (T)u(rng);
    std::vector<T> ref = c;
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double s = 0;
            for (int64_t p = 0; p < k; ++p)
                s += (double)(ta ? a[(size_t)(p * lda + i)] : a[(size_t)(i * lda + p)]) *
                     (double)(tb ? b[(size_t)(j * ldb + p)] : b[(size_t)(p * ldb + j)]);
            ref[(size_t)(i * ldc + j)] = (T)((double)beta * (double)c[(size_t)(i * ldc + j)] + s);
        }
    const bool done = jdyn::graph::gemm_skinny(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
    if (!done) return;  // a shape it leaves to OpenBLAS
    // Each entry sums k products of numbers in [-1, 1]: k units in the last place of the dtype bound it.
    const double tol = (double)k * (sizeof(T) == 4 ? 1.2e-7 : 2.3e-16) * 4;
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            INFO("ta ", ta, " tb ", tb, " m ", m, " n ", n, " k ", k, " beta ", (double)beta, " at ", i, ",", j);
            CHECK(std::fabs((double)c[(size_t)(i * ldc + j)] - (double)ref[(size_t)(i * ldc + j)]) <= tol);
        }
}

template <class T>
void all_cases() {
    std::mt19937 rng(7);
    const T betas[] = {T(0), T(1), T(0.5)};
    for (T beta : betas)
        for (int64_t s = 1; s <= 4; ++s) {
            check_case<T>(false, false, 37, 70, s, beta, rng);   // rank-s update, B [s, n]
            check_case<T>(false, true, 37, 70, s, beta, rng);    // rank-s update, B [n, s]
            check_case<T>(true, false, s, 70, 300, beta, rng);   // A^T B, m small
            check_case<T>(true, false, 70, s, 300, beta, rng);   // A^T B, n small
            check_case<T>(true, false, s, 600, 9, beta, rng);    // more columns than one chunk
        }
}

}  // namespace

TEST_CASE("skinny products equal the naive loop, float32") { all_cases<float>(); }
TEST_CASE("skinny products equal the naive loop, float64") { all_cases<double>(); }

TEST_CASE("shapes without a side of at most 4 are left to OpenBLAS") {
    std::vector<double> a(100, 1), b(100, 1), c(100, 0);
    CHECK_FALSE(jdyn::graph::gemm_skinny(false, false, 5, 5, 5, a.data(), 5, b.data(), 5, 0.0, c.data(), 5));
    CHECK_FALSE(jdyn::graph::gemm_skinny(false, true, 8, 2, 8, a.data(), 8, b.data(), 8, 0.0, c.data(), 2));
}
