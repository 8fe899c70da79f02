// ProgramField<T>: forward, VJP and JVP of a layer program over a batch, with the workspace kept
// between calls. Linear maps go through OpenBLAS (batch rows as M) except tiny products, where the
// call overhead (about 100 ns) exceeds the work; activations through nn/activations.h.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "nn/activations.h"
#include "nn/program.h"
#include "status.h"

namespace jdyn {

namespace {

// Products with at most this many multiply-adds run as plain loops (measured on the project's
// machines: 16x16 from one row takes 83 ns in the loop and 151 ns in dgemm; from 64x64 on, and
// for any batch of 16 or more, OpenBLAS wins).
constexpr int64_t kSmallGemm = 512;

inline bool small_product(int64_t m, int64_t n, int64_t k) {
    return m <= kSmallGemm && n <= kSmallGemm && k <= kSmallGemm && m * n * k <= kSmallGemm;
}

template <class T>
void gemm_small(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                int64_t ldb, T beta, T* c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            T acc = 0;
            for (int64_t p = 0; p < k; ++p)
                acc += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
            T& cij = c[i * ldc + j];
            cij = beta == T(0) ? acc : beta * cij + acc;
        }
}

// C = op(A) op(B) + beta C, row-major (alpha is always 1 here).
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    if (small_product(m, n, k)) return gemm_small(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double beta, double* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    if (small_product(m, n, k)) return gemm_small(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, 1.0, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

// out[j] += sum over rows of g[r, j], g [rows, width].
template <class T>
void add_column_sums(const T* g, int64_t rows, int64_t width, T* out) {
    for (int64_t r = 0; r < rows; ++r) {
        const T* gr = g + r * width;
        for (int64_t j = 0; j < width; ++j) out[j] += gr[j];
    }
}

template <class T>
double dot(const T* a, const T* b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += (double)a[i] * (double)b[i];
    return s;
}

// out = g * f'(x) for the elementwise layers (x the input, y the output).
template <class T>
void elementwise_grad(const ProgramLayer& L, const T* x, const T* y, const T* g, T* out, int64_t n) {
    switch (L.kind) {
        case JDYN_LAYER_TANH: act::tanh_grad(y, g, out, n); break;
        case JDYN_LAYER_RELU: act::relu_grad(y, g, out, n); break;
        case JDYN_LAYER_SOFTPLUS: act::softplus_grad(x, g, out, n, L.alpha, L.threshold); break;
        case JDYN_LAYER_SIGMOID: act::sigmoid_grad(y, g, out, n); break;
        case JDYN_LAYER_SIN: act::sin_grad(x, g, out, n); break;
        case JDYN_LAYER_ELU: act::elu_grad(x, y, g, out, n, L.alpha); break;
        case JDYN_LAYER_SILU: act::silu_grad(x, g, out, n); break;
        default: fail(JDYN_ERR_INTERNAL, "not an elementwise layer kind: " + std::to_string(L.kind));
    }
}

// Copies x [rows, in] into the first `in` columns of y [rows, out], filling the rest with `fill`.
template <class T>
void widen(const T* x, int64_t rows, int64_t in, int64_t out, T fill, T* y) {
    for (int64_t r = 0; r < rows; ++r) {
        std::memcpy(y + r * out, x + r * in, sizeof(T) * (size_t)in);
        std::fill(y + r * out + in, y + (r + 1) * out, fill);
    }
}

}  // namespace

template <class T>
ProgramField<T>::ProgramField(const Program& program, const T* params) : program_(program), params_(nullptr) {
    bind_params(params);
    // OpenBLAS's thread count is applied lazily (blas.cpp); make sure it is before the first GEMM.
    (void)jdyn_get_num_threads();
    const auto& layers = program_.layers();
    act_off_.resize(layers.size());
    gal_off_.assign(layers.size(), -1);
    phi_off_.assign(layers.size(), -1);
    int64_t acts = 0, gal = 0, phi = 0, scratch = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
        const ProgramLayer& L = layers[i];
        act_off_[i] = acts;
        acts += L.out;
        if (L.kind == JDYN_LAYER_GALLINEAR) {
            gal_off_[i] = gal;
            gal += L.out * L.in + L.out;
            phi_off_[i] = phi;
            phi += 2 * L.n_basis;
            scratch = std::max(scratch, L.out * L.in + L.out);
        }
    }
    act_total_ = acts;
    gal_.resize((size_t)gal);
    phi_.resize((size_t)phi);
    scratch_.resize((size_t)scratch);
    ys_.resize(layers.size());
}

template <class T>
ProgramField<T>::~ProgramField() = default;

template <class T>
void ProgramField<T>::bind_params(const T* params) {
    if (!params && program_.num_params() > 0)
        fail(JDYN_ERR_ARGUMENT, "params must not be NULL: the program has " + std::to_string(program_.num_params()) +
                                    " parameters");
    params_ = params;
}

template <class T>
void ProgramField<T>::check_batch(int64_t batch) const {
    if (batch < 0 || batch > INT_MAX)
        fail(JDYN_ERR_ARGUMENT, "batch must be in [0, 2^31), got " + std::to_string(batch));
}

template <class T>
void ProgramField<T>::reserve(int64_t batch) {
    if (batch <= capacity_) return;
    const int64_t per_row = act_total_ + 2 * program_.max_width();
    if (per_row > INT64_MAX / (int64_t)sizeof(T) / batch)
        fail(JDYN_ERR_OUT_OF_MEMORY, "the program's workspace for batch " + std::to_string(batch) + " is too large");
    acts_.resize((size_t)(act_total_ * batch));
    for (auto& w : work_) w.resize((size_t)(program_.max_width() * batch));
    capacity_ = batch;
}

template <class T>
const T* ProgramField<T>::galerkin_weights(size_t li, double t) {
    const ProgramLayer& L = program_.layers()[li];
    double* phi = phi_.data() + phi_off_[li];
    galerkin_basis(L, t, phi, phi + L.n_basis);
    T* wt = gal_.data() + gal_off_[li];
    const int64_t nw = L.out * L.in, nb = L.bias ? L.out : 0;
    const T* wk = params_ + L.param_offset;    // [n_basis][out][in]
    const T* bk = wk + L.n_basis * nw;         // [n_basis][out]
    T* bt = wt + nw;
    for (int64_t k = 0; k < L.n_basis; ++k) {
        const T p = (T)phi[k];
        const T* w = wk + k * nw;
        const T* b = bk + k * nb;
        if (k == 0) {
            for (int64_t e = 0; e < nw; ++e) wt[e] = p * w[e];
            for (int64_t e = 0; e < nb; ++e) bt[e] = p * b[e];
        } else {
            for (int64_t e = 0; e < nw; ++e) wt[e] += p * w[e];
            for (int64_t e = 0; e < nb; ++e) bt[e] += p * b[e];
        }
    }
    return wt;
}

template <class T>
void ProgramField<T>::layer_forward(size_t li, double t, const T* x, T* y, int64_t batch) {
    const ProgramLayer& L = program_.layers()[li];
    const int64_t n = batch * L.in;
    switch (L.kind) {
        case JDYN_LAYER_LINEAR:
        case JDYN_LAYER_GALLINEAR: {
            const T* w = L.kind == JDYN_LAYER_LINEAR ? params_ + L.param_offset : galerkin_weights(li, t);
            const T* b = L.bias ? w + L.out * L.in : nullptr;
            if (b)
                for (int64_t r = 0; r < batch; ++r) std::memcpy(y + r * L.out, b, sizeof(T) * (size_t)L.out);
            gemm(false, true, batch, L.out, L.in, x, L.in, w, L.in, b ? T(1) : T(0), y, L.out);
            break;
        }
        case JDYN_LAYER_TANH: act::tanh(x, y, n); break;
        case JDYN_LAYER_RELU: act::relu(x, y, n); break;
        case JDYN_LAYER_SOFTPLUS: act::softplus(x, y, n, L.alpha, L.threshold); break;
        case JDYN_LAYER_SIGMOID: act::sigmoid(x, y, n); break;
        case JDYN_LAYER_SIN: act::sin(x, y, n); break;
        case JDYN_LAYER_ELU: act::elu(x, y, n, L.alpha); break;
        case JDYN_LAYER_SILU: act::silu(x, y, n); break;
        case JDYN_LAYER_DEPTHCAT: widen(x, batch, L.in, L.out, (T)t, y); break;
        case JDYN_LAYER_AUGMENTER: widen(x, batch, L.in, L.out, T(0), y); break;
        default: fail(JDYN_ERR_INTERNAL, "unknown layer kind " + std::to_string(L.kind));
    }
}

template <class T>
void ProgramField<T>::layer_backward(size_t li, const T* x, const T* y, const T* gy, T* gx, int64_t batch, T* gp,
                                     double* gt) {
    const ProgramLayer& L = program_.layers()[li];
    switch (L.kind) {
        case JDYN_LAYER_LINEAR: {
            const T* w = params_ + L.param_offset;
            if (gp) {
                T* gw = gp + L.param_offset;
                gemm(true, false, L.out, L.in, batch, gy, L.out, x, L.in, T(1), gw, L.in);  // gW += gy^T x
                if (L.bias) add_column_sums(gy, batch, L.out, gw + L.out * L.in);           // gb += sum gy
            }
            gemm(false, false, batch, L.in, L.out, gy, L.out, w, L.in, T(0), gx, L.in);  // gx = gy W
            break;
        }
        case JDYN_LAYER_GALLINEAR: {
            const T* wt = gal_.data() + gal_off_[li];  // W(t), b(t) from this call's forward
            if (gp || gt) {
                // G = gy^T x and s = sum over rows of gy: the gradients wrt W(t) and b(t), which
                // spread over the coefficients as phi_k G, phi_k s and into t as sum_k phi_k'(t) <., .>.
                const int64_t nw = L.out * L.in, nb = L.bias ? L.out : 0;
                T* g = scratch_.data();
                T* s = g + nw;
                gemm(true, false, L.out, L.in, batch, gy, L.out, x, L.in, T(0), g, L.in);
                std::fill(s, s + nb, T(0));
                if (L.bias) add_column_sums(gy, batch, L.out, s);
                const double* phi = phi_.data() + phi_off_[li];
                const double* dphi = phi + L.n_basis;
                const T* wk = params_ + L.param_offset;
                const T* bk = wk + L.n_basis * nw;
                double dt = 0;
                for (int64_t k = 0; k < L.n_basis; ++k) {
                    if (gp) {
                        const T p = (T)phi[k];
                        T* gw = gp + L.param_offset + k * nw;
                        T* gb = gp + L.param_offset + L.n_basis * nw + k * nb;
                        for (int64_t e = 0; e < nw; ++e) gw[e] += p * g[e];
                        for (int64_t e = 0; e < nb; ++e) gb[e] += p * s[e];
                    }
                    if (gt && dphi[k] != 0.0) dt += dphi[k] * (dot(g, wk + k * nw, nw) + dot(s, bk + k * nb, nb));
                }
                if (gt) *gt += dt;
            }
            gemm(false, false, batch, L.in, L.out, gy, L.out, wt, L.in, T(0), gx, L.in);
            break;
        }
        case JDYN_LAYER_DEPTHCAT: {
            double dt = 0;
            for (int64_t r = 0; r < batch; ++r) {
                std::memcpy(gx + r * L.in, gy + r * L.out, sizeof(T) * (size_t)L.in);
                dt += (double)gy[r * L.out + L.in];
            }
            if (gt) *gt += dt;
            break;
        }
        case JDYN_LAYER_AUGMENTER:
            for (int64_t r = 0; r < batch; ++r)
                std::memcpy(gx + r * L.in, gy + r * L.out, sizeof(T) * (size_t)L.in);
            break;
        default: elementwise_grad(L, x, y, gy, gx, batch * L.in);
    }
}

template <class T>
void ProgramField<T>::layer_tangent(size_t li, const T* x, const T* y, const T* dx, T* dy, int64_t batch) {
    const ProgramLayer& L = program_.layers()[li];
    switch (L.kind) {
        case JDYN_LAYER_LINEAR:
        case JDYN_LAYER_GALLINEAR: {
            const T* w = L.kind == JDYN_LAYER_LINEAR ? params_ + L.param_offset : gal_.data() + gal_off_[li];
            gemm(false, true, batch, L.out, L.in, dx, L.in, w, L.in, T(0), dy, L.out);  // dy = dx W^T
            break;
        }
        case JDYN_LAYER_DEPTHCAT:
        case JDYN_LAYER_AUGMENTER: widen(dx, batch, L.in, L.out, T(0), dy); break;
        default: elementwise_grad(L, x, y, dx, dy, batch * L.in);
    }
}

template <class T>
void ProgramField<T>::forward(double t, const T* z, T* out, int64_t batch) {
    check_batch(batch);
    if (batch == 0) return;
    if (!z || !out) fail(JDYN_ERR_ARGUMENT, "program forward: z and out must not be NULL");
    reserve(batch);
    const size_t n = program_.layers().size();
    const T* x = z;
    for (size_t i = 0; i < n; ++i) {
        T* y = i + 1 == n ? out : work_[i % 2].data();
        layer_forward(i, t, x, y, batch);
        x = y;
    }
}

template <class T>
void ProgramField<T>::vjp(double t, const T* z, const T* v, int64_t batch, T* gz, T* gp, double* gt, T* dz) {
    check_batch(batch);
    if (batch == 0) return;
    if (!z || !v || !gz) fail(JDYN_ERR_ARGUMENT, "program vjp: z, v and gz must not be NULL");
    reserve(batch);
    const size_t n = program_.layers().size();
    // Forward, keeping every layer's output.
    const T* x = z;
    for (size_t i = 0; i < n; ++i) {
        T* y = i + 1 == n && dz ? dz : acts_.data() + act_off_[i] * batch;
        layer_forward(i, t, x, y, batch);
        ys_[i] = y;
        x = y;
    }
    // Backward: layer i reads its output cotangent from work_[(i + 1) % 2] (or v) and writes its
    // input cotangent to work_[i % 2] (or gz for the first layer).
    double dt = 0;
    const T* g = v;
    for (size_t i = n; i-- > 0;) {
        T* gx = i == 0 ? gz : work_[i % 2].data();
        layer_backward(i, i == 0 ? z : ys_[i - 1], ys_[i], g, gx, batch, gp, gt ? &dt : nullptr);
        g = gx;
    }
    if (gt) *gt += dt;
}

template <class T>
void ProgramField<T>::jvp(double t, const T* z, const T* u, int64_t batch, T* out) {
    check_batch(batch);
    if (batch == 0) return;
    if (!z || !u || !out) fail(JDYN_ERR_ARGUMENT, "program jvp: z, u and out must not be NULL");
    reserve(batch);
    const size_t n = program_.layers().size();
    const T* x = z;
    const T* dx = u;
    for (size_t i = 0; i < n; ++i) {
        const ProgramLayer& L = program_.layers()[i];
        T* y = acts_.data() + act_off_[i] * batch;
        // The last layer's value is only needed when its derivative depends on it.
        const bool last = i + 1 == n;
        if (!last || (L.kind != JDYN_LAYER_LINEAR && L.kind != JDYN_LAYER_GALLINEAR && L.kind != JDYN_LAYER_DEPTHCAT &&
                      L.kind != JDYN_LAYER_AUGMENTER))
            layer_forward(i, t, x, y, batch);
        else if (L.kind == JDYN_LAYER_GALLINEAR)
            galerkin_weights(i, t);
        T* dy = last ? out : work_[i % 2].data();
        layer_tangent(i, x, y, dx, dy, batch);
        x = y;
        dx = dy;
    }
}

template class ProgramField<float>;
template class ProgramField<double>;

template <class T>
std::unique_ptr<DiffField<T>> make_program_field(const Program& program, const T* params) {
    if (program.dim_in() != program.dim_out())
        fail(JDYN_ERR_ARGUMENT, "a vector field must map width D to D; this program maps " +
                                    std::to_string(program.dim_in()) + " to " + std::to_string(program.dim_out()));
    return std::make_unique<ProgramField<T>>(program, params);
}

template std::unique_ptr<DiffField<float>> make_program_field<float>(const Program&, const float*);
template std::unique_ptr<DiffField<double>> make_program_field<double>(const Program&, const double*);

}  // namespace jdyn
