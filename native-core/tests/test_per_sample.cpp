// Per-sample adaptive stepping (jdyn_solve_config.per_sample): the definition is that every batch row
// is solved as if it were alone, so each test compares a per-sample batch with the same rows solved one
// at a time (batch = 1, per_sample = 0) through the same library on the same CPU, bit for bit (the
// per-sample loop repeats the shared engine's arithmetic, see engine_per_sample.cpp), to a few ulps:
// the engine's kernels are inline templates compiled into both instruction-set variants, and the linker
// keeps one copy of those it does not inline, so whether a product is fused into an FMA can differ
// between the engine and this loop. A stage value then differs by an ulp; the error estimate (a
// difference of nearly equal stage sums) amplifies that by about 1e4 into the step sizes, so a row's
// solution moves by about 1e4 ulp of itself at most, far below the tolerance (the steps taken, their
// count and every per-row statistic still match exactly).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "jdyn.h"

namespace {

// Forced damped oscillators, one per row, with their parameters in the state so that any sub-batch
// can be evaluated alone: z = [x, v, w, zeta], x'' + 2 zeta w x' + w^2 x = 0.5 cos(t), w' = zeta' = 0.
// The forcing makes the field depend on t, so a row evaluated at a wrong time gives a wrong result.
template <class T>
void oscillator_row(double t, const T* z, T* dz) {
    const double x = z[0], v = z[1], w = z[2], zeta = z[3];
    dz[0] = (T)v;
    dz[1] = (T)(-2.0 * zeta * w * v - w * w * x + 0.5 * std::cos(t));
    dz[2] = (T)0;
    dz[3] = (T)0;
}

template <class T>
int32_t scalar_field(void* ctx, double t, const void* zr, void* dzr, int64_t batch, int64_t dim) {
    const T* z = static_cast<const T*>(zr);
    T* dz = static_cast<T*>(dzr);
    if (ctx) ++*static_cast<int64_t*>(ctx);
    for (int64_t b = 0; b < batch; ++b) oscillator_row<T>(t, z + b * dim, dz + b * dim);
    return 0;
}

// What the row-time field saw: per row, every time it was called with.
struct RowLog {
    std::vector<std::vector<double>> times;
    int64_t calls = 0;
};

template <class T>
int32_t rows_field(void* ctx, const double* t, const void* zr, void* dzr, int64_t batch, int64_t dim) {
    const T* z = static_cast<const T*>(zr);
    T* dz = static_cast<T*>(dzr);
    auto* log = static_cast<RowLog*>(ctx);
    if (log) {
        log->calls++;
        log->times.resize((size_t)batch);
        for (int64_t b = 0; b < batch; ++b) log->times[(size_t)b].push_back(t[b]);
    }
    for (int64_t b = 0; b < batch; ++b) oscillator_row<T>(t[b], z + b * dim, dz + b * dim);
    return 0;
}

// The times a solve of one row called its scalar field with.
struct TimeLog {
    std::vector<double> times;
};
template <class T>
int32_t logged_scalar(void* ctx, double t, const void* z, void* dz, int64_t batch, int64_t dim) {
    static_cast<TimeLog*>(ctx)->times.push_back(t);
    return scalar_field<T>(nullptr, t, z, dz, batch, dim);
}

jdyn_solve_config config(int64_t method, int64_t dtype, int64_t batch, std::vector<double>& times) {
    jdyn_solve_config c;
    std::memset(&c, 0, sizeof c);
    c.method = method;
    c.dtype = dtype;
    c.batch = batch;
    c.dim = 4;
    c.times = times.data();
    c.n_times = (int64_t)times.size();
    c.adaptive = 1;
    c.rtol = dtype == JDYN_FLOAT32 ? 1e-4 : 1e-7;
    c.atol = dtype == JDYN_FLOAT32 ? 1e-5 : 1e-8;
    c.safety = 0.9;
    c.ifactor = 10;
    c.dfactor = 0.2;
    c.icoeff = 1;
    return c;
}

// Rows with very different stiffness: w from 0.5 to 20 (geometric), zeta from 0.05 to 0.4.
template <class T>
std::vector<T> initial_states(int64_t batch) {
    std::vector<T> y0((size_t)(batch * 4));
    for (int64_t b = 0; b < batch; ++b) {
        const double s = batch > 1 ? (double)b / (double)(batch - 1) : 0.0;
        y0[(size_t)(4 * b)] = (T)(1.0 - 0.5 * s);
        y0[(size_t)(4 * b + 1)] = (T)(0.3 * s);
        y0[(size_t)(4 * b + 2)] = (T)(0.5 * std::pow(40.0, std::fmod(7.0 * s, 1.0)));  // shuffled w
        y0[(size_t)(4 * b + 3)] = (T)(0.05 + 0.35 * s);
    }
    return y0;
}

struct Result {
    int32_t status;
    std::string message;
    std::vector<double> ys;  // widened
    jdyn_solve_stats stats;
    std::vector<int64_t> rows;  // [batch, 3]
};

template <class T>
Result run(jdyn_solve_config c, const std::vector<T>& y0) {
    Result r;
    std::vector<T> ys((size_t)(c.n_times * c.batch * c.dim), (T)-7);
    r.rows.assign((size_t)(3 * c.batch), -1);
    if (c.per_sample) c.sample_stats = r.rows.data();
    r.status = jdyn_solve(&c, y0.data(), ys.data(), nullptr, &r.stats, nullptr);
    r.message = jdyn_last_error();
    r.ys.assign(ys.begin(), ys.end());
    return r;
}

// Row b of a [n_times, batch, dim] result.
std::vector<double> row_of(const Result& r, const jdyn_solve_config& c, int64_t b) {
    std::vector<double> out;
    for (int64_t j = 0; j < c.n_times; ++j)
        for (int64_t d = 0; d < c.dim; ++d) out.push_back(r.ys[(size_t)((j * c.batch + b) * c.dim + d)]);
    return out;
}

// Solves every row of the batch alone and checks the per-sample result against it, bit for bit, and
// the per-row statistics against each alone solve's.
template <class T>
void check_rows_alone(const jdyn_solve_config& c, const std::vector<T>& y0, const Result& batch,
                      bool spread = true) {
    REQUIRE_MESSAGE(batch.status == JDYN_OK, batch.message);
    int64_t min_steps = INT64_MAX, max_steps = 0;
    for (int64_t b = 0; b < c.batch; ++b) {
        jdyn_solve_config one = c;
        one.batch = 1;
        one.per_sample = 0;
        one.field = scalar_field<T>;
        one.field_ctx = nullptr;
        one.field_rows = nullptr;
        std::vector<T> y0b(y0.begin() + b * c.dim, y0.begin() + (b + 1) * c.dim);
        Result alone = run<T>(one, y0b);
        REQUIRE_MESSAGE(alone.status == JDYN_OK, alone.message);
        const std::vector<double> mine = row_of(batch, c, b);
        // 1e4 ulp of the values (which are O(1)): see the top of this file
        const double ulp = sizeof(T) == 4 ? 1.2e-7 : 2.3e-16;
        double diff = 0;
        for (size_t i = 0; i < mine.size(); ++i)
            diff = std::max(diff, std::fabs(mine[i] - alone.ys[i]) / std::max(1.0, std::fabs(alone.ys[i])));
        CHECK_MESSAGE(diff <= 1e4 * ulp, "row " << b << " differs from its solve alone by " << diff);
        CHECK(batch.rows[(size_t)(3 * b)] == alone.stats.nfe);
        CHECK(batch.rows[(size_t)(3 * b + 1)] == alone.stats.accepted);
        CHECK(batch.rows[(size_t)(3 * b + 2)] == alone.stats.rejected);
        const int64_t steps = alone.stats.accepted + alone.stats.rejected;
        min_steps = std::min(min_steps, steps);
        max_steps = std::max(max_steps, steps);
    }
    // The rows are far apart in stiffness: per-sample stepping is only worth having if their steps differ.
    if (spread) CHECK(max_steps > 2 * min_steps);
    // The batch's accepted + rejected are those of the row with the most steps: the lockstep iterations.
    CHECK(batch.stats.accepted + batch.stats.rejected == max_steps);
}

struct MethodCase {
    int64_t method;
    const char* name;
};
const MethodCase kAdaptive[] = {{JDYN_DOPRI5, "dopri5"}, {JDYN_TSIT5, "tsit5"}, {JDYN_BOSH3, "bosh3"},
                                {JDYN_DOPRI8, "dopri8"}, {JDYN_HEUN, "heun"}};

template <class T>
void every_method(int64_t dtype) {
    // Interior output times, so that rows interpolate (DOP853's extra stages, Hermite's f(t1, y1)).
    std::vector<double> times = {0.0, 0.37, 1.1, 2.5, 4.0};
    const int64_t batch = 9;
    const std::vector<T> y0 = initial_states<T>(batch);
    for (const MethodCase& m : kAdaptive) {
        CAPTURE(m.name);
        jdyn_solve_config c = config(m.method, dtype, batch, times);
        if (m.method == JDYN_HEUN) {
            c.rtol = 1e-4;
            c.atol = 1e-5;
        }
        c.per_sample = 1;
        RowLog log;
        c.field_rows = rows_field<T>;
        c.field_rows_ctx = &log;
        const Result rows = run<T>(c, y0);
        check_rows_alone<T>(c, y0, rows);
        CHECK(rows.stats.nfe == log.calls);

        // A scalar field only: the slow path, one call per run of rows at one time, same result.
        jdyn_solve_config s = c;
        int64_t calls = 0;
        s.field_rows = nullptr;
        s.field = scalar_field<T>;
        s.field_ctx = &calls;
        const Result slow = run<T>(s, y0);
        REQUIRE_MESSAGE(slow.status == JDYN_OK, slow.message);
        CHECK(std::memcmp(slow.ys.data(), rows.ys.data(), sizeof(double) * rows.ys.size()) == 0);
        CHECK(slow.rows == rows.rows);
        CHECK(slow.stats.nfe == calls);
        CHECK(calls > rows.stats.nfe);  // the rows' times part after the first step
    }
}

}  // namespace

TEST_CASE("per-sample rows equal the rows solved alone: every adaptive method, float64") {
    every_method<double>(JDYN_FLOAT64);
}

TEST_CASE("per-sample rows equal the rows solved alone: every adaptive method, float32") {
    every_method<float>(JDYN_FLOAT32);
}

TEST_CASE("per-sample with vector tolerances, norm groups, a PID controller, step bounds, backward in time") {
    std::vector<double> times = {3.0, 2.2, 0.9, 0.0};
    const int64_t batch = 7;
    const std::vector<double> y0 = initial_states<double>(batch);
    std::vector<double> rtol = {1e-6, 1e-7, 1e-6, 1e-6}, atol = {1e-8, 1e-7, 1e-8, 1e-8};
    std::vector<double> groups = {1, 2, 0, 1};  // x and zeta one group, v another, w left out
    std::vector<double> step_ts = {2.5, 1.7, 1.0};
    for (int variant = 0; variant < 3; ++variant) {
        CAPTURE(variant);
        jdyn_solve_config c = config(JDYN_DOPRI5, JDYN_FLOAT64, batch, times);
        c.per_sample = 1;
        c.field_rows = rows_field<double>;
        if (variant == 0) {
            c.rtol_vec = rtol.data();
            c.atol_vec = atol.data();
        } else if (variant == 1) {
            c.norm_weights = groups.data();
            c.pcoeff = 0.2;
            c.icoeff = 0.4;
            c.dcoeff = 0.1;
            c.step_ts = step_ts.data();
            c.n_step_ts = (int64_t)step_ts.size();
        } else {
            c.method = JDYN_DOPRI8;
            c.norm_weights = groups.data();
            c.max_step = 0.05;
            c.dt = 0.01;
        }
        check_rows_alone<double>(c, y0, run<double>(c, y0), variant != 2);  // max_step binds every row
    }
}

TEST_CASE("the row-time field sees each row at the times its alone solve evaluated") {
    std::vector<double> times = {0.0, 1.3, 3.0};
    const int64_t batch = 5;
    const std::vector<double> y0 = initial_states<double>(batch);
    jdyn_solve_config c = config(JDYN_DOPRI8, JDYN_FLOAT64, batch, times);
    c.per_sample = 1;
    RowLog log;
    c.field_rows = rows_field<double>;
    c.field_rows_ctx = &log;
    REQUIRE(run<double>(c, y0).status == JDYN_OK);
    for (int64_t b = 0; b < batch; ++b) {
        jdyn_solve_config one = c;
        one.batch = 1;
        one.per_sample = 0;
        one.field_rows = nullptr;
        TimeLog alone;
        one.field = logged_scalar<double>;
        one.field_ctx = &alone;
        std::vector<double> y0b(y0.begin() + b * 4, y0.begin() + (b + 1) * 4);
        REQUIRE(run<double>(one, y0b).status == JDYN_OK);
        // Every time of the alone solve, in order, among the row's times (which also hold the calls it
        // only rode along in, at its current time).
        const std::vector<double>& seen = log.times[(size_t)b];
        size_t j = 0;
        for (double t : alone.times) {
            // the same time up to the steps' rounding differences (see the top of this file: DOP853's
            // estimate cancels more, and its step sizes differ by up to ~1e-9 relative)
            while (j < seen.size() && std::fabs(seen[j] - t) > 1e-8) ++j;
            double near = 1e300;
            for (double u : seen) near = std::min(near, std::fabs(u - t));
            CHECK_MESSAGE(j < seen.size(), "row " << b << " never saw t=" << t << " nearest " << near);
            if (j < seen.size()) ++j;
        }
        for (double t : seen) CHECK((t >= 0.0 && t <= 3.0));
    }
}

TEST_CASE("per-sample accuracy against the closed form of the damped oscillator") {
    // Unforced rows: x(t) = e^{-a t} (cos(b t) + a / b sin(b t)), a = zeta w, b = w sqrt(1 - zeta^2).
    // At rtol = atol = 1e-8 each row's own error control keeps its global error near 1e-7 (dopri5's
    // global error is a small multiple of the local tolerance over a few oscillations); 1e-6 leaves room.
    struct Ctx {};
    auto field = [](void*, const double*, const void* zr, void* dzr, int64_t batch, int64_t dim) -> int32_t {
        const double* z = static_cast<const double*>(zr);
        double* dz = static_cast<double*>(dzr);
        for (int64_t b = 0; b < batch; ++b) {
            const double* r = z + b * dim;
            dz[b * dim] = r[1];
            dz[b * dim + 1] = -2 * r[3] * r[2] * r[1] - r[2] * r[2] * r[0];
            dz[b * dim + 2] = 0;
            dz[b * dim + 3] = 0;
        }
        return 0;
    };
    std::vector<double> times = {0.0, 10.0};
    const int64_t batch = 40;
    std::vector<double> y0((size_t)(4 * batch));
    for (int64_t b = 0; b < batch; ++b) {
        y0[(size_t)(4 * b)] = 1;
        y0[(size_t)(4 * b + 1)] = 0;
        y0[(size_t)(4 * b + 2)] = 0.5 + 19.5 * (double)b / (batch - 1);
        y0[(size_t)(4 * b + 3)] = 0.05 + 0.25 * (double)((b * 7) % batch) / (batch - 1);
    }
    jdyn_solve_config c = config(JDYN_DOPRI5, JDYN_FLOAT64, batch, times);
    c.rtol = c.atol = 1e-8;
    c.per_sample = 1;
    c.field_rows = field;
    const Result r = run<double>(c, y0);
    REQUIRE_MESSAGE(r.status == JDYN_OK, r.message);
    double worst = 0;
    for (int64_t b = 0; b < batch; ++b) {
        const double w = y0[(size_t)(4 * b + 2)], zeta = y0[(size_t)(4 * b + 3)];
        const double a = zeta * w, bb = w * std::sqrt(1 - zeta * zeta);
        const double x = std::exp(-a * 10) * (std::cos(bb * 10) + a / bb * std::sin(bb * 10));
        worst = std::max(worst, std::fabs(r.ys[(size_t)((batch + b) * 4)] - x));
    }
    CHECK(worst < 1e-6);
    // the fast rows took more steps than the slow ones
    CHECK(r.rows[(size_t)(3 * (batch - 1) + 1)] > 3 * r.rows[1]);
}

TEST_CASE("fixed steps with per_sample: the shared grid, per-row statistics filled") {
    std::vector<double> times = {0.0, 0.5, 1.0};
    const std::vector<double> y0 = initial_states<double>(4);
    jdyn_solve_config c = config(JDYN_RK4, JDYN_FLOAT64, 4, times);
    c.adaptive = 0;
    c.dt = 0.01;
    c.field = scalar_field<double>;
    const Result shared = run<double>(c, y0);
    REQUIRE(shared.status == JDYN_OK);
    c.per_sample = 1;
    const Result ps = run<double>(c, y0);
    REQUIRE(ps.status == JDYN_OK);
    CHECK(ps.ys == shared.ys);
    for (int64_t b = 0; b < 4; ++b) {
        CHECK(ps.rows[(size_t)(3 * b)] == shared.stats.nfe);
        CHECK(ps.rows[(size_t)(3 * b + 1)] == shared.stats.accepted);
        CHECK(ps.rows[(size_t)(3 * b + 2)] == 0);
    }
    // A row-time field alone serves a shared-step solve too (every row at the step's time).
    c.per_sample = 0;
    c.field = nullptr;
    c.field_rows = rows_field<double>;
    const Result rows = run<double>(c, y0);
    REQUIRE_MESSAGE(rows.status == JDYN_OK, rows.message);
    CHECK(rows.ys == shared.ys);
}

namespace {
// Row 3 turns NaN once t passes 0.6.
int32_t nan_row3(void*, const double* t, const void* zr, void* dzr, int64_t batch, int64_t dim) {
    rows_field<double>(nullptr, t, zr, dzr, batch, dim);
    double* dz = static_cast<double*>(dzr);
    if (batch > 3 && t[3] > 0.6) dz[3 * dim + 1] = NAN;
    return 0;
}
}  // namespace

TEST_CASE("failures name the row that failed and the t it reached") {
    std::vector<double> times = {0.0, 2.0};
    const std::vector<double> y0 = initial_states<double>(6);
    SUBCASE("non-finite") {
        jdyn_solve_config c = config(JDYN_DOPRI5, JDYN_FLOAT64, 6, times);
        c.per_sample = 1;
        c.field_rows = nan_row3;
        const Result r = run<double>(c, y0);
        CHECK(r.status == JDYN_ERR_NON_FINITE);
        CHECK_MESSAGE(r.message.find("batch row 3") != std::string::npos, r.message);
        CHECK(r.stats.t_reached > 0.5);
        CHECK(r.stats.t_reached <= 0.6);
        CHECK(r.stats.bad_index / 4 == 3);
    }
    SUBCASE("max steps: the stiffest row runs out first") {
        std::vector<double> y = initial_states<double>(6);
        for (int64_t b = 0; b < 6; ++b) y[(size_t)(4 * b + 2)] = b == 4 ? 30.0 : 0.5;
        jdyn_solve_config c = config(JDYN_DOPRI5, JDYN_FLOAT64, 6, times);
        c.per_sample = 1;
        c.max_steps = 60;
        c.field_rows = rows_field<double>;
        const Result r = run<double>(c, y);
        CHECK(r.status == JDYN_ERR_MAX_STEPS);
        CHECK_MESSAGE(r.message.find("batch row 4") != std::string::npos, r.message);
        CHECK(r.rows[(size_t)(3 * 4 + 1)] + r.rows[(size_t)(3 * 4 + 2)] == 60);
        CHECK(r.rows[1] + r.rows[2] < 60);
    }
    SUBCASE("step underflow") {
        std::vector<double> y = initial_states<double>(6);
        for (int64_t b = 0; b < 6; ++b) y[(size_t)(4 * b + 2)] = b == 2 ? 60.0 : 0.5;
        jdyn_solve_config c = config(JDYN_DOPRI5, JDYN_FLOAT64, 6, times);
        c.per_sample = 1;
        c.dt = 0.05;
        c.min_step = 0.02;
        c.field_rows = rows_field<double>;
        const Result r = run<double>(c, y);
        CHECK(r.status == JDYN_ERR_STEP_UNDERFLOW);
        CHECK_MESSAGE(r.message.find("batch row 2") != std::string::npos, r.message);
    }
}

TEST_CASE("per-sample refusals: events, a kept interpolant, a bad flag") {
    std::vector<double> times = {0.0, 1.0};
    const std::vector<double> y0 = initial_states<double>(2);
    jdyn_solve_config c = config(JDYN_DOPRI5, JDYN_FLOAT64, 2, times);
    c.per_sample = 1;
    c.field_rows = rows_field<double>;
    jdyn_solve_stats st;
    std::vector<double> ys(16);
    jdyn_solve_config e = c;
    e.event = [](void*, double, const void*, int64_t, int64_t, double* out) -> int32_t {
        *out = 1;
        return 0;
    };
    e.event_tol = 1e-9;
    CHECK(jdyn_solve(&e, y0.data(), ys.data(), nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(std::string(jdyn_last_error()).find("terminal event") != std::string::npos);
    jdyn_solve_config d = c;
    d.dense = 1;
    jdyn_dense* dense = nullptr;
    CHECK(jdyn_solve(&d, y0.data(), ys.data(), nullptr, &st, &dense) == JDYN_ERR_ARGUMENT);
    CHECK(dense == nullptr);
    CHECK(std::string(jdyn_last_error()).find("interpolant") != std::string::npos);
    jdyn_solve_config n = c;
    n.field_rows = nullptr;
    CHECK(jdyn_solve(&n, y0.data(), ys.data(), nullptr, &st, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(std::string(jdyn_last_error()).find("no vector field") != std::string::npos);
}
