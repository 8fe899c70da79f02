// Optimizer steps (SGD with momentum / dampening / nesterov / weight decay, Adam, AdamW) and gradient
// clipping against straightforward scalar implementations of PyTorch's formulas written here, over
// several steps, both dtypes; hand-computed values for the first steps; argument and NaN failures.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "jdyn.h"

namespace {

struct SgdCfg {
    double lr, momentum, dampening, wd;
    bool nesterov;
};

struct AdamCfg {
    double lr, b1, b2, eps, wd;
    bool decoupled;
};

// The gradient of a quadratic sum_i a_i (p_i - c_i)^2 / 2 plus a drifting term, so that every step
// sees a different gradient.
double grad_of(double p, size_t i, int step) { return (0.5 + 0.3 * i) * (p - 0.2 * i) + 0.05 * std::sin(step + i); }

void ref_sgd(std::vector<double>& p, std::vector<double>& buf, const std::vector<double>& g, int step,
             const SgdCfg& c) {
    for (size_t i = 0; i < p.size(); i++) {
        double d = g[i] + c.wd * p[i];
        if (c.momentum != 0) {
            buf[i] = step == 1 ? d : c.momentum * buf[i] + (1 - c.dampening) * d;
            d = c.nesterov ? d + c.momentum * buf[i] : buf[i];
        }
        p[i] -= c.lr * d;
    }
}

void ref_adam(std::vector<double>& p, std::vector<double>& m, std::vector<double>& v, const std::vector<double>& g,
              int step, const AdamCfg& c) {
    for (size_t i = 0; i < p.size(); i++) {
        double d = g[i];
        if (c.decoupled) {
            p[i] *= 1 - c.lr * c.wd;
        } else {
            d += c.wd * p[i];
        }
        m[i] = c.b1 * m[i] + (1 - c.b1) * d;
        v[i] = c.b2 * v[i] + (1 - c.b2) * d * d;
        double mhat = m[i] / (1 - std::pow(c.b1, step));
        double vhat = v[i] / (1 - std::pow(c.b2, step));
        p[i] -= c.lr * mhat / (std::sqrt(vhat) + c.eps);
    }
}

template <class T>
int64_t dtype_of();
template <>
int64_t dtype_of<float>() { return JDYN_FLOAT32; }
template <>
int64_t dtype_of<double>() { return JDYN_FLOAT64; }

template <class T>
double tol() { return sizeof(T) == 8 ? 1e-12 : 2e-5; }

template <class T>
void run_sgd(const SgdCfg& c, int steps) {
    const size_t n = 7;
    // A block in the middle of a larger buffer: elements outside [offset, offset + count) stay put.
    const int64_t offset = 2, total = n + 4;
    std::vector<double> rp(n), rb(n, 0.0), rg(n);
    std::vector<T> p(total, (T)9), g(total, (T)0), buf(total, (T)0);
    for (size_t i = 0; i < n; i++) rp[i] = (double)(T)(1.0 - 0.25 * i), p[offset + i] = (T)rp[i];
    for (int s = 1; s <= steps; s++) {
        for (size_t i = 0; i < n; i++) {
            g[offset + i] = (T)grad_of((double)p[offset + i], i, s);
            rg[i] = (double)g[offset + i];
        }
        int64_t bad = 7;
        REQUIRE(jdyn_sgd_step(dtype_of<T>(), p.data(), g.data(), buf.data(), offset, n, s, c.lr, c.momentum,
                              c.dampening, c.wd, c.nesterov, &bad) == JDYN_OK);
        CHECK(bad == -1);
        // Compare against the reference run from the same gradients.
        ref_sgd(rp, rb, rg, s, c);
        for (size_t i = 0; i < n; i++) {
            CHECK((double)p[offset + i] == doctest::Approx(rp[i]).epsilon(tol<T>()));
            rp[i] = (double)p[offset + i];  // float32: carry on from the core's rounded values
            if (c.momentum != 0) rb[i] = (double)buf[offset + i];
        }
    }
    for (int64_t i = 0; i < offset; i++) CHECK(p[i] == (T)9);
    for (int64_t i = offset + n; i < total; i++) CHECK(p[i] == (T)9);
}

template <class T>
void run_adam(const AdamCfg& c, int steps) {
    const size_t n = 6;
    std::vector<double> rp(n), rm(n, 0.0), rv(n, 0.0), rg(n);
    std::vector<T> p(n), g(n), m(n, (T)0), v(n, (T)0);
    for (size_t i = 0; i < n; i++) rp[i] = (double)(T)(0.7 - 0.3 * i), p[i] = (T)rp[i];
    for (int s = 1; s <= steps; s++) {
        for (size_t i = 0; i < n; i++) {
            g[i] = (T)grad_of((double)p[i], i, s);
            rg[i] = (double)g[i];
        }
        REQUIRE(jdyn_adam_step(dtype_of<T>(), p.data(), g.data(), m.data(), v.data(), 0, n, s, c.lr, c.b1, c.b2, c.eps,
                               c.wd, c.decoupled, nullptr) == JDYN_OK);
        ref_adam(rp, rm, rv, rg, s, c);
        for (size_t i = 0; i < n; i++) {
            CHECK((double)p[i] == doctest::Approx(rp[i]).epsilon(tol<T>()));
            CHECK((double)m[i] == doctest::Approx(rm[i]).epsilon(tol<T>()));
            CHECK((double)v[i] == doctest::Approx(rv[i]).epsilon(tol<T>()));
            rp[i] = (double)p[i];
            rm[i] = (double)m[i];
            rv[i] = (double)v[i];
        }
    }
}

}  // namespace

TEST_CASE_TEMPLATE("SGD matches PyTorch's rule over several steps", T, float, double) {
    run_sgd<T>({0.1, 0, 0, 0, false}, 5);
    run_sgd<T>({0.05, 0.9, 0, 0, false}, 6);
    run_sgd<T>({0.05, 0.9, 0.3, 0, false}, 6);
    run_sgd<T>({0.05, 0.9, 0, 0, true}, 6);
    run_sgd<T>({0.05, 0.9, 0, 0.01, true}, 6);
    run_sgd<T>({0.02, 0.5, 0.1, 0.1, false}, 6);
    run_sgd<T>({0.1, 0, 0, 0.2, false}, 4);
}

TEST_CASE_TEMPLATE("Adam and AdamW match PyTorch's rule over several steps", T, float, double) {
    run_adam<T>({1e-3, 0.9, 0.999, 1e-8, 0, false}, 8);
    run_adam<T>({0.05, 0.8, 0.99, 1e-6, 0, false}, 8);
    run_adam<T>({0.05, 0.9, 0.999, 1e-8, 0.1, false}, 8);
    run_adam<T>({0.05, 0.9, 0.999, 1e-8, 0.1, true}, 8);
    run_adam<T>({1e-2, 0.3, 0.5, 1e-8, 1e-2, true}, 8);   // 1 - beta1 above 0.5: the other lerp branch
}

TEST_CASE("hand-computed first steps") {
    SUBCASE("SGD with momentum: buffer starts as the gradient") {
        double p = 1, g = 0.5, buf = 0;
        REQUIRE(jdyn_sgd_step(JDYN_FLOAT64, &p, &g, &buf, 0, 1, 1, 0.1, 0.9, 0.5, 0, 0, nullptr) == JDYN_OK);
        CHECK(buf == doctest::Approx(0.5).epsilon(1e-15));  // no dampening at step 1
        CHECK(p == doctest::Approx(0.95).epsilon(1e-15));
        REQUIRE(jdyn_sgd_step(JDYN_FLOAT64, &p, &g, &buf, 0, 1, 2, 0.1, 0.9, 0.5, 0, 0, nullptr) == JDYN_OK);
        CHECK(buf == doctest::Approx(0.9 * 0.5 + 0.5 * 0.5).epsilon(1e-15));
        CHECK(p == doctest::Approx(0.95 - 0.1 * 0.7).epsilon(1e-15));
    }
    SUBCASE("SGD nesterov") {
        double p = 1, g = 0.5, buf = 0;
        REQUIRE(jdyn_sgd_step(JDYN_FLOAT64, &p, &g, &buf, 0, 1, 1, 0.1, 0.9, 0, 0, 1, nullptr) == JDYN_OK);
        CHECK(p == doctest::Approx(1 - 0.1 * (0.5 + 0.9 * 0.5)).epsilon(1e-15));
    }
    SUBCASE("Adam's bias correction makes step 1 move by lr * g / (|g| + eps)") {
        double p[2] = {1, -2}, g[2] = {0.3, -4}, m[2] = {0, 0}, v[2] = {0, 0};
        REQUIRE(jdyn_adam_step(JDYN_FLOAT64, p, g, m, v, 0, 2, 1, 0.01, 0.9, 0.999, 1e-8, 0, 0, nullptr) == JDYN_OK);
        CHECK(p[0] == doctest::Approx(1 - 0.01 * 0.3 / (0.3 + 1e-8)).epsilon(1e-13));
        CHECK(p[1] == doctest::Approx(-2 + 0.01 * 4 / (4 + 1e-8)).epsilon(1e-13));
        CHECK(m[0] == doctest::Approx(0.03).epsilon(1e-15));
        CHECK(v[1] == doctest::Approx(0.016).epsilon(1e-13));
    }
    SUBCASE("AdamW decays the parameter before the update") {
        double p = 2, g = 0, m = 0, v = 0;
        REQUIRE(jdyn_adam_step(JDYN_FLOAT64, &p, &g, &m, &v, 0, 1, 1, 0.1, 0.9, 0.999, 1e-8, 0.5, 1, nullptr) == JDYN_OK);
        CHECK(p == doctest::Approx(2 * (1 - 0.1 * 0.5)).epsilon(1e-15));  // zero gradient: only the decay
    }
}

TEST_CASE_TEMPLATE("clipping by norm and by value", T, float, double) {
    // Two blocks of a buffer; the element between them is not a gradient that counts.
    std::vector<T> g = {(T)3, (T)-4, (T)100, (T)12};
    const int64_t ranges[] = {0, 2, 3, 1};
    double total = 0;
    REQUIRE(jdyn_clip_grad_norm(dtype_of<T>(), g.data(), ranges, 2, 6.5, 2.0, &total, nullptr) == JDYN_OK);
    CHECK(total == doctest::Approx(13).epsilon(1e-12));
    const double coef = 6.5 / (13 + 1e-6);
    CHECK((double)g[0] == doctest::Approx(3 * coef).epsilon(tol<T>()));
    CHECK((double)g[1] == doctest::Approx(-4 * coef).epsilon(tol<T>()));
    CHECK(g[2] == (T)100);
    CHECK((double)g[3] == doctest::Approx(12 * coef).epsilon(tol<T>()));

    // Below max_norm: coef clamps to 1 and nothing changes.
    std::vector<T> h = {(T)0.3, (T)-0.4};
    const int64_t all[] = {0, 2};
    REQUIRE(jdyn_clip_grad_norm(dtype_of<T>(), h.data(), all, 1, 1.0, 2.0, &total, nullptr) == JDYN_OK);
    CHECK(total == doctest::Approx(0.5).epsilon(tol<T>()));
    CHECK(h[0] == (T)0.3);
    CHECK(h[1] == (T)-0.4);

    // Other norms: 1-norm and infinity-norm.
    std::vector<T> k = {(T)3, (T)-4};
    REQUIRE(jdyn_clip_grad_norm(dtype_of<T>(), k.data(), all, 1, 100, 1.0, &total, nullptr) == JDYN_OK);
    CHECK(total == doctest::Approx(7));
    REQUIRE(jdyn_clip_grad_norm(dtype_of<T>(), k.data(), all, 1, 100, INFINITY, &total, nullptr) == JDYN_OK);
    CHECK(total == doctest::Approx(4));
    REQUIRE(jdyn_clip_grad_norm(dtype_of<T>(), k.data(), all, 1, 100, 3.0, &total, nullptr) == JDYN_OK);
    CHECK(total == doctest::Approx(std::cbrt(27.0 + 64.0)).epsilon(tol<T>()));

    std::vector<T> c = {(T)3, (T)-4, (T)0.5, (T)-0.25, (T)7};
    const int64_t first4[] = {0, 4};
    REQUIRE(jdyn_clip_grad_value(dtype_of<T>(), c.data(), first4, 1, 1.0, nullptr) == JDYN_OK);
    CHECK(c[0] == (T)1);
    CHECK(c[1] == (T)-1);
    CHECK(c[2] == (T)0.5);
    CHECK(c[3] == (T)-0.25);
    CHECK(c[4] == (T)7);
}

TEST_CASE_TEMPLATE("non-finite gradients fail with their index and change nothing", T, float, double) {
    std::vector<T> p = {(T)1, (T)2, (T)3, (T)4}, g = {(T)0.1, (T)0.2, (T)NAN, (T)INFINITY}, m(4, (T)0), v(4, (T)0);
    int64_t bad = 0;
    CHECK(jdyn_adam_step(dtype_of<T>(), p.data(), g.data(), m.data(), v.data(), 1, 3, 1, 0.1, 0.9, 0.999, 1e-8, 0, 0,
                         &bad) == JDYN_ERR_NON_FINITE);
    CHECK(bad == 2);
    CHECK(std::string(jdyn_last_error()).find("gradient element 2 is NaN") != std::string::npos);
    CHECK(p[1] == (T)2);
    CHECK(m[1] == (T)0);
    CHECK(jdyn_sgd_step(dtype_of<T>(), p.data(), g.data(), m.data(), 3, 1, 1, 0.1, 0.9, 0, 0, 0, &bad) ==
          JDYN_ERR_NON_FINITE);
    CHECK(bad == 3);
    CHECK(std::string(jdyn_last_error()).find("gradient element 3 is infinite") != std::string::npos);
    // Only the block's own gradients are checked.
    CHECK(jdyn_sgd_step(dtype_of<T>(), p.data(), g.data(), nullptr, 0, 2, 1, 0.1, 0, 0, 0, 0, &bad) == JDYN_OK);
    CHECK(bad == -1);
    const int64_t r[] = {0, 1, 3, 1};
    CHECK(jdyn_clip_grad_norm(dtype_of<T>(), g.data(), r, 2, 1, 2, nullptr, &bad) == JDYN_ERR_NON_FINITE);
    CHECK(bad == 3);
    CHECK(g[0] == (T)0.1);
    CHECK(jdyn_clip_grad_value(dtype_of<T>(), g.data(), r, 2, 1, &bad) == JDYN_ERR_NON_FINITE);
    CHECK(bad == 3);
}

TEST_CASE("arguments are checked with messages that name them") {
    double p = 1, g = 1, b = 0, m = 0, v = 0;
    auto msg = [] { return std::string(jdyn_last_error()); };
    CHECK(jdyn_sgd_step(2, &p, &g, &b, 0, 1, 1, 0.1, 0, 0, 0, 0, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(msg().find("dtype") != std::string::npos);
    CHECK(jdyn_sgd_step(JDYN_FLOAT64, &p, &g, &b, 0, 1, 1, -0.1, 0, 0, 0, 0, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(msg().find("lr must be >= 0") != std::string::npos);
    CHECK(jdyn_sgd_step(JDYN_FLOAT64, &p, &g, &b, 0, 1, 1, 0.1, 0.9, 0.1, 0, 1, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(msg().find("nesterov") != std::string::npos);
    CHECK(jdyn_sgd_step(JDYN_FLOAT64, &p, &g, nullptr, 0, 1, 1, 0.1, 0.9, 0, 0, 0, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(msg().find("momentum_buf") != std::string::npos);
    CHECK(jdyn_sgd_step(JDYN_FLOAT64, &p, &g, &b, 0, 1, 0, 0.1, 0, 0, 0, 0, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(msg().find("step must be >= 1") != std::string::npos);
    CHECK(jdyn_adam_step(JDYN_FLOAT64, &p, &g, &m, &v, 0, 1, 1, 0.1, 1.0, 0.999, 1e-8, 0, 0, nullptr) ==
          JDYN_ERR_ARGUMENT);
    CHECK(msg().find("beta1 must be in [0, 1)") != std::string::npos);
    CHECK(jdyn_adam_step(JDYN_FLOAT64, &p, &g, &m, &v, 0, 1, 1, 0.1, 0.9, 0.999, -1, 0, 0, nullptr) ==
          JDYN_ERR_ARGUMENT);
    CHECK(msg().find("eps") != std::string::npos);
    const int64_t bad_ranges[] = {2, 3, 3, 1};
    CHECK(jdyn_clip_grad_norm(JDYN_FLOAT64, &g, bad_ranges, 2, 1, 2, nullptr, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(msg().find("sorted and disjoint") != std::string::npos);
    const int64_t one[] = {0, 1};
    CHECK(jdyn_clip_grad_norm(JDYN_FLOAT64, &g, one, 1, 1, 0, nullptr, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(msg().find("norm_type") != std::string::npos);
    CHECK(jdyn_clip_grad_value(JDYN_FLOAT64, &g, one, 1, -1, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(msg().find("clip_value") != std::string::npos);
    CHECK(p == 1);
}
