// The engine through the C ABI: convergence order of every method, adaptive accuracy, dense output,
// events, batches, both dtypes, and one test per failure mode.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "jdyn.h"

namespace {

// y' = -2 t y^2 (exact 1 / (1 + t^2)) and y' = y cos t (exact exp(sin t)), one batch row each.
template <class T>
int32_t nonlinear(void*, double t, const void* zr, void* dzr, int64_t batch, int64_t dim) {
    const T* z = static_cast<const T*>(zr);
    T* dz = static_cast<T*>(dzr);
    for (int64_t b = 0; b < batch; ++b) {
        dz[b * dim + 0] = (T)(-2.0 * t * (double)z[b * dim + 0] * (double)z[b * dim + 0]);
        dz[b * dim + 1] = (T)((double)z[b * dim + 1] * std::cos(t));
    }
    return 0;
}
double exact0(double t) { return 1.0 / (1.0 + t * t); }
double exact1(double t) { return std::exp(std::sin(t)); }

// Harmonic oscillator x'' = -x: (x, v) = (cos t, -sin t) from (1, 0).
int32_t harmonic(void*, double, const void* zr, void* dzr, int64_t batch, int64_t dim) {
    const double* z = static_cast<const double*>(zr);
    double* dz = static_cast<double*>(dzr);
    for (int64_t b = 0; b < batch; ++b) {
        dz[b * dim] = z[b * dim + 1];
        dz[b * dim + 1] = -z[b * dim];
    }
    return 0;
}

jdyn_solve_config base_config(int64_t method, jdyn_field_fn f, std::vector<double>& times) {
    jdyn_solve_config c;
    std::memset(&c, 0, sizeof c);
    c.method = method;
    c.dtype = JDYN_FLOAT64;
    c.batch = 1;
    c.dim = 2;
    c.field = f;
    c.times = times.data();
    c.n_times = (int64_t)times.size();
    c.adaptive = 1;
    c.rtol = 1e-6;
    c.atol = 1e-6;
    c.safety = 0.9;
    c.ifactor = 10;
    c.dfactor = 0.2;
    c.icoeff = 1;
    c.event_tol = 1e-9;
    return c;
}

struct MethodCase {
    int64_t method;
    const char* name;
    int order;
};
const MethodCase kMethods[] = {{JDYN_EULER, "euler", 1},  {JDYN_MIDPOINT, "midpoint", 2}, {JDYN_HEUN, "heun", 2},
                               {JDYN_RK4, "rk4", 4},      {JDYN_RK4_38, "rk4_38", 4},     {JDYN_BOSH3, "bosh3", 3},
                               {JDYN_DOPRI5, "dopri5", 5}, {JDYN_TSIT5, "tsit5", 5},      {JDYN_DOPRI8, "dopri8", 8}};

// Forced pendulum y1' = y2, y2' = -sin(y1) + 0.3 cos t: nonlinear and non-autonomous, so neither
// linear-only nor autonomous-only order conditions can hide a wrong coefficient.
int32_t pendulum(void*, double t, const void* zr, void* dzr, int64_t, int64_t) {
    const double* z = static_cast<const double*>(zr);
    double* dz = static_cast<double*>(dzr);
    dz[0] = z[1];
    dz[1] = -std::sin(z[0]) + 0.3 * std::cos(t);
    return 0;
}

std::array<double, 2> pendulum_at_2(int64_t method, int steps) {
    std::vector<double> times = {0.0, 2.0};
    jdyn_solve_config c = base_config(method, pendulum, times);
    c.adaptive = 0;
    c.dt = 2.0 / steps;
    double y0[2] = {1.0, 0.5};
    double ys[4];
    jdyn_solve_stats st;
    REQUIRE_MESSAGE(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_OK, jdyn_last_error());
    REQUIRE(st.accepted == steps);
    return {ys[2], ys[3]};
}

double dist(const std::array<double, 2>& a, const std::array<double, 2>& b) {
    return std::max(std::fabs(a[0] - b[0]), std::fabs(a[1] - b[1]));
}

}  // namespace

TEST_CASE("every method converges at its nominal order through the engine (within 0.2)") {
    for (const MethodCase& m : kMethods) {
        // Self-convergence from N, 2N and 4N steps, with N chosen so the finest difference stays well
        // above round-off: log2(|y_N - y_2N| / |y_2N - y_4N|).
        const int n = m.order == 1 ? 200 : m.order == 2 ? 100 : m.order == 3 ? 50 : m.order == 4 ? 25 : m.order == 5 ? 64 : 6;
        const auto y1 = pendulum_at_2(m.method, n), y2 = pendulum_at_2(m.method, 2 * n),
                   y4 = pendulum_at_2(m.method, 4 * n);
        const double slope = std::log2(dist(y1, y2) / dist(y2, y4));
        INFO(std::string(m.name) << " slope " << slope);
        CHECK(std::fabs(slope - m.order) < 0.2);
    }
}

TEST_CASE("adaptive methods meet the tolerance and step proportionally to it") {
    for (const MethodCase& m : kMethods) {
        jdyn_solve_config probe;
        int64_t eo = 0;
        jdyn_method_info(m.method, nullptr, &eo, nullptr, nullptr);
        if (eo == 0) continue;
        double prev_err = 0;
        for (double tol : {1e-5, 1e-7, 1e-9}) {
            if (m.order <= 2 && tol < 1e-7) continue;  // tens of thousands of steps: slow, not informative
            std::vector<double> times = {0.0, 2.0};
            probe = base_config(m.method, nonlinear<double>, times);
            probe.rtol = tol;
            probe.atol = tol;
            double y0[2] = {1.0, 1.0}, out[4];
            jdyn_solve_stats st;
            REQUIRE_MESSAGE(jdyn_solve(&probe, y0, out, nullptr, &st, nullptr) == JDYN_OK, jdyn_last_error());
            const double err = std::max(std::fabs(out[2] - exact0(2.0)), std::fabs(out[3] - exact1(2.0)));
            INFO(std::string(m.name) << " tol " << tol << " err " << err << " steps " << st.accepted);
            CHECK(err < 100 * tol);
            if (prev_err > 0) CHECK(err < prev_err);
            prev_err = err;
        }
    }
}

TEST_CASE("dense output is as accurate as the steps, and the stored interpolant agrees") {
    for (const MethodCase& m : kMethods) {
        int64_t eo = 0;
        jdyn_method_info(m.method, nullptr, &eo, nullptr, nullptr);
        std::vector<double> times;
        for (int i = 0; i <= 200; ++i) times.push_back(10.0 * i / 200);
        jdyn_solve_config c = base_config(m.method, harmonic, times);
        if (eo == 0) {
            c.adaptive = 0;
            c.dt = m.order == 1 ? 1e-3 : (m.order == 2 ? 1e-2 : 0.1);
        } else {
            c.rtol = c.atol = 1e-8;
        }
        c.dense = 1;
        double y0[2] = {1.0, 0.0};
        std::vector<double> ys(times.size() * 2);
        jdyn_solve_stats st;
        jdyn_dense* dense = nullptr;
        REQUIRE_MESSAGE(jdyn_solve(&c, y0, ys.data(), nullptr, &st, &dense) == JDYN_OK, jdyn_last_error());
        REQUIRE(dense != nullptr);
        REQUIRE(st.n_out == (int64_t)times.size());
        double worst = 0;
        for (size_t i = 0; i < times.size(); ++i)
            worst = std::max(worst, std::fabs(ys[2 * i] - std::cos(times[i])));
        // The error at the final step point, the reference for "same order as the step error".
        const double end_err = std::fabs(ys[ys.size() - 2] - std::cos(10.0));
        INFO(std::string(m.name) << " interpolated " << worst << " end " << end_err << " steps " << st.accepted);
        CHECK(worst < 20 * std::max(end_err, 1e-9));
        // The stored interpolant reproduces the outputs computed during the solve.
        std::vector<double> again(times.size() * 2);
        REQUIRE(jdyn_dense_eval(dense, times.data(), (int64_t)times.size(), again.data()) == JDYN_OK);
        for (size_t i = 0; i < again.size(); ++i) CHECK(again[i] == doctest::Approx(ys[i]).epsilon(1e-12));
        double t_first = 0, t_last = 0;
        int64_t steps = 0;
        REQUIRE(jdyn_dense_span(dense, &t_first, &t_last, &steps) == JDYN_OK);
        CHECK(t_first == 0.0);
        CHECK(t_last == 10.0);
        CHECK(steps == st.accepted);
        double outside = 11.0;
        CHECK(jdyn_dense_eval(dense, &outside, 1, again.data()) == JDYN_ERR_ARGUMENT);
        CHECK(std::string(jdyn_last_error()).find("outside") != std::string::npos);
        jdyn_dense_free(dense);
    }
}

namespace {
// A ball thrown up at 10 m/s from 1 m: (height, velocity), g = 9.81.
int32_t ballistic(void*, double, const void* zr, void* dzr, int64_t, int64_t) {
    const double* z = static_cast<const double*>(zr);
    double* dz = static_cast<double*>(dzr);
    dz[0] = z[1];
    dz[1] = -9.81;
    return 0;
}
int32_t height(void*, double, const void* zr, int64_t, int64_t, double* out) {
    *out = static_cast<const double*>(zr)[0];
    return 0;
}
}  // namespace

TEST_CASE("a terminal event is located within its tolerance, with the state there") {
    const double v0 = 10, h0 = 1, g = 9.81;
    const double t_hit = (v0 + std::sqrt(v0 * v0 + 2 * g * h0)) / g;
    for (int64_t method : {JDYN_DOPRI5, JDYN_TSIT5, JDYN_DOPRI8, JDYN_BOSH3, JDYN_RK4}) {
        std::vector<double> times = {0.0, 1.0, 2.0, 3.0, 4.0};
        jdyn_solve_config c = base_config(method, ballistic, times);
        if (method == JDYN_RK4) {
            c.adaptive = 0;
            c.dt = 0.05;
        }
        c.event = height;
        c.event_direction = -1;
        c.event_tol = 1e-10;
        double y0[2] = {h0, v0}, ys[10], ev[2];
        jdyn_solve_stats st;
        REQUIRE_MESSAGE(jdyn_solve(&c, y0, ys, ev, &st, nullptr) == JDYN_OK, jdyn_last_error());
        CHECK(st.event_found == 1);
        CHECK(st.event_t == doctest::Approx(t_hit).epsilon(1e-9));
        CHECK(std::fabs(ev[0]) < 1e-8);
        CHECK(ev[1] == doctest::Approx(v0 - g * t_hit).epsilon(1e-9));
        CHECK(st.n_out == 3);  // t = 0, 1, 2 come before the hit at 2.14
        CHECK(ys[4] == doctest::Approx(h0 + v0 * 2 - 0.5 * g * 4).epsilon(1e-9));
        // A rising-only event never fires on a falling crossing.
        c.event_direction = 1;
        REQUIRE(jdyn_solve(&c, y0, ys, ev, &st, nullptr) == JDYN_OK);
        CHECK(st.event_found == 0);
        CHECK(st.n_out == 5);
    }
}

namespace {
int32_t height_minus_5(void*, double, const void* zr, int64_t, int64_t, double* out) {
    *out = static_cast<const double*>(zr)[0] - 5.0;
    return 0;
}
}  // namespace

TEST_CASE("a check interval finds an event crossing twice inside one step") {
    // The ball's height is an exact quadratic: steps grow tenfold, and one long step holds both
    // crossings of h = 5, where g has the same sign at either end.
    const double v0 = 10, h0 = 1, g = 9.81;
    const double t_up = (v0 - std::sqrt(v0 * v0 - 2 * g * (5 - h0))) / g;
    std::vector<double> times = {0.0, 3.0};
    jdyn_solve_config c = base_config(JDYN_DOPRI5, ballistic, times);
    c.rtol = c.atol = 1e-10;
    c.event = height_minus_5;
    c.event_tol = 1e-12;
    double y0[2] = {h0, v0}, ys[4], ev[2];
    jdyn_solve_stats st;
    REQUIRE(jdyn_solve(&c, y0, ys, ev, &st, nullptr) == JDYN_OK);
    CHECK(st.event_found == 0);
    c.event_max_check = 0.1;
    REQUIRE(jdyn_solve(&c, y0, ys, ev, &st, nullptr) == JDYN_OK);
    CHECK(st.event_found == 1);
    CHECK(st.event_t == doctest::Approx(t_up).epsilon(1e-10));
    CHECK(ev[0] == doctest::Approx(5.0).epsilon(1e-10));
    c.event_max_check = -1;
    CHECK(jdyn_solve(&c, y0, ys, ev, &st, nullptr) == JDYN_ERR_ARGUMENT);
}

TEST_CASE("backward integration, batches and float32") {
    // Backward from t = 2 to 0 recovers the initial values.
    std::vector<double> times = {2.0, 1.0, 0.0};
    jdyn_solve_config c = base_config(JDYN_DOPRI5, nonlinear<double>, times);
    c.rtol = c.atol = 1e-10;
    c.batch = 3;
    double y0[6], ys[18];
    for (int b = 0; b < 3; ++b) y0[2 * b] = exact0(2.0), y0[2 * b + 1] = exact1(2.0);
    jdyn_solve_stats st;
    REQUIRE_MESSAGE(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_OK, jdyn_last_error());
    for (int b = 0; b < 3; ++b) {
        CHECK(ys[6 + 2 * b] == doctest::Approx(exact0(1.0)).epsilon(1e-8));
        CHECK(ys[12 + 2 * b] == doctest::Approx(1.0).epsilon(1e-8));
        CHECK(ys[12 + 2 * b + 1] == doctest::Approx(1.0).epsilon(1e-8));
    }
    CHECK(st.t_reached == 0.0);

    std::vector<double> fwd = {0.0, 2.0};
    jdyn_solve_config f = base_config(JDYN_TSIT5, nonlinear<float>, fwd);
    f.dtype = JDYN_FLOAT32;
    f.rtol = f.atol = 1e-5;
    float y0f[2] = {1.0f, 1.0f}, ysf[4];
    REQUIRE_MESSAGE(jdyn_solve(&f, y0f, ysf, nullptr, &st, nullptr) == JDYN_OK, jdyn_last_error());
    CHECK(ysf[2] == doctest::Approx(exact0(2.0)).epsilon(1e-4));
    CHECK(ysf[3] == doctest::Approx(exact1(2.0)).epsilon(1e-4));
}

TEST_CASE("fixed steps: a last partial step, an explicit grid, per-component tolerances, forced steps") {
    std::vector<double> times = {0.0, 1.0};
    jdyn_solve_config c = base_config(JDYN_RK4, harmonic, times);
    c.adaptive = 0;
    c.dt = 0.3;  // steps 0.3, 0.3, 0.3, 0.1
    double y0[2] = {1.0, 0.0}, ys[4];
    jdyn_solve_stats st;
    REQUIRE(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_OK);
    CHECK(st.accepted == 4);
    CHECK(st.last_dt == doctest::Approx(0.1));
    CHECK(st.t_reached == 1.0);
    CHECK(ys[2] == doctest::Approx(std::cos(1.0)).epsilon(1e-4));

    std::vector<double> grid = {0.0, 0.5, 0.7, 1.0};
    c.grid = grid.data();
    c.n_grid = 4;
    c.dt = 0;
    REQUIRE(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_OK);
    CHECK(st.accepted == 3);

    jdyn_solve_config a = base_config(JDYN_DOPRI5, harmonic, times);
    double atol[2] = {1e-9, 1e-3}, rtol[2] = {1e-9, 1e-3};
    a.atol_vec = atol;
    a.rtol_vec = rtol;
    std::vector<double> forced = {0.123, 0.5};
    a.step_ts = forced.data();
    a.n_step_ts = 2;
    REQUIRE_MESSAGE(jdyn_solve(&a, y0, ys, nullptr, &st, nullptr) == JDYN_OK, jdyn_last_error());
    CHECK(ys[2] == doctest::Approx(std::cos(1.0)).epsilon(1e-7));
}

TEST_CASE("the seminorm leaves masked components out of step control") {
    std::vector<double> times = {0.0, 5.0};
    jdyn_solve_config c = base_config(JDYN_DOPRI5, harmonic, times);
    c.rtol = c.atol = 1e-8;
    double y0[2] = {1.0, 0.0}, ys[4];
    jdyn_solve_stats full, semi;
    REQUIRE(jdyn_solve(&c, y0, ys, nullptr, &full, nullptr) == JDYN_OK);
    double w[2] = {1.0, 0.0};
    c.norm_weights = w;
    REQUIRE(jdyn_solve(&c, y0, ys, nullptr, &semi, nullptr) == JDYN_OK);
    CHECK(semi.accepted <= full.accepted);
    double none[2] = {0.0, 0.0};
    c.norm_weights = none;
    CHECK(jdyn_solve(&c, y0, ys, nullptr, &semi, nullptr) == JDYN_ERR_ARGUMENT);
    double fractional[2] = {1.0, 0.5};
    c.norm_weights = fractional;
    CHECK(jdyn_solve(&c, y0, ys, nullptr, &semi, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(std::string(jdyn_last_error()).find("group") != std::string::npos);
}

TEST_CASE("norm groups: the ratio is the largest group RMS, never below the single RMS") {
    // Two groups over the oscillator's components: max(|e_x|, |e_v|) >= sqrt((e_x^2 + e_v^2) / 2),
    // so the grouped norm rejects at least what the single RMS rejects and takes at least as many steps.
    for (int64_t method : {JDYN_DOPRI5, JDYN_DOPRI8, JDYN_BOSH3}) {
        std::vector<double> times = {0.0, 10.0};
        jdyn_solve_config c = base_config(method, harmonic, times);
        c.rtol = c.atol = 1e-7;
        double y0[2] = {1.0, 0.0}, ys[4];
        jdyn_solve_stats single, grouped;
        REQUIRE(jdyn_solve(&c, y0, ys, nullptr, &single, nullptr) == JDYN_OK);
        double groups[2] = {1.0, 2.0};
        c.norm_weights = groups;
        REQUIRE(jdyn_solve(&c, y0, ys, nullptr, &grouped, nullptr) == JDYN_OK);
        INFO("method " << method << " single " << single.accepted << " grouped " << grouped.accepted);
        CHECK(grouped.accepted + grouped.rejected >= single.accepted + single.rejected);
        CHECK(std::hypot(ys[2] - std::cos(10.0), ys[3] + std::sin(10.0)) < 1e-5);
    }
}

namespace {
int32_t blow_up(void*, double, const void* zr, void* dzr, int64_t, int64_t) {
    const double* z = static_cast<const double*>(zr);
    double* dz = static_cast<double*>(dzr);
    dz[0] = z[0] * z[0];
    dz[1] = 0;
    return 0;
}
int32_t nan_after_half(void*, double t, const void* zr, void* dzr, int64_t, int64_t) {
    double* dz = static_cast<double*>(dzr);
    (void)zr;
    dz[0] = t > 0.5 ? NAN : 1.0;
    dz[1] = 1.0;
    return 0;
}
int32_t nan_after_zero(void*, double t, const void*, void* dzr, int64_t, int64_t) {
    double* dz = static_cast<double*>(dzr);
    dz[0] = t > 0 ? NAN : 1.0;
    dz[1] = 1.0;
    return 0;
}
int32_t nan_always(void*, double, const void*, void* dzr, int64_t, int64_t) {
    double* dz = static_cast<double*>(dzr);
    dz[0] = 1.0;
    dz[1] = NAN;
    return 0;
}
int32_t refuses(void*, double, const void*, void*, int64_t, int64_t) { return 7; }
bool says(const char* what) { return std::string(jdyn_last_error()).find(what) != std::string::npos; }
}  // namespace

TEST_CASE("failure modes: each returns its status and a message naming the cause") {
    double y0[2] = {1.0, 1.0}, ys[8], ev[2];
    jdyn_solve_stats st;
    std::vector<double> times = {0.0, 2.0};

    SUBCASE("step size underflow near a blow-up") {
        jdyn_solve_config c = base_config(JDYN_DOPRI5, blow_up, times);
        const int32_t rc = jdyn_solve(&c, y0, ys, nullptr, &st, nullptr);
        CHECK((rc == JDYN_ERR_STEP_UNDERFLOW || rc == JDYN_ERR_NON_FINITE));
        // The exact solution 1 / (1 - t) blows up at t = 1; the numerical one within the tolerance of it.
        CHECK(std::fabs(st.t_reached - 1.0) < 1e-3);
        if (rc == JDYN_ERR_STEP_UNDERFLOW) CHECK(says("step size underflow at t="));
    }
    SUBCASE("max steps") {
        jdyn_solve_config c = base_config(JDYN_DOPRI5, harmonic, times);
        c.max_steps = 3;
        c.rtol = c.atol = 1e-10;
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_MAX_STEPS);
        CHECK(says("maximum number of steps (3)"));
        CHECK(st.accepted + st.rejected == 3);
    }
    SUBCASE("non-finite state, fixed and adaptive") {
        jdyn_solve_config c = base_config(JDYN_RK4, nan_after_half, times);
        c.adaptive = 0;
        c.dt = 0.1;
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_NON_FINITE);
        CHECK(says("component 0"));
        CHECK(st.bad_index == 0);
        jdyn_solve_config a = base_config(JDYN_DOPRI5, nan_after_half, times);
        CHECK(jdyn_solve(&a, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_NON_FINITE);
        CHECK(says("non-finite"));
        CHECK(st.t_reached == doctest::Approx(0.5).epsilon(1e-6));
    }
    SUBCASE("non-finite from t0 = 0, where the relative step floor is 0") {
        // f(t0, y0) itself: refused before any step
        jdyn_solve_config c = base_config(JDYN_DOPRI5, nan_always, times);
        c.max_steps = 100000;
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_NON_FINITE);
        CHECK(says("initial point"));
        CHECK(st.bad_index == 1);
        CHECK(st.accepted + st.rejected == 0);
        // finite at t0 only: the rejections end at a floor relative to the span (dt shrinks by 0.2 at most
        // 5x per rejection from at most the span: ~25 rejections reach 16 eps), not at max_steps
        jdyn_solve_config a = base_config(JDYN_DOPRI5, nan_after_zero, times);
        a.max_steps = 100000;
        CHECK(jdyn_solve(&a, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_NON_FINITE);
        CHECK(says("non-finite"));
        CHECK(st.rejected < 100);
    }
    SUBCASE("a failing callback") {
        jdyn_solve_config c = base_config(JDYN_DOPRI5, refuses, times);
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_CALLBACK);
        CHECK(says("code 7"));
    }
    SUBCASE("argument errors") {
        jdyn_solve_config c = base_config(JDYN_DOPRI5, harmonic, times);
        c.rtol = 0;
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("rtol"));
        c = base_config(JDYN_DOPRI5, harmonic, times);
        c.atol = -1;
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("atol"));
        std::vector<double> unsorted = {0.0, 1.0, 0.5};
        c = base_config(JDYN_DOPRI5, harmonic, unsorted);
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("strictly increasing"));
        c = base_config(JDYN_EULER, harmonic, times);
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("no error estimate"));
        c.adaptive = 0;
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("needs a step"));
        c = base_config(99, harmonic, times);
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("unknown method"));
        c = base_config(JDYN_DOPRI5, harmonic, times);
        c.batch = 0;
        CHECK(jdyn_solve(&c, y0, ys, nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("[batch, dim]"));
        c = base_config(JDYN_DOPRI5, harmonic, times);
        double bad_y0[2] = {1.0, NAN};
        CHECK(jdyn_solve(&c, bad_y0, ys, nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("y0 has a non-finite value"));
        c.event = height;
        c.event_tol = 0;
        CHECK(jdyn_solve(&c, y0, ys, ev, &st, nullptr) == JDYN_ERR_ARGUMENT);
        CHECK(says("event_tol"));
    }
}
