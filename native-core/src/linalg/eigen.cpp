// Symmetric eigendecomposition through LAPACK's dsyevd from the statically linked OpenBLAS, and
// SNOpt's eigenbasis refresh (jdyn_sym_eig, jdyn_snopt_eigenbasis).
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "jdyn.h"
#include "status.h"

extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);

// Debian's libopenblas.a is built with gfortran and its LAPACK's dormtr (reached from dsyevd) calls
// this libgfortran helper to build an option string; libgfortran is not available as a static
// library, and linking it dynamically would add a run-time dependency to libjdyn.so. This is the
// documented behaviour: dest = s1 // s2, truncated or blank-padded to destlen. Not exported (jdyn.map).
void _gfortran_concat_string(size_t destlen, char* dest, size_t len1, const char* s1, size_t len2, const char* s2) {
    if (len1 >= destlen) {
        std::memcpy(dest, s1, destlen);
        return;
    }
    std::memcpy(dest, s1, len1);
    dest += len1;
    destlen -= len1;
    if (len2 >= destlen) {
        std::memcpy(dest, s2, destlen);
        return;
    }
    std::memcpy(dest, s2, len2);
    std::memset(dest + len2, ' ', destlen - len2);
}
}

namespace jdyn {
namespace {

// a (n x n, symmetric, row-major) -> its eigenvectors as the columns of a (row-major), w ascending.
void sym_eig(int64_t n, double* a, double* w) {
    if (n <= 0 || n > 46340) fail(JDYN_ERR_ARGUMENT, "n must be in [1, 46340], got " + std::to_string(n));
    for (int64_t i = 0; i < n * n; ++i)
        if (!std::isfinite(a[i])) fail(JDYN_ERR_NON_FINITE, "the matrix has a non-finite entry at " + std::to_string(i));
    const int N = (int)n;
    int info = 0, lwork = -1, liwork = -1, iq = 0;
    double wq = 0;
    dsyevd_("V", "U", &N, a, &N, w, &wq, &lwork, &iq, &liwork, &info);
    if (info != 0) fail(JDYN_ERR_INTERNAL, "dsyevd workspace query failed (info " + std::to_string(info) + ")");
    lwork = (int)wq;
    liwork = iq;
    std::vector<double> work((size_t)lwork);
    std::vector<int> iwork((size_t)liwork);
    // Row-major symmetric a is its own column-major copy; the result's columns (column-major) are the
    // eigenvectors, so row-major memory holds them as rows: transposed below.
    dsyevd_("V", "U", &N, a, &N, w, work.data(), &lwork, iwork.data(), &liwork, &info);
    if (info != 0)
        fail(JDYN_ERR_INTERNAL, "dsyevd did not converge (info " + std::to_string(info) + ") on a " + std::to_string(n) +
                                    " x " + std::to_string(n) + " matrix");
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = i + 1; j < n; ++j) std::swap(a[i * n + j], a[j * n + i]);
}

}  // namespace
}  // namespace jdyn

extern "C" {

int32_t jdyn_sym_eig(int64_t n, double* a, double* w) {
    return jdyn::guarded([&] {
        if (!a || !w) jdyn::fail(JDYN_ERR_ARGUMENT, "a and w must not be NULL");
        jdyn::sym_eig(n, a, w);
    });
}

int32_t jdyn_snopt_eigenbasis(int64_t out, int64_t a_dim, double* g_factor, double* a_factor, double* m2) {
    return jdyn::guarded([&] {
        if (!g_factor || !a_factor || !m2) jdyn::fail(JDYN_ERR_ARGUMENT, "g_factor, a_factor and m2 must not be NULL");
        std::vector<double> eg((size_t)std::max<int64_t>(out, 1)), ea((size_t)std::max<int64_t>(a_dim, 1));
        jdyn::sym_eig(out, g_factor, eg.data());
        jdyn::sym_eig(a_dim, a_factor, ea.data());
        for (int64_t i = 0; i < out; ++i)
            for (int64_t j = 0; j < a_dim; ++j) m2[i * a_dim + j] = eg[(size_t)i] * ea[(size_t)j];
    });
}

}  // extern "C"
