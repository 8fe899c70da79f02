// Kernels of the graph ops. Element-wise ops with operands of one shape run as flat loops (the
// activations through the vectorised nn/activations); broadcasting ones through a strided loop over
// four dimensions whose innermost level is specialised for the contiguous and the repeated operand.
#include "graph/kernels.h"
#include "graph/random.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <string>
#include <cmath>
#include <cstring>
#include <limits>

#include "graph/gemm_skinny.h"
#include "graph/solve.h"
#include "nn/activations.h"
#include "status.h"

namespace jdyn {
namespace graph {

namespace {

// Products with at most this many multiply-adds run as plain loops (measured on the project's
// machines: 16x16 from one row takes 83 ns in the loop and 151 ns in dgemm).
constexpr int64_t kSmallGemm = 512;

template <class T>
void gemm_small(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                T beta, T* c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            T acc = 0;
            for (int64_t p = 0; p < k; ++p)
                acc += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
            T& cij = c[i * ldc + j];
            cij = beta == T(0) ? acc : beta * cij + acc;
        }
}

// OpenBLAS takes int dimensions: a product beyond them is refused rather than passed on truncated.
void check_blas_dims(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
    const int64_t top = std::max({m, n, k, lda, ldb, ldc});
    if (top > (int64_t)INT32_MAX)
        fail(JDYN_ERR_ARGUMENT, "a matrix product of " + std::to_string(m) + " x " + std::to_string(k) + " by " +
                                    std::to_string(k) + " x " + std::to_string(n) +
                                    " is too large for BLAS (dimensions must stay below 2^31)");
}

inline bool small_product(int64_t m, int64_t n, int64_t k) {
    return m <= kSmallGemm && n <= kSmallGemm && k <= kSmallGemm && m * n * k <= kSmallGemm;
}

template <class T>
void zero_fill(T* out, int64_t n) {
    std::fill(out, out + n, T(0));
}

// Strides (in elements) of a shape resolved to 4 extents, 0 where the extent is 1 and the result's
// is not (a broadcast dimension).
void strides4(const int64_t e[4], const int64_t eo[4], int64_t s[4]) {
    int64_t acc = 1;
    for (int i = 3; i >= 0; --i) {
        s[i] = (e[i] == 1 && eo[i] != 1) ? 0 : acc;
        acc *= e[i];
    }
}

template <class T, class F>
void broadcast2(const Shape& sa, const Shape& sb, const Shape& so, int64_t batch, const T* a, const T* b, T* o, F f) {
    if (sa == so && sb == so) {
        const int64_t n = so.numel(batch);
        for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
        return;
    }
    int64_t eo[4], ea[4], eb[4], xa[4], xb[4];
    extents4(so, batch, eo);
    extents4(sa, batch, ea);
    extents4(sb, batch, eb);
    strides4(ea, eo, xa);
    strides4(eb, eo, xb);
    const int64_t n3 = eo[3];
    for (int64_t i0 = 0; i0 < eo[0]; ++i0)
        for (int64_t i1 = 0; i1 < eo[1]; ++i1)
            for (int64_t i2 = 0; i2 < eo[2]; ++i2) {
                const T* pa = a + i0 * xa[0] + i1 * xa[1] + i2 * xa[2];
                const T* pb = b + i0 * xb[0] + i1 * xb[1] + i2 * xb[2];
                T* po = o + ((i0 * eo[1] + i1) * eo[2] + i2) * n3;
                if (xa[3] == 1 && xb[3] == 1) {
                    for (int64_t i = 0; i < n3; ++i) po[i] = f(pa[i], pb[i]);
                } else if (xa[3] == 1) {
                    const T vb = pb[0];
                    for (int64_t i = 0; i < n3; ++i) po[i] = f(pa[i], vb);
                } else if (xb[3] == 1) {
                    const T va = pa[0];
                    for (int64_t i = 0; i < n3; ++i) po[i] = f(va, pb[i]);
                } else {
                    const T v = f(pa[0], pb[0]);
                    for (int64_t i = 0; i < n3; ++i) po[i] = v;
                }
            }
}

template <class T>
void where3(const Shape* s, const Shape& so, int64_t batch, const T* c, const T* a, const T* b, T* o) {
    int64_t eo[4], e[3][4], x[3][4];
    extents4(so, batch, eo);
    for (int k = 0; k < 3; ++k) {
        extents4(s[k], batch, e[k]);
        strides4(e[k], eo, x[k]);
    }
    int64_t idx = 0;
    for (int64_t i0 = 0; i0 < eo[0]; ++i0)
        for (int64_t i1 = 0; i1 < eo[1]; ++i1)
            for (int64_t i2 = 0; i2 < eo[2]; ++i2)
                for (int64_t i3 = 0; i3 < eo[3]; ++i3, ++idx) {
                    const int64_t oc = i0 * x[0][0] + i1 * x[0][1] + i2 * x[0][2] + i3 * x[0][3];
                    const int64_t oa = i0 * x[1][0] + i1 * x[1][1] + i2 * x[1][2] + i3 * x[1][3];
                    const int64_t ob = i0 * x[2][0] + i1 * x[2][1] + i2 * x[2][2] + i3 * x[2][3];
                    o[idx] = c[oc] != T(0) ? a[oa] : b[ob];
                }
}

// out (shape so) = the sum of x (shape sx) over the dimensions broadcasting added (SUM_TO).
template <class T>
void sum_to(const Shape& sx, const Shape& so, int64_t batch, const T* x, T* out) {
    int64_t ex[4], eo_raw[4], xo[4];
    extents4(sx, batch, ex);
    extents4(so, batch, eo_raw);
    strides4(eo_raw, ex, xo);  // strides into out, 0 where out has 1 and x has more
    zero_fill(out, so.numel(batch));
    const int64_t n3 = ex[3];
    int64_t idx = 0;
    for (int64_t i0 = 0; i0 < ex[0]; ++i0)
        for (int64_t i1 = 0; i1 < ex[1]; ++i1)
            for (int64_t i2 = 0; i2 < ex[2]; ++i2, idx += n3) {
                T* po = out + i0 * xo[0] + i1 * xo[1] + i2 * xo[2];
                const T* px = x + idx;
                if (xo[3] == 1) {
                    for (int64_t i = 0; i < n3; ++i) po[i] += px[i];
                } else {
                    T s = 0;
                    for (int64_t i = 0; i < n3; ++i) s += px[i];
                    po[0] += s;
                }
            }
}

template <class T>
void broadcast_to(const Shape& sx, const Shape& so, int64_t batch, const T* x, T* out) {
    int64_t eo[4], ex[4], xs[4];
    extents4(so, batch, eo);
    extents4(sx, batch, ex);
    strides4(ex, eo, xs);
    const int64_t n3 = eo[3];
    int64_t idx = 0;
    for (int64_t i0 = 0; i0 < eo[0]; ++i0)
        for (int64_t i1 = 0; i1 < eo[1]; ++i1)
            for (int64_t i2 = 0; i2 < eo[2]; ++i2, idx += n3) {
                const T* px = x + i0 * xs[0] + i1 * xs[1] + i2 * xs[2];
                T* po = out + idx;
                if (xs[3] == 1) std::memcpy(po, px, sizeof(T) * (size_t)n3);
                else std::fill(po, po + n3, px[0]);
            }
}

template <class T>
void basis(const Node& n, double t, T* out) {
    const int64_t kind = n.ia[0], nb = n.ia[1], order = n.ia[2];
    if (kind == JDYN_BASIS_FOURIER) {
        // phi = 1, cos(w t), sin(w t), cos(2 w t), ...; d^k/dt^k cos(a t) = a^k cos(a t + k pi / 2).
        const double w = 6.283185307179586476925286766559 / n.fa[0];
        const double shift = (double)order * 1.5707963267948966192313216916398;
        out[0] = (T)(order == 0 ? 1.0 : 0.0);
        for (int64_t k = 1; k < nb; ++k) {
            const double a = (double)((k + 1) / 2) * w;
            const double scale = std::pow(a, (double)order);
            const double arg = a * t + shift;
            out[k] = (T)(scale * (k % 2 == 1 ? std::cos(arg) : std::sin(arg)));
        }
    } else {
        // phi_k = t^k; d^j/dt^j t^k = k! / (k - j)! t^(k - j).
        for (int64_t k = 0; k < nb; ++k) {
            if (order > k) {
                out[k] = T(0);
                continue;
            }
            double c = 1;
            for (int64_t j = 0; j < order; ++j) c *= (double)(k - j);
            out[k] = (T)(c * std::pow(t, (double)(k - order)));
        }
    }
}

template <class T>
void unary(const Node& n, const T* x, T* y, int64_t cnt) {
    switch (n.op) {
        case JDYN_OP_NEG: for (int64_t i = 0; i < cnt; ++i) y[i] = -x[i]; break;
        case JDYN_OP_EXP: for (int64_t i = 0; i < cnt; ++i) y[i] = std::exp(x[i]); break;
        case JDYN_OP_LOG: for (int64_t i = 0; i < cnt; ++i) y[i] = std::log(x[i]); break;
        case JDYN_OP_SQRT: for (int64_t i = 0; i < cnt; ++i) y[i] = std::sqrt(x[i]); break;
        case JDYN_OP_SQUARE: for (int64_t i = 0; i < cnt; ++i) y[i] = x[i] * x[i]; break;
        case JDYN_OP_ABS: for (int64_t i = 0; i < cnt; ++i) y[i] = std::abs(x[i]); break;
        case JDYN_OP_SIN: act::sin(x, y, cnt); break;
        case JDYN_OP_COS: for (int64_t i = 0; i < cnt; ++i) y[i] = std::cos(x[i]); break;
        case JDYN_OP_TANH: act::tanh(x, y, cnt); break;
        case JDYN_OP_SIGMOID: act::sigmoid(x, y, cnt); break;
        case JDYN_OP_RELU: act::relu(x, y, cnt); break;
        case JDYN_OP_SILU: act::silu(x, y, cnt); break;
        case JDYN_OP_SOFTPLUS: act::softplus(x, y, cnt, n.fa[0], n.fa[1]); break;
        case JDYN_OP_ELU: act::elu(x, y, cnt, n.fa[0]); break;
        case JDYN_OP_POW: {
            const T p = (T)n.fa[0];
            for (int64_t i = 0; i < cnt; ++i) y[i] = std::pow(x[i], p);
            break;
        }
        case JDYN_OP_SIGN:
            for (int64_t i = 0; i < cnt; ++i) y[i] = x[i] > T(0) ? T(1) : x[i] < T(0) ? T(-1) : T(0);
            break;
        case JDYN_OP_STEP: for (int64_t i = 0; i < cnt; ++i) y[i] = x[i] > T(0) ? T(1) : T(0); break;
        default: fail(JDYN_ERR_INTERNAL, std::string("not a unary op: ") + op_name(n.op));
    }
}

template <class T>
void derivative_product(const Node& n, const T* x, const T* g, T* out, int64_t cnt) {
    switch (n.op) {
        case JDYN_OP_TANH_BWD: act::tanh_grad(x, g, out, cnt); break;
        case JDYN_OP_SIGMOID_BWD: act::sigmoid_grad(x, g, out, cnt); break;
        case JDYN_OP_SOFTPLUS_BWD: act::softplus_grad(x, g, out, cnt, n.fa[0], n.fa[1]); break;
        case JDYN_OP_SILU_BWD: act::silu_grad(x, g, out, cnt); break;
        case JDYN_OP_ELU_BWD: {
            const T alpha = (T)n.fa[0];
            for (int64_t i = 0; i < cnt; ++i) out[i] = x[i] > T(0) ? g[i] : g[i] * alpha * std::exp(x[i]);
            break;
        }
        default: fail(JDYN_ERR_INTERNAL, std::string("not a derivative op: ") + op_name(n.op));
    }
}

template <class T>
void binary(const Node& n, const Shape& sa, const Shape& sb, int64_t batch, const T* a, const T* b, T* o) {
    const Shape& so = n.shape;
    switch (n.op) {
        case JDYN_OP_ADD: broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return x + y; }); break;
        case JDYN_OP_SUB: broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return x - y; }); break;
        case JDYN_OP_MUL: broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return x * y; }); break;
        case JDYN_OP_DIV: broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return x / y; }); break;
        case JDYN_OP_GT: broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return x > y ? T(1) : T(0); }); break;
        case JDYN_OP_LT: broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return x < y ? T(1) : T(0); }); break;
        case JDYN_OP_EQ: broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return x == y ? T(1) : T(0); }); break;
        case JDYN_OP_MAXIMUM:
            broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return (x > y || x != x) ? x : y; });
            break;
        case JDYN_OP_MINIMUM:
            broadcast2(sa, sb, so, batch, a, b, o, [](T x, T y) { return (x < y || x != x) ? x : y; });
            break;
        default: fail(JDYN_ERR_INTERNAL, std::string("not a binary op: ") + op_name(n.op));
    }
}

template <class T>
void reduce(const Node& n, const Shape& sx, int64_t batch, const T* x, T* out) {
    int64_t outer, len, inner;
    around_axis(sx, n.ia[0], batch, outer, len, inner);
    for (int64_t o = 0; o < outer; ++o) {
        T* po = out + o * inner;
        const T* px = x + o * len * inner;
        if (n.op == JDYN_OP_MAX) {
            std::memcpy(po, px, sizeof(T) * (size_t)inner);
            for (int64_t l = 1; l < len; ++l)
                for (int64_t i = 0; i < inner; ++i) {
                    const T v = px[l * inner + i];
                    po[i] = (v > po[i] || v != v) ? v : po[i];
                }
        } else {
            zero_fill(po, inner);
            for (int64_t l = 0; l < len; ++l)
                for (int64_t i = 0; i < inner; ++i) po[i] += px[l * inner + i];
            if (n.op == JDYN_OP_MEAN) {
                const T s = T(1) / (T)len;
                for (int64_t i = 0; i < inner; ++i) po[i] *= s;
            }
        }
    }
}

template <class T>
void softmax(const Node& n, const Shape& sx, int64_t batch, const T* x, T* out) {
    int64_t outer, len, inner;
    around_axis(sx, n.ia[0], batch, outer, len, inner);
    const bool log = n.op == JDYN_OP_LOG_SOFTMAX;
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            const T* px = x + o * len * inner + i;
            T* po = out + o * len * inner + i;
            T m = px[0];
            for (int64_t l = 1; l < len; ++l) m = std::max(m, px[l * inner]);
            T s = 0;
            for (int64_t l = 0; l < len; ++l) {
                const T e = std::exp(px[l * inner] - m);
                po[l * inner] = e;
                s += e;
            }
            if (log) {
                const T ls = std::log(s) + m;
                for (int64_t l = 0; l < len; ++l) po[l * inner] = px[l * inner] - ls;
            } else {
                const T r = T(1) / s;
                for (int64_t l = 0; l < len; ++l) po[l * inner] *= r;
            }
        }
}

template <class T>
void matmul(const Node& n, const Shape& sa, const Shape& sb, int64_t batch, const T* a, const T* b, T* out) {
    const bool ta = n.ia[0] != 0, tb = n.ia[1] != 0;
    const int64_t ka = sa.d[sa.rank - 1];
    const int64_t rows = sa.numel(batch) / ka;
    if (!ta) {
        const int64_t cols = n.shape.d[n.shape.rank - 1];
        // NN: a [rows, k] b [k, cols]; NT: a [rows, k] b [cols, k]
        gemm(false, tb, rows, cols, ka, a, ka, b, tb ? ka : cols, T(0), out, cols);
    } else {
        const int64_t nb = sb.d[sb.rank - 1];
        // a^T b: a [rows, ka] b [rows, nb] -> [ka, nb]
        if (rows == 0) return zero_fill(out, ka * nb);
        gemm(true, false, ka, nb, rows, a, ka, b, nb, T(0), out, nb);
    }
}

template <class T>
void linear(const Shape& sx, const Shape& sw, int64_t batch, const T* x, const T* w, const T* b, T* out) {
    const int64_t in = sw.d[1], outw = sw.d[0];
    const int64_t rows = sx.numel(batch) / in;
    if (b)
        for (int64_t r = 0; r < rows; ++r) std::memcpy(out + r * outw, b, sizeof(T) * (size_t)outw);
    gemm(false, true, rows, outw, in, x, in, w, in, b ? T(1) : T(0), out, outw);
}

}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    check_blas_dims(m, n, k, lda, ldb, ldc);
    if (k == 0) {
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    if (small_product(m, n, k)) return gemm_small(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    if (m == 1 && !ta) {
        // One row (a batch of one): a matrix-vector product, which OpenBLAS runs without packing B.
        cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, (int)(tb ? n : k), (int)(tb ? k : n), 1.0f, b, (int)ldb, a, 1,
            beta, c, 1);
        return;
    }
    if (gemm_skinny(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double beta, double* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    check_blas_dims(m, n, k, lda, ldb, ldc);
    if (k == 0) {
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0 ? 0.0 : beta * c[i * ldc + j];
        return;
    }
    if (small_product(m, n, k)) return gemm_small(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    if (m == 1 && !ta) {
        // One row (a batch of one): a matrix-vector product, which OpenBLAS runs without packing B.
        cblas_dgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, (int)(tb ? n : k), (int)(tb ? k : n), 1.0, b, (int)ldb, a, 1,
            beta, c, 1);
        return;
    }
    if (gemm_skinny(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)) return;
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, 1.0, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

template <class T>
void run_op(const Node& n, const Shape* s, const T* const* in, T* out, int64_t batch, double t, bool input_is_time) {
    const int64_t cnt = n.shape.numel(batch);
    switch (n.op) {
        case JDYN_OP_ADD: case JDYN_OP_SUB: case JDYN_OP_MUL: case JDYN_OP_DIV: case JDYN_OP_GT: case JDYN_OP_LT:
        case JDYN_OP_EQ: case JDYN_OP_MAXIMUM: case JDYN_OP_MINIMUM:
            binary(n, s[0], s[1], batch, in[0], in[1], out);
            return;
        case JDYN_OP_TANH_BWD: case JDYN_OP_SIGMOID_BWD: case JDYN_OP_SOFTPLUS_BWD: case JDYN_OP_ELU_BWD:
        case JDYN_OP_SILU_BWD:
            derivative_product(n, in[0], in[1], out, cnt);
            return;
        case JDYN_OP_WHERE: where3(s, n.shape, batch, in[0], in[1], in[2], out); return;
        case JDYN_OP_MATMUL: matmul(n, s[0], s[1], batch, in[0], in[1], out); return;
        case JDYN_OP_LINEAR: linear(s[0], s[1], batch, in[0], in[1], n.in.size() == 3 ? in[2] : nullptr, out); return;
        case JDYN_OP_BMM: {
            const int64_t m = s[0].d[1], k = s[0].d[2], nn = s[1].d[2];
            const int64_t b = s[0].d[0] == -1 ? batch : s[0].d[0];
            for (int64_t r = 0; r < b; ++r)
                gemm(false, false, m, nn, k, in[0] + r * m * k, k, in[1] + r * k * nn, nn, T(0), out + r * m * nn, nn);
            return;
        }
        case JDYN_OP_SUM: case JDYN_OP_MEAN: case JDYN_OP_MAX: reduce(n, s[0], batch, in[0], out); return;
        case JDYN_OP_SOFTMAX: case JDYN_OP_LOG_SOFTMAX: softmax(n, s[0], batch, in[0], out); return;
        case JDYN_OP_RESHAPE: if (out != in[0]) std::memcpy(out, in[0], sizeof(T) * (size_t)cnt); return;
        case JDYN_OP_SUM_TO: sum_to(s[0], n.shape, batch, in[0], out); return;
        case JDYN_OP_BROADCAST_TO: broadcast_to(s[0], n.shape, batch, in[0], out); return;
        case JDYN_OP_SLICE: case JDYN_OP_PAD: {
            int64_t outer, len, inner;
            around_axis(s[0], n.ia[0], batch, outer, len, inner);
            if (n.op == JDYN_OP_SLICE) {
                const int64_t w = n.ia[2] - n.ia[1];
                for (int64_t o = 0; o < outer; ++o)
                    std::memcpy(out + o * w * inner, in[0] + (o * len + n.ia[1]) * inner, sizeof(T) * (size_t)(w * inner));
            } else {
                const int64_t w = len + n.ia[1] + n.ia[2];
                zero_fill(out, cnt);
                for (int64_t o = 0; o < outer; ++o)
                    std::memcpy(out + (o * w + n.ia[1]) * inner, in[0] + o * len * inner, sizeof(T) * (size_t)(len * inner));
            }
            return;
        }
        case JDYN_OP_CONCAT: {
            int64_t outer, w, inner;
            around_axis(n.shape, n.ia[0], batch, outer, w, inner);
            int64_t at = 0;
            for (size_t j = 0; j < n.in.size(); ++j) {
                const int64_t len = s[j].d[n.ia[0]];
                for (int64_t o = 0; o < outer; ++o)
                    std::memcpy(out + (o * w + at) * inner, in[j] + o * len * inner, sizeof(T) * (size_t)(len * inner));
                at += len;
            }
            return;
        }
        case JDYN_OP_TRANSPOSE: {
            const Shape& x = s[0];
            const int64_t r = x.d[x.rank - 2], c = x.d[x.rank - 1];
            const int64_t outer = x.numel(batch) / (r * c);
            for (int64_t o = 0; o < outer; ++o) {
                const T* px = in[0] + o * r * c;
                T* po = out + o * r * c;
                for (int64_t i = 0; i < r; ++i)
                    for (int64_t j = 0; j < c; ++j) po[j * r + i] = px[i * c + j];
            }
            return;
        }
        case JDYN_OP_FULL: std::fill(out, out + cnt, (T)n.fa[0]); return;
        case JDYN_OP_RANDOM: {
            const uint64_t key = random_key(random_seed((double)in[0][0]), (uint64_t)n.fa[0]);
            for (int64_t i = 0; i < cnt; ++i) out[i] = (T)random_value(key, n.ia[0], (uint64_t)i);
            return;
        }
        case JDYN_OP_SOLVE: solve(s[0], s[1], n.ia[0] != 0, batch, in[0], in[1], out); return;
        case JDYN_OP_BASIS: basis(n, input_is_time ? t : (double)in[0][0], out); return;
        default: unary(n, in[0], out, cnt); return;
    }
}

bool fusible_op(int op) {
    return (op >= JDYN_OP_ADD && op <= JDYN_OP_EQ) || op == JDYN_OP_MAXIMUM || op == JDYN_OP_MINIMUM;
}

namespace {
template <class T, class F>
void flat2(const T* a, bool sa, const T* b, bool sb, T* o, int64_t n, F f) {
    if (!sa && !sb)
        for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    else if (!sa) {
        const T vb = b[0];
        for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], vb);
    } else if (!sb) {
        const T va = a[0];
        for (int64_t i = 0; i < n; ++i) o[i] = f(va, b[i]);
    } else {
        std::fill(o, o + n, f(a[0], b[0]));
    }
}
}  // namespace

template <class T>
void run_flat(const Node& n, const T* const* in, const bool* sc, T* out, int64_t len) {
    switch (n.op) {
        case JDYN_OP_ADD: flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return x + y; }); return;
        case JDYN_OP_SUB: flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return x - y; }); return;
        case JDYN_OP_MUL: flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return x * y; }); return;
        case JDYN_OP_DIV: flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return x / y; }); return;
        case JDYN_OP_GT: flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return x > y ? T(1) : T(0); }); return;
        case JDYN_OP_LT: flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return x < y ? T(1) : T(0); }); return;
        case JDYN_OP_EQ: flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return x == y ? T(1) : T(0); }); return;
        case JDYN_OP_MAXIMUM:
            flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return (x > y || x != x) ? x : y; });
            return;
        case JDYN_OP_MINIMUM:
            flat2(in[0], sc[0], in[1], sc[1], out, len, [](T x, T y) { return (x < y || x != x) ? x : y; });
            return;
        case JDYN_OP_TANH_BWD: case JDYN_OP_SIGMOID_BWD: case JDYN_OP_SOFTPLUS_BWD: case JDYN_OP_ELU_BWD:
        case JDYN_OP_SILU_BWD:
            derivative_product(n, in[0], in[1], out, len);
            return;
        default: unary(n, in[0], out, len); return;
    }
}

template void run_flat<float>(const Node&, const float* const*, const bool*, float*, int64_t);
template void run_flat<double>(const Node&, const double* const*, const bool*, double*, int64_t);

template void run_op<float>(const Node&, const Shape*, const float* const*, float*, int64_t, double, bool);
template void run_op<double>(const Node&, const Shape*, const double* const*, double*, int64_t, double, bool);

void run_node_double(const Graph& g, const Node& n, const double* const* in, double* out) {
    Shape s[1024];
    for (size_t i = 0; i < n.in.size() && i < 1024; ++i) s[i] = g.shape(n.in[i]);
    run_op<double>(n, s, in, out, 1, 0.0, false);
}

void run_elementwise_scalar(const Node& n, const double* const* in, double* out) {
    Node one = n;
    one.shape = Shape{};
    Shape s[3];
    run_op<double>(one, s, in, out, 1, 0.0, false);
}

}  // namespace graph
}  // namespace jdyn
