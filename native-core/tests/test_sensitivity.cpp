// Gradients of solves, for every sensitivity method, against central finite differences of the
// loss L = sum_k <c_k, y(t_k)> (+ an integral loss): with respect to y0, the parameters and every
// output time. Uses a hand-written differentiable field so that the engine is tested on its own.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "jdyn.h"
#include "sensitivity/tape.h"

namespace {

// f(t, z) = (1 + 0.3 sin t) tanh(W z + b), batch rows independent; params = [W (D x D), b (D)].
class TanhField final : public jdyn::DiffField<double> {
public:
    TanhField(int64_t d, const double* params) : d_(d), p_(params) {}
    int64_t dim() const override { return d_; }
    int64_t num_params() const override { return d_ * d_ + d_; }

    void forward(double t, const double* z, double* dz, int64_t batch) override {
        const double g = 1 + 0.3 * std::sin(t);
        for (int64_t r = 0; r < batch; ++r)
            for (int64_t i = 0; i < d_; ++i) dz[r * d_ + i] = g * std::tanh(pre(z + r * d_, i));
    }

    void vjp(double t, const double* z, const double* v, int64_t batch, double* gz, double* gp, double* gt,
             double* dz) override {
        const double g = 1 + 0.3 * std::sin(t), dg = 0.3 * std::cos(t);
        for (int64_t r = 0; r < batch; ++r) {
            const double* zr = z + r * d_;
            for (int64_t j = 0; j < d_; ++j) gz[r * d_ + j] = 0;
            for (int64_t i = 0; i < d_; ++i) {
                const double s = std::tanh(pre(zr, i));
                const double vi = v[r * d_ + i];
                if (dz) dz[r * d_ + i] = g * s;
                const double du = vi * g * (1 - s * s);
                for (int64_t j = 0; j < d_; ++j) {
                    gz[r * d_ + j] += p_[i * d_ + j] * du;
                    if (gp) gp[i * d_ + j] += du * zr[j];
                }
                if (gp) gp[d_ * d_ + i] += du;
                if (gt) *gt += vi * dg * s;
            }
        }
    }

    void jvp(double t, const double* z, const double* u, int64_t batch, double* out) override {
        const double g = 1 + 0.3 * std::sin(t);
        for (int64_t r = 0; r < batch; ++r)
            for (int64_t i = 0; i < d_; ++i) {
                const double s = std::tanh(pre(z + r * d_, i));
                double wu = 0;
                for (int64_t j = 0; j < d_; ++j) wu += p_[i * d_ + j] * u[r * d_ + j];
                out[r * d_ + i] = g * (1 - s * s) * wu;
            }
    }

private:
    double pre(const double* z, int64_t i) const {
        double u = p_[d_ * d_ + i];
        for (int64_t j = 0; j < d_; ++j) u += p_[i * d_ + j] * z[j];
        return u;
    }
    int64_t d_;
    const double* p_;
};

// l(t, z) = 0.5 sum z^2 over the batch.
class HalfSquare final : public jdyn::IntegralLoss {
public:
    void evaluate(double, const void* zr, int64_t batch, int64_t dim, double* value, void* grad) override {
        const double* z = static_cast<const double*>(zr);
        double* g = static_cast<double*>(grad);
        double s = 0;
        for (int64_t i = 0; i < batch * dim; ++i) {
            s += 0.5 * z[i] * z[i];
            g[i] = z[i];
        }
        *value = s;
    }
};

struct Problem {
    int64_t batch = 3, dim = 2;
    std::vector<double> times = {0.0, 0.4, 1.0, 1.5};
    std::vector<double> params, y0, coef;  // coef: the loss weights, [T, batch, dim]
    Problem() {
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> u(-1, 1);
        params.resize((size_t)(dim * dim + dim));
        for (auto& p : params) p = u(rng);
        y0.resize((size_t)(batch * dim));
        for (auto& v : y0) v = u(rng);
        coef.resize(times.size() * (size_t)(batch * dim));
        for (auto& v : coef) v = u(rng);
    }
};

jdyn_solve_config config(const Problem& pb, int64_t method, double tol, const std::vector<double>* grid) {
    jdyn_solve_config c;
    std::memset(&c, 0, sizeof c);
    c.method = method;
    c.dtype = JDYN_FLOAT64;
    c.batch = pb.batch;
    c.dim = pb.dim;
    c.times = pb.times.data();
    c.n_times = (int64_t)pb.times.size();
    c.adaptive = grid ? 0 : 1;
    if (grid) {
        c.grid = grid->data();
        c.n_grid = (int64_t)grid->size();
    }
    c.rtol = c.atol = tol;
    c.safety = 0.9;
    c.ifactor = 10;
    c.dfactor = 0.2;
    c.icoeff = 1;
    return c;
}

struct Result {
    double loss;
    std::vector<double> g_y0, g_params, g_times;
    jdyn::BackwardStats bstats;
    std::vector<double> step_times;
    int64_t bytes;
};

// Loss (and, when sensitivity >= 0, its gradients) of one solve.
Result run(const Problem& pb, int64_t method, double tol, int64_t sensitivity, bool integral, bool seminorm,
           const std::vector<double>* grid = nullptr) {
    TanhField field(pb.dim, pb.params.data());
    HalfSquare l;
    jdyn_solve_config c = config(pb, method, tol, grid);
    const int64_t n = pb.batch * pb.dim, nt = (int64_t)pb.times.size();
    std::vector<double> ys((size_t)(nt * n));
    jdyn_solve_stats st;
    double ival = 0;
    auto tape = jdyn::forward_with_tape<double>(c, sensitivity < 0 ? JDYN_SENS_ADJOINT : sensitivity, &field,
                                                pb.y0.data(), ys.data(), st, integral ? &l : nullptr, &ival);
    Result r;
    r.loss = ival;
    for (size_t i = 0; i < ys.size(); ++i) r.loss += pb.coef[i] * ys[i];
    r.bytes = tape->bytes();
    if (sensitivity < 0) return r;
    r.g_y0.assign((size_t)n, 0.0);
    r.g_params.assign(pb.params.size(), 0.0);
    r.g_times.assign((size_t)nt, 0.0);
    jdyn::BackwardOptions opt;
    opt.seminorm = seminorm;
    tape->backward(pb.coef.data(), opt, integral ? &l : nullptr, r.g_y0.data(), r.g_params.data(), r.g_times.data(),
                   r.bstats);
    r.step_times.resize((size_t)tape->steps() + 1);
    if (tape->steps() > 0) tape->step_times(r.step_times.data());
    return r;
}

// Central differences of the loss in every input, with the solve configured by `solve_loss`.
template <class LossFn>
void check_against_fd(const Problem& base, const Result& r, LossFn solve_loss, double eps, double rel_tol) {
    auto close = [&](double analytic, double fd, const std::string& what) {
        INFO(what << " analytic " << analytic << " fd " << fd);
        CHECK(std::fabs(analytic - fd) <= rel_tol * std::max(1.0, std::fabs(fd)));
    };
    for (size_t i = 0; i < base.y0.size(); ++i) {
        Problem p = base, m = base;
        p.y0[i] += eps;
        m.y0[i] -= eps;
        close(r.g_y0[i], (solve_loss(p) - solve_loss(m)) / (2 * eps), "y0[" + std::to_string(i) + "]");
    }
    for (size_t i = 0; i < base.params.size(); ++i) {
        Problem p = base, m = base;
        p.params[i] += eps;
        m.params[i] -= eps;
        close(r.g_params[i], (solve_loss(p) - solve_loss(m)) / (2 * eps), "params[" + std::to_string(i) + "]");
    }
    for (size_t i = 0; i < base.times.size(); ++i) {
        Problem p = base, m = base;
        p.times[i] += eps;
        m.times[i] -= eps;
        close(r.g_times[i], (solve_loss(p) - solve_loss(m)) / (2 * eps), "times[" + std::to_string(i) + "]");
    }
}

// The grid of the autograd solve, each step a fixed fraction of its output interval, moved with
// the perturbed output times: the discrete solve autograd differentiates.
std::vector<double> scaled_grid(const std::vector<double>& steps, const std::vector<double>& base_times,
                                const std::vector<double>& times) {
    std::vector<double> g;
    size_t k = 1;
    for (double s : steps) {
        while (k + 1 < base_times.size() && s > base_times[k]) ++k;
        const double a = base_times[k - 1], b = base_times[k];
        const double sigma = (s - a) / (b - a);
        g.push_back(times[k - 1] + sigma * (times[k] - times[k - 1]));
    }
    return g;
}

}  // namespace

TEST_CASE("autograd is the exact gradient of the discrete solve (1e-6 relative), any tolerance") {
    for (int64_t method : {JDYN_DOPRI5, JDYN_TSIT5, JDYN_BOSH3, JDYN_DOPRI8}) {
        for (bool integral : {false, true}) {
            Problem pb;
            const Result r = run(pb, method, 1e-4, JDYN_SENS_AUTOGRAD, integral, true);
            REQUIRE(r.step_times.size() > 2);
            INFO("method " << method << " integral " << integral << " steps " << r.step_times.size() - 1);
            auto loss = [&](const Problem& p) {
                const std::vector<double> g = scaled_grid(r.step_times, pb.times, p.times);
                return run(p, method, 1e-4, -1, integral, true, &g).loss;
            };
            // Central differences on a smooth map: O(eps^2) truncation, 1e-16/eps round-off.
            check_against_fd(pb, r, loss, 1e-5, 1e-6);
        }
    }
}

TEST_CASE("autograd through a fixed-step solve, outputs between grid points") {
    Problem pb;
    std::vector<double> grid;
    for (int i = 0; i <= 15; ++i) grid.push_back(0.1 * i);
    const Result r = run(pb, JDYN_RK4, 0, JDYN_SENS_AUTOGRAD, false, true, &grid);
    auto loss = [&](const Problem& p) {
        const std::vector<double> g = scaled_grid(r.step_times, pb.times, p.times);
        return run(p, JDYN_RK4, 0, -1, false, true, &g).loss;
    };
    check_against_fd(pb, r, loss, 1e-5, 1e-6);
}

TEST_CASE("adjoint and interpolated adjoint match finite differences at tight tolerances") {
    for (int64_t sens : {JDYN_SENS_ADJOINT, JDYN_SENS_INTERPOLATED_ADJOINT}) {
        for (bool seminorm : {true, false}) {
            for (bool integral : {false, true}) {
                Problem pb;
                const double tol = 1e-10;
                const Result r = run(pb, JDYN_DOPRI5, tol, sens, integral, seminorm);
                INFO("sensitivity " << sens << " seminorm " << seminorm << " integral " << integral);
                auto loss = [&](const Problem& p) { return run(p, JDYN_DOPRI5, tol, -1, integral, true).loss; };
                // FD of an adaptive solve at 1e-10: noise ~ tol / eps = 1e-7, plus the adjoint's own
                // error ~ tol; 1e-5 relative bounds both with margin.
                check_against_fd(pb, r, loss, 1e-3, 1e-5);
            }
        }
    }
}

TEST_CASE("adjoint gradients approach autograd's as the tolerance shrinks") {
    Problem pb;
    double prev = 1e300;
    for (double tol : {1e-4, 1e-6, 1e-8}) {
        const Result a = run(pb, JDYN_DOPRI5, tol, JDYN_SENS_ADJOINT, false, true);
        const Result b = run(pb, JDYN_DOPRI5, tol, JDYN_SENS_AUTOGRAD, false, true);
        double diff = 0, scale = 0;
        for (size_t i = 0; i < a.g_params.size(); ++i) {
            diff = std::max(diff, std::fabs(a.g_params[i] - b.g_params[i]));
            scale = std::max(scale, std::fabs(b.g_params[i]));
        }
        INFO("tol " << tol << " max diff " << diff);
        CHECK(diff < 100 * tol * std::max(1.0, scale));
        CHECK(diff < prev);
        prev = diff;
    }
}

TEST_CASE("the seminorm never costs more backward evaluations than the full norm") {
    Problem pb;
    for (double tol : {1e-4, 1e-6, 1e-8}) {
        const Result semi = run(pb, JDYN_DOPRI5, tol, JDYN_SENS_ADJOINT, false, true);
        const Result full = run(pb, JDYN_DOPRI5, tol, JDYN_SENS_ADJOINT, false, false);
        INFO("tol " << tol << " seminorm nfe " << semi.bstats.nfe << " full nfe " << full.bstats.nfe);
        CHECK(semi.bstats.nfe <= full.bstats.nfe);
    }
}

TEST_CASE("the adjoint tape does not grow with the number of steps; autograd's does") {
    Problem pb;
    std::vector<double> coarse, fine;
    for (int i = 0; i <= 10; ++i) coarse.push_back(0.15 * i);
    for (int i = 0; i <= 1000; ++i) fine.push_back(0.0015 * i);
    // Grids must include the output times for the comparison to be about steps only.
    pb.times = {0.0, 1.5};
    pb.coef.resize(2 * (size_t)(pb.batch * pb.dim));
    const Result ac = run(pb, JDYN_RK4, 0, JDYN_SENS_ADJOINT, false, true, &coarse);
    const Result af = run(pb, JDYN_RK4, 0, JDYN_SENS_ADJOINT, false, true, &fine);
    const Result gc = run(pb, JDYN_RK4, 0, JDYN_SENS_AUTOGRAD, false, true, &coarse);
    const Result gf = run(pb, JDYN_RK4, 0, JDYN_SENS_AUTOGRAD, false, true, &fine);
    CHECK(ac.bytes == af.bytes);
    CHECK(gf.bytes > 50 * gc.bytes);
}

namespace {
// Loss sum(coef * ys) of a program solve through the C ABI.
double program_loss(const jdyn_program* prog, const std::vector<double>& params, const Problem& pb,
                    const std::vector<double>& y0, double tol) {
    jdyn_solve_config c = config(pb, JDYN_DOPRI5, tol, nullptr);
    std::vector<double> ys(pb.times.size() * (size_t)(pb.batch * pb.dim));
    jdyn_solve_stats st;
    REQUIRE(jdyn_program_solve(&c, prog, params.data(), nullptr, y0.data(), ys.data(), &st, nullptr, nullptr) ==
            JDYN_OK);
    double l = 0;
    for (size_t i = 0; i < ys.size(); ++i) l += pb.coef[i] * ys[i];
    return l;
}
}  // namespace

TEST_CASE("a layer program solves and differentiates through the C ABI") {
    Problem pb;
    jdyn_layer_spec layers[3];
    std::memset(layers, 0, sizeof layers);
    layers[0].kind = JDYN_LAYER_LINEAR;
    layers[0].out_features = 8;
    layers[0].bias = 1;
    layers[1].kind = JDYN_LAYER_TANH;
    layers[2].kind = JDYN_LAYER_LINEAR;
    layers[2].out_features = 2;
    layers[2].bias = 1;
    jdyn_program* prog = nullptr;
    REQUIRE(jdyn_program_create(layers, 3, JDYN_FLOAT64, 2, &prog) == JDYN_OK);
    int64_t din = 0, dout = 0, np = 0;
    REQUIRE(jdyn_program_info(prog, &din, &dout, &np) == JDYN_OK);
    CHECK(np == 2 * 8 + 8 + 8 * 2 + 2);
    std::vector<double> params((size_t)np);
    REQUIRE(jdyn_program_init_params(prog, 3, params.data()) == JDYN_OK);

    for (int64_t sens : {JDYN_SENS_AUTOGRAD, JDYN_SENS_ADJOINT, JDYN_SENS_INTERPOLATED_ADJOINT}) {
        const double tol = 1e-10;
        jdyn_solve_config c = config(pb, JDYN_DOPRI5, tol, nullptr);
        jdyn_grad_options g;
        std::memset(&g, 0, sizeof g);
        g.sensitivity = sens;
        g.seminorm = 1;
        std::vector<double> ys(pb.times.size() * (size_t)(pb.batch * pb.dim));
        jdyn_solve_stats st;
        jdyn_tape* tape = nullptr;
        REQUIRE(jdyn_program_solve(&c, prog, params.data(), &g, pb.y0.data(), ys.data(), &st, nullptr, &tape) ==
                JDYN_OK);
        REQUIRE(tape != nullptr);
        std::vector<double> gy0(pb.y0.size()), gp((size_t)np, 0.0), gt(pb.times.size());
        jdyn_backward_stats bst;
        REQUIRE(jdyn_tape_backward(tape, pb.coef.data(), gy0.data(), gp.data(), gt.data(), &bst) == JDYN_OK);
        CHECK(bst.nfe > 0);
        jdyn_tape_free(tape);
        // At 1e-10 the adaptive solve's own error is far below the 1e-6 bar; central differences
        // with eps 1e-4 add ~1e-8 truncation and ~1e-6 round-off of tol / eps.
        const double eps = 1e-4;
        for (size_t i = 0; i < params.size(); i += 5) {
            std::vector<double> p = params, m = params;
            p[i] += eps;
            m[i] -= eps;
            const double fd = (program_loss(prog, p, pb, pb.y0, tol) - program_loss(prog, m, pb, pb.y0, tol)) / (2 * eps);
            INFO("sensitivity " << sens << " param " << i << " analytic " << gp[i] << " fd " << fd);
            CHECK(std::fabs(gp[i] - fd) <= 1e-5 * std::max(1.0, std::fabs(fd)));
        }
        for (size_t i = 0; i < pb.y0.size(); ++i) {
            std::vector<double> p = pb.y0, m = pb.y0;
            p[i] += eps;
            m[i] -= eps;
            const double fd = (program_loss(prog, params, pb, p, tol) - program_loss(prog, params, pb, m, tol)) / (2 * eps);
            CHECK(std::fabs(gy0[i] - fd) <= 1e-5 * std::max(1.0, std::fabs(fd)));
        }
    }
    // Errors through the ABI name their cause.
    jdyn_solve_config c = config(pb, JDYN_DOPRI5, 1e-6, nullptr);
    c.dim = 3;
    std::vector<double> ys(64);
    jdyn_solve_stats st;
    CHECK(jdyn_program_solve(&c, prog, params.data(), nullptr, pb.y0.data(), ys.data(), &st, nullptr, nullptr) ==
          JDYN_ERR_ARGUMENT);
    CHECK(std::string(jdyn_last_error()).find("dim") != std::string::npos);
    c = config(pb, JDYN_DOPRI5, 1e-6, nullptr);
    c.dtype = JDYN_FLOAT32;
    CHECK(jdyn_program_solve(&c, prog, params.data(), nullptr, pb.y0.data(), ys.data(), &st, nullptr, nullptr) ==
          JDYN_ERR_ARGUMENT);
    CHECK(std::string(jdyn_last_error()).find("dtype") != std::string::npos);
    jdyn_program_free(prog);
}
