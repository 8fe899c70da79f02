// Tests of the Butcher tableaus: validation, derived fields, order conditions (rooted trees), the
// dense-output polynomials, and an empirical convergence check with a throwaway fixed-step loop.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tableau.h"

using jdyn::ButcherTableau;

namespace {

struct Method {
    const char* name;
    const ButcherTableau& (*get)();
    int order;
    int error_order;
    int stages;
    bool fsal;
    int degree;
    int extra;        // number of extra dense stages
    bool extra_is_f1;
    int interp_order; // order of the interpolant (all rooted trees up to it)
    int embedded_order;  // verified order of b - b_error (0 = none)
};

const std::vector<Method>& methods() {
    static const std::vector<Method> m = {
        {"euler", jdyn::euler, 1, 0, 1, false, 3, 1, true, 1, 0},
        {"midpoint", jdyn::midpoint, 2, 0, 2, false, 3, 1, true, 2, 0},
        {"heun", jdyn::heun, 2, 1, 2, false, 3, 1, true, 2, 1},
        {"rk4", jdyn::rk4, 4, 0, 4, false, 3, 1, true, 3, 0},
        {"rk4_38", jdyn::rk4_38, 4, 0, 4, false, 3, 1, true, 3, 0},
        {"bosh3", jdyn::bosh3, 3, 2, 4, true, 3, 0, false, 3, 2},
        {"dopri5", jdyn::dopri5, 5, 4, 7, true, 4, 0, false, 4, 4},
        {"tsit5", jdyn::tsit5, 5, 4, 7, true, 4, 0, false, 4, 4},
        // DOP853's b - ER is a 5th-order formula; error_order 7 is the controller's exponent.
        {"dopri8", jdyn::dopri8, 8, 7, 13, true, 7, 3, false, 7, 5},
    };
    return m;
}

std::string message_of(const ButcherTableau& t) {
    try {
        jdyn::finalize(t);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "<no exception>";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---------------------------------------------------------------------------------------------
// Rooted trees: a tree is a multiset of child trees (indices into the list, non-decreasing).
struct Tree {
    int order;
    std::vector<int> children;
    double gamma;  // density
};

std::vector<Tree> trees_up_to(int pmax) {
    std::vector<Tree> trees;
    if (pmax < 1) return trees;
    trees.push_back({1, {}, 1.0});
    for (int n = 2; n <= pmax; ++n) {
        const std::size_t known = trees.size();  // every tree of order < n
        std::vector<int> cur;
        std::function<void(std::size_t, int)> gen = [&](std::size_t start, int remaining) {
            if (remaining == 0) {
                double g = n;
                for (int ch : cur) g *= trees[ch].gamma;
                trees.push_back({n, cur, g});
                return;
            }
            for (std::size_t k = start; k < known; ++k) {
                if (trees[k].order > remaining) continue;
                cur.push_back(static_cast<int>(k));
                gen(k, remaining - trees[k].order);
                cur.pop_back();
            }
        };
        gen(0, n - 1);
    }
    return trees;
}

// The full (lower-triangular) coefficient matrix over main and extra stages, with its nodes.
struct Stages {
    std::vector<std::vector<double>> a;
    std::vector<double> c;
};

Stages all_stages(const ButcherTableau& t) {
    Stages st;
    st.a = t.a;
    st.c = t.c;
    for (std::size_t j = 0; j < t.dense_c.size(); ++j) {
        st.a.push_back(t.dense_a[j]);
        st.c.push_back(t.dense_c[j]);
    }
    return st;
}

// For every tree t, g[t][i] = prod over children u of (sum_j a_ij g[u][j]); the elementary weight of
// t for weights w is sum_i w_i g[t][i].
std::vector<std::vector<double>> stage_weights(const Stages& st, const std::vector<Tree>& trees) {
    const std::size_t n = st.c.size();
    std::vector<std::vector<double>> g(trees.size()), ag(trees.size());
    for (std::size_t t = 0; t < trees.size(); ++t) {
        g[t].assign(n, 1.0);
        for (int ch : trees[t].children)
            for (std::size_t i = 0; i < n; ++i) g[t][i] *= ag[ch][i];
        ag[t].assign(n, 0.0);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < st.a[i].size(); ++j) ag[t][i] += st.a[i][j] * g[t][j];
    }
    return g;
}

// Largest scaled residual |Phi(t) - 1/gamma(t)| / max(1, sum |w_i g_i|) over trees of order <= p.
double order_residual(const ButcherTableau& tab, const std::vector<double>& w, int p, std::string* worst = nullptr) {
    const auto trees = trees_up_to(p);
    const auto g = stage_weights(all_stages(tab), trees);
    double res = 0.0;
    for (std::size_t t = 0; t < trees.size(); ++t) {
        double phi = 0.0, scale = 0.0;
        for (std::size_t i = 0; i < w.size(); ++i) {
            phi += w[i] * g[t][i];
            scale += std::abs(w[i] * g[t][i]);
        }
        const double r = std::abs(phi - 1.0 / trees[t].gamma) / std::max(1.0, scale);
        if (r > res) {
            res = r;
            if (worst) *worst = "tree #" + std::to_string(t) + " (order " + std::to_string(trees[t].order) + ")";
        }
    }
    return res;
}

std::vector<double> minus(const std::vector<double>& x, const std::vector<double>& y) {
    std::vector<double> r(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) r[i] = x[i] - y[i];
    return r;
}

// Interpolant conditions coefficient-wise: sum_i dense_p[i][q-1] g_t[i] = [q == |t|] / gamma(t) for
// q = 1..degree, over trees of order <= p (bushy_only: only the trees c^{k-1}). Returns the scaled
// worst residual.
double interp_residual(const ButcherTableau& tab, int p, bool bushy_only) {
    const auto trees = trees_up_to(p);
    const auto g = stage_weights(all_stages(tab), trees);
    double res = 0.0;
    for (std::size_t t = 0; t < trees.size(); ++t) {
        if (bushy_only) {
            bool bushy = true;
            for (int ch : trees[t].children) bushy = bushy && ch == 0;
            if (!bushy) continue;
        }
        for (int q = 1; q <= tab.degree; ++q) {
            double phi = 0.0, scale = 0.0;
            for (std::size_t i = 0; i < tab.dense_p.size(); ++i) {
                phi += tab.dense_p[i][q - 1] * g[t][i];
                scale += std::abs(tab.dense_p[i][q - 1] * g[t][i]);
            }
            const double target = q == trees[t].order ? 1.0 / trees[t].gamma : 0.0;
            res = std::max(res, std::abs(phi - target) / std::max(1.0, scale));
        }
    }
    return res;
}

// ---------------------------------------------------------------------------------------------
// A throwaway fixed-step integrator for a forced pendulum, y1' = y2, y2' = -sin(y1) + 0.3 cos(t):
// nonlinear and non-autonomous, so neither linear-only nor autonomous-only order shows through.
using Vec2 = std::array<double, 2>;

Vec2 rhs(double t, const Vec2& y) { return {y[1], -std::sin(y[0]) + 0.3 * std::cos(t)}; }

Vec2 integrate(const ButcherTableau& tab, const std::vector<double>& w, int steps, double T) {
    const std::size_t s = tab.c.size();
    Vec2 y = {1.0, 0.5};
    const double h = T / steps;
    std::vector<Vec2> k(s);
    for (int n = 0; n < steps; ++n) {
        const double t0 = n * h;
        for (std::size_t i = 0; i < s; ++i) {
            Vec2 yi = y;
            for (std::size_t j = 0; j < i; ++j)
                for (int d = 0; d < 2; ++d) yi[d] += h * tab.a[i][j] * k[j][d];
            k[i] = rhs(t0 + tab.c[i] * h, yi);
        }
        for (std::size_t i = 0; i < s; ++i)
            for (int d = 0; d < 2; ++d) y[d] += h * w[i] * k[i][d];
    }
    return y;
}

double dist(const Vec2& x, const Vec2& y) { return std::max(std::abs(x[0] - y[0]), std::abs(x[1] - y[1])); }

// Self-convergence slope from N, 2N, 4N steps: log2(|y_N - y_2N| / |y_2N - y_4N|).
double empirical_order(const ButcherTableau& tab, const std::vector<double>& w, int n) {
    const double T = 2.0;
    const Vec2 y1 = integrate(tab, w, n, T), y2 = integrate(tab, w, 2 * n, T), y4 = integrate(tab, w, 4 * n, T);
    return std::log2(dist(y1, y2) / dist(y2, y4));
}

// Base step counts chosen so the finest difference stays well above roundoff.
int base_steps(int order) {
    switch (order) {
        case 1: return 200;
        case 2: return 100;
        case 3: return 50;
        case 4: return 25;
        case 5: return 64;
        default: return 6;
    }
}

}  // namespace

// =============================================================================================

TEST_CASE("every method finalizes with the expected derived fields") {
    for (const Method& m : methods()) {
        const std::string name = m.name;
        CAPTURE(name);
        const ButcherTableau* t = nullptr;
        REQUIRE_NOTHROW(t = &m.get());
        CHECK(t->name == m.name);
        CHECK(t->order == m.order);
        CHECK(t->error_order == m.error_order);
        CHECK(t->stages == m.stages);
        CHECK(t->c.size() == static_cast<std::size_t>(m.stages));
        CHECK(t->fsal == m.fsal);
        CHECK(t->degree == m.degree);
        CHECK(t->dense_c.size() == static_cast<std::size_t>(m.extra));
        CHECK(t->extra_is_f1 == m.extra_is_f1);
        CHECK(t->dense_p.size() == static_cast<std::size_t>(m.stages + m.extra));
        CHECK(t->b_error.size() == (m.error_order ? static_cast<std::size_t>(m.stages) : 0u));
        CHECK(t->b_error3.size() == (std::string(m.name) == "dopri8" ? 13u : 0u));
        // finalize is idempotent.
        const ButcherTableau again = jdyn::finalize(*t);
        CHECK(again.stages == t->stages);
        CHECK(again.fsal == t->fsal);
        CHECK(again.degree == t->degree);
        CHECK(again.extra_is_f1 == t->extra_is_f1);
        // The same object each call (built once).
        CHECK(&m.get() == t);
    }
}

TEST_CASE("finalize rejects broken tableaus, naming the method and the defect") {
    SUBCASE("a row not summing to c") {
        ButcherTableau t = jdyn::rk4();
        t.a[2][1] += 0.1;
        const std::string msg = message_of(t);
        CHECK(contains(msg, "rk4"));
        CHECK(contains(msg, "a[2] sums to"));
        CHECK(contains(msg, "c[2]"));
    }
    SUBCASE("b not summing to 1") {
        ButcherTableau t = jdyn::rk4_38();
        t.b[0] += 0.01;
        const std::string msg = message_of(t);
        CHECK(contains(msg, "rk4_38"));
        CHECK(contains(msg, "b sums to"));
    }
    SUBCASE("error weights not summing to 0") {
        ButcherTableau t = jdyn::dopri5();
        t.b_error[2] += 1e-6;
        const std::string msg = message_of(t);
        CHECK(contains(msg, "dopri5"));
        CHECK(contains(msg, "b_error sums to"));
    }
    SUBCASE("third-order error weights not summing to 0") {
        ButcherTableau t = jdyn::dopri8();
        t.b_error3[0] += 1e-6;
        CHECK(contains(message_of(t), "b_error3 sums to"));
    }
    SUBCASE("interpolant not reproducing b") {
        ButcherTableau t = jdyn::tsit5();
        t.dense_p[3][1] += 1e-6;
        const std::string msg = message_of(t);
        CHECK(contains(msg, "tsit5"));
        CHECK(contains(msg, "dense_p[3] sums to"));
        CHECK(contains(msg, "reproduce y1"));
    }
    SUBCASE("interpolant extra stage row not summing to 0") {
        ButcherTableau t = jdyn::dopri8();
        t.dense_p[14][3] += 1e-3;
        CHECK(contains(message_of(t), "dense_p[14] sums to"));
    }
    SUBCASE("extra stage row not summing to its node") {
        ButcherTableau t = jdyn::dopri8();
        t.dense_a[1][0] += 1e-3;
        CHECK(contains(message_of(t), "dense_a[1] sums to"));
    }
    SUBCASE("shape defects") {
        ButcherTableau t = jdyn::rk4();
        t.a[3].push_back(0.0);
        CHECK(contains(message_of(t), "a[3] has 4 entries"));
        t = jdyn::rk4();
        t.b.pop_back();
        CHECK(contains(message_of(t), "b has 3 weights"));
        t = jdyn::heun();
        t.b_error.push_back(0.0);
        CHECK(contains(message_of(t), "b_error has 3 weights"));
        t = jdyn::rk4();
        t.b_error = {0.1, -0.1, 0.0, 0.0};
        CHECK(contains(message_of(t), "error_order is 0"));
        t = jdyn::dopri5();
        t.dense_p[4].push_back(0.0);
        CHECK(contains(message_of(t), "dense_p[4] has 5 coefficients"));
        t = jdyn::euler();
        t.dense_a[0].push_back(0.0);
        CHECK(contains(message_of(t), "dense_a[0] has 2 entries"));
        t = jdyn::euler();
        t.dense_p.pop_back();
        CHECK(contains(message_of(t), "dense_p has 1 rows"));
        t = jdyn::bosh3();
        t.b_error.assign(4, 0.0);
        CHECK(contains(message_of(t), "all zero"));
        t = jdyn::euler();
        t.c[0] = std::nan("");
        CHECK(contains(message_of(t), "not finite"));
    }
}

TEST_CASE("rooted trees are enumerated correctly") {
    const auto trees = trees_up_to(8);
    const int expected[] = {0, 1, 1, 2, 4, 9, 20, 48, 115};
    for (int p = 1; p <= 8; ++p) {
        const auto n = std::count_if(trees.begin(), trees.end(), [p](const Tree& t) { return t.order == p; });
        CHECK(n == expected[p]);
    }
}

TEST_CASE("b satisfies the order conditions up to min(order, 5)") {
    for (const Method& m : methods()) {
        const std::string name = m.name;
        CAPTURE(name);
        const ButcherTableau& t = m.get();
        std::string worst;
        const double r = order_residual(t, t.b, std::min(t.order, 5), &worst);
        CAPTURE(worst);
        CHECK(r < 1e-12);
        // ...and fails at order + 1 (the order is not understated).
        CHECK(order_residual(t, t.b, t.order + 1) > 1e-6);
    }
}

TEST_CASE("dopri8's b satisfies all 200 order conditions up to order 8") {
    const ButcherTableau& t = jdyn::dopri8();
    std::string worst;
    const double r = order_residual(t, t.b, 8, &worst);
    CAPTURE(worst);
    CHECK(r < 1e-12);
}

TEST_CASE("embedded weights b - b_error satisfy the order conditions of the embedded order") {
    for (const Method& m : methods()) {
        if (m.error_order == 0) continue;
        const std::string name = m.name;
        CAPTURE(name);
        const ButcherTableau& t = m.get();
        const std::vector<double> b_hat = minus(t.b, t.b_error);
        const int p = std::min(t.error_order, 5);
        CHECK(p <= m.embedded_order);
        std::string worst;
        const double r = order_residual(t, b_hat, p, &worst);
        CAPTURE(worst);
        CHECK(r < 1e-12);
        CHECK(order_residual(t, b_hat, m.embedded_order + 1) > 1e-6);
    }
    // DOP853's third-order estimate: bhh = b - b_error3.
    const ButcherTableau& t = jdyn::dopri8();
    const std::vector<double> bhh = minus(t.b, t.b_error3);
    CHECK(order_residual(t, bhh, 3) < 1e-12);
    CHECK(order_residual(t, bhh, 4) > 1e-6);
}

TEST_CASE("interpolant: reproduces y1, and its derivative picks f0 at theta = 0 and f1 at theta = 1") {
    for (const Method& m : methods()) {
        const std::string name = m.name;
        CAPTURE(name);
        const ButcherTableau& t = m.get();
        const std::size_t s = t.c.size();
        REQUIRE(t.fsal != t.extra_is_f1);  // every method here has f(t1, y1) one way or the other
        const std::size_t f1 = t.fsal ? s - 1 : s;
        for (std::size_t i = 0; i < t.dense_p.size(); ++i) {
            CAPTURE(i);
            double sum = 0.0, d1 = 0.0;
            for (int p = 1; p <= t.degree; ++p) {
                sum += t.dense_p[i][p - 1];
                d1 += p * t.dense_p[i][p - 1];
            }
            CHECK(sum == doctest::Approx(i < s ? t.b[i] : 0.0).epsilon(1e-12).scale(1.0));
            CHECK(t.dense_p[i][0] == doctest::Approx(i == 0 ? 1.0 : 0.0).epsilon(1e-12).scale(1.0));
            CHECK(d1 == doctest::Approx(i == f1 ? 1.0 : 0.0).epsilon(1e-11).scale(1.0));
        }
    }
}

TEST_CASE("interpolant order: bushy-tree conditions sum_i b_i(theta) c_i^(k-1) = theta^k / k") {
    struct Case { const char* name; int kmax; };
    for (const Case& c : {Case{"dopri5", 4}, Case{"tsit5", 4}, Case{"dopri8", 7}}) {
        const std::string name = c.name;
        CAPTURE(name);
        const Method& m = *std::find_if(methods().begin(), methods().end(),
                                         [&](const Method& x) { return std::string(x.name) == c.name; });
        const ButcherTableau& t = m.get();
        CHECK(interp_residual(t, c.kmax, true) < 1e-12);
        CHECK(interp_residual(t, c.kmax + 1, true) > 1e-6);
    }
}

TEST_CASE("interpolant order: all rooted-tree conditions up to the interpolant's order") {
    // Hermite methods: cubic Hermite on (y0, f0, y1, f1) has order min(order, 3). DOP853's 115+
    // trees of order <= 7 through 16 stages with coefficients in the hundreds leave a rounding
    // residual near 4e-13, hence the looser bound.
    for (const Method& m : methods()) {
        const std::string name = m.name;
        CAPTURE(name);
        const double tol = name == "dopri8" ? 1e-11 : 1e-12;
        CHECK(interp_residual(m.get(), m.interp_order, false) < tol);
        CHECK(interp_residual(m.get(), m.interp_order + 1, false) > 1e-6);
    }
}

TEST_CASE("set_nested_dense expands Hairer's nested form") {
    // y = r1 + th (r2 + (1-th) (r3 + th r4)) with one stage: r2 = 1, r3 = 2, r4 = 3
    //   = th + 2 th (1-th) + 3 th^2 (1-th) = 3 th + th^2 - 3 th^3.
    ButcherTableau t;
    t.name = "toy";
    t.order = 1;
    t.c = {0.0};
    t.a = {{}};
    t.b = {1.0};
    jdyn::set_nested_dense(t, {{1.0}, {2.0}, {3.0}});
    REQUIRE(t.dense_p.size() == 1);
    REQUIRE(t.dense_p[0].size() == 3);
    CHECK(t.dense_p[0][0] == doctest::Approx(3.0));
    CHECK(t.dense_p[0][1] == doctest::Approx(1.0));
    CHECK(t.dense_p[0][2] == doctest::Approx(-3.0));
    // Sum is 1 = b: finalizes; degree 3.
    CHECK(jdyn::finalize(t).degree == 3);
    // Wrong row length is rejected.
    ButcherTableau u = t;
    u.dense_p.clear();
    CHECK_THROWS_AS(jdyn::set_nested_dense(u, {{1.0, 0.0}}), std::invalid_argument);
}

TEST_CASE("add_hermite_dense adds f(t1, y1) unless the method is FSAL") {
    ButcherTableau t;
    t.name = "toy_heun";
    t.order = 2;
    t.c = {0.0, 1.0};
    t.a = {{}, {1.0}};
    t.b = {0.5, 0.5};
    jdyn::add_hermite_dense(t);
    CHECK(t.dense_c == std::vector<double>{1.0});
    CHECK(t.dense_a == std::vector<std::vector<double>>{{0.5, 0.5}});
    const ButcherTableau f = jdyn::finalize(t);
    CHECK(f.extra_is_f1);
    CHECK(!f.fsal);
    // Calling it twice is an error.
    CHECK_THROWS_AS(jdyn::add_hermite_dense(t), std::invalid_argument);
    // A FSAL method gets no extra stage.
    ButcherTableau b = jdyn::bosh3();
    b.dense_p.clear();
    jdyn::add_hermite_dense(b);
    CHECK(b.dense_c.empty());
    CHECK(b.dense_p.size() == 4);
}

TEST_CASE("empirical convergence order of b (and of the embedded weights) on a forced pendulum") {
    for (const Method& m : methods()) {
        const std::string name = m.name;
        CAPTURE(name);
        const ButcherTableau& t = m.get();
        const double p = empirical_order(t, t.b, base_steps(t.order));
        CAPTURE(p);
        MESSAGE(name << " slope " << p);
        CHECK(std::abs(p - t.order) < 0.2);
        if (m.embedded_order > 0) {
            const double q = empirical_order(t, minus(t.b, t.b_error), base_steps(m.embedded_order));
            CAPTURE(q);
            MESSAGE(name << " embedded slope " << q);
            CHECK(std::abs(q - m.embedded_order) < 0.2);
        }
    }
    const ButcherTableau& t = jdyn::dopri8();
    const double q3 = empirical_order(t, minus(t.b, t.b_error3), base_steps(3));
    CAPTURE(q3);
    CHECK(std::abs(q3 - 3) < 0.2);
}
