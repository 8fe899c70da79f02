// Validation of ButcherTableau and the two helpers that build dense-output polynomials.
#include "tableau.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace jdyn {
namespace {

constexpr double kTol = 1e-12;  // relative to the magnitude of the terms involved

// A sum that also tracks the magnitude of its terms, so equality can be judged relative to them.
struct Sum {
    double value = 0.0;
    double scale = 0.0;
    void add(double x) {
        value += x;
        scale += std::abs(x);
    }
};

bool near(double value, double target, double scale = 0.0) {
    const double s = std::max({1.0, scale, std::abs(target)});
    return std::abs(value - target) <= kTol * s;
}

[[noreturn]] void fail(const ButcherTableau& t, const std::string& what) {
    throw std::invalid_argument("ButcherTableau '" + t.name + "': " + what);
}

std::string num(double x) {
    std::ostringstream os;
    os.precision(17);
    os << x;
    return os.str();
}

void check_finite(const ButcherTableau& t, const std::vector<double>& v, const std::string& what) {
    for (std::size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i])) fail(t, what + "[" + std::to_string(i) + "] is not finite");
}

Sum sum_of(const std::vector<double>& v) {
    Sum s;
    for (double x : v) s.add(x);
    return s;
}

// Last stage is f(t1, y1): c_s = 1, a_s = b_1..b_{s-1}, b_s = 0. Tolerant of malformed shapes.
bool is_fsal(const ButcherTableau& t) {
    const std::size_t s = t.c.size();
    if (s < 2 || t.a.size() != s || t.b.size() != s || t.a[s - 1].size() != s - 1) return false;
    if (!near(t.c[s - 1], 1.0) || !near(t.b[s - 1], 0.0)) return false;
    for (std::size_t j = 0; j + 1 < s; ++j)
        if (!near(t.a[s - 1][j], t.b[j])) return false;
    return true;
}

// Polynomial helpers: coefficient vectors, index = power of theta.
using Poly = std::vector<double>;

Poly mul(const Poly& p, const Poly& q) {
    Poly r(p.size() + q.size() - 1, 0.0);
    for (std::size_t i = 0; i < p.size(); ++i)
        for (std::size_t j = 0; j < q.size(); ++j) r[i + j] += p[i] * q[j];
    return r;
}

}  // namespace

ButcherTableau finalize(ButcherTableau t) {
    if (t.name.empty()) t.name = "<unnamed>";
    if (t.order < 1) fail(t, "order must be >= 1, got " + std::to_string(t.order));
    if (t.error_order < 0) fail(t, "error_order must be >= 0, got " + std::to_string(t.error_order));

    // Shapes of the main tableau.
    const std::size_t s = t.c.size();
    if (s == 0) fail(t, "c is empty (no stages)");
    if (t.a.size() != s)
        fail(t, "a has " + std::to_string(t.a.size()) + " rows but c has " + std::to_string(s) + " nodes");
    for (std::size_t i = 0; i < s; ++i)
        if (t.a[i].size() != i)
            fail(t, "a[" + std::to_string(i) + "] has " + std::to_string(t.a[i].size()) +
                        " entries, expected " + std::to_string(i) + " (explicit, strictly lower)");
    if (t.b.size() != s)
        fail(t, "b has " + std::to_string(t.b.size()) + " weights but there are " + std::to_string(s) + " stages");

    check_finite(t, t.c, "c");
    check_finite(t, t.b, "b");
    for (std::size_t i = 0; i < s; ++i) check_finite(t, t.a[i], "a[" + std::to_string(i) + "]");

    // Consistency: rows of a sum to c, b sums to 1.
    for (std::size_t i = 0; i < s; ++i) {
        const Sum r = sum_of(t.a[i]);
        if (!near(r.value, t.c[i], r.scale))
            fail(t, "a[" + std::to_string(i) + "] sums to " + num(r.value) + " but c[" + std::to_string(i) +
                        "] = " + num(t.c[i]));
    }
    {
        const Sum r = sum_of(t.b);
        if (!near(r.value, 1.0, r.scale)) fail(t, "b sums to " + num(r.value) + ", not 1");
    }

    // Error weights.
    if (t.error_order == 0) {
        if (!t.b_error.empty()) fail(t, "b_error is set but error_order is 0");
        if (!t.b_error3.empty()) fail(t, "b_error3 is set but error_order is 0");
    } else {
        if (t.b_error.size() != s)
            fail(t, "b_error has " + std::to_string(t.b_error.size()) + " weights but there are " +
                        std::to_string(s) + " stages");
        check_finite(t, t.b_error, "b_error");
        const Sum r = sum_of(t.b_error);
        if (!near(r.value, 0.0, r.scale)) fail(t, "b_error sums to " + num(r.value) + ", not 0");
        if (r.scale == 0.0) fail(t, "b_error is all zero (no error estimate)");
        if (!t.b_error3.empty()) {
            if (t.b_error3.size() != s)
                fail(t, "b_error3 has " + std::to_string(t.b_error3.size()) + " weights but there are " +
                            std::to_string(s) + " stages");
            check_finite(t, t.b_error3, "b_error3");
            const Sum r3 = sum_of(t.b_error3);
            if (!near(r3.value, 0.0, r3.scale)) fail(t, "b_error3 sums to " + num(r3.value) + ", not 0");
        }
    }

    // Dense output: extra stages.
    const std::size_t extra = t.dense_c.size();
    if (t.dense_a.size() != extra)
        fail(t, "dense_a has " + std::to_string(t.dense_a.size()) + " rows but dense_c has " +
                    std::to_string(extra) + " nodes");
    check_finite(t, t.dense_c, "dense_c");
    for (std::size_t j = 0; j < extra; ++j) {
        const std::string row = "dense_a[" + std::to_string(j) + "]";
        if (t.dense_a[j].size() != s + j)
            fail(t, row + " has " + std::to_string(t.dense_a[j].size()) + " entries, expected " +
                        std::to_string(s + j));
        check_finite(t, t.dense_a[j], row);
        const Sum r = sum_of(t.dense_a[j]);
        if (!near(r.value, t.dense_c[j], r.scale))
            fail(t, row + " sums to " + num(r.value) + " but dense_c[" + std::to_string(j) + "] = " +
                        num(t.dense_c[j]));
    }

    // Dense output: the interpolant polynomial.
    std::size_t degree = 0;
    if (t.dense_p.empty()) {
        if (extra != 0) fail(t, "dense_c has extra stages but dense_p is empty");
    } else {
        if (t.dense_p.size() != s + extra)
            fail(t, "dense_p has " + std::to_string(t.dense_p.size()) + " rows, expected " +
                        std::to_string(s + extra) + " (stages + extra stages)");
        degree = t.dense_p[0].size();
        if (degree == 0) fail(t, "dense_p rows are empty (degree 0)");
        for (std::size_t i = 0; i < t.dense_p.size(); ++i) {
            const std::string row = "dense_p[" + std::to_string(i) + "]";
            if (t.dense_p[i].size() != degree)
                fail(t, row + " has " + std::to_string(t.dense_p[i].size()) + " coefficients, expected " +
                            std::to_string(degree) + " like dense_p[0]");
            check_finite(t, t.dense_p[i], row);
            const double target = i < s ? t.b[i] : 0.0;
            const Sum r = sum_of(t.dense_p[i]);
            if (!near(r.value, target, r.scale))
                fail(t, row + " sums to " + num(r.value) + ", so the interpolant does not reproduce y1 at "
                            "theta = 1 (expected " + (i < s ? "b[" + std::to_string(i) + "] = " : "0 for an extra stage = ") +
                            num(target) + ")");
        }
    }

    // Derived fields.
    t.stages = static_cast<int>(s);
    t.degree = static_cast<int>(degree);
    t.fsal = is_fsal(t);
    t.extra_is_f1 = false;
    if (extra > 0 && near(t.dense_c[0], 1.0)) {
        bool same = true;
        for (std::size_t j = 0; j < s && same; ++j) same = near(t.dense_a[0][j], t.b[j]);
        t.extra_is_f1 = same;
    }
    return t;
}

void add_hermite_dense(ButcherTableau& t) {
    if (!t.dense_p.empty() || !t.dense_c.empty() || !t.dense_a.empty())
        fail(t, "add_hermite_dense: the tableau already has dense output");
    const std::size_t s = t.b.size();
    if (s == 0 || t.c.size() != s) fail(t, "add_hermite_dense: b and c must be set (same length) first");

    // y(theta) = y0 + h [ (theta - 2 theta^2 + theta^3) f0 + (3 theta^2 - 2 theta^3) sum b_i k_i
    //                    + (theta^3 - theta^2) f1 ],   coefficients of theta^1..theta^3.
    const double h00[3] = {1.0, -2.0, 1.0};   // f0
    const double h01[3] = {0.0, 3.0, -2.0};   // (y1 - y0) / h
    const double h11[3] = {0.0, -1.0, 1.0};   // f1

    std::size_t f1 = s - 1;
    std::size_t rows = s;
    if (!is_fsal(t)) {
        t.dense_c = {1.0};
        t.dense_a = {t.b};
        f1 = s;
        rows = s + 1;
    }
    t.dense_p.assign(rows, std::vector<double>(3, 0.0));
    for (std::size_t i = 0; i < s; ++i)
        for (int p = 0; p < 3; ++p) t.dense_p[i][p] += t.b[i] * h01[p];
    for (int p = 0; p < 3; ++p) {
        t.dense_p[0][p] += h00[p];
        t.dense_p[f1][p] += h11[p];
    }
}

void set_nested_dense(ButcherTableau& t, const std::vector<std::vector<double>>& rcoef) {
    if (!t.dense_p.empty()) fail(t, "set_nested_dense: the tableau already has dense_p");
    if (rcoef.empty()) fail(t, "set_nested_dense: no r coefficients");
    const std::size_t n = t.c.size() + t.dense_c.size();
    for (std::size_t j = 0; j < rcoef.size(); ++j)
        if (rcoef[j].size() != n)
            fail(t, "set_nested_dense: r" + std::to_string(j + 2) + " has " + std::to_string(rcoef[j].size()) +
                        " coefficients, expected " + std::to_string(n) + " (stages + extra stages)");

    // Multiplier of r_{j+2}: theta for j = 0, then alternately times (1 - theta) and theta.
    const std::size_t m = rcoef.size();
    const Poly theta = {0.0, 1.0};
    const Poly one_minus = {1.0, -1.0};
    std::vector<Poly> mult;
    mult.push_back(theta);
    for (std::size_t j = 1; j < m; ++j) mult.push_back(mul(mult.back(), (j % 2 == 1) ? one_minus : theta));

    // Degree of the result is m; dense_p[i][p-1] is the coefficient of theta^p.
    t.dense_p.assign(n, std::vector<double>(m, 0.0));
    for (std::size_t j = 0; j < m; ++j)
        for (std::size_t p = 1; p < mult[j].size(); ++p)
            for (std::size_t i = 0; i < n; ++i) t.dense_p[i][p - 1] += rcoef[j][i] * mult[j][p];
}

}  // namespace jdyn
