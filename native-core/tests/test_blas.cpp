// jdyn_gemm through OpenBLAS against a naive triple loop, every transpose combination, both dtypes,
// with one and two BLAS threads.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "jdyn.h"

namespace {
template <class T>
void check_gemm(int64_t dtype, int ta, int tb, int m, int n, int k) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<T> a((size_t)m * k), b((size_t)k * n), c((size_t)m * n), ref((size_t)m * n);
    for (auto& v : a) v = (T)u(rng);
    for (auto& v : b) v = (T)u(rng);
    for (auto& v : c) v = (T)u(rng);
    const double alpha = 0.7, beta = -0.3;
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int p = 0; p < k; ++p) {
                const double aip = ta ? a[(size_t)p * m + i] : a[(size_t)i * k + p];
                const double bpj = tb ? b[(size_t)j * k + p] : b[(size_t)p * n + j];
                s += aip * bpj;
            }
            ref[(size_t)i * n + j] = (T)(alpha * s + beta * (double)c[(size_t)i * n + j]);
        }
    REQUIRE(jdyn_gemm(dtype, ta, tb, m, n, k, alpha, a.data(), b.data(), beta, c.data()) == JDYN_OK);
    // float32 sums of k products of magnitude <= 1 carry about k * 6e-8 relative error.
    const double tol = dtype == JDYN_FLOAT32 ? 1e-4 : 1e-12;
    for (size_t i = 0; i < c.size(); ++i) CHECK(std::fabs((double)c[i] - (double)ref[i]) < tol * (1 + k));
}
}  // namespace

TEST_CASE("gemm matches a naive product for every transpose, both dtypes, one and two threads") {
    CHECK(jdyn_get_num_threads() == 1);
    for (int threads : {1, 2}) {
        REQUIRE(jdyn_set_num_threads(threads) == JDYN_OK);
        CHECK(jdyn_get_num_threads() == threads);
        for (int ta : {0, 1})
            for (int tb : {0, 1}) {
                check_gemm<double>(JDYN_FLOAT64, ta, tb, 37, 64, 129);
                check_gemm<float>(JDYN_FLOAT32, ta, tb, 512, 64, 2);
            }
    }
    REQUIRE(jdyn_set_num_threads(1) == JDYN_OK);
}

TEST_CASE("gemm and thread settings reject bad arguments") {
    double x = 0;
    CHECK(jdyn_set_num_threads(0) == JDYN_ERR_ARGUMENT);
    CHECK(std::string(jdyn_last_error()).find("threads") != std::string::npos);
    CHECK(jdyn_gemm(JDYN_FLOAT64, 0, 0, -1, 1, 1, 1, &x, &x, 0, &x) == JDYN_ERR_ARGUMENT);
    CHECK(jdyn_gemm(7, 0, 0, 1, 1, 1, 1, &x, &x, 0, &x) == JDYN_ERR_ARGUMENT);
    CHECK(jdyn_gemm(JDYN_FLOAT64, 0, 0, 1, 1, 1, 1, nullptr, &x, 0, &x) == JDYN_ERR_ARGUMENT);
    CHECK(std::string(jdyn_blas_info()).find("OpenBLAS") != std::string::npos);
}
