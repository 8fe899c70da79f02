// SOLVE: Gaussian elimination with partial pivoting (the LU factorisation applied to B as it is made),
// then back substitution. The systems of a learned Lagrangian's mass matrix are small (n the degrees of
// freedom), so a plain loop beats a LAPACK call per matrix; one matrix stays in the L1 cache.
#include "graph/solve.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "status.h"

namespace jdyn {
namespace graph {

namespace {

template <class T>
std::vector<T>& scratch() {
    thread_local std::vector<T> s;
    return s;
}

[[noreturn]] void bad_pivot(int64_t matrix, int64_t col, double pivot, bool batched) {
    const std::string where = batched ? "the matrix of batch row " + std::to_string(matrix) : std::string("the matrix");
    fail(JDYN_ERR_NON_FINITE, std::string("SOLVE: ") + where + " is " +
                                  (std::isfinite(pivot) ? "singular (a zero pivot in column " + std::to_string(col) + ")"
                                                        : "not finite (pivot " + std::to_string(pivot) + " in column " +
                                                              std::to_string(col) + ")"));
}

// One system: lu holds A (n x n, overwritten), x holds B (n x k) and becomes X.
template <class T>
void solve_one(T* lu, T* x, int64_t n, int64_t k, int64_t matrix, bool batched) {
    for (int64_t c = 0; c < n; ++c) {
        int64_t p = c;
        T best = std::abs(lu[c * n + c]);
        for (int64_t r = c + 1; r < n; ++r) {
            const T v = std::abs(lu[r * n + c]);
            if (v > best) best = v, p = r;
        }
        const T piv = lu[p * n + c];
        if (!(piv != T(0)) || !std::isfinite((double)piv)) bad_pivot(matrix, c, (double)piv, batched);
        if (p != c) {
            for (int64_t j = 0; j < n; ++j) std::swap(lu[p * n + j], lu[c * n + j]);
            for (int64_t j = 0; j < k; ++j) std::swap(x[p * k + j], x[c * k + j]);
        }
        const T inv = T(1) / piv;
        for (int64_t r = c + 1; r < n; ++r) {
            const T f = lu[r * n + c] * inv;
            if (f == T(0)) continue;
            for (int64_t j = c + 1; j < n; ++j) lu[r * n + j] -= f * lu[c * n + j];
            for (int64_t j = 0; j < k; ++j) x[r * k + j] -= f * x[c * k + j];
        }
    }
    for (int64_t c = n - 1; c >= 0; --c) {
        const T inv = T(1) / lu[c * n + c];
        for (int64_t j = 0; j < k; ++j) {
            T s = x[c * k + j];
            for (int64_t m = c + 1; m < n; ++m) s -= lu[c * n + m] * x[m * k + j];
            x[c * k + j] = s * inv;
        }
    }
}

}  // namespace

template <class T>
void solve(const Shape& sa, const Shape& sb, bool transpose, int64_t batch, const T* a, const T* b, T* out) {
    const int64_t n = sa.d[sa.rank - 1], k = sb.d[sb.rank - 1];
    const bool ab = sa.rank == 3, bb = sb.rank == 3;
    const int64_t count = ab ? (sa.d[0] == -1 ? batch : sa.d[0]) : bb ? (sb.d[0] == -1 ? batch : sb.d[0]) : 1;
    const bool batched = ab || bb;
    std::vector<T>& lu = scratch<T>();
    if ((int64_t)lu.size() < n * n) lu.resize((size_t)(n * n));
    for (int64_t m = 0; m < count; ++m) {
        const T* am = a + (ab ? m * n * n : 0);
        if (transpose) {
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < n; ++j) lu[(size_t)(i * n + j)] = am[j * n + i];
        } else {
            std::memcpy(lu.data(), am, sizeof(T) * (size_t)(n * n));
        }
        T* xm = out + m * n * k;
        const T* bm = b + (bb ? m * n * k : 0);
        if (xm != bm) std::memmove(xm, bm, sizeof(T) * (size_t)(n * k));
        solve_one(lu.data(), xm, n, k, m, batched);
    }
}

template void solve<float>(const Shape&, const Shape&, bool, int64_t, const float*, const float*, float*);
template void solve<double>(const Shape&, const Shape&, bool, int64_t, const double*, const double*, double*);

}  // namespace graph
}  // namespace jdyn
