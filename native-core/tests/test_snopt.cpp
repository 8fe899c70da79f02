// SNOpt's native parts: the eigendecomposition through LAPACK, and the memory of a backward pass that
// collects the Kronecker factors (it must not grow with the number of steps).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "jdyn.h"

// Live and peak heap bytes of this process's operator new (the core's buffers are std::vectors).
namespace {
std::atomic<int64_t> g_live{0}, g_peak{0};
}
void* operator new(std::size_t n) {
    void* p = std::malloc(n + 16);
    if (!p) throw std::bad_alloc();
    *static_cast<std::size_t*>(p) = n;
    const int64_t live = g_live += (int64_t)n;
    int64_t peak = g_peak.load();
    while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
    }
    return static_cast<char*>(p) + 16;
}
void operator delete(void* p) noexcept {
    if (!p) return;
    char* base = static_cast<char*>(p) - 16;
    g_live -= (int64_t)*reinterpret_cast<std::size_t*>(base);
    std::free(base);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

TEST_CASE("jdyn_sym_eig: A U = U diag(w), U orthonormal, w ascending") {
    const int n = 4;
    std::vector<double> a = {4, 1, -2, 0.5, 1, 3, 0, 1, -2, 0, 5, -1, 0.5, 1, -1, 2};
    std::vector<double> u = a, w(n);
    REQUIRE(jdyn_sym_eig(n, u.data(), w.data()) == JDYN_OK);
    for (int i = 1; i < n; ++i) CHECK(w[i] >= w[i - 1]);
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < n; ++k) {
            double au = 0, uu = 0;
            for (int j = 0; j < n; ++j) {
                au += a[i * n + j] * u[j * n + k];
                uu += u[j * n + i] * u[j * n + k];
            }
            // dsyevd is backward stable: residuals of a few ulps times the norm (about 7 here).
            CHECK(std::fabs(au - u[i * n + k] * w[k]) < 1e-12);
            CHECK(std::fabs(uu - (i == k ? 1.0 : 0.0)) < 1e-12);
        }
    std::vector<double> bad = a;
    bad[5] = NAN;
    CHECK(jdyn_sym_eig(n, bad.data(), w.data()) == JDYN_ERR_NON_FINITE);
}

TEST_CASE("collecting the factors costs the same memory whatever the number of steps") {
    jdyn_layer_spec layers[3];
    std::memset(layers, 0, sizeof layers);
    layers[0].kind = JDYN_LAYER_LINEAR;
    layers[0].out_features = 16;
    layers[0].bias = 1;
    layers[1].kind = JDYN_LAYER_TANH;
    layers[2].kind = JDYN_LAYER_LINEAR;
    layers[2].out_features = 2;
    layers[2].bias = 1;
    jdyn_program* prog = nullptr;
    REQUIRE(jdyn_program_create(layers, 3, JDYN_FLOAT64, 2, &prog) == JDYN_OK);
    int64_t din = 0, dout = 0, np = 0;
    REQUIRE(jdyn_program_info(prog, &din, &dout, &np) == JDYN_OK);
    std::vector<double> params((size_t)np);
    REQUIRE(jdyn_program_init_params(prog, 1, params.data()) == JDYN_OK);
    int64_t count = 0;
    REQUIRE(jdyn_program_linear_layers(prog, nullptr, 0, &count) == JDYN_OK);
    REQUIRE(count == 2);
    std::vector<int64_t> rows(12);
    REQUIRE(jdyn_program_linear_layers(prog, rows.data(), 2, &count) == JDYN_OK);
    CHECK(rows[0] == 2);
    CHECK(rows[1] == 16);
    CHECK(rows[6] == 16);
    CHECK(rows[7] == 2);
    const int64_t factor_size = 3 * 3 + 16 * 16 + 17 * 17 + 2 * 2;

    const int64_t batch = 32;
    std::vector<double> y0((size_t)(batch * 2));
    for (size_t i = 0; i < y0.size(); ++i) y0[i] = std::sin(1.7 * (double)i);
    const double times[2] = {0.0, 1.0};
    // Fixed rk4 steps of dt: the number of steps is set exactly.
    auto run = [&](double dt, bool curvature, int64_t& accepted, int64_t& samples) {
        jdyn_solve_config c;
        std::memset(&c, 0, sizeof c);
        c.method = JDYN_RK4;
        c.dtype = JDYN_FLOAT64;
        c.batch = batch;
        c.dim = 2;
        c.times = times;
        c.n_times = 2;
        c.adaptive = 0;
        c.dt = dt;
        c.rtol = 1e-6;
        c.atol = 1e-6;
        c.safety = 0.9;
        c.ifactor = 10;
        c.dfactor = 0.2;
        c.icoeff = 1;
        jdyn_grad_options g;
        std::memset(&g, 0, sizeof g);
        g.sensitivity = JDYN_SENS_ADJOINT;
        g.seminorm = 1;
        std::vector<double> ys((size_t)(2 * batch * 2)), cot(ys.size()), gy0(y0.size()), gp((size_t)np), gt(2);
        for (size_t i = 0; i < cot.size(); ++i) cot[i] = i < y0.size() ? 0.0 : std::cos((double)i) / batch;
        std::vector<double> factors((size_t)factor_size);
        jdyn_solve_stats st;
        jdyn_tape* tape = nullptr;
        REQUIRE(jdyn_program_solve(&c, prog, params.data(), &g, y0.data(), ys.data(), &st, nullptr, &tape) == JDYN_OK);
        jdyn_backward_stats bst;
        const int64_t before = g_live.load();
        g_peak = before;
        if (curvature)
            REQUIRE(jdyn_tape_backward_curvature(tape, cot.data(), gy0.data(), gp.data(), gt.data(), &bst, 0.01,
                                                 factors.data(), &samples) == JDYN_OK);
        else
            REQUIRE(jdyn_tape_backward(tape, cot.data(), gy0.data(), gp.data(), gt.data(), &bst) == JDYN_OK);
        const int64_t peak = g_peak.load() - before;
        accepted = bst.accepted;
        jdyn_tape_free(tape);
        if (curvature)
        for (double f : factors) REQUIRE(std::isfinite(f));
        return peak;
    };
    int64_t steps_coarse = 0, steps_fine = 0, samples_coarse = 0, samples_fine = 0;
    // A first pass builds what is made once per program (its VJP program, cached with it).
    int64_t ignored = 0;
    (void)run(0.05, true, steps_coarse, samples_coarse);
    (void)run(0.05, false, steps_coarse, ignored);
    // What the collection adds to the plain adjoint backward pass's peak (which itself holds the fixed
    // grid's step times, 8 bytes a step, an engine property outside SNOpt).
    const int64_t coarse = run(0.05, true, steps_coarse, samples_coarse) - run(0.05, false, steps_coarse, ignored);
    const int64_t fine = run(0.0005, true, steps_fine, samples_fine) - run(0.0005, false, steps_fine, ignored);
    MESSAGE("heap the factor collection adds to the backward pass's peak: " << coarse << " bytes at "
                                                                           << steps_coarse << " steps, " << fine
                                                                           << " bytes at " << steps_fine << " steps ("
                                                                           << samples_fine << " samples)");
    CHECK(samples_coarse == 100);
    CHECK(samples_fine == 100);
    CHECK(steps_fine >= 100 * steps_coarse);
    // The same buffers either way: the samples' outputs (101 x the augmented state), the factor
    // program's plan and the factors' work arrays; nothing is kept per step. The peaks are not exactly
    // additive (the fixed grid's time lists, 8 bytes a step, grow by doubling inside the engine and
    // meet the sample times differently), so the bar is 2% of what keeping just z [32, 2] at each of the
    // 1980 extra steps would take (about 1 MB): a per-step record of anything fails it.
    const int64_t per_step_z = (steps_fine - steps_coarse) * batch * 2 * (int64_t)sizeof(double);
    CHECK(std::llabs(fine - coarse) < per_step_z / 50);
    jdyn_program_free(prog);
}
