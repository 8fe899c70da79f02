// Shared machinery of the graph tests (test_graph_ops.cpp, test_graph_fuzz.cpp). Everything goes
// through the public C ABI of jdyn.h: graphs are built with jdyn_graph_*, differentiated with
// jdyn_graph_vjp / jdyn_graph_jvp, finished into programs and run with jdyn_program_run. On top of
// that: a seeded generator (the same numbers on every platform), a checker that builds a graph with
// its cotangent and tangent arguments and compares its derivative programs with central differences
// of the programs they derive from, and a mismatch collector that reports the first few failures of
// a check instead of thousands.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "jdyn.h"

namespace gt {

using Shape = std::vector<int64_t>;  // -1 first: batched
using Vec = std::vector<double>;
using Ids = std::vector<int64_t>;

// ---- names and shapes -------------------------------------------------------------------------------

inline const char* op_name(int64_t op) {
    static const char* const names[] = {
        "ADD", "SUB", "MUL", "DIV", "NEG", "EXP", "LOG", "SQRT", "SQUARE", "ABS", "SIN", "COS", "TANH",
        "SIGMOID", "RELU", "SILU", "SOFTPLUS", "ELU", "POW", "SIGN", "STEP", "TANH_BWD", "SIGMOID_BWD",
        "SOFTPLUS_BWD", "ELU_BWD", "SILU_BWD", "GT", "LT", "EQ", "WHERE", "MAXIMUM", "MINIMUM", "MATMUL",
        "LINEAR", "BMM", "SUM", "MEAN", "MAX", "SOFTMAX", "LOG_SOFTMAX", "RESHAPE", "SUM_TO", "BROADCAST_TO",
        "SLICE", "PAD", "CONCAT", "TRANSPOSE", "FULL", "BASIS", "TIME", "ARG", "PARAM", "CONST", "RANDOM",
        "SOLVE"};
    static_assert(sizeof(names) / sizeof(names[0]) == JDYN_OP_COUNT, "one name per op");
    return op >= 0 && op < JDYN_OP_COUNT ? names[op] : "?";
}

inline bool is_batched(const Shape& s) { return !s.empty() && s[0] == -1; }

inline int64_t numel(const Shape& s, int64_t batch) {
    int64_t n = 1;
    for (int64_t d : s) n *= d == -1 ? batch : d;
    return n;
}

inline std::string shape_str(const Shape& s) {
    std::ostringstream o;
    o << '[';
    for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
    o << ']';
    return o.str();
}

// numpy broadcasting with the batch: right-aligned, equal dims or a 1; -1 (the batch) meets only -1
// or 1. False when the shapes do not broadcast.
inline bool broadcast_shape(const Shape& a, const Shape& b, Shape& out) {
    const size_t n = std::max(a.size(), b.size());
    out.assign(n, 1);
    for (size_t i = 0; i < n; ++i) {
        const int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
        const int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
        if (x == y || y == 1)
            out[i] = x;
        else if (x == 1)
            out[i] = y;
        else
            return false;
    }
    // A batch dimension must stay first.
    for (size_t i = 1; i < n; ++i)
        if (out[i] == -1) return false;
    return true;
}

inline std::string lower(std::string s) {
    for (auto& c : s) c = (char)std::tolower((unsigned char)c);
    return s;
}

// Case-insensitive substring test (messages may spell an op "MATMUL" or "matmul").
inline bool mentions(const std::string& message, const std::string& what) {
    return lower(message).find(lower(what)) != std::string::npos;
}

// ---- failures ----------------------------------------------------------------------------------------

// A call of the ABI that did not return JDYN_OK: the drivers catch it and report the case as failed,
// so one broken op does not hide the others.
struct Failure : std::runtime_error {
    int32_t status;
    Failure(int32_t st, const std::string& what) : std::runtime_error(what), status(st) {}
};

inline void check_status(int32_t st, const std::string& what) {
    if (st != JDYN_OK) {
        const char* e = jdyn_last_error();
        throw Failure(st, what + " -> status " + std::to_string(st) + ": " + (e ? e : "(no message)"));
    }
}

inline std::string last_error() {
    const char* e = jdyn_last_error();
    return e ? e : "";
}

// ---- a seeded generator, identical on every platform (std:: distributions are not) -------------------

class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
    uint64_t next() {  // splitmix64
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double unit() { return (double)(next() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }
    // A magnitude in [lo, hi] with a random sign: away from 0 by at least lo.
    double away(double lo, double hi) { return bit() ? uniform(lo, hi) : -uniform(lo, hi); }
    bool bit() { return (next() >> 63) != 0; }
    int64_t integer(int64_t lo, int64_t hi) { return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1)); }
    Vec vec(int64_t n, double lo, double hi) {
        Vec v((size_t)n);
        for (auto& x : v) x = uniform(lo, hi);
        return v;
    }
    template <class T>
    const T& pick(const std::vector<T>& v) { return v[(size_t)integer(0, (int64_t)v.size() - 1)]; }

private:
    uint64_t s_;
};

// ---- programs ------------------------------------------------------------------------------------------

struct ParamInfo {
    std::string name;
    Shape shape;
    int64_t offset = 0, count = 0;
};

inline Shape read_shape(int64_t rank, const int64_t* dims) { return Shape(dims, dims + rank); }

class Program {
public:
    explicit Program(jdyn_program* p) : p_(p) {
        check_status(jdyn_program_signature(p_, &n_args, &n_outputs, &n_param_tensors, &n_nodes),
                     "jdyn_program_signature");
        int64_t rank = 0, dims[4] = {0, 0, 0, 0};
        for (int64_t i = 0; i < n_args; ++i) {
            check_status(jdyn_program_arg_shape(p_, i, &rank, dims), "jdyn_program_arg_shape");
            args.push_back(read_shape(rank, dims));
        }
        for (int64_t i = 0; i < n_outputs; ++i) {
            check_status(jdyn_program_output_shape(p_, i, &rank, dims), "jdyn_program_output_shape");
            outs.push_back(read_shape(rank, dims));
        }
        for (int64_t i = 0; i < n_param_tensors; ++i) {
            ParamInfo pi;
            const char* name = nullptr;
            check_status(jdyn_program_param(p_, i, &name, &rank, dims, &pi.offset, &pi.count), "jdyn_program_param");
            pi.name = name ? name : "";
            pi.shape = read_shape(rank, dims);
            params.push_back(pi);
        }
    }
    ~Program() {
        if (p_) jdyn_program_free(p_);
    }
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;
    Program(Program&& o) noexcept { *this = std::move(o); }
    Program& operator=(Program&& o) noexcept {
        std::swap(p_, o.p_);
        n_args = o.n_args;
        n_outputs = o.n_outputs;
        n_param_tensors = o.n_param_tensors;
        n_nodes = o.n_nodes;
        args = o.args;
        outs = o.outs;
        params = o.params;
        return *this;
    }
    const jdyn_program* get() const { return p_; }

    // Runs on a batch; T is the program's dtype (double or float).
    template <class T>
    int32_t try_run(const std::vector<T>& prm, double t, const std::vector<std::vector<T>>& a, int64_t batch,
                    std::vector<std::vector<T>>& out) const {
        std::vector<const void*> ap;
        for (const auto& v : a) ap.push_back(v.data());
        out.assign((size_t)n_outputs, {});
        std::vector<void*> op;
        for (int64_t i = 0; i < n_outputs; ++i) {
            out[(size_t)i].assign((size_t)numel(outs[(size_t)i], batch), (T)std::nan(""));
            op.push_back(out[(size_t)i].data());
        }
        static const T dummy = 0;  // a valid pointer when there are no parameters
        return jdyn_program_run(p_, prm.empty() ? (const void*)&dummy : prm.data(), t, ap.empty() ? nullptr : ap.data(),
                                batch, op.empty() ? nullptr : op.data());
    }
    template <class T>
    std::vector<std::vector<T>> run(const std::vector<T>& prm, double t, const std::vector<std::vector<T>>& a,
                                    int64_t batch) const {
        std::vector<std::vector<T>> out;
        check_status(try_run(prm, t, a, batch, out), "jdyn_program_run");
        return out;
    }

    int64_t n_args = 0, n_outputs = 0, n_param_tensors = 0, n_nodes = 0;
    std::vector<Shape> args, outs;
    std::vector<ParamInfo> params;

private:
    jdyn_program* p_ = nullptr;
};

// ---- graphs --------------------------------------------------------------------------------------------

class Graph {
public:
    Graph() { check_status(jdyn_graph_new(&g_), "jdyn_graph_new"); }
    ~Graph() { jdyn_graph_free(g_); }
    Graph(const Graph&) = delete;
    Graph& operator=(const Graph&) = delete;
    jdyn_graph* raw() { return g_; }
    const jdyn_graph* raw() const { return g_; }

    int64_t time() {
        int64_t id = -1;
        check_status(jdyn_graph_time(g_, &id), "jdyn_graph_time");
        return id;
    }
    int64_t arg(const Shape& s) {
        int64_t id = -1;
        check_status(jdyn_graph_arg(g_, s.data(), (int64_t)s.size(), &id), "jdyn_graph_arg " + shape_str(s));
        n_args_++;
        return id;
    }
    int64_t param(const std::string& name, const Shape& s, int64_t init = JDYN_INIT_NORMAL, double init_arg = 1.0) {
        int64_t id = -1;
        check_status(jdyn_graph_param(g_, name.c_str(), s.data(), (int64_t)s.size(), init, init_arg, &id),
                     "jdyn_graph_param " + name + " " + shape_str(s));
        return id;
    }
    int64_t constant(const Vec& data, const Shape& s) {
        REQUIRE((int64_t)data.size() == numel(s, 1));
        int64_t id = -1;
        check_status(jdyn_graph_const(g_, data.data(), s.data(), (int64_t)s.size(), &id),
                     "jdyn_graph_const " + shape_str(s));
        return id;
    }
    int64_t scalar(double v) { return constant({v}, {}); }

    int32_t try_op(int64_t op, const Ids& in, const Ids& ia, const Vec& fa, int64_t* id) {
        return jdyn_graph_op(g_, op, in.data(), (int64_t)in.size(), ia.data(), (int64_t)ia.size(), fa.data(),
                             (int64_t)fa.size(), id);
    }
    int64_t op(int64_t op, const Ids& in, const Ids& ia = {}, const Vec& fa = {}) {
        int64_t id = -1;
        int32_t st = try_op(op, in, ia, fa, &id);
        if (st != JDYN_OK) {
            // The message first: the shape queries below succeed and may clear it.
            const std::string msg = last_error();
            std::string what = std::string("jdyn_graph_op ") + op_name(op) + " on";
            for (int64_t i : in) {
                int64_t rank = -1, dims[4] = {0, 0, 0, 0};
                what += jdyn_graph_shape(g_, i, &rank, dims) == JDYN_OK ? " " + shape_str(read_shape(rank, dims))
                                                                         : " (node " + std::to_string(i) + "?)";
            }
            throw Failure(st, what + " -> status " + std::to_string(st) + ": " + msg);
        }
        return id;
    }

    Shape shape(int64_t id) const {
        int64_t rank = -1, dims[4] = {0, 0, 0, 0};
        check_status(jdyn_graph_shape(g_, id, &rank, dims), "jdyn_graph_shape");
        return read_shape(rank, dims);
    }
    int64_t size() const {
        int64_t n = -1;
        check_status(jdyn_graph_size(g_, &n), "jdyn_graph_size");
        return n;
    }
    int64_t n_args() const { return n_args_; }  // arguments made through this wrapper

    Ids vjp(const Ids& outputs, const Ids& cotangents, const Ids& wrt) {
        REQUIRE(outputs.size() == cotangents.size());
        Ids grads(wrt.size(), -1);
        check_status(jdyn_graph_vjp(g_, outputs.data(), cotangents.data(), (int64_t)outputs.size(), wrt.data(),
                                    (int64_t)wrt.size(), grads.data()),
                     "jdyn_graph_vjp");
        return grads;
    }
    Ids jvp(const Ids& wrt, const Ids& tangents, const Ids& outputs) {
        REQUIRE(wrt.size() == tangents.size());
        Ids res(outputs.size(), -1);
        check_status(jdyn_graph_jvp(g_, wrt.data(), tangents.data(), (int64_t)wrt.size(), outputs.data(),
                                    (int64_t)outputs.size(), res.data()),
                     "jdyn_graph_jvp");
        return res;
    }
    Program finish(const Ids& outputs, int64_t dtype = JDYN_FLOAT64) const {
        jdyn_program* p = nullptr;
        check_status(jdyn_graph_finish(g_, outputs.data(), (int64_t)outputs.size(), dtype, &p), "jdyn_graph_finish");
        return Program(p);
    }

    // Sugar over op().
    int64_t add(int64_t a, int64_t b) { return op(JDYN_OP_ADD, {a, b}); }
    int64_t sub(int64_t a, int64_t b) { return op(JDYN_OP_SUB, {a, b}); }
    int64_t mul(int64_t a, int64_t b) { return op(JDYN_OP_MUL, {a, b}); }
    int64_t div(int64_t a, int64_t b) { return op(JDYN_OP_DIV, {a, b}); }
    int64_t un(int64_t o, int64_t x, const Vec& fa = {}) { return op(o, {x}, {}, fa); }
    int64_t reduce(int64_t o, int64_t x, int64_t axis, int64_t keepdim) { return op(o, {x}, {axis, keepdim}); }
    int64_t sum(int64_t x, int64_t axis, int64_t keepdim = 0) { return reduce(JDYN_OP_SUM, x, axis, keepdim); }
    int64_t linear(int64_t x, int64_t w, int64_t b = -1) {
        return b < 0 ? op(JDYN_OP_LINEAR, {x, w}) : op(JDYN_OP_LINEAR, {x, w, b});
    }
    int64_t matmul(int64_t a, int64_t b, int64_t ta = 0, int64_t tb = 0) { return op(JDYN_OP_MATMUL, {a, b}, {ta, tb}); }
    static Ids shape_attr(const Shape& s) {
        Ids ia{(int64_t)s.size()};
        ia.insert(ia.end(), s.begin(), s.end());
        return ia;
    }
    int64_t reshape(int64_t x, const Shape& s) { return op(JDYN_OP_RESHAPE, {x}, shape_attr(s)); }
    int64_t sum_to(int64_t x, const Shape& s) { return op(JDYN_OP_SUM_TO, {x}, shape_attr(s)); }
    int64_t broadcast_to(int64_t x, const Shape& s) { return op(JDYN_OP_BROADCAST_TO, {x}, shape_attr(s)); }
    int64_t slice(int64_t x, int64_t axis, int64_t start, int64_t stop) {
        return op(JDYN_OP_SLICE, {x}, {axis, start, stop});
    }
    int64_t pad(int64_t x, int64_t axis, int64_t before, int64_t after) {
        return op(JDYN_OP_PAD, {x}, {axis, before, after});
    }
    int64_t concat(const Ids& xs, int64_t axis) { return op(JDYN_OP_CONCAT, xs, {axis}); }
    int64_t transpose(int64_t x) { return op(JDYN_OP_TRANSPOSE, {x}); }
    int64_t basis(int64_t t, int64_t kind, int64_t n, int64_t order, double period = 1.0) {
        return op(JDYN_OP_BASIS, {t}, {kind, n, order}, {period});
    }
    // Sums every axis away (SUM along axis 0, repeatedly): shape [].
    int64_t total(int64_t x) {
        while (!shape(x).empty()) x = sum(x, 0, 0);
        return x;
    }

private:
    jdyn_graph* g_ = nullptr;
    int64_t n_args_ = 0;
};

// ---- comparisons -----------------------------------------------------------------------------------------

// |got - want| <= tol (1 + |want|): relative for large values, absolute for small ones.
inline bool near(double got, double want, double tol) {
    return std::isfinite(got) && std::fabs(got - want) <= tol * (1 + std::fabs(want));
}

// Collects the mismatches of one check and reports the count, the worst one and the first few in one
// CHECK, so a wrong rule fails once, readably.
class Mismatches {
public:
    Mismatches(std::string what, double tol) : what_(std::move(what)), tol_(tol) {}
    void compare(double got, double want, const std::string& where) {
        ++n_;
        if (near(got, want, tol_)) return;
        const double err = std::fabs(got - want) / (1 + std::fabs(want));
        if (bad_ < 4) first_ << "\n    " << where << ": got " << got << ", expected " << want;
        if (!(err <= worst_)) {  // also takes NaN
            worst_ = err;
            worst_at_ = where;
        }
        ++bad_;
    }
    bool ok() const { return bad_ == 0; }
    void report() const {
        std::ostringstream o;
        o.precision(17);
        o << what_ << ": " << bad_ << " of " << n_ << " values off by more than " << tol_
          << " (relative + absolute); worst " << worst_ << " at " << worst_at_ << first_.str();
        CHECK_MESSAGE(bad_ == 0, o.str());
    }

private:
    std::string what_;
    double tol_;
    int64_t n_ = 0, bad_ = 0;
    double worst_ = 0;
    std::string worst_at_;
    std::ostringstream first_;
};

// ---- a graph with its derivatives, checked against central differences -------------------------------

enum class Kind { Arg, Param, Time };

// An input of a checked graph and how its values are drawn: uniform in [lo, hi], or with `away` a
// magnitude in [lo, hi] with a random sign (away from a kink at 0), or by `draw`.
struct Input {
    Kind kind = Kind::Arg;
    Shape shape;
    double lo = -1, hi = 1;
    bool away = false;
    std::function<double(Rng&)> draw;
};

inline Input arg(const Shape& s, double lo = -1, double hi = 1) { return {Kind::Arg, s, lo, hi, false, {}}; }
inline Input arg_away(const Shape& s, double lo, double hi) { return {Kind::Arg, s, lo, hi, true, {}}; }
inline Input arg_drawn(const Shape& s, std::function<double(Rng&)> d) { return {Kind::Arg, s, 0, 0, false, d}; }
inline Input param(const Shape& s, double lo = -1, double hi = 1) { return {Kind::Param, s, lo, hi, false, {}}; }
inline Input param_away(const Shape& s, double lo, double hi) { return {Kind::Param, s, lo, hi, true, {}}; }
inline Input time_in(double lo = 0.5, double hi = 1.5) { return {Kind::Time, {}, lo, hi, false, {}}; }

// The values of every input of a graph: t, the flat parameter buffer (declaration order), and one
// buffer per argument (creation order).
struct Point {
    double t = 0;
    Vec params;
    std::vector<Vec> args;
};

// Central differences, h = 1e-6, compared with tolerance 1e-7 (relative + absolute): for inputs and
// values of order one the truncation error is h^2 |f'''| / 6 ~ 1e-12, and the rounding error of the
// difference quotient is about eps |f| / h ~ 1e-10 per term (eps = 2.2e-16), times the square root of
// the number of terms contracted (at most a few hundred here): well below 1e-8. The tolerance leaves a
// margin of 10-100 over both and is still far below any error a wrong rule makes (a wrong factor,
// sign, transpose or missing term shows as an O(1e-2..1) relative error).
constexpr double kH = 1e-6;
constexpr double kTol = 1e-7;
// <v, J u> = <J^T v, u>: both sides are exact up to rounding, relative to the sum of the magnitudes
// of the terms of the two dot products (so cancellation cannot hide an error or fake one).
constexpr double kDotTol = 1e-12;

inline std::string fmt_index(int64_t e, const Shape& s, int64_t batch) {
    // a flat index as a multi-index, for messages
    std::string r;
    int64_t rem = e;
    std::vector<int64_t> idx(s.size());
    for (size_t i = s.size(); i-- > 0;) {
        const int64_t d = s[i] == -1 ? batch : s[i];
        idx[i] = rem % d;
        rem /= d;
    }
    r = "[";
    for (size_t i = 0; i < idx.size(); ++i) r += (i ? "," : "") + std::to_string(idx[i]);
    return r + "]";
}

class Checked {
public:
    using Builder = std::function<Ids(Graph&, const Ids&)>;

    // Builds the inputs (arguments created in the order given, parameters named p0, p1, ... in the
    // order given), the outputs, then one cotangent argument per output and one tangent argument per
    // input (shaped alike), then the VJP of all outputs wrt all inputs and the JVP of all outputs.
    // Draws the point: inputs per their Input, cotangents and tangents uniform in [-1, 1].
    Checked(std::vector<Input> inputs, const Builder& build, uint64_t seed, int64_t batch = 3)
        : inputs_(std::move(inputs)), batch_(batch), rng_(seed) {
        int64_t n_params = 0, offset = 0;
        for (const auto& in : inputs_) {
            Slot s;
            s.kind = in.kind;
            s.shape = in.shape;
            if (in.kind == Kind::Time) {
                s.id = g.time();
            } else if (in.kind == Kind::Param) {
                s.id = g.param("p" + std::to_string(n_params++), in.shape);
                s.offset = offset;
                offset += numel(in.shape, 1);
            } else {
                s.arg = g.n_args();
                s.id = g.arg(in.shape);
            }
            slots_.push_back(s);
            ids.push_back(s.id);
        }
        outs = build(g, ids);
        for (int64_t o : outs) {
            out_shapes.push_back(g.shape(o));
            ct_arg.push_back(g.n_args());
            cts.push_back(g.arg(out_shapes.back()));
        }
        for (const auto& s : slots_) {
            tan_arg.push_back(g.n_args());
            tans.push_back(g.arg(s.shape));
        }
        grads = g.vjp(outs, cts, ids);
        jvps = g.jvp(ids, tans, outs);

        // The point.
        point.params.assign((size_t)offset, 0.0);
        point.args.resize((size_t)g.n_args());
        for (size_t k = 0; k < slots_.size(); ++k) {
            const Input& in = inputs_[k];
            const int64_t n = numel(in.shape, batch_);
            if (slots_[k].kind == Kind::Arg) point.args[(size_t)slots_[k].arg].resize((size_t)n);
            for (int64_t e = 0; e < n; ++e) {
                double v = in.draw ? in.draw(rng_) : in.away ? rng_.away(in.lo, in.hi) : rng_.uniform(in.lo, in.hi);
                at(point, k, e) = v;
            }
        }
        for (size_t o = 0; o < outs.size(); ++o)
            point.args[(size_t)ct_arg[o]] = rng_.vec(numel(out_shapes[o], batch_), -1, 1);
        for (size_t k = 0; k < slots_.size(); ++k)
            point.args[(size_t)tan_arg[k]] = rng_.vec(numel(slots_[k].shape, batch_), -1, 1);
    }

    int64_t batch() const { return batch_; }
    size_t n_inputs() const { return slots_.size(); }
    const Shape& input_shape(size_t k) const { return slots_[k].shape; }
    int64_t input_numel(size_t k) const { return numel(slots_[k].shape, batch_); }
    Rng& rng() { return rng_; }

    // The value of element e of input k at a point.
    double& at(Point& p, size_t k, int64_t e) const {
        const Slot& s = slots_[k];
        if (s.kind == Kind::Time) return p.t;
        if (s.kind == Kind::Param) return p.params[(size_t)(s.offset + e)];
        return p.args[(size_t)s.arg][(size_t)e];
    }
    double get(const Point& p, size_t k, int64_t e) const {
        const Slot& s = slots_[k];
        if (s.kind == Kind::Time) return p.t;
        if (s.kind == Kind::Param) return p.params[(size_t)(s.offset + e)];
        return p.args[(size_t)s.arg][(size_t)e];
    }
    Vec value(const Point& p, size_t k) const {
        Vec v((size_t)input_numel(k));
        for (int64_t e = 0; e < input_numel(k); ++e) v[(size_t)e] = get(p, k, e);
        return v;
    }
    Kind input_kind(size_t k) const { return slots_[k].kind; }

    // One more argument, not differentiated (weights of a contraction, say), its values drawn
    // uniform in [-1, 1] into the point.
    int64_t extra_arg(const Shape& s) {
        const int64_t index = g.n_args();
        const int64_t id = g.arg(s);
        point.args.resize((size_t)g.n_args());
        point.args[(size_t)index] = rng_.vec(numel(s, batch_), -1, 1);
        extra_index_[id] = index;
        return id;
    }
    const Vec& extra_value(int64_t id) const { return point.args[(size_t)extra_index_.at(id)]; }
    Vec tangent(size_t k) const { return point.args[(size_t)tan_arg[k]]; }
    Vec cotangent(size_t o) const { return point.args[(size_t)ct_arg[o]]; }

    std::vector<Vec> eval(const Program& p, const Point& x) const { return p.run(x.params, x.t, x.args, batch_); }

    // Central differences of sum_o <w_o, P_o(x)> wrt every element of input k.
    Vec fd_grad(const Program& p, const std::vector<Vec>& w, size_t k, double h = kH) const {
        Vec r((size_t)input_numel(k));
        for (int64_t e = 0; e < input_numel(k); ++e) {
            Point xp = point, xm = point;
            at(xp, k, e) += h;
            at(xm, k, e) -= h;
            const auto fp = eval(p, xp), fm = eval(p, xm);
            double s = 0;
            for (size_t o = 0; o < w.size(); ++o)
                for (size_t i = 0; i < w[o].size(); ++i) s += w[o][i] * (fp[o][i] - fm[o][i]);
            r[(size_t)e] = s / (2 * h);
        }
        return r;
    }
    // Central differences of P along the tangents: (P(x + h u) - P(x - h u)) / 2h.
    // `only`: perturb only the inputs marked (all when empty).
    std::vector<Vec> fd_dir(const Program& p, const std::vector<bool>& only = {}, double h = kH) const {
        Point xp = point, xm = point;
        for (size_t k = 0; k < slots_.size(); ++k) {
            if (!only.empty() && !only[k]) continue;
            const Vec u = tangent(k);
            for (int64_t e = 0; e < input_numel(k); ++e) {
                at(xp, k, e) += h * u[(size_t)e];
                at(xm, k, e) -= h * u[(size_t)e];
            }
        }
        auto fp = eval(p, xp);
        const auto fm = eval(p, xm);
        for (size_t o = 0; o < fp.size(); ++o)
            for (size_t i = 0; i < fp[o].size(); ++i) fp[o][i] = (fp[o][i] - fm[o][i]) / (2 * h);
        return fp;
    }

    std::string input_name(size_t k) const {
        const Slot& s = slots_[k];
        std::string kind = s.kind == Kind::Time ? "t" : s.kind == Kind::Param ? "param" : "arg";
        return "input " + std::to_string(k) + " (" + kind + " " + shape_str(s.shape) + ")";
    }

    // The reverse-mode program `grads_prog` (one output per input, the gradient of sum_o <w_o, P_o>)
    // against central differences of `prog` contracted with w.
    void check_grads(const Program& prog, const std::vector<Vec>& w, const Program& grads_prog,
                     const std::string& what, double tol = kTol) const {
        const auto grad = eval(grads_prog, point);
        REQUIRE(grad.size() == slots_.size());
        Mismatches m(what + " vs central differences", tol);
        for (size_t k = 0; k < slots_.size(); ++k) {
            REQUIRE_MESSAGE((int64_t)grad[k].size() == input_numel(k), input_name(k), ": gradient of the wrong size");
            const Vec fd = fd_grad(prog, w, k);
            for (int64_t e = 0; e < input_numel(k); ++e)
                m.compare(grad[k][(size_t)e], fd[(size_t)e], input_name(k) + fmt_index(e, slots_[k].shape, batch_));
        }
        m.report();
    }
    // The forward-mode program `dir_prog` (P's outputs differentiated along the tangents) against
    // central differences of `prog` along the tangents.
    void check_dir(const Program& prog, const Program& dir_prog, const std::string& what, double tol = kTol,
                   const std::vector<bool>& only = {}) const {
        const auto got = eval(dir_prog, point);
        const auto fd = fd_dir(prog, only);
        REQUIRE(got.size() == fd.size());
        Mismatches m(what + " vs central differences", tol);
        for (size_t o = 0; o < fd.size(); ++o) {
            REQUIRE_MESSAGE(got[o].size() == fd[o].size(), "output ", o, ": wrong size");
            for (size_t i = 0; i < fd[o].size(); ++i)
                m.compare(got[o][i], fd[o][i], "output " + std::to_string(o) + " element " + std::to_string(i));
        }
        m.report();
    }

    // VJP and JVP against central differences, and <v, J u> = <J^T v, u>.
    void check_first_order() {
        const Program f = g.finish(outs), v = g.finish(grads), j = g.finish(jvps);
        std::vector<Vec> w;
        for (size_t o = 0; o < outs.size(); ++o) w.push_back(cotangent(o));
        check_grads(f, w, v, "VJP");
        check_dir(f, j, "JVP");
        check_dot(v, j);
    }
    void check_dot(const Program& vjp_prog, const Program& jvp_prog) const {
        const auto jt_v = eval(vjp_prog, point), j_u = eval(jvp_prog, point);
        double a = 0, b = 0, sa = 0, sb = 0;
        for (size_t o = 0; o < outs.size(); ++o) {
            const Vec v = cotangent(o);
            for (size_t i = 0; i < v.size(); ++i) {
                a += v[i] * j_u[o][i];
                sa += std::fabs(v[i] * j_u[o][i]);
            }
        }
        for (size_t k = 0; k < slots_.size(); ++k) {
            const Vec u = tangent(k);
            for (size_t i = 0; i < u.size(); ++i) {
                b += jt_v[k][i] * u[i];
                sb += std::fabs(jt_v[k][i] * u[i]);
            }
        }
        INFO("<v, J u> = ", a, ", <J^T v, u> = ", b);
        CHECK(std::isfinite(a));
        CHECK(std::fabs(a - b) <= kDotTol * std::max({sa, sb, 1e-300}));
    }

    Graph g;
    Ids ids, outs, cts, tans, grads, jvps;
    std::vector<Shape> out_shapes;
    std::vector<int64_t> ct_arg, tan_arg;  // argument index of each cotangent / tangent
    Point point;

private:
    struct Slot {
        Kind kind;
        Shape shape;
        int64_t id = -1, arg = -1, offset = 0;
    };
    std::vector<Input> inputs_;
    std::vector<Slot> slots_;
    std::map<int64_t, int64_t> extra_index_;
    int64_t batch_;
    Rng rng_;
};

}  // namespace gt
