// SNOpt's preconditioned gradient of one Linear layer in the Kronecker-factored eigenbasis
// (jdyn_snopt_precondition; EKFAC's running eigenvalue estimate, as the original SNOpt does).
#include <cblas.h>

#include <cmath>
#include <string>
#include <vector>

#include "jdyn.h"
#include "status.h"

namespace jdyn {
namespace {

template <class T>
void precondition(T* grad, int64_t w_off, int64_t b_off, int64_t out, int64_t in, const double* ug, const double* ua,
                  double* m2, double alpha, double eps, double batch, int64_t* bad) {
    const int64_t ad = in + (b_off >= 0 ? 1 : 0);
    std::vector<double> g((size_t)(out * ad)), t((size_t)(out * ad)), k((size_t)(out * ad));
    for (int64_t i = 0; i < out; ++i) {
        for (int64_t j = 0; j < in; ++j) g[(size_t)(i * ad + j)] = (double)grad[w_off + i * in + j];
        if (b_off >= 0) g[(size_t)(i * ad + in)] = (double)grad[b_off + i];
    }
    for (int64_t i = 0; i < out * ad; ++i) {
        if (!std::isfinite(g[(size_t)i])) {
            const int64_t row = i / ad, col = i % ad;
            const int64_t flat = col < in ? w_off + row * in + col : b_off + row;
            if (bad) *bad = flat;
            fail(JDYN_ERR_NON_FINITE, "non-finite gradient at flat index " + std::to_string(flat));
        }
    }
    const int O = (int)out, A = (int)ad;
    // k = U_G^T g U_A
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, A, O, 1.0, ug, O, g.data(), A, 0.0, t.data(), A);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, A, A, 1.0, t.data(), A, ua, A, 0.0, k.data(), A);
    for (int64_t i = 0; i < out * ad; ++i) {
        const double v = k[(size_t)i];
        m2[i] = alpha * m2[i] + (1.0 - alpha) * batch * v * v;
        k[(size_t)i] = v / (m2[i] + eps);
    }
    // g = U_G k U_A^T
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, A, O, 1.0, ug, O, k.data(), A, 0.0, t.data(), A);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, A, A, 1.0, t.data(), A, ua, A, 0.0, g.data(), A);
    for (int64_t i = 0; i < out; ++i) {
        for (int64_t j = 0; j < in; ++j) grad[w_off + i * in + j] = (T)g[(size_t)(i * ad + j)];
        if (b_off >= 0) grad[b_off + i] = (T)g[(size_t)(i * ad + in)];
    }
}

}  // namespace
}  // namespace jdyn

extern "C" int32_t jdyn_snopt_precondition(int64_t dtype, void* grad, int64_t weight_offset, int64_t bias_offset,
                                           int64_t out, int64_t in, const double* u_g, const double* u_a, double* m2,
                                           double alpha, double eps, double batch, int64_t* bad_index) {
    if (bad_index) *bad_index = -1;
    return jdyn::guarded([&] {
        if (!grad || !u_g || !u_a || !m2) jdyn::fail(JDYN_ERR_ARGUMENT, "grad, u_g, u_a and m2 must not be NULL");
        if (out <= 0 || in <= 0 || weight_offset < 0)
            jdyn::fail(JDYN_ERR_ARGUMENT, "out and in must be > 0 and weight_offset >= 0, got out " + std::to_string(out) +
                                              ", in " + std::to_string(in) + ", weight_offset " +
                                              std::to_string(weight_offset));
        if (!(alpha >= 0 && alpha <= 1)) jdyn::fail(JDYN_ERR_ARGUMENT, "alpha must be in [0, 1], got " + std::to_string(alpha));
        if (!(eps > 0)) jdyn::fail(JDYN_ERR_ARGUMENT, "eps must be > 0, got " + std::to_string(eps));
        if (!(batch > 0)) jdyn::fail(JDYN_ERR_ARGUMENT, "batch must be > 0, got " + std::to_string(batch));
        if (dtype == JDYN_FLOAT32)
            jdyn::precondition(static_cast<float*>(grad), weight_offset, bias_offset, out, in, u_g, u_a, m2, alpha, eps,
                               batch, bad_index);
        else if (dtype == JDYN_FLOAT64)
            jdyn::precondition(static_cast<double*>(grad), weight_offset, bias_offset, out, in, u_g, u_a, m2, alpha,
                               eps, batch, bad_index);
        else
            jdyn::fail(JDYN_ERR_ARGUMENT, "unknown dtype " + std::to_string(dtype));
    });
}
