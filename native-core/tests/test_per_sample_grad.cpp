// Per-sample solves with gradients (jdyn_solve_config.per_sample = 1), through the C ABI: on a graph
// field whose rows have very different stiffness, the batch's outputs, dL/dy0, dL/dtheta and dL/dt
// under every sensitivity equal those of each row solved alone (batch 1, per_sample 0), summed over the
// rows; per-row step counts are reported and differ; fixed-step methods ignore the flag; what couples
// rows (an integral loss callback, a program reducing over the batch, SNOpt's statistics) is refused;
// float32 rows equal their solves alone too; on 1, 2 and 3 worker threads (row blocks) every result,
// count and failure is bitwise the same. (Named _grad beside the engine's own per-sample tests.)
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "jdyn.h"

namespace {

using Vec = std::vector<double>;

int64_t op(jdyn_graph* g, int64_t o, std::vector<int64_t> in, std::vector<int64_t> ia = {}, Vec fa = {}) {
    int64_t id = -1;
    REQUIRE(jdyn_graph_op(g, o, in.data(), (int64_t)in.size(), ia.data(), (int64_t)ia.size(), fa.data(),
                          (int64_t)fa.size(), &id) == JDYN_OK);
    return id;
}

// z = [x, s] per row: x' = -exp(s) x + a tanh(w x + c) + 0.5 sin t, s' = 0. A row's stiffness is
// exp(s), so rows with different s need very different steps from an explicit method. With
// mix_rows, x' also subtracts the batch mean of x (rows interact). params = [a, w, c].
jdyn_program* stiff_program(bool mix_rows = false, int64_t dtype = JDYN_FLOAT64) {
    jdyn_graph* g = nullptr;
    REQUIRE(jdyn_graph_new(&g) == JDYN_OK);
    const int64_t zs[2] = {-1, 2}, ps[1] = {1};
    int64_t z, t, a, w, c;
    REQUIRE(jdyn_graph_arg(g, zs, 2, &z) == JDYN_OK);
    REQUIRE(jdyn_graph_time(g, &t) == JDYN_OK);
    REQUIRE(jdyn_graph_param(g, "a", ps, 1, JDYN_INIT_CONSTANT, 0.0, &a) == JDYN_OK);
    REQUIRE(jdyn_graph_param(g, "w", ps, 1, JDYN_INIT_CONSTANT, 0.0, &w) == JDYN_OK);
    REQUIRE(jdyn_graph_param(g, "c", ps, 1, JDYN_INIT_CONSTANT, 0.0, &c) == JDYN_OK);
    const double half = 0.5;
    int64_t k;
    REQUIRE(jdyn_graph_const(g, &half, nullptr, 0, &k) == JDYN_OK);
    const int64_t x = op(g, JDYN_OP_SLICE, {z}, {1, 0, 1});
    const int64_t s = op(g, JDYN_OP_SLICE, {z}, {1, 1, 2});
    const int64_t decay = op(g, JDYN_OP_NEG, {op(g, JDYN_OP_MUL, {op(g, JDYN_OP_EXP, {s}), x})});
    const int64_t pre = op(g, JDYN_OP_ADD, {op(g, JDYN_OP_MUL, {x, w}), c});
    const int64_t drive = op(g, JDYN_OP_MUL, {a, op(g, JDYN_OP_TANH, {pre})});
    const int64_t forcing = op(g, JDYN_OP_MUL, {k, op(g, JDYN_OP_SIN, {t})});
    int64_t dx = op(g, JDYN_OP_ADD, {op(g, JDYN_OP_ADD, {decay, drive}), forcing});
    if (mix_rows) dx = op(g, JDYN_OP_SUB, {dx, op(g, JDYN_OP_MEAN, {x}, {0, 1})});
    const int64_t ds = op(g, JDYN_OP_FULL, {}, {2, -1, 1}, {0.0});
    const int64_t out = op(g, JDYN_OP_CONCAT, {dx, ds}, {1});
    jdyn_program* p = nullptr;
    REQUIRE(jdyn_graph_finish(g, &out, 1, dtype, &p) == JDYN_OK);
    jdyn_graph_free(g);
    return p;
}

const Vec kParams = {0.7, -1.3, 0.2};
const Vec kTimes = {0.0, 0.4, 1.0};
// Rows of stiffness 1, 400 and 30.
const Vec kY0 = {1.0, 0.0, 0.5, std::log(400.0), -0.8, std::log(30.0)};
constexpr int64_t kBatch = 3, kDim = 2;

jdyn_solve_config config(int64_t batch, int64_t per_sample) {
    jdyn_solve_config c;
    std::memset(&c, 0, sizeof c);
    c.method = JDYN_DOPRI5;
    c.dtype = JDYN_FLOAT64;
    c.batch = batch;
    c.dim = kDim;
    c.times = kTimes.data();
    c.n_times = (int64_t)kTimes.size();
    c.adaptive = 1;
    c.rtol = 1e-7;
    c.atol = 1e-8;
    c.safety = 0.9;
    c.ifactor = 10;
    c.dfactor = 0.2;
    c.icoeff = 1;
    c.per_sample = per_sample;
    return c;
}

jdyn_grad_options grad_options(int64_t sensitivity) {
    jdyn_grad_options g;
    std::memset(&g, 0, sizeof g);
    g.sensitivity = sensitivity;
    g.seminorm = 1;
    return g;
}

// The cotangent of L = sum_i sin(i + 1) ys_i over [T, B, D].
Vec cotangent(int64_t batch) {
    Vec c(kTimes.size() * (size_t)(batch * kDim));
    for (size_t i = 0; i < c.size(); ++i) c[i] = std::sin((double)i + 1.0);
    return c;
}

struct Result {
    Vec ys, gy0, gp, gt;
    jdyn_solve_stats fwd;
    jdyn_backward_stats bwd;
    std::vector<int64_t> rows;  // sample_stats
    int64_t tape_steps = 0;
};

// A solve with a tape and its backward pass.
Result solve_and_backward(jdyn_program* p, jdyn_solve_config c, int64_t sens, const Vec& y0, const Vec& cot) {
    Result r;
    r.ys.assign(kTimes.size() * (size_t)(c.batch * kDim), 0.0);
    r.rows.assign((size_t)(3 * c.batch), -1);
    if (c.per_sample) c.sample_stats = r.rows.data();
    const jdyn_grad_options g = grad_options(sens);
    jdyn_tape* tape = nullptr;
    REQUIRE(jdyn_program_solve(&c, p, kParams.data(), &g, y0.data(), r.ys.data(), &r.fwd, nullptr, &tape) == JDYN_OK);
    REQUIRE(jdyn_tape_info(tape, &r.tape_steps, nullptr) == JDYN_OK);
    r.gy0.assign(y0.size(), 0.0);
    r.gp.assign(kParams.size(), 0.0);
    r.gt.assign(kTimes.size(), 0.0);
    REQUIRE(jdyn_tape_backward(tape, cot.data(), r.gy0.data(), r.gp.data(), r.gt.data(), &r.bwd) == JDYN_OK);
    jdyn_tape_free(tape);
    return r;
}

// Row b of a [T, B, D] array as [T, 1, D].
Vec row_of(const Vec& a, int64_t b, int64_t batch) {
    Vec out;
    for (size_t k = 0; k < kTimes.size(); ++k)
        for (int64_t d = 0; d < kDim; ++d) out.push_back(a[(k * (size_t)batch + (size_t)b) * kDim + (size_t)d]);
    return out;
}

Vec slice(const Vec& a, int64_t b) { return Vec(a.begin() + b * kDim, a.begin() + (b + 1) * kDim); }

}  // namespace

TEST_CASE("per-sample gradients equal each row's solve alone, for every sensitivity") {
    jdyn_program* p = stiff_program();
    const Vec cot = cotangent(kBatch);
    for (int64_t sens : {JDYN_SENS_AUTOGRAD, JDYN_SENS_ADJOINT, JDYN_SENS_INTERPOLATED_ADJOINT}) {
        INFO("sensitivity " << sens);
        const Result batch = solve_and_backward(p, config(kBatch, 1), sens, kY0, cot);
        Vec gp_sum(kParams.size(), 0.0), gt_sum(kTimes.size(), 0.0);
        int64_t nfe = 0, accepted = 0, rejected = 0, bnfe = 0, steps = 0;
        std::vector<int64_t> row_accepted;
        for (int64_t b = 0; b < kBatch; ++b) {
            INFO("row " << b);
            const Result alone = solve_and_backward(p, config(1, 0), sens, slice(kY0, b), row_of(cot, b, kBatch));
            // The same row solve, the same operations in the same order: equal bit for bit.
            CHECK(row_of(batch.ys, b, kBatch) == alone.ys);
            CHECK(slice(batch.gy0, b) == alone.gy0);
            for (size_t i = 0; i < gp_sum.size(); ++i) gp_sum[i] += alone.gp[i];
            for (size_t k = 0; k < gt_sum.size(); ++k) gt_sum[k] += alone.gt[k];
            CHECK(batch.rows[(size_t)(3 * b)] == alone.fwd.nfe);
            CHECK(batch.rows[(size_t)(3 * b + 1)] == alone.fwd.accepted);
            CHECK(batch.rows[(size_t)(3 * b + 2)] == alone.fwd.rejected);
            nfe += alone.fwd.nfe;
            accepted += alone.fwd.accepted;
            rejected += alone.fwd.rejected;
            bnfe += alone.bwd.nfe;
            steps += alone.tape_steps;
            row_accepted.push_back(alone.fwd.accepted);
        }
        // Sums over the rows in row order, as the per-sample backward pass takes them.
        CHECK(batch.gp == gp_sum);
        CHECK(batch.gt == gt_sum);
        CHECK(batch.fwd.nfe == nfe);
        CHECK(batch.fwd.accepted == accepted);
        CHECK(batch.fwd.rejected == rejected);
        CHECK(batch.bwd.nfe == bnfe);
        // A per-sample tape records no one sequence of steps for the batch: its rows' are in sample_stats.
        CHECK(batch.tape_steps == 0);
        if (sens == JDYN_SENS_AUTOGRAD) CHECK(steps == accepted);
        // Stiffness 400 against 1: the stiff row needs many times the steps of the mild one.
        CHECK(row_accepted[1] > 4 * row_accepted[0]);
        CHECK(row_accepted[2] > row_accepted[0]);
        // A shared step runs every row at about the stiff row's pace (the RMS over the batch dilutes its
        // error a little, so a few steps fewer).
        const Result shared = solve_and_backward(p, config(kBatch, 0), sens, kY0, cot);
        CHECK(10 * shared.fwd.accepted >= 8 * row_accepted[1]);
        CHECK(shared.fwd.accepted > 4 * row_accepted[0]);
        if (sens == JDYN_SENS_AUTOGRAD) {
            // A per-sample tape has no one sequence of steps for the batch.
            jdyn_solve_config c = config(kBatch, 1);
            const jdyn_grad_options g = grad_options(sens);
            Vec ys(batch.ys.size());
            jdyn_solve_stats st;
            jdyn_tape* tape = nullptr;
            REQUIRE(jdyn_program_solve(&c, p, kParams.data(), &g, kY0.data(), ys.data(), &st, nullptr, &tape) ==
                    JDYN_OK);
            Vec times((size_t)steps + 1);
            CHECK(jdyn_tape_step_times(tape, times.data()) == JDYN_ERR_ARGUMENT);
            CHECK(std::string(jdyn_last_error()).find("per row") != std::string::npos);
            jdyn_tape_free(tape);
        }
    }
    jdyn_program_free(p);
}

TEST_CASE("a per-sample solve without a tape is the adjoint's forward pass, row by row") {
    jdyn_program* p = stiff_program();
    jdyn_solve_config c = config(kBatch, 1);
    std::vector<int64_t> rows(3 * kBatch, -1);
    c.sample_stats = rows.data();
    Vec ys(kTimes.size() * kBatch * kDim);
    jdyn_solve_stats st;
    REQUIRE(jdyn_program_solve(&c, p, kParams.data(), nullptr, kY0.data(), ys.data(), &st, nullptr, nullptr) ==
            JDYN_OK);
    // The adjoint's forward solve adds no step constraints and no dense output: the same steps.
    const Result taped = solve_and_backward(p, config(kBatch, 1), JDYN_SENS_ADJOINT, kY0, cotangent(kBatch));
    CHECK(ys == taped.ys);
    CHECK(rows == taped.rows);
    for (int64_t b = 0; b < kBatch; ++b) {
        jdyn_solve_config one = config(1, 0);
        Vec alone(kTimes.size() * kDim);
        jdyn_solve_stats sa;
        const Vec y0 = slice(kY0, b);
        REQUIRE(jdyn_program_solve(&one, p, kParams.data(), nullptr, y0.data(), alone.data(), &sa, nullptr, nullptr) ==
                JDYN_OK);
        CHECK(row_of(ys, b, kBatch) == alone);
        CHECK(rows[(size_t)(3 * b + 1)] == sa.accepted);
    }
    jdyn_program_free(p);
}

TEST_CASE("fixed-step methods ignore per_sample") {
    jdyn_program* p = stiff_program();
    // Row 1's stiffness is reduced to 20 so that rk4 at h = 0.05 stays stable (h * 20 = 1 < 2.78).
    Vec y0 = kY0;
    y0[3] = std::log(20.0);
    const Vec cot = cotangent(kBatch);
    for (int64_t sens : {JDYN_SENS_AUTOGRAD, JDYN_SENS_ADJOINT}) {
        jdyn_solve_config a = config(kBatch, 1), b = config(kBatch, 0);
        for (jdyn_solve_config* c : {&a, &b}) {
            c->method = JDYN_RK4;
            c->adaptive = 0;
            c->dt = 0.05;
        }
        const Result per = solve_and_backward(p, a, sens, y0, cot);
        const Result shared = solve_and_backward(p, b, sens, y0, cot);
        CHECK(per.ys == shared.ys);
        CHECK(per.gy0 == shared.gy0);
        CHECK(per.gp == shared.gp);
        CHECK(per.gt == shared.gt);
        CHECK(per.fwd.nfe == shared.fwd.nfe);
    }
    jdyn_program_free(p);
}

TEST_CASE("a failing row is named, and the rows before it are counted") {
    jdyn_program* p = stiff_program();
    jdyn_solve_config c = config(kBatch, 1);
    std::vector<int64_t> rows(3 * kBatch, -1);
    c.sample_stats = rows.data();
    // Enough steps for the mild row 0, too few for the stiff row 1.
    const Result ok = solve_and_backward(p, config(kBatch, 1), JDYN_SENS_ADJOINT, kY0, cotangent(kBatch));
    c.max_steps = ok.rows[1] + ok.rows[2] + 2;  // row 0's accepted + rejected steps, with room
    REQUIRE(c.max_steps < ok.rows[4] + ok.rows[5]);
    const jdyn_grad_options g = grad_options(JDYN_SENS_ADJOINT);
    Vec ys(ok.ys.size());
    jdyn_solve_stats st;
    jdyn_tape* tape = nullptr;
    CHECK(jdyn_program_solve(&c, p, kParams.data(), &g, kY0.data(), ys.data(), &st, nullptr, &tape) ==
          JDYN_ERR_MAX_STEPS);
    CHECK(tape == nullptr);
    CHECK(std::string(jdyn_last_error()).find("batch row 1") != std::string::npos);
    CHECK(rows[0] == ok.rows[0]);
    CHECK(rows[1] == ok.rows[1]);
    CHECK(rows[7] == 0);  // row 2 never ran
    CHECK(st.nfe >= ok.rows[0]);
    jdyn_program_free(p);
}

namespace {
int32_t half_square(void*, double, const void* zr, int64_t batch, int64_t dim, double* value, void* grad) {
    const double* z = static_cast<const double*>(zr);
    double* gr = static_cast<double*>(grad);
    *value = 0;
    for (int64_t i = 0; i < batch * dim; ++i) {
        *value += 0.5 * z[i] * z[i];
        gr[i] = z[i];
    }
    return 0;
}
}  // namespace

TEST_CASE("what couples rows is refused in a per-sample solve") {
    jdyn_program* p = stiff_program();
    Vec ys(kTimes.size() * kBatch * kDim);
    jdyn_solve_stats st;
    jdyn_tape* tape = nullptr;
    SUBCASE("an integral loss callback (one value for the whole batch)") {
        jdyn_solve_config c = config(kBatch, 1);
        jdyn_grad_options g = grad_options(JDYN_SENS_ADJOINT);
        g.integral = half_square;
        CHECK(jdyn_program_solve(&c, p, kParams.data(), &g, kY0.data(), ys.data(), &st, nullptr, &tape) ==
              JDYN_ERR_ARGUMENT);
        CHECK(std::string(jdyn_last_error()).find("integral loss") != std::string::npos);
        // Without per_sample it is fine.
        c.per_sample = 0;
        CHECK(jdyn_program_solve(&c, p, kParams.data(), &g, kY0.data(), ys.data(), &st, nullptr, &tape) == JDYN_OK);
        jdyn_tape_free(tape);
    }
    SUBCASE("a program reducing over the batch") {
        jdyn_program* mixed = stiff_program(true);
        jdyn_solve_config c = config(kBatch, 1);
        for (jdyn_tape** t : {&tape, (jdyn_tape**)nullptr}) {
            CHECK(jdyn_program_solve(&c, mixed, kParams.data(), nullptr, kY0.data(), ys.data(), &st, nullptr, t) ==
                  JDYN_ERR_ARGUMENT);
            CHECK(std::string(jdyn_last_error()).find("mixes batch rows") != std::string::npos);
            CHECK(std::string(jdyn_last_error()).find("MEAN") != std::string::npos);
        }
        c.per_sample = 0;
        CHECK(jdyn_program_solve(&c, mixed, kParams.data(), nullptr, kY0.data(), ys.data(), &st, nullptr, nullptr) ==
              JDYN_OK);
        jdyn_program_free(mixed);
    }
    SUBCASE("SNOpt's second-order statistics") {
        jdyn_solve_config c = config(kBatch, 1);
        const jdyn_grad_options g = grad_options(JDYN_SENS_ADJOINT);
        REQUIRE(jdyn_program_solve(&c, p, kParams.data(), &g, kY0.data(), ys.data(), &st, nullptr, &tape) == JDYN_OK);
        const Vec cot = cotangent(kBatch);
        Vec gy0(kY0.size()), gp(kParams.size()), gt(kTimes.size()), factors(64);
        jdyn_backward_stats bst;
        int64_t samples = 0;
        CHECK(jdyn_tape_backward_curvature(tape, cot.data(), gy0.data(), gp.data(), gt.data(), &bst, 0.1,
                                           factors.data(), &samples) == JDYN_ERR_ARGUMENT);
        const std::string message = jdyn_last_error();
        INFO(message);
        CHECK(message.find("per-sample") != std::string::npos);
        jdyn_tape_free(tape);
    }
    SUBCASE("a per_sample other than 0 or 1") {
        jdyn_solve_config c = config(kBatch, 2);
        CHECK(jdyn_program_solve(&c, p, kParams.data(), nullptr, kY0.data(), ys.data(), &st, nullptr, nullptr) ==
              JDYN_ERR_ARGUMENT);
        CHECK(std::string(jdyn_last_error()).find("per_sample") != std::string::npos);
    }
    jdyn_program_free(p);
}

namespace {
// The stiff field's x' by hand for a jdyn_diff_field (a, w, c fixed at kParams), which records the
// largest batch it was called with.
struct HandField {
    int64_t max_batch = 0;
};
int32_t hand_forward(void* ctx, double t, const void* zr, void* dzr, int64_t batch, int64_t) {
    auto* h = static_cast<HandField*>(ctx);
    h->max_batch = std::max(h->max_batch, batch);
    const double* z = static_cast<const double*>(zr);
    double* dz = static_cast<double*>(dzr);
    for (int64_t r = 0; r < batch; ++r) {
        const double x = z[2 * r], s = z[2 * r + 1];
        dz[2 * r] = -std::exp(s) * x + kParams[0] * std::tanh(kParams[1] * x + kParams[2]) + 0.5 * std::sin(t);
        dz[2 * r + 1] = 0;
    }
    return 0;
}
int32_t hand_vjp(void* ctx, double t, const void* zr, const void* vr, int64_t batch, int64_t, void* gzr, void*,
                 double* gt) {
    static_cast<HandField*>(ctx)->max_batch = std::max(static_cast<HandField*>(ctx)->max_batch, batch);
    const double* z = static_cast<const double*>(zr);
    const double* v = static_cast<const double*>(vr);
    double* gz = static_cast<double*>(gzr);
    for (int64_t r = 0; r < batch; ++r) {
        const double x = z[2 * r], s = z[2 * r + 1], th = std::tanh(kParams[1] * x + kParams[2]);
        gz[2 * r] = v[2 * r] * (-std::exp(s) + kParams[0] * kParams[1] * (1 - th * th));
        gz[2 * r + 1] = -v[2 * r] * std::exp(s) * x;
        if (gt) *gt += v[2 * r] * 0.5 * std::cos(t);
    }
    return 0;
}
}  // namespace

TEST_CASE("a field given by callbacks is called one row at a time") {
    HandField h;
    jdyn_diff_field f{hand_forward, &h, hand_vjp, &h, 0};
    const Vec cot = cotangent(kBatch);
    jdyn_solve_config c = config(kBatch, 1);
    const jdyn_grad_options g = grad_options(JDYN_SENS_INTERPOLATED_ADJOINT);
    Vec ys(cot.size()), gy0(kY0.size()), gt(kTimes.size());
    jdyn_solve_stats st;
    jdyn_tape* tape = nullptr;
    REQUIRE(jdyn_diff_field_solve(&c, &f, &g, kY0.data(), ys.data(), &st, nullptr, &tape) == JDYN_OK);
    jdyn_backward_stats bst;
    REQUIRE(jdyn_tape_backward(tape, cot.data(), gy0.data(), nullptr, gt.data(), &bst) == JDYN_OK);
    jdyn_tape_free(tape);
    CHECK(h.max_batch == 1);
    for (int64_t b = 0; b < kBatch; ++b) {
        jdyn_solve_config one = config(1, 0);
        const Vec y0 = slice(kY0, b), ct = row_of(cot, b, kBatch);
        Vec ys1(ct.size()), gy1(kDim), gt1(kTimes.size());
        REQUIRE(jdyn_diff_field_solve(&one, &f, &g, y0.data(), ys1.data(), &st, nullptr, &tape) == JDYN_OK);
        REQUIRE(jdyn_tape_backward(tape, ct.data(), gy1.data(), nullptr, gt1.data(), &bst) == JDYN_OK);
        jdyn_tape_free(tape);
        CHECK(row_of(ys, b, kBatch) == ys1);
        CHECK(slice(gy0, b) == gy1);
    }
}

TEST_CASE("float32: every row equals its solve alone") {
    jdyn_program* p = stiff_program(false, JDYN_FLOAT32);
    using F = std::vector<float>;
    const F params(kParams.begin(), kParams.end());
    // Milder stiffness (1, 40, 10): the adjoint's backsolve of z runs the decay backward (growth), which
    // float32's rounding cannot follow at stiffness 400.
    F y0(kY0.begin(), kY0.end());
    y0[3] = (float)std::log(40.0);
    y0[5] = (float)std::log(10.0);
    const Vec cd = cotangent(kBatch);
    const F cot(cd.begin(), cd.end());
    auto run = [&](int64_t batch, int64_t per_sample, int64_t sens, const F& x0, const F& ct, F& ys, F& gy, F& gp,
                   Vec& gt) {
        jdyn_solve_config c = config(batch, per_sample);
        c.dtype = JDYN_FLOAT32;
        // Tolerances float32 can meet (1e-6 would be near its rounding); max_steps turns a stall into a failure.
        c.rtol = 1e-4;
        c.atol = 1e-5;
        c.max_steps = 100000;
        const jdyn_grad_options g = grad_options(sens);
        ys.assign(ct.size(), 0.0f);
        gy.assign(x0.size(), 0.0f);
        gp.assign(params.size(), 0.0f);
        gt.assign(kTimes.size(), 0.0);
        jdyn_solve_stats st;
        jdyn_backward_stats bst;
        jdyn_tape* tape = nullptr;
        REQUIRE(jdyn_program_solve(&c, p, params.data(), &g, x0.data(), ys.data(), &st, nullptr, &tape) == JDYN_OK);
        REQUIRE(jdyn_tape_backward(tape, ct.data(), gy.data(), gp.data(), gt.data(), &bst) == JDYN_OK);
        jdyn_tape_free(tape);
    };
    for (int64_t sens : {JDYN_SENS_AUTOGRAD, JDYN_SENS_ADJOINT, JDYN_SENS_INTERPOLATED_ADJOINT}) {
        INFO("sensitivity " << sens);
        F ys, gy, gp;
        Vec gt;
        run(kBatch, 1, sens, y0, cot, ys, gy, gp, gt);
        F gp_sum(params.size(), 0.0f);
        for (int64_t b = 0; b < kBatch; ++b) {
            F x0(y0.begin() + b * kDim, y0.begin() + (b + 1) * kDim), ct, ys1, gy1, gp1;
            for (size_t k = 0; k < kTimes.size(); ++k)
                for (int64_t d = 0; d < kDim; ++d) ct.push_back(cot[(k * kBatch + (size_t)b) * kDim + (size_t)d]);
            Vec gt1;
            run(1, 0, sens, x0, ct, ys1, gy1, gp1, gt1);
            for (size_t k = 0; k < kTimes.size(); ++k)
                for (int64_t d = 0; d < kDim; ++d)
                    CHECK(ys[(k * kBatch + (size_t)b) * kDim + (size_t)d] == ys1[k * kDim + (size_t)d]);
            for (int64_t d = 0; d < kDim; ++d) CHECK(gy[(size_t)(b * kDim + d)] == gy1[(size_t)d]);
            // The per-sample pass adds each row's float gradient to the running sum in row order, as here.
            for (size_t i = 0; i < gp_sum.size(); ++i) gp_sum[i] = (float)((double)gp_sum[i] + (double)gp1[i]);
        }
        CHECK(gp == gp_sum);
    }
    jdyn_program_free(p);
}

namespace {
// 20 rows of stiffness 1..121 (three row blocks of 8, 8 and 4), x0 varied per row.
Vec many_rows(int64_t batch) {
    Vec y0;
    for (int64_t b = 0; b < batch; ++b) {
        y0.push_back(std::cos(0.7 * (double)b));
        y0.push_back(std::log(1.0 + 30.0 * (double)(b % 5)));
    }
    return y0;
}

void set_threads(int64_t n) { REQUIRE(jdyn_set_num_threads(n) == JDYN_OK); }

bool same_stats(const jdyn_solve_stats& a, const jdyn_solve_stats& b) {
    return a.nfe == b.nfe && a.accepted == b.accepted && a.rejected == b.rejected && a.n_out == b.n_out &&
           a.t_reached == b.t_reached && a.last_dt == b.last_dt && a.bad_index == b.bad_index;
}
}  // namespace

TEST_CASE("row blocks on 1, 2 and 3 threads give the same bits, and each row its solve alone") {
    jdyn_program* p = stiff_program();
    constexpr int64_t B = 20;
    const Vec y0 = many_rows(B);
    const Vec cot = cotangent(B);
    for (int64_t sens : {JDYN_SENS_AUTOGRAD, JDYN_SENS_ADJOINT, JDYN_SENS_INTERPOLATED_ADJOINT}) {
        INFO("sensitivity " << sens);
        std::vector<Result> runs;
        std::vector<Vec> inference;
        for (int64_t threads : {1, 2, 3}) {
            set_threads(threads);
            runs.push_back(solve_and_backward(p, config(B, 1), sens, y0, cot));
            jdyn_solve_config c = config(B, 1);
            Vec ys(cot.size());
            jdyn_solve_stats st;
            REQUIRE(jdyn_program_solve(&c, p, kParams.data(), nullptr, y0.data(), ys.data(), &st, nullptr, nullptr) ==
                    JDYN_OK);
            inference.push_back(ys);
        }
        set_threads(1);
        for (size_t i = 1; i < runs.size(); ++i) {
            INFO("threads " << i + 1);
            CHECK(runs[i].ys == runs[0].ys);
            CHECK(runs[i].gy0 == runs[0].gy0);
            CHECK(runs[i].gp == runs[0].gp);
            CHECK(runs[i].gt == runs[0].gt);
            CHECK(runs[i].rows == runs[0].rows);
            CHECK(same_stats(runs[i].fwd, runs[0].fwd));
            CHECK(runs[i].bwd.nfe == runs[0].bwd.nfe);
            CHECK(runs[i].bwd.accepted == runs[0].bwd.accepted);
            CHECK(inference[i] == inference[0]);
        }
        // Inference steps as the adjoint's forward pass does (see above).
        if (sens == JDYN_SENS_ADJOINT) CHECK(inference[0] == runs[0].ys);
        // Against every row alone: outputs and dL/dy0 bit for bit (the same row solve); dL/dtheta and
        // dL/dt are summed per block then over blocks, not in one running sum, so they may differ from
        // the row-order sum by rounding only: 20 terms, a few ulps of the sum of magnitudes.
        const Result& r = runs[0];
        Vec gp_sum(kParams.size(), 0.0), gp_abs(kParams.size(), 0.0), gt_sum(kTimes.size(), 0.0),
            gt_abs(kTimes.size(), 0.0);
        for (int64_t b = 0; b < B; ++b) {
            INFO("row " << b);
            const Result alone = solve_and_backward(p, config(1, 0), sens, slice(y0, b), row_of(cot, b, B));
            CHECK(row_of(r.ys, b, B) == alone.ys);
            CHECK(slice(r.gy0, b) == alone.gy0);
            CHECK(r.rows[(size_t)(3 * b + 1)] == alone.fwd.accepted);
            for (size_t i = 0; i < gp_sum.size(); ++i) {
                gp_sum[i] += alone.gp[i];
                gp_abs[i] += std::fabs(alone.gp[i]);
            }
            for (size_t k = 0; k < gt_sum.size(); ++k) {
                gt_sum[k] += alone.gt[k];
                gt_abs[k] += std::fabs(alone.gt[k]);
            }
        }
        for (size_t i = 0; i < gp_sum.size(); ++i) CHECK(std::fabs(r.gp[i] - gp_sum[i]) <= 1e-14 * gp_abs[i]);
        for (size_t k = 0; k < gt_sum.size(); ++k) CHECK(std::fabs(r.gt[k] - gt_sum[k]) <= 1e-14 * gt_abs[k]);
    }
    jdyn_program_free(p);
}

TEST_CASE("with threads, the lowest failing row is named and the rows before it counted, as serially") {
    jdyn_program* p = stiff_program();
    constexpr int64_t B = 20;
    Vec y0 = many_rows(B);
    // Rows 10 (block 1) and 17 (block 2) very stiff: max_steps lets every other row through.
    y0[2 * 10 + 1] = y0[2 * 17 + 1] = std::log(5000.0);
    jdyn_solve_config c = config(B, 1);
    c.max_steps = 400;
    std::vector<std::vector<int64_t>> rows;
    std::vector<jdyn_solve_stats> stats;
    for (int64_t threads : {1, 2, 3}) {
        INFO("threads " << threads);
        set_threads(threads);
        rows.emplace_back(3 * B, -1);
        c.sample_stats = rows.back().data();
        const jdyn_grad_options g = grad_options(JDYN_SENS_ADJOINT);
        Vec ys(cotangent(B).size());
        jdyn_solve_stats st;
        jdyn_tape* tape = nullptr;
        CHECK(jdyn_program_solve(&c, p, kParams.data(), &g, y0.data(), ys.data(), &st, nullptr, &tape) ==
              JDYN_ERR_MAX_STEPS);
        CHECK(tape == nullptr);
        CHECK(std::string(jdyn_last_error()).find("batch row 10:") != std::string::npos);
        stats.push_back(st);
    }
    set_threads(1);
    // Rows 0..9 ran to the end; rows after the failing row 10 are not reported (though rows of
    // blocks 0 and 2 ran in parallel with it on 2 and 3 threads).
    for (int64_t b = 0; b < 10; ++b) CHECK(rows[0][(size_t)(3 * b + 1)] > 0);
    for (int64_t b = 11; b < B; ++b) CHECK(rows[0][(size_t)(3 * b)] == 0);
    for (size_t i = 1; i < rows.size(); ++i) {
        CHECK(rows[i] == rows[0]);
        CHECK(same_stats(stats[i], stats[0]));
    }
    jdyn_program_free(p);
}

namespace {
struct ThreadField {
    std::thread::id caller = std::this_thread::get_id();
    std::atomic<int> off_thread{0};
};
int32_t thread_forward(void* ctx, double t, const void* z, void* dz, int64_t batch, int64_t dim) {
    auto* f = static_cast<ThreadField*>(ctx);
    if (std::this_thread::get_id() != f->caller) ++f->off_thread;
    HandField h;
    return hand_forward(&h, t, z, dz, batch, dim);
}
int32_t thread_vjp(void* ctx, double t, const void* z, const void* v, int64_t batch, int64_t dim, void* gz, void* gp,
                   double* gt) {
    auto* f = static_cast<ThreadField*>(ctx);
    if (std::this_thread::get_id() != f->caller) ++f->off_thread;
    HandField h;
    return hand_vjp(&h, t, z, v, batch, dim, gz, gp, gt);
}
}  // namespace

TEST_CASE("a field given by callbacks stays on the calling thread with threads") {
    ThreadField tf;
    jdyn_diff_field f{thread_forward, &tf, thread_vjp, &tf, 0};
    constexpr int64_t B = 20;
    const Vec y0 = many_rows(B), cot = cotangent(B);
    set_threads(3);
    jdyn_solve_config c = config(B, 1);
    const jdyn_grad_options g = grad_options(JDYN_SENS_ADJOINT);
    Vec ys(cot.size()), gy0(y0.size()), gt(kTimes.size());
    jdyn_solve_stats st;
    jdyn_tape* tape = nullptr;
    REQUIRE(jdyn_diff_field_solve(&c, &f, &g, y0.data(), ys.data(), &st, nullptr, &tape) == JDYN_OK);
    jdyn_backward_stats bst;
    REQUIRE(jdyn_tape_backward(tape, cot.data(), gy0.data(), nullptr, gt.data(), &bst) == JDYN_OK);
    jdyn_tape_free(tape);
    set_threads(1);
    CHECK(tf.off_thread.load() == 0);
}
