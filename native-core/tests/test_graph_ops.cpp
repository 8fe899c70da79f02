// Every differentiable op of the graph ABI (enum jdyn_op), one small float64 graph per case, built
// through jdyn.h alone: the output shapes (jdyn_graph_shape), the forward values against a plain
// reference implementation here, the VJP (jdyn_graph_vjp, a cotangent argument per output) and the
// JVP (jdyn_graph_jvp, a tangent argument per input) against central differences of the forward
// program, and <v, J u> = <J^T v, u>. The inputs of a case are arguments, parameters and t as the
// op takes them, so gradients wrt parameters (one flat buffer, declaration order) and wrt t are
// checked wherever they occur. Inputs are drawn away from kinks and singularities (log and sqrt of
// positive values, abs / relu / elu away from 0, softplus away from its threshold, distinct values
// for max / maximum), so that central differences are valid. Products come in tiny sizes (the
// executor's own loops) and in sizes that go to OpenBLAS. Also: the ops without a derivative
// (comparisons, SIGN, STEP, FULL), the parameter layout and batch sizes, float32 programs against
// float64 ones, derivatives wrt intermediate nodes, MAX at ties, and outputs that are inputs,
// constants, views or repeated.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "graph_testing.h"

using namespace gt;

namespace {

// ---- a plain reference: tensors with concrete dims (the batch resolved), row-major ------------------

struct Ten {
    Shape d;
    Vec v;
};

int64_t count(const Shape& d) { return numel(d, 1); }

Shape concrete(const Shape& s, int64_t batch) {
    Shape r = s;
    for (auto& x : r)
        if (x == -1) x = batch;
    return r;
}

Shape bshape(const Shape& a, const Shape& b) {
    const size_t n = std::max(a.size(), b.size());
    Shape r(n);
    for (size_t i = 0; i < n; ++i) {
        const int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
        const int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
        REQUIRE((x == y || x == 1 || y == 1));
        r[i] = std::max(x, y);
    }
    return r;
}

// The flat index into a tensor of dims `in` that broadcasting maps element `flat` of `out` to.
int64_t src_index(const Shape& in, const Shape& out, int64_t flat) {
    int64_t idx = 0, stride = 1;
    for (size_t i = out.size(); i-- > 0;) {
        const int64_t c = flat % out[i];
        flat /= out[i];
        const size_t off = out.size() - in.size();
        if (i >= off) {
            const int64_t d = in[i - off];
            idx += (d == 1 ? 0 : c) * stride;
            stride *= d;
        }
    }
    return idx;
}

Ten bcast(const Ten& x, const Shape& out) {
    Ten r{out, Vec((size_t)count(out))};
    for (int64_t i = 0; i < count(out); ++i) r.v[(size_t)i] = x.v[(size_t)src_index(x.d, out, i)];
    return r;
}

template <class F>
Ten map1(const Ten& x, F f) {
    Ten r = x;
    for (auto& v : r.v) v = f(v);
    return r;
}

template <class F>
Ten zip(const Ten& a, const Ten& b, F f) {
    const Shape o = bshape(a.d, b.d);
    const Ten x = bcast(a, o), y = bcast(b, o);
    Ten r{o, Vec((size_t)count(o))};
    for (size_t i = 0; i < r.v.size(); ++i) r.v[i] = f(x.v[i], y.v[i]);
    return r;
}

Ten where(const Ten& c, const Ten& a, const Ten& b) {
    const Shape o = bshape(bshape(c.d, a.d), b.d);
    const Ten cc = bcast(c, o), x = bcast(a, o), y = bcast(b, o);
    Ten r{o, Vec((size_t)count(o))};
    for (size_t i = 0; i < r.v.size(); ++i) r.v[i] = cc.v[i] != 0 ? x.v[i] : y.v[i];
    return r;
}

// (outer, n, inner) around one axis.
struct Split {
    int64_t outer = 1, n = 1, inner = 1;
};
Split split(const Shape& d, int64_t axis) {
    Split s;
    for (int64_t i = 0; i < (int64_t)d.size(); ++i) {
        if (i < axis) s.outer *= d[(size_t)i];
        if (i == axis) s.n = d[(size_t)i];
        if (i > axis) s.inner *= d[(size_t)i];
    }
    return s;
}

enum Red { kSum, kMean, kMax };
Ten reduce(const Ten& x, int64_t axis, bool keep, Red kind) {
    const Split s = split(x.d, axis);
    Ten r;
    r.d = x.d;
    if (keep)
        r.d[(size_t)axis] = 1;
    else
        r.d.erase(r.d.begin() + axis);
    r.v.assign((size_t)(s.outer * s.inner), 0.0);
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t i = 0; i < s.inner; ++i) {
            double acc = kind == kMax ? -INFINITY : 0;
            for (int64_t j = 0; j < s.n; ++j) {
                const double v = x.v[(size_t)((o * s.n + j) * s.inner + i)];
                acc = kind == kMax ? std::max(acc, v) : acc + v;
            }
            r.v[(size_t)(o * s.inner + i)] = kind == kMean ? acc / (double)s.n : acc;
        }
    return r;
}

Ten softmax(const Ten& x, int64_t axis, bool log) {
    const Split s = split(x.d, axis);
    Ten r = x;
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t i = 0; i < s.inner; ++i) {
            auto at = [&](int64_t j) { return (size_t)((o * s.n + j) * s.inner + i); };
            double m = -INFINITY, z = 0;
            for (int64_t j = 0; j < s.n; ++j) m = std::max(m, x.v[at(j)]);
            for (int64_t j = 0; j < s.n; ++j) z += std::exp(x.v[at(j)] - m);
            for (int64_t j = 0; j < s.n; ++j)
                r.v[at(j)] = log ? x.v[at(j)] - m - std::log(z) : std::exp(x.v[at(j)] - m) / z;
        }
    return r;
}

Ten matmul(const Ten& a, const Ten& b, int ta, int tb) {
    Ten r;
    if (ta == 0) {
        const int64_t k = a.d.back(), rows = count(a.d) / k;
        const int64_t n = tb ? b.d[0] : b.d[1];
        REQUIRE((tb ? b.d[1] : b.d[0]) == k);
        r.d = a.d;
        r.d.back() = n;
        r.v.assign((size_t)(rows * n), 0.0);
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < n; ++j) {
                double s = 0;
                for (int64_t l = 0; l < k; ++l)
                    s += a.v[(size_t)(i * k + l)] * (tb ? b.v[(size_t)(j * k + l)] : b.v[(size_t)(l * n + j)]);
                r.v[(size_t)(i * n + j)] = s;
            }
    } else {
        const int64_t m = a.d.back(), n = b.d.back(), rows = count(a.d) / m;
        REQUIRE(count(b.d) / n == rows);
        r.d = {m, n};
        r.v.assign((size_t)(m * n), 0.0);
        for (int64_t q = 0; q < rows; ++q)
            for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j < n; ++j) r.v[(size_t)(i * n + j)] += a.v[(size_t)(q * m + i)] * b.v[(size_t)(q * n + j)];
    }
    return r;
}

Ten linear(const Ten& x, const Ten& w, const Ten* b) {
    Ten r = matmul(x, w, 0, 1);
    if (b) r = zip(r, *b, [](double p, double q) { return p + q; });
    return r;
}

Ten bmm(const Ten& a, const Ten& b) {
    const int64_t B = a.d[0], m = a.d[1], k = a.d[2], n = b.d[2];
    Ten r{{B, m, n}, Vec((size_t)(B * m * n), 0.0)};
    for (int64_t q = 0; q < B; ++q)
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j)
                for (int64_t l = 0; l < k; ++l)
                    r.v[(size_t)((q * m + i) * n + j)] +=
                        a.v[(size_t)((q * m + i) * k + l)] * b.v[(size_t)((q * k + l) * n + j)];
    return r;
}

Ten sum_to(const Ten& x, const Shape& target) {
    Ten r{target, Vec((size_t)count(target), 0.0)};
    for (int64_t i = 0; i < count(x.d); ++i) r.v[(size_t)src_index(target, x.d, i)] += x.v[(size_t)i];
    return r;
}

Ten slice(const Ten& x, int64_t axis, int64_t start, int64_t stop) {
    const Split s = split(x.d, axis);
    Ten r;
    r.d = x.d;
    r.d[(size_t)axis] = stop - start;
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t j = start; j < stop; ++j)
            for (int64_t i = 0; i < s.inner; ++i) r.v.push_back(x.v[(size_t)((o * s.n + j) * s.inner + i)]);
    return r;
}

Ten pad(const Ten& x, int64_t axis, int64_t before, int64_t after) {
    const Split s = split(x.d, axis);
    Ten r;
    r.d = x.d;
    r.d[(size_t)axis] += before + after;
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t j = -before; j < s.n + after; ++j)
            for (int64_t i = 0; i < s.inner; ++i)
                r.v.push_back(j < 0 || j >= s.n ? 0.0 : x.v[(size_t)((o * s.n + j) * s.inner + i)]);
    return r;
}

Ten concat(const std::vector<Ten>& xs, int64_t axis) {
    Ten r;
    r.d = xs[0].d;
    r.d[(size_t)axis] = 0;
    for (const auto& x : xs) r.d[(size_t)axis] += x.d[(size_t)axis];
    const Split s = split(xs[0].d, axis);
    for (int64_t o = 0; o < s.outer; ++o)
        for (const auto& x : xs) {
            const Split sx = split(x.d, axis);
            for (int64_t j = 0; j < sx.n * sx.inner; ++j) r.v.push_back(x.v[(size_t)(o * sx.n * sx.inner + j)]);
        }
    return r;
}

Ten transpose(const Ten& x) {
    Ten r = x;
    const size_t n = x.d.size();
    const int64_t R = x.d[n - 2], C = x.d[n - 1], outer = count(x.d) / (R * C);
    std::swap(r.d[n - 2], r.d[n - 1]);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < R; ++i)
            for (int64_t j = 0; j < C; ++j) r.v[(size_t)(o * R * C + j * R + i)] = x.v[(size_t)(o * R * C + i * C + j)];
    return r;
}

// The Galerkin bases (jdyn_galerkin_basis): Fourier 1, cos(w t), sin(w t), cos(2 w t), ... with
// w = 2 pi / period; polynomial 1, t, t^2, ...; order 1 gives their derivatives in t.
Ten basis(double t, int64_t kind, int64_t n, int64_t order, double period) {
    Ten r{{n}, Vec((size_t)n)};
    for (int64_t k = 0; k < n; ++k) {
        double v;
        if (kind == JDYN_BASIS_FOURIER) {
            const double w = 2 * M_PI / period, jw = (double)((k + 1) / 2) * w;
            if (k == 0)
                v = order == 0 ? 1 : 0;
            else if (k % 2 == 1)
                v = order == 0 ? std::cos(jw * t) : -jw * std::sin(jw * t);
            else
                v = order == 0 ? std::sin(jw * t) : jw * std::cos(jw * t);
        } else {
            v = order == 0 ? std::pow(t, (double)k) : (k == 0 ? 0 : (double)k * std::pow(t, (double)(k - 1)));
        }
        r.v[(size_t)k] = v;
    }
    return r;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double softplus(double x, double beta, double thr) {
    return beta * x > thr ? x : std::log1p(std::exp(beta * x)) / beta;
}
double elu(double x, double alpha) { return x > 0 ? x : alpha * std::expm1(x); }

// ---- cases ----------------------------------------------------------------------------------------------

using Ref = std::function<std::vector<Ten>(const std::vector<Ten>&, int64_t batch)>;

struct Case {
    std::string name;
    std::vector<Input> inputs;
    Checked::Builder build;
    std::vector<Shape> shapes;  // the expected output shapes
    Ref ref;                    // the expected output values
    int64_t batch = 3;
};

using Fn1 = std::function<double(double)>;
using Fn2 = std::function<double(double, double)>;

Case unary(const std::string& name, int64_t op, const Input& in, const Vec& fa, Fn1 f) {
    return {name, {in}, [op, fa](Graph& g, const Ids& x) { return Ids{g.op(op, {x[0]}, {}, fa)}; }, {in.shape},
            [f](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{map1(x[0], f)}; }};
}

Case binary(const std::string& name, int64_t op, const Input& a, const Input& b, const Shape& out, Fn2 f,
            const Vec& fa = {}) {
    return {name, {a, b}, [op, fa](Graph& g, const Ids& x) { return Ids{g.op(op, {x[0], x[1]}, {}, fa)}; }, {out},
            [f](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{zip(x[0], x[1], f)}; }};
}

const Fn2 kAdd = [](double a, double b) { return a + b; };
const Fn2 kSub = [](double a, double b) { return a - b; };
const Fn2 kMul = [](double a, double b) { return a * b; };
const Fn2 kDiv = [](double a, double b) { return a / b; };

// A softplus input for beta = 2, threshold = 3: x = 1.5 +- [0.2, 1.5], so beta x - threshold is at
// least 0.4 away from 0 (the branch switch), on both sides of it.
double softplus_b2_draw(Rng& r) { return 1.5 + r.away(0.2, 1.5); }

std::vector<Case> elementwise_cases() {
    std::vector<Case> c;
    const Shape s{-1, 4};
    c.push_back(unary("NEG", JDYN_OP_NEG, arg(s, -2, 2), {}, [](double x) { return -x; }));
    c.push_back(unary("EXP", JDYN_OP_EXP, arg(s, -2, 2), {}, [](double x) { return std::exp(x); }));
    c.push_back(unary("LOG", JDYN_OP_LOG, arg(s, 0.2, 3), {}, [](double x) { return std::log(x); }));
    c.push_back(unary("SQRT", JDYN_OP_SQRT, arg(s, 0.2, 3), {}, [](double x) { return std::sqrt(x); }));
    c.push_back(unary("SQUARE", JDYN_OP_SQUARE, arg(s, -2, 2), {}, [](double x) { return x * x; }));
    c.push_back(unary("ABS", JDYN_OP_ABS, arg_away(s, 0.1, 2), {}, [](double x) { return std::fabs(x); }));
    c.push_back(unary("SIN", JDYN_OP_SIN, arg(s, -3, 3), {}, [](double x) { return std::sin(x); }));
    c.push_back(unary("COS", JDYN_OP_COS, arg(s, -3, 3), {}, [](double x) { return std::cos(x); }));
    c.push_back(unary("TANH", JDYN_OP_TANH, arg(s, -2, 2), {}, [](double x) { return std::tanh(x); }));
    c.push_back(unary("SIGMOID", JDYN_OP_SIGMOID, arg(s, -3, 3), {}, sigmoid));
    c.push_back(unary("RELU", JDYN_OP_RELU, arg_away(s, 0.1, 2), {}, [](double x) { return x > 0 ? x : 0.0; }));
    c.push_back(unary("SILU", JDYN_OP_SILU, arg(s, -3, 3), {}, [](double x) { return x * sigmoid(x); }));
    c.push_back(unary("SOFTPLUS beta 1 threshold 20", JDYN_OP_SOFTPLUS, arg(s, -3, 3), {1.0, 20.0},
                      [](double x) { return softplus(x, 1, 20); }));
    c.push_back(unary("SOFTPLUS beta 2 threshold 3 (both branches)", JDYN_OP_SOFTPLUS, arg_drawn(s, softplus_b2_draw),
                      {2.0, 3.0}, [](double x) { return softplus(x, 2, 3); }));
    c.push_back(unary("ELU alpha 1", JDYN_OP_ELU, arg_away(s, 0.1, 2), {1.0}, [](double x) { return elu(x, 1); }));
    c.push_back(unary("ELU alpha 0.7", JDYN_OP_ELU, arg_away(s, 0.1, 2), {0.7}, [](double x) { return elu(x, 0.7); }));
    for (double p : {2.5, 0.5, -1.5, 1.0, 0.0})
        c.push_back(unary("POW p " + std::to_string(p) + " (x > 0)", JDYN_OP_POW, arg(s, 0.3, 2), {p},
                          [p](double x) { return std::pow(x, p); }));
    for (double p : {2.0, 3.0, -2.0})
        c.push_back(unary("POW p " + std::to_string(p) + " (x of both signs)", JDYN_OP_POW, arg_away(s, 0.3, 1.5), {p},
                          [p](double x) { return std::pow(x, p); }));
    // A rank-3 and an unbatched (parameter) input.
    c.push_back(unary("TANH [-1,2,3]", JDYN_OP_TANH, arg({-1, 2, 3}, -2, 2), {}, [](double x) { return std::tanh(x); }));
    c.push_back(unary("EXP of a parameter [2,3]", JDYN_OP_EXP, param({2, 3}, -1, 1), {}, [](double x) { return std::exp(x); }));
    c.push_back(binary("ADD", JDYN_OP_ADD, arg(s), arg(s), s, kAdd));
    c.push_back(binary("SUB", JDYN_OP_SUB, arg(s), arg(s), s, kSub));
    c.push_back(binary("MUL", JDYN_OP_MUL, arg(s), arg(s), s, kMul));
    c.push_back(binary("DIV", JDYN_OP_DIV, arg(s), arg_away(s, 0.5, 2), s, kDiv));
    c.push_back(binary("MUL x x (one input twice)", JDYN_OP_MUL, arg(s), arg(s), s, kMul));
    c.back().build = [](Graph& g, const Ids& x) { return Ids{g.mul(x[0], x[0]), g.add(x[1], x[1])}; };
    c.back().shapes = {s, s};
    c.back().ref = [](const std::vector<Ten>& x, int64_t) {
        return std::vector<Ten>{zip(x[0], x[0], kMul), zip(x[1], x[1], kAdd)};
    };
    return c;
}

std::vector<Case> bwd_cases() {
    std::vector<Case> c;
    const Shape s{-1, 4};
    c.push_back(binary("TANH_BWD", JDYN_OP_TANH_BWD, arg(s, -0.9, 0.9), arg(s), s,
                       [](double y, double g) { return g * (1 - y * y); }));
    c.push_back(binary("SIGMOID_BWD", JDYN_OP_SIGMOID_BWD, arg(s, 0.1, 0.9), arg(s), s,
                       [](double y, double g) { return g * y * (1 - y); }));
    c.push_back(binary("SOFTPLUS_BWD beta 1 threshold 20", JDYN_OP_SOFTPLUS_BWD, arg(s, -3, 3), arg(s), s,
                       [](double x, double g) { return x > 20 ? g : g * sigmoid(x); }, {1.0, 20.0}));
    c.push_back(binary("SOFTPLUS_BWD beta 2 threshold 3 (both branches)", JDYN_OP_SOFTPLUS_BWD,
                       arg_drawn(s, softplus_b2_draw), arg(s), s,
                       [](double x, double g) { return 2 * x > 3 ? g : g * sigmoid(2 * x); }, {2.0, 3.0}));
    c.push_back(binary("ELU_BWD alpha 0.7", JDYN_OP_ELU_BWD, arg_away(s, 0.1, 2), arg(s), s,
                       [](double x, double g) { return x > 0 ? g : g * 0.7 * std::exp(x); }, {0.7}));
    c.push_back(binary("SILU_BWD", JDYN_OP_SILU_BWD, arg(s, -3, 3), arg(s), s, [](double x, double g) {
        const double sg = sigmoid(x);
        return g * sg * (1 + x * (1 - sg));
    }));
    return c;
}

std::vector<Case> selection_cases() {
    std::vector<Case> c;
    const Shape s{-1, 3};
    auto gt0 = [](double a, double b) { return a > b ? 1.0 : 0.0; };
    // WHERE(s > 0, a, b): the condition comes from a differentiated input kept away from 0, so its
    // (zero) derivative through GT is checked too.
    c.push_back({"WHERE(GT(s, 0), a, b)",
                 {arg_away(s, 0.2, 1), arg(s), arg(s)},
                 [](Graph& g, const Ids& x) {
                     const int64_t cond = g.op(JDYN_OP_GT, {x[0], g.scalar(0.0)});
                     return Ids{g.op(JDYN_OP_WHERE, {cond, x[1], x[2]})};
                 },
                 {s},
                 [gt0](const std::vector<Ten>& x, int64_t) {
                     const Ten cond = zip(x[0], Ten{{}, {0.0}}, gt0);
                     return std::vector<Ten>{where(cond, x[1], x[2])};
                 }});
    // Broadcast: condition [3] (a constant mask), a a parameter [3], b a batched argument.
    c.push_back({"WHERE(mask [3], param [3], arg [-1,3])",
                 {param({3}), arg(s)},
                 [](Graph& g, const Ids& x) {
                     const int64_t mask = g.constant({1, 0, 1}, {3});
                     return Ids{g.op(JDYN_OP_WHERE, {mask, x[0], x[1]})};
                 },
                 {s},
                 [](const std::vector<Ten>& x, int64_t) {
                     return std::vector<Ten>{where(Ten{{3}, {1, 0, 1}}, x[0], x[1])};
                 }});
    // Condition batched [-1,1] from LT, a scalar parameter, b [-1,3].
    c.push_back({"WHERE(LT(s [-1,1], 0), param [], arg [-1,3])",
                 {arg_away({-1, 1}, 0.2, 1), param({}), arg(s)},
                 [](Graph& g, const Ids& x) {
                     const int64_t cond = g.op(JDYN_OP_LT, {x[0], g.scalar(0.0)});
                     return Ids{g.op(JDYN_OP_WHERE, {cond, x[1], x[2]})};
                 },
                 {s},
                 [](const std::vector<Ten>& x, int64_t) {
                     const Ten cond = zip(x[0], Ten{{}, {0.0}}, [](double a, double b) { return a < b ? 1.0 : 0.0; });
                     return std::vector<Ten>{where(cond, x[1], x[2])};
                 }});
    // MAXIMUM / MINIMUM of a and a + d with |d| >= 0.1: never a tie, both sides win somewhere.
    for (int64_t op : {JDYN_OP_MAXIMUM, JDYN_OP_MINIMUM}) {
        const bool mx = op == JDYN_OP_MAXIMUM;
        Fn2 f = [mx](double a, double b) { return mx ? std::max(a, b) : std::min(a, b); };
        c.push_back({std::string(op_name(op)) + "(a, a + d)",
                     {arg(s), arg_away(s, 0.1, 1)},
                     [op](Graph& g, const Ids& x) { return Ids{g.op(op, {x[0], g.add(x[0], x[1])})}; },
                     {s},
                     [f](const std::vector<Ten>& x, int64_t) {
                         return std::vector<Ten>{zip(x[0], zip(x[0], x[1], kAdd), f)};
                     }});
        // Broadcast: p [3] against p + d [-1,3].
        c.push_back({std::string(op_name(op)) + "(p + d [-1,3], p [3])",
                     {param({3}), arg_away(s, 0.1, 1)},
                     [op](Graph& g, const Ids& x) { return Ids{g.op(op, {g.add(x[0], x[1]), x[0]})}; },
                     {s},
                     [f](const std::vector<Ten>& x, int64_t) {
                         return std::vector<Ten>{zip(zip(x[0], x[1], kAdd), x[0], f)};
                     }});
    }
    return c;
}

std::vector<Case> broadcasting_cases() {
    std::vector<Case> c;
    c.push_back(binary("[-1,3] + [3] (parameter)", JDYN_OP_ADD, arg({-1, 3}), param({3}), {-1, 3}, kAdd));
    c.push_back(binary("[-1,3] - [3] (parameter)", JDYN_OP_SUB, arg({-1, 3}), param({3}), {-1, 3}, kSub));
    c.push_back(binary("[3] (parameter) * [-1,3]", JDYN_OP_MUL, param({3}), arg({-1, 3}), {-1, 3}, kMul));
    c.push_back(binary("[-1,3] / [3] (parameter)", JDYN_OP_DIV, arg({-1, 3}), param_away({3}, 0.5, 2), {-1, 3}, kDiv));
    c.push_back(binary("[3] (parameter) / [-1,3]", JDYN_OP_DIV, param({3}), arg_away({-1, 3}, 0.5, 2), {-1, 3}, kDiv));
    c.push_back(binary("[-1,1] * [-1,3]", JDYN_OP_MUL, arg({-1, 1}), arg({-1, 3}), {-1, 3}, kMul));
    c.push_back(binary("[-1,3] - [-1,1]", JDYN_OP_SUB, arg({-1, 3}), arg({-1, 1}), {-1, 3}, kSub));
    c.push_back(binary("[-1,3] / [-1,1]", JDYN_OP_DIV, arg({-1, 3}), arg_away({-1, 1}, 0.5, 2), {-1, 3}, kDiv));
    // Scalar constants (shape []), on either side.
    auto with_const = [](const std::string& name, int64_t op, double k, bool const_first, Fn2 f) {
        return Case{name,
                    {arg({-1, 3})},
                    [op, k, const_first](Graph& g, const Ids& x) {
                        const int64_t c0 = g.scalar(k);
                        return Ids{const_first ? g.op(op, {c0, x[0]}) : g.op(op, {x[0], c0})};
                    },
                    {{-1, 3}},
                    [k, const_first, f](const std::vector<Ten>& x, int64_t) {
                        const Ten kc{{}, {k}};
                        return std::vector<Ten>{const_first ? zip(kc, x[0], f) : zip(x[0], kc, f)};
                    }};
    };
    c.push_back(with_const("[-1,3] + [] (constant 0.75)", JDYN_OP_ADD, 0.75, false, kAdd));
    c.push_back(with_const("[] (constant 2.5) * [-1,3]", JDYN_OP_MUL, 2.5, true, kMul));
    c.push_back(with_const("[] (constant 1.5) - [-1,3]", JDYN_OP_SUB, 1.5, true, kSub));
    c.push_back(with_const("[-1,3] / [] (constant 4)", JDYN_OP_DIV, 4.0, false, kDiv));
    c.back().inputs = {arg({-1, 3})};
    c.push_back(binary("[2,3] (unbatched argument) + [-1,2,3]", JDYN_OP_ADD, arg({2, 3}), arg({-1, 2, 3}), {-1, 2, 3}, kAdd));
    c.push_back(binary("[-1,2,3] * [2,3] (parameter)", JDYN_OP_MUL, arg({-1, 2, 3}), param({2, 3}), {-1, 2, 3}, kMul));
    c.push_back(binary("[-1,2,1] * [3] (both sides broadcast)", JDYN_OP_MUL, arg({-1, 2, 1}), param({3}), {-1, 2, 3}, kMul));
    c.push_back(binary("[2,1] (parameter) - [-1,1,3]", JDYN_OP_SUB, param({2, 1}), arg({-1, 1, 3}), {-1, 2, 3}, kSub));
    c.push_back(binary("[-1,3] + [] (scalar parameter)", JDYN_OP_ADD, arg({-1, 3}), param({}), {-1, 3}, kAdd));
    c.push_back(binary("[2,3] + [3] (both unbatched)", JDYN_OP_ADD, param({2, 3}), param({3}), {2, 3}, kAdd));
    // Rank 4, broadcast dimensions on both sides and in the middle.
    c.push_back(binary("[-1,2,1,3] * [2,1] (rank 4)", JDYN_OP_MUL, arg({-1, 2, 1, 3}), param({2, 1}), {-1, 2, 2, 3}, kMul));
    c.push_back(binary("[-1,1,3,1] - [-1,2,1,4] (rank 4)", JDYN_OP_SUB, arg({-1, 1, 3, 1}), arg({-1, 2, 1, 4}),
                       {-1, 2, 3, 4}, kSub));
    c.push_back(binary("[1,3,1] / [-1,1,1,2] (rank 4)", JDYN_OP_DIV, param({1, 3, 1}), arg_away({-1, 1, 1, 2}, 0.5, 2),
                       {-1, 1, 3, 2}, kDiv));
    return c;
}

std::vector<Case> product_cases() {
    std::vector<Case> c;
    auto mm = [](const std::string& name, const Input& a, const Input& b, int ta, int tb, const Shape& out) {
        return Case{name,
                    {a, b},
                    [ta, tb](Graph& g, const Ids& x) { return Ids{g.matmul(x[0], x[1], ta, tb)}; },
                    {out},
                    [ta, tb](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{matmul(x[0], x[1], ta, tb)}; }};
    };
    c.push_back(mm("MATMUL [-1,4] x [4,2]", arg({-1, 4}), param({4, 2}), 0, 0, {-1, 2}));
    c.push_back(mm("MATMUL [-1,2,4] x [4,3]", arg({-1, 2, 4}), param({4, 3}), 0, 0, {-1, 2, 3}));
    c.push_back(mm("MATMUL [2,4] x [4,3] (unbatched)", param({2, 4}), param({4, 3}), 0, 0, {2, 3}));
    c.push_back(mm("MATMUL [-1,4] x [3,4]^T", arg({-1, 4}), param({3, 4}), 0, 1, {-1, 3}));
    c.push_back(mm("MATMUL [-1,2,4] x [3,4]^T", arg({-1, 2, 4}), arg({3, 4}), 0, 1, {-1, 2, 3}));
    c.push_back(mm("MATMUL [-1,3]^T x [-1,2] (summed over the batch)", arg({-1, 3}), arg({-1, 2}), 1, 0, {3, 2}));
    c.push_back(mm("MATMUL [-1,2,3]^T x [-1,2,4]", arg({-1, 2, 3}), arg({-1, 2, 4}), 1, 0, {3, 4}));
    c.push_back(mm("MATMUL [4,3]^T x [4,2] (unbatched)", param({4, 3}), param({4, 2}), 1, 0, {3, 2}));
    c.push_back({"LINEAR [-1,4], W [3,4], b [3]",
                 {arg({-1, 4}), param({3, 4}), param({3})},
                 [](Graph& g, const Ids& x) { return Ids{g.linear(x[0], x[1], x[2])}; },
                 {{-1, 3}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{linear(x[0], x[1], &x[2])}; }});
    c.push_back({"LINEAR [-1,4], W [3,4] (no bias)",
                 {arg({-1, 4}), param({3, 4})},
                 [](Graph& g, const Ids& x) { return Ids{g.linear(x[0], x[1])}; },
                 {{-1, 3}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{linear(x[0], x[1], nullptr)}; }});
    c.push_back({"LINEAR [-1,2,4], W [5,4], b [5]",
                 {arg({-1, 2, 4}), param({5, 4}), param({5})},
                 [](Graph& g, const Ids& x) { return Ids{g.linear(x[0], x[1], x[2])}; },
                 {{-1, 2, 5}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{linear(x[0], x[1], &x[2])}; }});
    // Products big enough for OpenBLAS (the executor loops over products of at most 512
    // multiply-adds itself), in the forward and in the derivative programs; batch 8.
    const size_t big = c.size();
    c.push_back(mm("MATMUL [-1,12] x [12,10] (BLAS-sized)", arg({-1, 12}), param({12, 10}), 0, 0, {-1, 10}));
    c.push_back(mm("MATMUL [-1,12] x [10,12]^T (BLAS-sized)", arg({-1, 12}), param({10, 12}), 0, 1, {-1, 10}));
    c.push_back(mm("MATMUL [-1,12]^T x [-1,10] (BLAS-sized)", arg({-1, 12}), arg({-1, 10}), 1, 0, {12, 10}));
    c.push_back({"LINEAR [-1,3,12], W [10,12], b [10] (BLAS-sized)",
                 {arg({-1, 3, 12}), param({10, 12}), param({10})},
                 [](Graph& g, const Ids& x) { return Ids{g.linear(x[0], x[1], x[2])}; },
                 {{-1, 3, 10}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{linear(x[0], x[1], &x[2])}; }});
    c.push_back({"BMM [-1,6,10] x [-1,10,9] (BLAS-sized)",
                 {arg({-1, 6, 10}), arg({-1, 10, 9})},
                 [](Graph& g, const Ids& x) { return Ids{g.op(JDYN_OP_BMM, {x[0], x[1]})}; },
                 {{-1, 6, 9}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{bmm(x[0], x[1])}; }});
    for (size_t i = big; i < c.size(); ++i) c[i].batch = 8;
    // Products with a side of at most 4 and more than 512 multiply-adds (the executor's skinny
    // kernels: rank-k updates for k <= 4, sums over the batch for a^T b with m or n <= 4, column
    // chunks of 256), in the forward and in the derivative programs (LINEAR's weight gradient is
    // ct^T x with a skinny x).
    c.push_back({"LINEAR [-1,2], W [64,2], b [64] (skinny, batch 40)",
                 {arg({-1, 2}), param({64, 2}), param({64})},
                 [](Graph& g, const Ids& x) { return Ids{g.linear(x[0], x[1], x[2])}; },
                 {{-1, 64}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{linear(x[0], x[1], &x[2])}; }});
    c.back().batch = 40;
    c.push_back({"LINEAR [-1,3], W [300,3] (skinny, two column chunks, batch 5)",
                 {arg({-1, 3}), param({300, 3})},
                 [](Graph& g, const Ids& x) { return Ids{g.linear(x[0], x[1])}; },
                 {{-1, 300}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{linear(x[0], x[1], nullptr)}; }});
    c.back().batch = 5;
    c.push_back(mm("MATMUL [-1,4] x [4,200] (skinny k, batch 6)", arg({-1, 4}), param({4, 200}), 0, 0, {-1, 200}));
    c.back().batch = 6;
    c.push_back(mm("MATMUL [-1,1] x [1,600] (k = 1, batch 2)", arg({-1, 1}), param({1, 600}), 0, 0, {-1, 600}));
    c.back().batch = 2;
    c.push_back(mm("MATMUL [-1,3]^T x [-1,100] (skinny m, batch 50)", arg({-1, 3}), arg({-1, 100}), 1, 0, {3, 100}));
    c.back().batch = 50;
    c.push_back(mm("MATMUL [-1,270]^T x [-1,2] (skinny n, batch 3)", arg({-1, 270}), arg({-1, 2}), 1, 0, {270, 2}));
    c.back().batch = 3;
    c.push_back(mm("MATMUL [-1,2,40] x [3,40]^T (batch 7)", arg({-1, 2, 40}), param({3, 40}), 0, 1, {-1, 2, 3}));
    c.back().batch = 7;
    c.push_back({"BMM [-1,2,3] x [-1,3,2]",
                 {arg({-1, 2, 3}), arg({-1, 3, 2})},
                 [](Graph& g, const Ids& x) { return Ids{g.op(JDYN_OP_BMM, {x[0], x[1]})}; },
                 {{-1, 2, 2}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{bmm(x[0], x[1])}; }});
    c.push_back({"BMM [-1,1,4] x [-1,4,3]",
                 {arg({-1, 1, 4}), arg({-1, 4, 3})},
                 [](Graph& g, const Ids& x) { return Ids{g.op(JDYN_OP_BMM, {x[0], x[1]})}; },
                 {{-1, 1, 3}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{bmm(x[0], x[1])}; }});
    return c;
}

std::vector<Case> reduction_cases() {
    std::vector<Case> c;
    const int64_t ops[] = {JDYN_OP_SUM, JDYN_OP_MEAN, JDYN_OP_MAX};
    const Red kinds[] = {kSum, kMean, kMax};
    for (int r = 0; r < 3; ++r) {
        const int64_t op = ops[r];
        const Red kind = kinds[r];
        // Batched [-1,3,4] along every axis (axis 0: over the batch, giving an unbatched tensor), and
        // an unbatched [3,4] along both.
        for (const Input& in : {arg({-1, 3, 4}, -2, 2), param({3, 4}, -2, 2)}) {
            const int64_t rank = (int64_t)in.shape.size();
            for (int64_t axis = 0; axis < rank; ++axis)
                for (int64_t keep : {0, 1}) {
                    Shape out = in.shape;
                    if (keep)
                        out[(size_t)axis] = 1;
                    else
                        out.erase(out.begin() + axis);
                    // A batched tensor reduced over its batch is unbatched: [1, 3, 4] with keepdim.
                    if (is_batched(in.shape) && axis == 0 && keep) out[0] = 1;
                    c.push_back({std::string(op_name(op)) + " " + shape_str(in.shape) + " axis " + std::to_string(axis) +
                                     " keepdim " + std::to_string(keep),
                                 {in},
                                 [op, axis, keep](Graph& g, const Ids& x) { return Ids{g.reduce(op, x[0], axis, keep)}; },
                                 {out},
                                 [axis, keep, kind](const std::vector<Ten>& x, int64_t) {
                                     return std::vector<Ten>{reduce(x[0], axis, keep != 0, kind)};
                                 }});
                }
        }
    }
    // A rank-1 batched tensor [-1] reduced over the batch: a scalar [].
    c.push_back({"SUM [-1] axis 0 keepdim 0",
                 {arg({-1})},
                 [](Graph& g, const Ids& x) { return Ids{g.sum(x[0], 0, 0)}; },
                 {{}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{reduce(x[0], 0, false, kSum)}; }});
    for (int64_t op : {JDYN_OP_SOFTMAX, JDYN_OP_LOG_SOFTMAX}) {
        const bool lg = op == JDYN_OP_LOG_SOFTMAX;
        auto sm = [op, lg](const Input& in, int64_t axis) {
            return Case{std::string(op_name(op)) + " " + shape_str(in.shape) + " axis " + std::to_string(axis),
                        {in},
                        [op, axis](Graph& g, const Ids& x) { return Ids{g.op(op, {x[0]}, {axis})}; },
                        {in.shape},
                        [axis, lg](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{softmax(x[0], axis, lg)}; }};
        };
        c.push_back(sm(arg({-1, 5}, -2, 2), 1));
        c.push_back(sm(arg({-1, 3, 4}, -2, 2), 1));
        c.push_back(sm(arg({-1, 3, 4}, -2, 2), 2));
        c.push_back(sm(param({3, 4}, -2, 2), 0));
        c.push_back(sm(param({3, 4}, -2, 2), 1));
    }
    return c;
}

std::vector<Case> shape_cases() {
    std::vector<Case> c;
    auto rs = [](const Input& in, const Shape& to) {
        return Case{"RESHAPE " + shape_str(in.shape) + " -> " + shape_str(to),
                    {in},
                    [to](Graph& g, const Ids& x) { return Ids{g.reshape(x[0], to)}; },
                    {to},
                    [to](const std::vector<Ten>& x, int64_t b) { return std::vector<Ten>{Ten{concrete(to, b), x[0].v}}; }};
    };
    c.push_back(rs(arg({-1, 2, 3}), {-1, 6}));
    c.push_back(rs(arg({-1, 6}), {-1, 3, 2}));
    c.push_back(rs(arg({-1, 6}), {-1, 3, 1, 2}));
    c.push_back(rs(param({2, 3}), {6}));
    c.push_back(rs(param({2, 3}), {3, 2}));
    // RESHAPE aliases its input in the executor: a consumer of both the input and the view.
    c.push_back({"RESHAPE aliasing: x [-1,6] * reshape(reshape(x, [-1,2,3]), [-1,6])",
                 {arg({-1, 6})},
                 [](Graph& g, const Ids& x) {
                     const int64_t r = g.reshape(g.reshape(x[0], {-1, 2, 3}), {-1, 6});
                     return Ids{g.mul(x[0], g.un(JDYN_OP_SIN, r))};
                 },
                 {{-1, 6}},
                 [](const std::vector<Ten>& x, int64_t) {
                     return std::vector<Ten>{zip(x[0], map1(x[0], [](double v) { return std::sin(v); }), kMul)};
                 }});
    auto st = [](const Input& in, const Shape& to) {
        return Case{"SUM_TO " + shape_str(in.shape) + " -> " + shape_str(to),
                    {in},
                    [to](Graph& g, const Ids& x) { return Ids{g.sum_to(x[0], to)}; },
                    {to},
                    [to](const std::vector<Ten>& x, int64_t b) { return std::vector<Ten>{sum_to(x[0], concrete(to, b))}; }};
    };
    c.push_back(st(arg({-1, 2, 3}), {2, 3}));
    c.push_back(st(arg({-1, 2, 3}), {3}));
    c.push_back(st(arg({-1, 2, 3}), {-1, 1, 3}));
    c.push_back(st(arg({-1, 2, 3}), {2, 1}));
    c.push_back(st(arg({-1, 2, 3}), {}));
    c.push_back(st(param({2, 3}), {1, 3}));
    auto bt = [](const Input& in, const Shape& to) {
        return Case{"BROADCAST_TO " + shape_str(in.shape) + " -> " + shape_str(to),
                    {in},
                    [to](Graph& g, const Ids& x) { return Ids{g.broadcast_to(x[0], to)}; },
                    {to},
                    [to](const std::vector<Ten>& x, int64_t b) { return std::vector<Ten>{bcast(x[0], concrete(to, b))}; }};
    };
    c.push_back(bt(param({3}), {-1, 2, 3}));
    c.push_back(bt(param({2, 1}), {-1, 2, 3}));
    c.push_back(bt(arg({-1, 1, 3}), {-1, 2, 3}));
    c.push_back(bt(param({}), {2, 3}));
    c.push_back(bt(param({}), {-1, 3}));
    auto sl = [](const Input& in, int64_t axis, int64_t a, int64_t b) {
        return Case{"SLICE " + shape_str(in.shape) + " axis " + std::to_string(axis) + " [" + std::to_string(a) + ", " +
                        std::to_string(b) + ")",
                    {in},
                    [axis, a, b](Graph& g, const Ids& x) { return Ids{g.slice(x[0], axis, a, b)}; },
                    {[&] {
                        Shape s = in.shape;
                        s[(size_t)axis] = b - a;
                        return s;
                    }()},
                    [axis, a, b](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{slice(x[0], axis, a, b)}; }};
    };
    c.push_back(sl(arg({-1, 5}), 1, 1, 4));
    c.push_back(sl(arg({-1, 3, 4}), 2, 0, 2));
    c.push_back(sl(arg({-1, 3, 4}), 1, 2, 3));
    c.push_back(sl(arg({-1, 3, 4}), 1, 0, 3));
    c.push_back(sl(param({4, 3}), 0, 1, 3));
    auto pd = [](const Input& in, int64_t axis, int64_t a, int64_t b) {
        return Case{"PAD " + shape_str(in.shape) + " axis " + std::to_string(axis) + " (" + std::to_string(a) + ", " +
                        std::to_string(b) + ")",
                    {in},
                    [axis, a, b](Graph& g, const Ids& x) { return Ids{g.pad(x[0], axis, a, b)}; },
                    {[&] {
                        Shape s = in.shape;
                        s[(size_t)axis] += a + b;
                        return s;
                    }()},
                    [axis, a, b](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{pad(x[0], axis, a, b)}; }};
    };
    c.push_back(pd(arg({-1, 3}), 1, 1, 2));
    c.push_back(pd(arg({-1, 2, 3}), 1, 0, 1));
    c.push_back(pd(arg({-1, 2, 3}), 2, 2, 0));
    c.push_back(pd(param({3}), 0, 1, 1));
    auto cc = [](const std::vector<Input>& ins, int64_t axis) {
        std::string name = "CONCAT";
        Shape out = ins[0].shape;
        out[(size_t)axis] = 0;
        for (const auto& in : ins) {
            name += " " + shape_str(in.shape);
            out[(size_t)axis] += in.shape[(size_t)axis];
        }
        return Case{name + " axis " + std::to_string(axis),
                    ins,
                    [axis](Graph& g, const Ids& x) { return Ids{g.concat(x, axis)}; },
                    {out},
                    [axis](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{concat(x, axis)}; }};
    };
    c.push_back(cc({arg({-1, 2}), arg({-1, 3})}, 1));
    c.push_back(cc({arg({-1, 1, 3}), arg({-1, 2, 3}), arg({-1, 1, 3})}, 1));
    c.push_back(cc({arg({-1, 2, 1}), arg({-1, 2, 2})}, 2));
    c.push_back(cc({param({2}), param({3})}, 0));
    c.push_back(cc({arg({-1, 3})}, 1));
    // One input twice: its two cotangent slices add up.
    c.push_back({"CONCAT [x, x] axis 1",
                 {arg({-1, 2})},
                 [](Graph& g, const Ids& x) { return Ids{g.concat({x[0], x[0]}, 1)}; },
                 {{-1, 4}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{concat({x[0], x[0]}, 1)}; }});
    auto tr = [](const Input& in) {
        Shape out = in.shape;
        std::swap(out[out.size() - 1], out[out.size() - 2]);
        return Case{"TRANSPOSE " + shape_str(in.shape),
                    {in},
                    [](Graph& g, const Ids& x) { return Ids{g.transpose(x[0])}; },
                    {out},
                    [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{transpose(x[0])}; }};
    };
    c.push_back(tr(arg({-1, 2, 3})));
    c.push_back(tr(param({2, 3})));
    c.push_back(tr(arg({-1, 2, 3, 4})));
    return c;
}

std::vector<Case> time_cases() {
    std::vector<Case> c;
    for (int64_t kind : {JDYN_BASIS_FOURIER, JDYN_BASIS_POLYNOMIAL})
        for (int64_t order : {0, 1}) {
            const int64_t n = kind == JDYN_BASIS_FOURIER ? 5 : 4;
            const double period = 2.0;
            c.push_back({std::string("BASIS ") + (kind == JDYN_BASIS_FOURIER ? "fourier" : "polynomial") + " n " +
                             std::to_string(n) + " order " + std::to_string(order),
                         {time_in(0.3, 1.7)},
                         [=](Graph& g, const Ids& x) { return Ids{g.basis(x[0], kind, n, order, period)}; },
                         {{n}},
                         [=](const std::vector<Ten>& x, int64_t) {
                             return std::vector<Ten>{basis(x[0].v[0], kind, n, order, period)};
                         }});
        }
    // x [-1,5] * basis(t): gradients wrt x and t through a broadcast.
    c.push_back({"x [-1,5] * BASIS fourier n 5 order 1 (t)",
                 {arg({-1, 5}), time_in(0.3, 1.7)},
                 [](Graph& g, const Ids& x) { return Ids{g.mul(x[0], g.basis(x[1], JDYN_BASIS_FOURIER, 5, 1, 1.5))}; },
                 {{-1, 5}},
                 [](const std::vector<Ten>& x, int64_t) {
                     return std::vector<Ten>{zip(x[0], basis(x[1].v[0], JDYN_BASIS_FOURIER, 5, 1, 1.5), kMul)};
                 }});
    c.push_back({"x [-1,3] * t",
                 {arg({-1, 3}), time_in()},
                 [](Graph& g, const Ids& x) { return Ids{g.mul(x[0], x[1])}; },
                 {{-1, 3}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{zip(x[0], x[1], kMul)}; }});
    c.push_back({"t (input first) + SIN(t) * x [-1,3]",
                 {time_in(), arg({-1, 3})},
                 [](Graph& g, const Ids& x) { return Ids{g.add(x[0], g.mul(g.un(JDYN_OP_SIN, x[0]), x[1]))}; },
                 {{-1, 3}},
                 [](const std::vector<Ten>& x, int64_t) {
                     const double t = x[0].v[0];
                     return std::vector<Ten>{map1(x[1], [t](double v) { return t + std::sin(t) * v; })};
                 }});
    c.push_back({"t alone (output [])",
                 {time_in()},
                 [](Graph& g, const Ids& x) { return Ids{g.un(JDYN_OP_EXP, x[0])}; },
                 {{}},
                 [](const std::vector<Ten>& x, int64_t) { return std::vector<Ten>{map1(x[0], [](double v) { return std::exp(v); })}; }});
    // A Galerkin linear layer as a program: W(t) = reshape(basis(t) [1,3] x Wk [3, 4*2]), then
    // LINEAR(x, W(t), b); gradients wrt x, Wk, b and t.
    c.push_back({"Galerkin LINEAR: x [-1,2], W(t) = basis(t) Wk, b",
                 {arg({-1, 2}), param({3, 8}), param({4}), time_in(0.2, 0.9)},
                 [](Graph& g, const Ids& x) {
                     const int64_t phi = g.reshape(g.basis(x[3], JDYN_BASIS_POLYNOMIAL, 3, 0), {1, 3});
                     const int64_t w = g.reshape(g.matmul(phi, x[1]), {4, 2});
                     return Ids{g.linear(x[0], w, x[2])};
                 },
                 {{-1, 4}},
                 [](const std::vector<Ten>& x, int64_t) {
                     Ten phi = basis(x[3].v[0], JDYN_BASIS_POLYNOMIAL, 3, 0, 1.0);
                     phi.d = {1, 3};
                     Ten w = matmul(phi, x[1], 0, 0);
                     w.d = {4, 2};
                     return std::vector<Ten>{linear(x[0], w, &x[2])};
                 }});
    // Two outputs of different shapes, a parameter used by both: the cotangents of both meet.
    c.push_back({"two outputs: TANH(LINEAR(x, W)) and SUM(W * t, 0)",
                 {arg({-1, 3}), param({2, 3}), time_in()},
                 [](Graph& g, const Ids& x) {
                     return Ids{g.un(JDYN_OP_TANH, g.linear(x[0], x[1])), g.sum(g.mul(x[1], x[2]), 0)};
                 },
                 {{-1, 2}, {3}},
                 [](const std::vector<Ten>& x, int64_t) {
                     return std::vector<Ten>{map1(linear(x[0], x[1], nullptr), [](double v) { return std::tanh(v); }),
                                             reduce(zip(x[1], x[2], kMul), 0, false, kSum)};
                 }});
    return c;
}

// ---- the driver -------------------------------------------------------------------------------------------

// Forward values against the reference: the kernels are within a few ulp of correctly rounded
// (nn/activations.h), so 1e-12 relative + absolute is ample and still catches any wrong formula.
constexpr double kForwardTol = 1e-12;

void check_forward(const Case& c, Checked& ch) {
    REQUIRE(ch.out_shapes.size() == c.shapes.size());
    for (size_t o = 0; o < c.shapes.size(); ++o)
        CHECK_MESSAGE(ch.out_shapes[o] == c.shapes[o], "output ", o, " has shape ", shape_str(ch.out_shapes[o]),
                      ", expected ", shape_str(c.shapes[o]));
    const Program f = ch.g.finish(ch.outs);
    const auto got = ch.eval(f, ch.point);
    std::vector<Ten> in;
    for (size_t k = 0; k < ch.n_inputs(); ++k) in.push_back({concrete(ch.input_shape(k), ch.batch()), ch.value(ch.point, k)});
    const auto want = c.ref(in, ch.batch());
    REQUIRE(want.size() == got.size());
    Mismatches m("forward values vs the reference", kForwardTol);
    for (size_t o = 0; o < want.size(); ++o) {
        if (got[o].size() != want[o].v.size()) {
            FAIL_CHECK("output ", o, " has ", got[o].size(), " values, expected ", want[o].v.size());
            continue;
        }
        for (size_t i = 0; i < got[o].size(); ++i)
            m.compare(got[o][i], want[o].v[i], "output " + std::to_string(o) + " element " + std::to_string(i));
    }
    m.report();
}

void run_cases(const std::vector<Case>& cases, uint64_t seed) {
    for (const Case& c : cases) {
        INFO("case: ", c.name);
        try {
            Checked ch(c.inputs, c.build, seed++, c.batch);
            check_forward(c, ch);
            ch.check_first_order();
        } catch (const Failure& f) {
            FAIL_CHECK(std::string(f.what()));
        }
    }
}

}  // namespace

TEST_CASE("element-wise ops: values, VJP, JVP and <v, Ju> = <J^T v, u>") { run_cases(elementwise_cases(), 100); }
TEST_CASE("derivative-product ops (*_BWD), wrt both inputs") { run_cases(bwd_cases(), 200); }
TEST_CASE("WHERE (wrt a and b), MAXIMUM, MINIMUM") { run_cases(selection_cases(), 300); }
TEST_CASE("broadcasting: [-1,3] + [3], [-1,1] * [-1,3], scalar constants, [2,3] + [-1,2,3]") {
    run_cases(broadcasting_cases(), 400);
}
TEST_CASE("products: MATMUL (three transpose modes), LINEAR with and without bias, BMM") {
    run_cases(product_cases(), 500);
}
TEST_CASE("reductions (every axis, keepdim 0 and 1), SOFTMAX, LOG_SOFTMAX") { run_cases(reduction_cases(), 600); }
TEST_CASE("shape ops: RESHAPE, SUM_TO, BROADCAST_TO, SLICE, PAD, CONCAT, TRANSPOSE") { run_cases(shape_cases(), 700); }
TEST_CASE("BASIS and t: gradients wrt t and parameters") { run_cases(time_cases(), 800); }

TEST_CASE("float32 programs agree with float64 ones on every case") {
    std::vector<Case> all;
    for (auto&& list : {elementwise_cases(), bwd_cases(), selection_cases(), broadcasting_cases(), product_cases(),
                        reduction_cases(), shape_cases(), time_cases()})
        all.insert(all.end(), list.begin(), list.end());
    uint64_t seed = 900;
    for (const Case& c : all) {
        INFO("case: ", c.name);
        try {
            Checked ch(c.inputs, c.build, seed++, c.batch);
            const Program f64 = ch.g.finish(ch.outs, JDYN_FLOAT64);
            const Program f32 = ch.g.finish(ch.outs, JDYN_FLOAT32);
            const Program v32 = ch.g.finish(ch.grads, JDYN_FLOAT32);
            const Program v64 = ch.g.finish(ch.grads, JDYN_FLOAT64);
            const std::vector<float> pf(ch.point.params.begin(), ch.point.params.end());
            std::vector<std::vector<float>> af;
            for (const auto& a : ch.point.args) af.emplace_back(a.begin(), a.end());
            // float32 rounding (6e-8) through a few ops of O(1) values: 1e-5 leaves a wide margin.
            for (int pass = 0; pass < 2; ++pass) {
                const Program& p64 = pass ? v64 : f64;
                const Program& p32 = pass ? v32 : f32;
                const auto want = p64.run(ch.point.params, ch.point.t, ch.point.args, ch.batch());
                const auto got = p32.run(pf, ch.point.t, af, ch.batch());
                REQUIRE(got.size() == want.size());
                Mismatches m(pass ? "float32 VJP vs float64" : "float32 forward vs float64", 1e-5);
                for (size_t o = 0; o < want.size(); ++o)
                    for (size_t i = 0; i < want[o].size(); ++i)
                        m.compare((double)got[o][i], want[o][i], "output " + std::to_string(o) + " element " + std::to_string(i));
                m.report();
            }
        } catch (const Failure& f) {
            FAIL_CHECK(std::string(f.what()));
        }
    }
}

TEST_CASE("ops without a derivative: GT, LT, EQ, SIGN, STEP, FULL; zero gradients through them") {
    try {
        Graph g;
        const int64_t x = g.arg({-1, 3}), y = g.arg({-1, 3});
        const Ids outs{g.op(JDYN_OP_GT, {x, y}),
                       g.op(JDYN_OP_LT, {x, y}),
                       g.op(JDYN_OP_EQ, {x, y}),
                       g.un(JDYN_OP_SIGN, x),
                       g.un(JDYN_OP_STEP, x),
                       g.op(JDYN_OP_FULL, {}, Graph::shape_attr({2, 2}), {1.5}),
                       g.op(JDYN_OP_FULL, {}, Graph::shape_attr({-1, 2}), {-2.0})};  // takes the run's batch
        CHECK(g.shape(outs[5]) == Shape{2, 2});
        CHECK(g.shape(outs[6]) == Shape{-1, 2});
        const Program p = g.finish(outs);
        const Vec xv{-1, 0, 2, 0.5, -3, 0}, yv{0, 0, 1, 0.5, -4, 1};
        const auto r = p.run(Vec{}, 0.0, {xv, yv}, 2);
        for (size_t i = 0; i < 6; ++i) {
            INFO("element ", i, ": x ", xv[i], ", y ", yv[i]);
            CHECK(r[0][i] == (xv[i] > yv[i] ? 1.0 : 0.0));
            CHECK(r[1][i] == (xv[i] < yv[i] ? 1.0 : 0.0));
            CHECK(r[2][i] == (xv[i] == yv[i] ? 1.0 : 0.0));
            CHECK(r[3][i] == (xv[i] > 0 ? 1.0 : xv[i] < 0 ? -1.0 : 0.0));
            CHECK(r[4][i] == (xv[i] > 0 ? 1.0 : 0.0));
        }
        CHECK(r[5] == Vec{1.5, 1.5, 1.5, 1.5});
        CHECK(r[6] == Vec{-2, -2, -2, -2});
        // Their derivatives are 0: the VJP wrt x and y of every output is zero, and so is the JVP.
        Ids cts;
        for (int64_t o : outs) cts.push_back(g.arg(g.shape(o)));
        const Ids grads = g.vjp(outs, cts, {x, y});
        CHECK(g.shape(grads[0]) == Shape{-1, 3});
        CHECK(g.shape(grads[1]) == Shape{-1, 3});
        const int64_t u = g.arg({-1, 3}), w = g.arg({-1, 3});
        const Ids tang = g.jvp({x, y}, {u, w}, outs);
        for (size_t o = 0; o < outs.size(); ++o) CHECK(g.shape(tang[o]) == g.shape(outs[o]));
        Ids both = grads;
        both.insert(both.end(), tang.begin(), tang.end());
        const Program d = g.finish(both);
        std::vector<Vec> args{xv, yv};
        Rng rng(5);
        for (size_t k = 2; k < (size_t)d.n_args; ++k) args.push_back(rng.vec(numel(d.args[k], 2), -1, 1));
        const auto z = d.run(Vec{}, 0.0, args, 2);
        for (size_t o = 0; o < z.size(); ++o)
            for (double v : z[o]) CHECK_MESSAGE(v == 0.0, "derivative output ", o);
    } catch (const Failure& f) {
        FAIL_CHECK(std::string(f.what()));
    }
}

TEST_CASE("parameters: declaration order in one flat buffer, unused ones included; signature; batch sizes") {
    try {
        Graph g;
        const int64_t a = g.param("a", {2, 3}), b = g.param("b", {4}), c = g.param("c", {}),
                      d = g.param("d", {3, 1}, JDYN_INIT_CONSTANT, 0.0);
        const int64_t x = g.arg({-1, 3});
        CHECK(g.time() == g.time());
        // out = x a^T + sum(b) + c: [-1, 2]; d unused.
        const int64_t out = g.add(g.add(g.linear(x, a), g.total(b)), c);
        const Program p = g.finish({out});
        CHECK(p.n_args == 1);
        CHECK(p.n_outputs == 1);
        REQUIRE(p.n_param_tensors == 4);
        CHECK(p.args[0] == Shape{-1, 3});
        CHECK(p.outs[0] == Shape{-1, 2});
        const char* names[] = {"a", "b", "c", "d"};
        const Shape shapes[] = {{2, 3}, {4}, {}, {3, 1}};
        const int64_t offsets[] = {0, 6, 10, 11}, counts[] = {6, 4, 1, 3};
        for (int i = 0; i < 4; ++i) {
            INFO("parameter ", i);
            CHECK(p.params[(size_t)i].name == names[i]);
            CHECK(p.params[(size_t)i].shape == shapes[i]);
            CHECK(p.params[(size_t)i].offset == offsets[i]);
            CHECK(p.params[(size_t)i].count == counts[i]);
        }
        Rng rng(11);
        const Vec prm = rng.vec(14, -1, 1);
        const int64_t B = 5;
        const Vec xv = rng.vec(B * 3, -1, 1);
        const auto r = p.run(prm, 0.0, {xv}, B);
        double sb = 0;
        for (int i = 6; i < 10; ++i) sb += prm[(size_t)i];
        for (int64_t row = 0; row < B; ++row)
            for (int64_t j = 0; j < 2; ++j) {
                double want = sb + prm[10];
                for (int64_t k = 0; k < 3; ++k) want += xv[(size_t)(row * 3 + k)] * prm[(size_t)(j * 3 + k)];
                CHECK(r[0][(size_t)(row * 2 + j)] == doctest::Approx(want).epsilon(1e-14));
            }
        // Other batch sizes (a plan each), interleaved: the same rows.
        for (int64_t b1 : {1, 2, 5, 1}) {
            const Vec xs(xv.begin(), xv.begin() + b1 * 3);
            const auto r1 = p.run(prm, 0.0, {xs}, b1);
            for (int64_t i = 0; i < b1 * 2; ++i) CHECK(r1[0][(size_t)i] == r[0][(size_t)i]);
        }
        // Gradients wrt every parameter: d (unused) gets zeros of its shape; b gets the cotangents'
        // sum (SUM over the batch and the output width), c alike.
        const int64_t ct = g.arg({-1, 2});
        const Ids gr = g.vjp({out}, {ct}, {a, b, c, d});
        CHECK(g.shape(gr[3]) == Shape{3, 1});
        const Program v = g.finish(gr);
        const Vec ctv = rng.vec(B * 2, -1, 1);
        const auto gv = v.run(prm, 0.0, {xv, ctv}, B);
        double sct = 0;
        for (double q : ctv) sct += q;
        for (double q : gv[1]) CHECK(q == doctest::Approx(sct).epsilon(1e-14));
        CHECK(gv[2][0] == doctest::Approx(sct).epsilon(1e-14));
        CHECK(gv[3] == Vec{0, 0, 0});
    } catch (const Failure& f) {
        FAIL_CHECK(std::string(f.what()));
    }
}

TEST_CASE("VJP and JVP wrt an intermediate node (torch.autograd.grad on a non-leaf)") {
    try {
        // out = sin(h) * x with h = tanh(x): d out / d h = cos(h) x (x held), while the total
        // derivative wrt x also runs through h: cos(h) x (1 - h^2) + sin(h).
        Graph g;
        const int64_t x = g.arg({-1, 3});
        const int64_t h = g.un(JDYN_OP_TANH, x);
        const int64_t out = g.mul(g.un(JDYN_OP_SIN, h), x);
        const int64_t ct = g.arg({-1, 3}), u = g.arg({-1, 3});
        const Ids gr = g.vjp({out}, {ct}, {h, x});
        CHECK(g.shape(gr[0]) == Shape{-1, 3});
        const Ids jh = g.jvp({h}, {u}, {out});
        Ids outs = gr;
        outs.push_back(jh[0]);
        const Program p = g.finish(outs);
        Rng rng(21);
        const int64_t B = 2;
        const Vec xv = rng.vec(B * 3, -1.5, 1.5), cv = rng.vec(B * 3, -1, 1), uv = rng.vec(B * 3, -1, 1);
        const auto r = p.run(Vec{}, 0.0, {xv, cv, uv}, B);
        Mismatches m("gradients wrt an intermediate", 1e-13);
        for (size_t i = 0; i < xv.size(); ++i) {
            const double hv = std::tanh(xv[i]);
            m.compare(r[0][i], cv[i] * std::cos(hv) * xv[i], "d/dh element " + std::to_string(i));
            m.compare(r[1][i], cv[i] * (std::cos(hv) * xv[i] * (1 - hv * hv) + std::sin(hv)),
                      "d/dx element " + std::to_string(i));
            m.compare(r[2][i], std::cos(hv) * xv[i] * uv[i], "JVP wrt h element " + std::to_string(i));
        }
        m.report();
        // wrt = {h, x} in both modes: the VJP's d out / d x is the total derivative (through h, as
        // torch.autograd.grad gives it); the header writes the JVP with the same d outputs / d wrt[j],
        // so the JVP along (u_h, u_x) must be d out/dh u_h + d out/dx u_x with the same meanings,
        // and <v, J u> = <J^T v, u> must hold.
        const int64_t ux = g.arg({-1, 3});
        const Ids jb = g.jvp({h, x}, {u, ux}, {out});
        const Program q = g.finish({jb[0]});
        const Vec uxv = rng.vec(B * 3, -1, 1);
        const auto rq = q.run(Vec{}, 0.0, {xv, cv, uv, uxv}, B);
        Mismatches mq("JVP wrt {h, x} (the VJP's derivatives)", 1e-13);
        double vju = 0, jtvu = 0, scale = 0;
        for (size_t i = 0; i < xv.size(); ++i) {
            const double hv = std::tanh(xv[i]);
            const double dh = std::cos(hv) * xv[i], dx = std::cos(hv) * xv[i] * (1 - hv * hv) + std::sin(hv);
            mq.compare(rq[0][i], dh * uv[i] + dx * uxv[i], "element " + std::to_string(i));
            vju += cv[i] * rq[0][i];
            jtvu += r[0][i] * uv[i] + r[1][i] * uxv[i];
            scale += std::fabs(r[0][i] * uv[i]) + std::fabs(r[1][i] * uxv[i]);
        }
        mq.report();
        INFO("<v, J u> = ", vju, ", <J^T v, u> = ", jtvu);
        CHECK(std::fabs(vju - jtvu) <= kDotTol * scale);
    } catch (const Failure& f) {
        FAIL_CHECK(std::string(f.what()));
    }
}

TEST_CASE("MAX and MAXIMUM at ties pass the cotangent on once (max(x + c 1) = max(x) + c)") {
    try {
        // At a tie the derivative of max is a convention (torch.max picks one element, torch.amax
        // splits evenly), but every convention keeps d/dc max(x + c 1) = 1: the gradient of a row sums
        // to its cotangent, non-maximal elements get nothing, and the JVP along all-ones is 1.
        Graph g;
        const int64_t x = g.arg({-1, 4});
        const int64_t m = g.reduce(JDYN_OP_MAX, x, 1, 0);
        const int64_t mx = g.op(JDYN_OP_MAXIMUM, {x, x});
        const int64_t ct = g.arg({-1}), ctx = g.arg({-1, 4}), u = g.arg({-1, 4});
        const int64_t gm = g.vjp({m}, {ct}, {x})[0];
        const int64_t gmx = g.vjp({mx}, {ctx}, {x})[0];
        const Ids jv = g.jvp({x}, {u}, {m, mx});
        const Program p = g.finish({gm, gmx, jv[0], jv[1]});
        const Vec xv{1, 3, 3, 0, 2, 2, 2, 2, -1, 5, 0, 5};
        const Vec cv{1, 2, -1};
        const Vec cxv{0.5, -1, 2, 3, 1, 1, 1, 1, -2, 0.25, 4, 1};
        const Vec ones(12, 1.0);
        const auto r = p.run(Vec{}, 0.0, {xv, cv, cxv, ones}, 3);
        for (size_t row = 0; row < 3; ++row) {
            INFO("row ", row);
            double mxv = -INFINITY, sum = 0;
            for (size_t j = 0; j < 4; ++j) mxv = std::max(mxv, xv[row * 4 + j]);
            for (size_t j = 0; j < 4; ++j) {
                const double gj = r[0][row * 4 + j];
                sum += gj;
                if (xv[row * 4 + j] < mxv) CHECK(gj == 0.0);
                CHECK(gj * cv[row] >= 0.0);
            }
            CHECK(sum == doctest::Approx(cv[row]).epsilon(1e-15));
            CHECK(r[2][row] == doctest::Approx(1.0).epsilon(1e-15));
        }
        for (size_t i = 0; i < 12; ++i) {
            CHECK(r[1][i] == cxv[i]);  // d maximum(x, x) / dx = 1
            CHECK(r[3][i] == 1.0);
        }
    } catch (const Failure& f) {
        FAIL_CHECK(std::string(f.what()));
    }
}

TEST_CASE("outputs that are inputs, constants, views or repeated") {
    try {
        Graph g;
        const int64_t x = g.arg({-1, 2, 3});
        const int64_t p = g.param("p", {2});
        const int64_t t = g.time();
        const int64_t c = g.constant({4, 5}, {2});
        const int64_t v = g.reshape(x, {-1, 6});
        const int64_t e = g.un(JDYN_OP_EXP, v);
        const Program pr = g.finish({x, v, p, t, c, x, e, v});
        REQUIRE(pr.n_outputs == 8);
        CHECK(pr.outs[1] == Shape{-1, 6});
        CHECK(pr.outs[3] == Shape{});
        const Vec xv{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        const auto r = pr.run(Vec{-1, -2}, 0.25, {xv}, 2);
        CHECK(r[0] == xv);
        CHECK(r[1] == xv);
        CHECK(r[2] == Vec{-1, -2});
        CHECK(r[3] == Vec{0.25});
        CHECK(r[4] == Vec{4, 5});
        CHECK(r[5] == xv);
        for (size_t i = 0; i < 12; ++i) CHECK(r[6][i] == doctest::Approx(std::exp(xv[i])).epsilon(1e-15));
        CHECK(r[7] == xv);
        // The VJP of an output that is its own input: the cotangent itself.
        const int64_t ct = g.arg({-1, 6});
        const Program d = g.finish(g.vjp({v}, {ct}, {x, v}));
        const Vec cv{6, 5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5};
        const auto rd = d.run(Vec{0, 0}, 0.0, {xv, cv}, 2);
        CHECK(rd[0] == cv);
        CHECK(rd[1] == cv);
    } catch (const Failure& f) {
        FAIL_CHECK(std::string(f.what()));
    }
}
