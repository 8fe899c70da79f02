// Layer programs (src/nn): every layer kind and random mixed programs against central finite
// differences (VJP wrt input, parameters and t; JVP), the adjoint identity, float32 against float64,
// Linear and GalLinear against naive loops, the activations against the C library, PyTorch-style
// initialisation, and every argument error of the C ABI.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "jdyn.h"
#include "nn/activations.h"
#include "nn/program.h"
#include "nn/program_handle.h"
#include "status.h"

namespace {

using Specs = std::vector<jdyn_layer_spec>;

jdyn_layer_spec layer(int64_t kind) { return jdyn_layer_spec{kind, 0, 0, 0, 0, 0.0, 0.0}; }
jdyn_layer_spec linear(int64_t out, int64_t bias = 1) { return jdyn_layer_spec{JDYN_LAYER_LINEAR, out, bias, 0, 0, 0.0, 0.0}; }
jdyn_layer_spec softplus(double beta, double threshold) {
    return jdyn_layer_spec{JDYN_LAYER_SOFTPLUS, 0, 0, 0, 0, beta, threshold};
}
jdyn_layer_spec elu(double alpha) { return jdyn_layer_spec{JDYN_LAYER_ELU, 0, 0, 0, 0, alpha, 0.0}; }
jdyn_layer_spec augmenter(int64_t extra) { return jdyn_layer_spec{JDYN_LAYER_AUGMENTER, extra, 0, 0, 0, 0.0, 0.0}; }
jdyn_layer_spec gallinear(int64_t out, int64_t bias, int64_t basis, int64_t n_basis, double period) {
    return jdyn_layer_spec{JDYN_LAYER_GALLINEAR, out, bias, basis, n_basis, period, 0.0};
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}
std::string last_error() { return jdyn_last_error(); }

// A program through the C ABI, freed at scope exit.
struct Prog {
    jdyn_program* p = nullptr;
    int64_t din = 0, dout = 0, np = 0;
    Prog(const Specs& specs, int64_t dim_in, int64_t dtype = JDYN_FLOAT64) {
        const int32_t rc = jdyn_program_create(specs.data(), (int64_t)specs.size(), dtype, dim_in, &p);
        INFO(last_error());
        REQUIRE(rc == JDYN_OK);
        REQUIRE(jdyn_program_info(p, &din, &dout, &np) == JDYN_OK);
    }
    ~Prog() { jdyn_program_free(p); }
    Prog(const Prog&) = delete;
    Prog& operator=(const Prog&) = delete;
};

std::vector<double> random_vec(std::mt19937_64& rng, size_t n, double lo = -1.0, double hi = 1.0) {
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<double> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

std::vector<double> forward(const Prog& g, const std::vector<double>& params, double t, const std::vector<double>& z,
                            int64_t batch) {
    std::vector<double> out((size_t)(batch * g.dout));
    REQUIRE(jdyn_program_forward(g.p, params.data(), t, z.data(), batch, out.data()) == JDYN_OK);
    return out;
}

double dotv(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// Distance of the inputs of every kinked layer (RELU and ELU at 0, SOFTPLUS where beta x crosses its
// threshold) from the kink, computed through prefix programs (whose parameters are a prefix of the
// buffer). Finite differences across a kink measure neither one-sided derivative.
double kink_margin(const Specs& specs, int64_t dim_in, const std::vector<double>& params, double t,
                   const std::vector<double>& z, int64_t batch) {
    double margin = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < specs.size(); ++i) {
        const int64_t k = specs[i].kind;
        if (k != JDYN_LAYER_RELU && k != JDYN_LAYER_ELU && k != JDYN_LAYER_SOFTPLUS) continue;
        std::vector<double> x = z;
        if (i > 0) {
            Prog prefix(Specs(specs.begin(), specs.begin() + (long)i), dim_in);
            x = forward(prefix, params, t, z, batch);
        }
        for (double v : x) {
            // An exact zero is structural (an AUGMENTER column, a clamped RELU output): it stays 0
            // under the small perturbations, so it crosses no kink.
            if (v == 0.0) continue;
            if (k == JDYN_LAYER_SOFTPLUS) {
                const double beta = specs[i].alpha == 0 ? 1.0 : specs[i].alpha;
                margin = std::min(margin, std::fabs(beta * v - specs[i].threshold));
            } else {
                margin = std::min(margin, std::fabs(v));
            }
        }
    }
    return margin;
}

// Central differences with h = 1e-6 in float64. Truncation error is h^2 |f'''| / 6 ~ 1e-12 and the
// cancellation error eps |f| / h ~ 1e-10 for the O(1) values here, so 1e-6 relative (to
// max(1, |derivative|)) leaves four orders of margin, while any missing or wrong term (a dropped
// bias, phi' or t column, a transposed weight) shows up at 1e-3 or more.
constexpr double kH = 1e-6;
constexpr double kFdTol = 1e-6;

struct FdReport {
    double worst = 0;
    std::string where;
    void add(double fd, double an, const std::string& what) {
        const double e = std::fabs(fd - an) / std::max(1.0, std::fabs(an));
        if (e > worst) {
            worst = e;
            where = what + ": fd " + std::to_string(fd) + " analytic " + std::to_string(an);
        }
    }
};

// Draws inputs until every kinked layer input is at least 1e-3 from its kink (the FD steps move them
// by about 1e-6).
std::vector<double> inputs_away_from_kinks(std::mt19937_64& rng, const Specs& specs, int64_t dim_in,
                                           const std::vector<double>& params, double t, int64_t batch) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        std::vector<double> z = random_vec(rng, (size_t)(batch * dim_in), -1.5, 1.5);
        if (kink_margin(specs, dim_in, params, t, z, batch) > 1e-3) return z;
    }
    FAIL("no inputs away from the kinks found");
    return {};
}

// Checks the VJP (input, parameters, t, the dz output, accumulation), the JVP and the adjoint
// identity of the float64 program `specs` against finite differences.
double worst_fd = 0, worst_adjoint = 0;  // reported at the end of the FD test cases

void check_derivatives(const Specs& specs, int64_t dim_in, uint64_t seed, int64_t batch = 3) {
    Prog g(specs, dim_in);
    std::mt19937_64 rng(seed);
    std::vector<double> params((size_t)g.np);
    REQUIRE(jdyn_program_init_params(g.p, seed, params.data()) == JDYN_OK);
    // Init values are small (1/sqrt(fan_in)); scale them up a little so that the activations see
    // their nonlinear range.
    for (auto& p : params) p *= 1.7;
    const double t = std::uniform_real_distribution<double>(-1.0, 1.0)(rng);
    const std::vector<double> z = inputs_away_from_kinks(rng, specs, dim_in, params, t, batch);
    const std::vector<double> v = random_vec(rng, (size_t)(batch * g.dout));
    const std::vector<double> u = random_vec(rng, (size_t)(batch * dim_in));

    // Analytic: gz overwritten (pre-filled with garbage), gp and gt accumulated onto 0.25 and 0.5.
    std::vector<double> gz((size_t)(batch * dim_in), 123.0), gp((size_t)g.np, 0.25);
    double gt = 0.5;
    REQUIRE(jdyn_program_vjp(g.p, params.data(), t, z.data(), v.data(), batch, gz.data(), gp.data(), &gt) == JDYN_OK);
    for (auto& x : gp) x -= 0.25;
    gt -= 0.5;

    auto phi = [&](const std::vector<double>& pp, double tt, const std::vector<double>& zz) {
        return dotv(v, forward(g, pp, tt, zz, batch));
    };
    FdReport rep;
    for (size_t i = 0; i < z.size(); ++i) {
        std::vector<double> zp = z, zm = z;
        zp[i] += kH;
        zm[i] -= kH;
        rep.add((phi(params, t, zp) - phi(params, t, zm)) / (2 * kH), gz[i], "dz[" + std::to_string(i) + "]");
    }
    for (size_t j = 0; j < params.size(); ++j) {
        std::vector<double> pp = params, pm = params;
        pp[j] += kH;
        pm[j] -= kH;
        rep.add((phi(pp, t, z) - phi(pm, t, z)) / (2 * kH), gp[j], "dparam[" + std::to_string(j) + "]");
    }
    rep.add((phi(params, t + kH, z) - phi(params, t - kH, z)) / (2 * kH), gt, "dt");

    // JVP against the directional difference.
    std::vector<double> ju((size_t)(batch * g.dout));
    REQUIRE(jdyn_program_jvp(g.p, params.data(), t, z.data(), u.data(), batch, ju.data()) == JDYN_OK);
    {
        std::vector<double> zp = z, zm = z;
        for (size_t i = 0; i < z.size(); ++i) {
            zp[i] += kH * u[i];
            zm[i] -= kH * u[i];
        }
        const auto fp = forward(g, params, t, zp, batch), fm = forward(g, params, t, zm, batch);
        for (size_t k = 0; k < ju.size(); ++k)
            rep.add((fp[k] - fm[k]) / (2 * kH), ju[k], "jvp[" + std::to_string(k) + "]");
    }
    INFO(rep.where);
    CHECK(rep.worst < kFdTol);
    worst_fd = std::max(worst_fd, rep.worst);

    // Adjoint identity <v, J u> = <J^T v, u>, relative to the scale of the sums' terms.
    const double vju = dotv(v, ju), jtvu = dotv(gz, u);
    double scale = 0;
    for (size_t k = 0; k < ju.size(); ++k) scale += std::fabs(v[k] * ju[k]);
    CHECK(std::fabs(vju - jtvu) <= 1e-12 * std::max(scale, 1e-300));
    worst_adjoint = std::max(worst_adjoint, std::fabs(vju - jtvu) / std::max(scale, 1e-300));

    // The DiffField path: the dz output of the VJP is the forward, and null gp / gt are skipped.
    jdyn::Program program(specs.data(), (int64_t)specs.size(), dim_in);
    jdyn::ProgramField<double> field(program, params.data());
    std::vector<double> dz((size_t)(batch * g.dout)), gz2((size_t)(batch * dim_in));
    field.vjp(t, z.data(), v.data(), batch, gz2.data(), nullptr, nullptr, dz.data());
    const auto f = forward(g, params, t, z, batch);
    for (size_t k = 0; k < f.size(); ++k) CHECK(std::fabs(dz[k] - f[k]) <= 1e-14 * (1 + std::fabs(f[k])));
    for (size_t i = 0; i < gz.size(); ++i) CHECK(std::fabs(gz2[i] - gz[i]) <= 1e-14 * (1 + std::fabs(gz[i])));
}

std::string describe(const Specs& specs) {
    std::string s;
    for (const auto& l : specs) {
        s += jdyn::layer_kind_name(l.kind);
        if (l.out_features) s += "(" + std::to_string(l.out_features) + ")";
        s += " ";
    }
    return s;
}

// A random program from dim_in, mixing every kind; square (ends in LINEAR to dim_in) when asked.
Specs random_specs(std::mt19937_64& rng, bool square, int64_t dim_in) {
    std::uniform_int_distribution<int> n_layers(2, 6), kind(0, 10), width(1, 5), nb(1, 4), pick(0, 2);
    Specs s;
    const int n = n_layers(rng);
    for (int i = 0; i < n; ++i) {
        const int k = kind(rng);
        switch (k) {
            case JDYN_LAYER_LINEAR: s.push_back(linear(width(rng), pick(rng) != 0)); break;
            case JDYN_LAYER_GALLINEAR:
                s.push_back(gallinear(width(rng), pick(rng) != 0, pick(rng) % 2, nb(rng), std::vector<double>{0, 0.7, 2.5}[pick(rng)]));
                break;
            case JDYN_LAYER_SOFTPLUS: s.push_back(softplus(std::vector<double>{1, 0.5, 2}[pick(rng)], pick(rng) ? 20 : 1.5)); break;
            case JDYN_LAYER_ELU: s.push_back(elu(std::vector<double>{1, 0.5, 1.7}[pick(rng)])); break;
            case JDYN_LAYER_AUGMENTER: s.push_back(augmenter(1 + pick(rng) % 2)); break;
            default: s.push_back(layer(k));
        }
    }
    if (square) s.push_back(linear(dim_in));
    return s;
}

double ulps(float got, double ref) {
    const float r = (float)ref;
    const float up = std::nextafter(std::fabs(r), std::numeric_limits<float>::infinity());
    return std::fabs((double)got - ref) / (double)(up - std::fabs(r));
}

template <class F>
double best_ns(F&& f, int reps) {
    double best = 1e300;
    for (int k = 0; k < 5; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) f();
        best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / reps);
    }
    return best;
}

}  // namespace

// ---- derivatives --------------------------------------------------------------------------------

TEST_CASE("every layer kind: VJP (input, params, t), JVP and the adjoint identity against finite differences") {
    const int64_t D = 3;
    const std::vector<Specs> programs = {
        {linear(4)},
        {linear(4, 0)},
        {linear(5), layer(JDYN_LAYER_TANH), linear(D)},
        {linear(5), layer(JDYN_LAYER_RELU), linear(D)},
        {linear(5), softplus(1.0, 20.0), linear(D)},
        {linear(5), softplus(2.0, 1.0), linear(D)},  // threshold in range: both branches
        {linear(5), layer(JDYN_LAYER_SIGMOID), linear(D)},
        {linear(5), layer(JDYN_LAYER_SIN), linear(D)},
        {linear(5), elu(1.0), linear(D)},
        {linear(5), elu(0.4), linear(D)},
        {linear(5), layer(JDYN_LAYER_SILU), linear(D)},
        {layer(JDYN_LAYER_TANH)},
        {layer(JDYN_LAYER_SILU)},
        {layer(JDYN_LAYER_DEPTHCAT), linear(D)},
        {layer(JDYN_LAYER_DEPTHCAT), linear(6), layer(JDYN_LAYER_TANH), layer(JDYN_LAYER_DEPTHCAT), linear(D)},
        {augmenter(2), linear(D), layer(JDYN_LAYER_TANH)},
        {augmenter(1)},
        {gallinear(D, 1, JDYN_BASIS_FOURIER, 5, 0.0)},
        {gallinear(4, 0, JDYN_BASIS_FOURIER, 4, 0.7), layer(JDYN_LAYER_TANH), gallinear(D, 1, JDYN_BASIS_FOURIER, 1, 2.0)},
        {gallinear(D, 1, JDYN_BASIS_POLYNOMIAL, 4, 0.0)},
        {gallinear(5, 0, JDYN_BASIS_POLYNOMIAL, 2, 0.0), layer(JDYN_LAYER_SIN), linear(D)},
        {layer(JDYN_LAYER_DEPTHCAT), gallinear(5, 1, JDYN_BASIS_POLYNOMIAL, 3, 0.0), layer(JDYN_LAYER_TANH), linear(D)},
    };
    uint64_t seed = 100;
    for (const Specs& s : programs) {
        CAPTURE(describe(s));
        check_derivatives(s, D, seed++);
    }
}

TEST_CASE("random programs mixing every kind: derivatives against finite differences") {
    std::mt19937_64 rng(7);
    for (int trial = 0; trial < 60; ++trial) {
        const int64_t D = 1 + trial % 4;
        const Specs s = random_specs(rng, trial % 2 == 0, D);
        CAPTURE(trial);
        CAPTURE(describe(s));
        check_derivatives(s, D, 1000 + (uint64_t)trial, 1 + trial % 3);
    }
    MESSAGE("worst finite-difference mismatch so far " << worst_fd << " (tolerance 1e-6), worst adjoint identity "
                                                       << worst_adjoint << " (tolerance 1e-12)");
}

TEST_CASE("a batch big enough for OpenBLAS: derivatives and batch rows independent") {
    const int64_t D = 4;
    const Specs s = {layer(JDYN_LAYER_DEPTHCAT), linear(24), layer(JDYN_LAYER_TANH), linear(24),
                     layer(JDYN_LAYER_SILU), gallinear(D, 1, JDYN_BASIS_FOURIER, 3, 0.0)};
    check_derivatives(s, D, 5, 40);
    // Each row of a batch equals the program run on that row alone.
    Prog g(s, D);
    std::vector<double> params((size_t)g.np);
    REQUIRE(jdyn_program_init_params(g.p, 9, params.data()) == JDYN_OK);
    std::mt19937_64 rng(3);
    const int64_t B = 50;
    const auto z = random_vec(rng, (size_t)(B * D));
    const auto all = forward(g, params, 0.3, z, B);
    for (int64_t b = 0; b < B; b += 7) {
        const std::vector<double> row(z.begin() + b * D, z.begin() + (b + 1) * D);
        const auto one = forward(g, params, 0.3, row, 1);
        for (int64_t j = 0; j < D; ++j) CHECK(one[(size_t)j] == doctest::Approx(all[(size_t)(b * D + j)]).epsilon(1e-13));
    }
}

// ---- forward values -----------------------------------------------------------------------------

TEST_CASE("Linear forward matches a naive loop (BLAS and small paths, with and without bias, both dtypes)") {
    struct Shape {
        int64_t batch, in, out, bias;
    };
    for (Shape sh : {Shape{37, 13, 11, 1}, Shape{37, 13, 11, 0}, Shape{1, 3, 4, 1}, Shape{2, 1, 1, 0}, Shape{200, 2, 64, 1}}) {
        CAPTURE(sh.batch);
        CAPTURE(sh.in);
        CAPTURE(sh.out);
        std::mt19937_64 rng(11);
        const Specs s = {linear(sh.out, sh.bias)};
        Prog g(s, sh.in), gf(s, sh.in, JDYN_FLOAT32);
        REQUIRE(g.np == sh.out * sh.in + (sh.bias ? sh.out : 0));
        const auto params = random_vec(rng, (size_t)g.np);
        const auto z = random_vec(rng, (size_t)(sh.batch * sh.in));
        const auto y = forward(g, params, 0.0, z, sh.batch);
        std::vector<float> pf(params.begin(), params.end()), zf(z.begin(), z.end()), yf(y.size());
        REQUIRE(jdyn_program_forward(gf.p, pf.data(), 0.0, zf.data(), sh.batch, yf.data()) == JDYN_OK);
        for (int64_t b = 0; b < sh.batch; ++b)
            for (int64_t o = 0; o < sh.out; ++o) {
                double ref = sh.bias ? params[(size_t)(sh.out * sh.in + o)] : 0.0;
                for (int64_t i = 0; i < sh.in; ++i) ref += z[(size_t)(b * sh.in + i)] * params[(size_t)(o * sh.in + i)];
                CHECK(std::fabs(y[(size_t)(b * sh.out + o)] - ref) < 1e-14 * (1 + sh.in));
                CHECK(std::fabs(yf[(size_t)(b * sh.out + o)] - ref) < 1e-6 * (1 + sh.in));
            }
    }
}

TEST_CASE("GalLinear forward matches W(t) = sum_k phi_k(t) W_k built by hand") {
    const int64_t in = 3, out = 2, B = 2;
    std::mt19937_64 rng(12);
    for (int64_t basis : {JDYN_BASIS_FOURIER, JDYN_BASIS_POLYNOMIAL})
        for (int64_t bias : {0, 1}) {
            const int64_t nb = 5;
            const double period = 1.3, t = 0.61;
            Prog g({gallinear(out, bias, basis, nb, period)}, in);
            REQUIRE(g.np == nb * (out * in + (bias ? out : 0)));
            const auto params = random_vec(rng, (size_t)g.np);
            const auto z = random_vec(rng, (size_t)(B * in));
            const auto y = forward(g, params, t, z, B);
            std::vector<double> phi((size_t)nb);
            const double w = 2 * M_PI / period;
            for (int64_t k = 0; k < nb; ++k) {
                if (basis == JDYN_BASIS_POLYNOMIAL)
                    phi[(size_t)k] = std::pow(t, (double)k);
                else
                    phi[(size_t)k] = k == 0 ? 1.0 : k % 2 == 1 ? std::cos((double)((k + 1) / 2) * w * t)
                                                               : std::sin((double)(k / 2) * w * t);
            }
            for (int64_t b = 0; b < B; ++b)
                for (int64_t o = 0; o < out; ++o) {
                    double ref = 0;
                    for (int64_t k = 0; k < nb; ++k) {
                        double row = bias ? params[(size_t)(nb * out * in + k * out + o)] : 0.0;
                        for (int64_t i = 0; i < in; ++i)
                            row += params[(size_t)(k * out * in + o * in + i)] * z[(size_t)(b * in + i)];
                        ref += phi[(size_t)k] * row;
                    }
                    CHECK(y[(size_t)(b * out + o)] == doctest::Approx(ref).epsilon(1e-13));
                }
        }
    // Period 0 means the default 1.
    Prog g0({gallinear(1, 1, JDYN_BASIS_FOURIER, 3, 0.0)}, 1), g1({gallinear(1, 1, JDYN_BASIS_FOURIER, 3, 1.0)}, 1);
    const std::vector<double> p = {0.3, -0.2, 0.5, 0.1, 0.7, -0.4}, z = {0.9};
    CHECK(forward(g0, p, 0.17, z, 1)[0] == forward(g1, p, 0.17, z, 1)[0]);
}

TEST_CASE("activations and reshaping layers: values against their definitions") {
    std::vector<double> x;
    for (int i = -400; i <= 400; ++i) x.push_back(i * 0.0875);  // [-35, 35], 0 included
    x.push_back(1e-300);
    x.push_back(-1e-9);
    const int64_t n = (int64_t)x.size();
    auto run = [&](jdyn_layer_spec l) { return forward(Prog({l}, n), {}, 0.0, x, 1); };
    auto rel = [](double got, double ref) { return std::fabs(got - ref) / std::max(std::fabs(ref), 1e-300); };
    const auto th = run(layer(JDYN_LAYER_TANH)), re = run(layer(JDYN_LAYER_RELU)), sg = run(layer(JDYN_LAYER_SIGMOID)),
               sn = run(layer(JDYN_LAYER_SIN)), el = run(elu(0.7)), si = run(layer(JDYN_LAYER_SILU)),
               sp = run(softplus(2.0, 3.0)), spd = run(softplus(0.0, 20.0));
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        CAPTURE(v);
        CHECK(rel(th[i], std::tanh(v)) < 1e-15);
        CHECK(re[i] == (v > 0 ? v : 0.0));
        CHECK(rel(sg[i], 1 / (1 + std::exp(-v))) < 2e-15);
        CHECK(sn[i] == std::sin(v));
        CHECK(rel(el[i], v > 0 ? v : 0.7 * std::expm1(v)) < 2e-15);
        CHECK(rel(si[i], v / (1 + std::exp(-v))) < 2e-15);
        // PyTorch: x where beta x > threshold, else log1p(exp(beta x)) / beta (beta 0 -> the default 1).
        CHECK(rel(sp[i], 2 * v > 3 ? v : std::log1p(std::exp(2 * v)) / 2) < 1e-15);
        CHECK(rel(spd[i], v > 20 ? v : std::log1p(std::exp(v))) < 1e-15);
    }
    // At the kinks the derivatives follow PyTorch: RELU 0 at x = 0, ELU alpha at x = 0.
    const std::vector<double> zero = {0.0}, one = {1.0};
    std::vector<double> g(1);
    REQUIRE(jdyn_program_vjp(Prog({layer(JDYN_LAYER_RELU)}, 1).p, nullptr, 0, zero.data(), one.data(), 1, g.data(),
                             nullptr, nullptr) == JDYN_OK);
    CHECK(g[0] == 0.0);
    REQUIRE(jdyn_program_vjp(Prog({elu(0.7)}, 1).p, nullptr, 0, zero.data(), one.data(), 1, g.data(), nullptr,
                             nullptr) == JDYN_OK);
    CHECK(g[0] == 0.7);
    // DEPTHCAT appends t; AUGMENTER appends zeros.
    const std::vector<double> z = {1, 2, 3, 4};
    const auto dc = forward(Prog({layer(JDYN_LAYER_DEPTHCAT)}, 2), {}, 0.25, z, 2);
    CHECK(dc == std::vector<double>{1, 2, 0.25, 3, 4, 0.25});
    Prog aug({augmenter(3)}, 2);
    CHECK(aug.dout == 5);
    CHECK(forward(aug, {}, 0.0, z, 2) == std::vector<double>{1, 2, 0, 0, 0, 3, 4, 0, 0, 0});
}

TEST_CASE("fast tanh, sigmoid, exp and expm1: accuracy against the C library, edges, NaN") {
    // float32: every 997th float in [-30, 30] (and its negative) within 2 ulp of tanh in double.
    std::vector<float> xf;
    for (uint32_t b = 0;; b += 997) {
        float f;
        std::memcpy(&f, &b, sizeof f);
        if (f > 30.0f) break;
        xf.push_back(f);
        xf.push_back(-f);
    }
    std::vector<float> yf(xf.size());
    jdyn::act::tanh(xf.data(), yf.data(), (int64_t)xf.size());
    double worst = 0;
    for (size_t i = 0; i < xf.size(); ++i) worst = std::max(worst, ulps(yf[i], std::tanh((double)xf[i])));
    MESSAGE("float32 tanh: max error " << worst << " ulp over " << xf.size() << " floats in [-30, 30]");
    CHECK(worst <= 2.0);
    jdyn::act::sigmoid(xf.data(), yf.data(), (int64_t)xf.size());
    worst = 0;
    for (size_t i = 0; i < xf.size(); ++i)
        if (std::fabs(xf[i]) < 80) worst = std::max(worst, ulps(yf[i], 1 / (1 + std::exp(-(double)xf[i]))));
    CHECK(worst <= 3.0);

    // float64: tanh relative error against tanhl, uniform in [-30, 30] and log-uniform magnitudes.
    std::mt19937_64 rng(5);
    std::vector<double> xd(400000), yd(xd.size());
    for (size_t i = 0; i < xd.size(); ++i)
        xd[i] = i % 2 ? std::uniform_real_distribution<double>(-30, 30)(rng)
                      : (i % 4 ? -1 : 1) * std::exp2(std::uniform_real_distribution<double>(-40, 5)(rng));
    jdyn::act::tanh(xd.data(), yd.data(), (int64_t)xd.size());
    double worst_rel = 0;
    for (size_t i = 0; i < xd.size(); ++i) {
        const long double r = tanhl((long double)xd[i]);
        worst_rel = std::max(worst_rel, (double)(fabsl((long double)yd[i] - r) / fabsl(r)));
    }
    MESSAGE("float64 tanh: max relative error " << worst_rel);
    CHECK(worst_rel < 1e-15);
    // exp and expm1 over their whole clamped range, sigmoid.
    for (size_t i = 0; i < xd.size(); ++i) xd[i] = std::uniform_real_distribution<double>(-700, 700)(rng);
    jdyn::act::exp(xd.data(), yd.data(), (int64_t)xd.size());
    worst_rel = 0;
    for (size_t i = 0; i < xd.size(); ++i)
        worst_rel = std::max(worst_rel, (double)(fabsl((long double)yd[i] - expl(xd[i])) / expl(xd[i])));
    CHECK(worst_rel < 5e-16);
    for (size_t i = 0; i < xd.size(); ++i) xd[i] = std::uniform_real_distribution<double>(-3, 3)(rng) * (i % 3 ? 1 : 1e-6);
    jdyn::act::expm1(xd.data(), yd.data(), (int64_t)xd.size());
    worst_rel = 0;
    for (size_t i = 0; i < xd.size(); ++i)
        worst_rel = std::max(worst_rel, (double)(fabsl((long double)yd[i] - expm1l(xd[i])) / fabsl(expm1l(xd[i]))));
    CHECK(worst_rel < 5e-16);

    // Edges: signed zeros, infinities, NaN, the branch point 0.625 and the saturation.
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> edge = {0.0, -0.0, inf, -inf, 0.625, -0.625, 19.5, 25.0, 1e300, -1e300, 1e-310};
    std::vector<double> ye(edge.size());
    jdyn::act::tanh(edge.data(), ye.data(), (int64_t)edge.size());
    for (size_t i = 0; i < edge.size(); ++i) {
        CAPTURE(edge[i]);
        CHECK(std::signbit(ye[i]) == std::signbit(edge[i]));
        CHECK(std::fabs(ye[i] - std::tanh(edge[i])) <= 4.5e-16 * std::fabs(std::tanh(edge[i])));
    }
    std::vector<float> ef(edge.begin(), edge.end()), yef(edge.size());
    jdyn::act::tanh(ef.data(), yef.data(), (int64_t)ef.size());
    for (size_t i = 0; i < ef.size(); ++i) CHECK(ulps(yef[i], std::tanh((double)ef[i])) <= 2.0);
    double yn;
    float ynf, nf = std::numeric_limits<float>::quiet_NaN();
    using F64 = void (*)(const double*, double*, int64_t);
    using F32 = void (*)(const float*, float*, int64_t);
    const F64 f64s[] = {jdyn::act::tanh, jdyn::act::sigmoid, jdyn::act::silu, jdyn::act::relu, jdyn::act::sin};
    const F32 f32s[] = {jdyn::act::tanh, jdyn::act::sigmoid, jdyn::act::silu, jdyn::act::relu, jdyn::act::sin};
    for (F64 f : f64s) {
        f(&nan, &yn, 1);
        CHECK(std::isnan(yn));
    }
    for (F32 f : f32s) {
        f(&nf, &ynf, 1);
        CHECK(std::isnan(ynf));
    }
    jdyn::act::elu(&nan, &yn, 1, 1.0);
    CHECK(std::isnan(yn));
    const double big[] = {-1000.0, 1000.0};
    double sb[2];
    jdyn::act::sigmoid(big, sb, 2);
    CHECK(sb[0] >= 0.0);
    CHECK(sb[0] < 1e-300);
    CHECK(sb[1] == 1.0);
}

TEST_CASE("float32 programs agree with float64 to float precision (forward and VJP)") {
    std::mt19937_64 rng(21);
    for (int trial = 0; trial < 20; ++trial) {
        const int64_t D = 2 + trial % 3, B = 5;
        const Specs s = random_specs(rng, true, D);
        CAPTURE(describe(s));
        Prog g(s, D), gf(s, D, JDYN_FLOAT32);
        std::vector<double> p((size_t)g.np);
        REQUIRE(jdyn_program_init_params(g.p, 77, p.data()) == JDYN_OK);
        const auto z = random_vec(rng, (size_t)(B * D)), v = random_vec(rng, (size_t)(B * D));
        const double t = 0.4;
        const auto y = forward(g, p, t, z, B);
        std::vector<float> pf(p.begin(), p.end()), zf(z.begin(), z.end()), vf(v.begin(), v.end()), yf(y.size());
        REQUIRE(jdyn_program_forward(gf.p, pf.data(), t, zf.data(), B, yf.data()) == JDYN_OK);
        // A few roundings of 6e-8 per layer on O(1) values.
        for (size_t k = 0; k < y.size(); ++k) CHECK(std::fabs(yf[k] - y[k]) <= 1e-5 * (1 + std::fabs(y[k])));
        std::vector<double> gz(z.size()), gp(p.size());
        double gt = 0, gtf = 0;
        std::vector<float> gzf(z.size()), gpf(p.size());
        REQUIRE(jdyn_program_vjp(g.p, p.data(), t, z.data(), v.data(), B, gz.data(), gp.data(), &gt) == JDYN_OK);
        REQUIRE(jdyn_program_vjp(gf.p, pf.data(), t, zf.data(), vf.data(), B, gzf.data(), gpf.data(), &gtf) == JDYN_OK);
        for (size_t k = 0; k < gz.size(); ++k) CHECK(std::fabs(gzf[k] - gz[k]) <= 1e-5 * (1 + std::fabs(gz[k])));
        for (size_t k = 0; k < gp.size(); ++k) CHECK(std::fabs(gpf[k] - gp[k]) <= 1e-5 * (1 + std::fabs(gp[k])));
        CHECK(std::fabs(gtf - gt) <= 1e-5 * (1 + std::fabs(gt)));
    }
}

// ---- the C++ API used by the sensitivity engines -------------------------------------------------

TEST_CASE("make_program_field: a DiffField for square programs, the workspace grows with the batch") {
    const int64_t D = 2;
    const Specs s = {layer(JDYN_LAYER_DEPTHCAT), linear(16), layer(JDYN_LAYER_TANH), linear(D)};
    jdyn::Program program(s.data(), (int64_t)s.size(), D);
    CHECK(program.dim_in() == D);
    CHECK(program.dim_out() == D);
    CHECK(program.num_params() == 16 * 3 + 16 + D * 16 + D);
    CHECK(program.max_width() == 16);
    std::vector<double> p((size_t)program.num_params());
    program.init_params(3, p.data());
    auto field = jdyn::make_program_field<double>(program, p.data());
    CHECK(field->dim() == D);
    CHECK(field->num_params() == program.num_params());
    Prog g(s, D);
    std::mt19937_64 rng(1);
    for (int64_t B : {1, 7, 300, 2}) {
        const auto z = random_vec(rng, (size_t)(B * D));
        std::vector<double> out((size_t)(B * D));
        field->forward(0.8, z.data(), out.data(), B);
        CHECK(out == forward(g, p, 0.8, z, B));
    }
    // Rebinding the parameters.
    std::vector<double> p2 = p;
    for (auto& x : p2) x *= -1;
    jdyn::ProgramField<double> pf(program, p.data());
    pf.bind_params(p2.data());
    const std::vector<double> z = {0.1, 0.2};
    std::vector<double> out(2);
    pf.forward(0.0, z.data(), out.data(), 1);
    CHECK(out == forward(g, p2, 0.0, z, 1));
    // float32 too.
    std::vector<float> pf32(p.begin(), p.end());
    auto f32 = jdyn::make_program_field<float>(program, pf32.data());
    const std::vector<float> zf = {0.1f, 0.2f};
    std::vector<float> of(2);
    f32->forward(0.0, zf.data(), of.data(), 1);
    CHECK(of[0] == doctest::Approx(forward(g, p, 0.0, z, 1)[0]).epsilon(1e-5));
    // Batch 0 is a no-op.
    field->forward(0.0, nullptr, nullptr, 0);
}

TEST_CASE("jdyn_program_field: a DiffField from the C handle, in the program's dtype only") {
    const Specs s = {linear(8), layer(JDYN_LAYER_SIN), linear(3)};
    Prog g(s, 3), gf(s, 3, JDYN_FLOAT32);
    std::vector<double> p((size_t)g.np);
    REQUIRE(jdyn_program_init_params(g.p, 4, p.data()) == JDYN_OK);
    std::shared_ptr<jdyn::DiffField<double>> f = jdyn_program_field<double>(g.p, p.data());
    const std::vector<double> z = {0.1, -0.4, 0.9};
    std::vector<double> out(3);
    f->forward(0.0, z.data(), out.data(), 1);
    CHECK(out == forward(g, p, 0.0, z, 1));
    CHECK(jdyn_program_dtype(gf.p) == JDYN_FLOAT32);
    const std::vector<float> pf(p.begin(), p.end());
    CHECK(jdyn::guarded([&] { jdyn_program_field<float>(g.p, pf.data()); }) == JDYN_ERR_ARGUMENT);
    CHECK(contains(last_error(), "the program's dtype is float64, not float32"));
    CHECK(jdyn::guarded([&] { jdyn_program_field<float>(nullptr, pf.data()); }) == JDYN_ERR_ARGUMENT);
    CHECK(contains(last_error(), "program must not be NULL"));
    CHECK(jdyn::guarded([&] { jdyn_program_field<float>(gf.p, pf.data()); }) == JDYN_OK);
}

TEST_CASE("the C calls are safe from several threads on one program (a workspace per thread)") {
    const int64_t D = 3, B = 64;
    const Specs s = {layer(JDYN_LAYER_DEPTHCAT), linear(32), layer(JDYN_LAYER_TANH), linear(D)};
    Prog g(s, D);
    std::vector<double> p((size_t)g.np);
    REQUIRE(jdyn_program_init_params(g.p, 8, p.data()) == JDYN_OK);
    std::mt19937_64 rng(6);
    const auto z = random_vec(rng, (size_t)(B * D)), v = random_vec(rng, (size_t)(B * D));
    const auto ref = forward(g, p, 0.5, z, B);
    std::vector<double> gz_ref((size_t)(B * D));
    REQUIRE(jdyn_program_vjp(g.p, p.data(), 0.5, z.data(), v.data(), B, gz_ref.data(), nullptr, nullptr) == JDYN_OK);
    std::vector<int> bad(4, 0);
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
        threads.emplace_back([&, k] {
            std::vector<double> out((size_t)(B * D)), gz((size_t)(B * D));
            for (int rep = 0; rep < 200; ++rep) {
                const int64_t b = 1 + (rep + k) % B;  // varying batches grow and reuse the workspace
                if (jdyn_program_forward(g.p, p.data(), 0.5, z.data(), b, out.data()) != JDYN_OK) ++bad[k];
                for (int64_t i = 0; i < b * D; ++i)
                    if (std::fabs(out[(size_t)i] - ref[(size_t)i]) > 1e-13) ++bad[k];
                if (jdyn_program_vjp(g.p, p.data(), 0.5, z.data(), v.data(), b, gz.data(), nullptr, nullptr) != JDYN_OK)
                    ++bad[k];
                for (int64_t i = 0; i < b * D; ++i)
                    if (std::fabs(gz[(size_t)i] - gz_ref[(size_t)i]) > 1e-13) ++bad[k];
            }
        });
    for (auto& t : threads) t.join();
    CHECK(bad == std::vector<int>(4, 0));
}

// ---- initialisation -----------------------------------------------------------------------------

TEST_CASE("init_params: PyTorch bounds, reproducible, seed-dependent, pinned to splitmix64") {
    const Specs s = {linear(20), layer(JDYN_LAYER_TANH), gallinear(7, 1, JDYN_BASIS_FOURIER, 3, 0.0), linear(4, 0)};
    Prog g(s, 9), gf(s, 9, JDYN_FLOAT32);
    std::vector<double> a((size_t)g.np), b((size_t)g.np), c((size_t)g.np);
    REQUIRE(jdyn_program_init_params(g.p, 42, a.data()) == JDYN_OK);
    REQUIRE(jdyn_program_init_params(g.p, 42, b.data()) == JDYN_OK);
    REQUIRE(jdyn_program_init_params(g.p, 43, c.data()) == JDYN_OK);
    CHECK(a == b);
    size_t same = 0;
    for (size_t i = 0; i < a.size(); ++i) same += a[i] == c[i];
    CHECK(same == 0);
    std::vector<float> af((size_t)g.np);
    REQUIRE(jdyn_program_init_params(gf.p, 42, af.data()) == JDYN_OK);
    for (size_t i = 0; i < a.size(); ++i) CHECK(af[i] == (float)a[i]);
    // Bounds 1/sqrt(fan_in) per layer, filled out to near the bound and centred.
    const int64_t fan_in[] = {9, 20, 20, 7};
    for (int64_t l = 0; l < 4; ++l) {
        int64_t off = 0, cnt = 0;
        REQUIRE(jdyn_program_layer_params(g.p, l, &off, &cnt) == JDYN_OK);
        if (l == 1) {
            CHECK(cnt == 0);
            continue;
        }
        const int64_t in = fan_in[l];
        const double bound = 1 / std::sqrt((double)in);
        double mx = 0, mean = 0;
        for (int64_t i = off; i < off + cnt; ++i) {
            CHECK(std::fabs(a[(size_t)i]) <= bound);
            mx = std::max(mx, std::fabs(a[(size_t)i]));
            mean += a[(size_t)i];
        }
        mean /= (double)cnt;
        CHECK(mx > 0.9 * bound);
        CHECK(std::fabs(mean) < 0.2 * bound);
    }
    // The offsets: LINEAR(9 -> 20) = 200, GALLINEAR 3 x (7 x 20 + 7) = 441, LINEAR(7 -> 4, no bias) = 28.
    int64_t off = 0, cnt = 0;
    REQUIRE(jdyn_program_layer_params(g.p, 2, &off, &cnt) == JDYN_OK);
    CHECK(off == 200);
    CHECK(cnt == 441);
    REQUIRE(jdyn_program_layer_params(g.p, 3, &off, &cnt) == JDYN_OK);
    CHECK(off == 641);
    CHECK(cnt == 28);
    CHECK(g.np == 669);
    // splitmix64 from seed 0 starts 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4: the values are
    // bound * (2 u - 1) with u the top 53 bits over 2^53, on any machine.
    Prog one({linear(2, 0)}, 4);
    REQUIRE(one.np == 8);
    std::vector<double> p2(8);
    REQUIRE(jdyn_program_init_params(one.p, 0, p2.data()) == JDYN_OK);
    CHECK(p2[0] == 0.5 * ((double)(0xE220A8397B1DCDAFull >> 11) * 0x1.0p-52 - 1.0));
    CHECK(p2[1] == 0.5 * ((double)(0x6E789E6AA1B965F4ull >> 11) * 0x1.0p-52 - 1.0));
}

// ---- argument errors ----------------------------------------------------------------------------

TEST_CASE("program creation rejects bad specs with a message naming the layer and the problem") {
    jdyn_program* p = nullptr;
    auto create = [&](const Specs& s, int64_t dim_in, int64_t dtype = JDYN_FLOAT64) {
        p = reinterpret_cast<jdyn_program*>(0x1);  // must be reset to NULL on failure
        const int32_t rc = jdyn_program_create(s.data(), (int64_t)s.size(), dtype, dim_in, &p);
        if (rc == JDYN_OK) jdyn_program_free(p);
        return rc;
    };
    struct Case {
        Specs specs;
        int64_t dim_in;
        std::string message;
    };
    jdyn_layer_spec bad_kind = layer(11), neg_kind = layer(-1), tanh_width = layer(JDYN_LAYER_TANH);
    tanh_width.out_features = 5;
    jdyn_layer_spec bias2 = linear(3);
    bias2.bias = 2;
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    const std::vector<Case> cases = {
        {{linear(3), bad_kind}, 2, "layer 1 has unknown kind 11"},
        {{neg_kind}, 2, "layer 0 has unknown kind -1"},
        {{linear(3), layer(JDYN_LAYER_TANH), linear(0)}, 2, "layer 2 (LINEAR) has out_features 0"},
        {{linear(-4)}, 2, "layer 0 (LINEAR) has out_features -4"},
        {{augmenter(0)}, 2, "layer 0 (AUGMENTER) has out_features 0"},
        {{gallinear(0, 1, 0, 2, 1.0)}, 2, "layer 0 (GALLINEAR) has out_features 0"},
        {{gallinear(2, 1, 0, 0, 1.0)}, 2, "layer 0 (GALLINEAR) has n_basis 0"},
        {{gallinear(2, 1, 7, 2, 1.0)}, 2, "layer 0 (GALLINEAR) has basis 7"},
        {{gallinear(2, 1, 0, 2, -1.0)}, 2, "layer 0 (GALLINEAR) has period (alpha) -1"},
        {{linear(2), tanh_width}, 2, "layer 1 (TANH) has out_features 5"},
        {{bias2}, 2, "layer 0 (LINEAR) has bias 2"},
        {{softplus(nan, 20)}, 2, "layer 0 (SOFTPLUS) has beta (alpha) nan"},
        {{softplus(1, nan)}, 2, "layer 0 (SOFTPLUS) has threshold NaN"},
        {{elu(inf)}, 2, "layer 0 (ELU) has alpha inf"},
        {{linear(3)}, 0, "dim_in must be in [1, 2^24], got 0"},
        {{linear(3)}, -2, "dim_in must be in [1, 2^24], got -2"},
        {{}, 2, "a program needs at least one layer"},
        {{augmenter(int64_t(1) << 24)}, 1, "layer 0 (AUGMENTER) makes the width 16777217"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.message);
        CHECK(create(c.specs, c.dim_in) == JDYN_ERR_ARGUMENT);
        CHECK(p == nullptr);
        CHECK(contains(last_error(), c.message));
    }
    CHECK(create({linear(2)}, 2, 2) == JDYN_ERR_ARGUMENT);
    CHECK(contains(last_error(), "dtype must be 0 (float32) or 1 (float64), got 2"));
    CHECK(jdyn_program_create(nullptr, 2, JDYN_FLOAT64, 2, &p) == JDYN_ERR_ARGUMENT);
    CHECK(contains(last_error(), "layers must not be NULL"));
    const jdyn_layer_spec l = linear(2);
    CHECK(jdyn_program_create(&l, 1, JDYN_FLOAT64, 2, nullptr) == JDYN_ERR_ARGUMENT);
    CHECK(contains(last_error(), "out must not be NULL"));
    // A success clears the message.
    CHECK(create({linear(2)}, 2) == JDYN_OK);
    CHECK(last_error().empty());
    // The C++ constructor throws the same.
    const Specs bad = {linear(0)};
    CHECK_THROWS_WITH_AS(jdyn::Program(bad.data(), 1, 2), doctest::Contains("layer 0 (LINEAR) has out_features 0"),
                         jdyn::Failure);
}

TEST_CASE("program calls reject NULL pointers, bad batches, bad layer indices and non-square vector fields") {
    Prog g({linear(3), layer(JDYN_LAYER_TANH), linear(2)}, 2);
    std::vector<double> p((size_t)g.np, 0.1), z(4, 0.5), v(4, 1.0), gz(4), gp((size_t)g.np), out(4);
    double gt = 0;
    auto expect = [](int32_t rc, const std::string& message) {
        CAPTURE(message);
        CHECK(rc == JDYN_ERR_ARGUMENT);
        CHECK(contains(last_error(), message));
    };
    // NULL program.
    expect(jdyn_program_info(nullptr, nullptr, nullptr, nullptr), "program must not be NULL");
    expect(jdyn_program_layer_params(nullptr, 0, nullptr, nullptr), "program must not be NULL");
    expect(jdyn_program_init_params(nullptr, 1, p.data()), "program must not be NULL");
    expect(jdyn_program_forward(nullptr, p.data(), 0, z.data(), 2, out.data()), "program must not be NULL");
    expect(jdyn_program_vjp(nullptr, p.data(), 0, z.data(), v.data(), 2, gz.data(), gp.data(), &gt),
           "program must not be NULL");
    expect(jdyn_program_jvp(nullptr, p.data(), 0, z.data(), v.data(), 2, out.data()), "program must not be NULL");
    // NULL params for a program with parameters.
    expect(jdyn_program_init_params(g.p, 1, nullptr), "params must not be NULL: the program has 17 parameters");
    expect(jdyn_program_forward(g.p, nullptr, 0, z.data(), 2, out.data()), "params must not be NULL");
    expect(jdyn_program_vjp(g.p, nullptr, 0, z.data(), v.data(), 2, gz.data(), gp.data(), &gt), "params must not be NULL");
    expect(jdyn_program_jvp(g.p, nullptr, 0, z.data(), v.data(), 2, out.data()), "params must not be NULL");
    // NULL arrays.
    expect(jdyn_program_forward(g.p, p.data(), 0, nullptr, 2, out.data()), "z and out must not be NULL");
    expect(jdyn_program_forward(g.p, p.data(), 0, z.data(), 2, nullptr), "z and out must not be NULL");
    expect(jdyn_program_vjp(g.p, p.data(), 0, z.data(), nullptr, 2, gz.data(), nullptr, nullptr),
           "z, v and gz must not be NULL");
    expect(jdyn_program_vjp(g.p, p.data(), 0, z.data(), v.data(), 2, nullptr, nullptr, nullptr),
           "z, v and gz must not be NULL");
    expect(jdyn_program_jvp(g.p, p.data(), 0, z.data(), nullptr, 2, out.data()), "z, u and out must not be NULL");
    // Batches.
    expect(jdyn_program_forward(g.p, p.data(), 0, z.data(), 0, out.data()), "batch must be in [1, 2^31), got 0");
    expect(jdyn_program_vjp(g.p, p.data(), 0, z.data(), v.data(), -3, gz.data(), nullptr, nullptr),
           "batch must be in [1, 2^31), got -3");
    expect(jdyn_program_jvp(g.p, p.data(), 0, z.data(), v.data(), int64_t(1) << 40, out.data()), "batch must be in");
    // Layer indices.
    expect(jdyn_program_layer_params(g.p, 3, nullptr, nullptr), "layer 3 is out of range [0, 3)");
    expect(jdyn_program_layer_params(g.p, -1, nullptr, nullptr), "layer -1 is out of range [0, 3)");
    // A parameterless program accepts NULL params; optional outputs may be NULL.
    Prog act({layer(JDYN_LAYER_TANH)}, 2);
    CHECK(jdyn_program_forward(act.p, nullptr, 0, z.data(), 2, out.data()) == JDYN_OK);
    CHECK(jdyn_program_init_params(act.p, 1, nullptr) == JDYN_OK);
    CHECK(jdyn_program_info(g.p, nullptr, nullptr, nullptr) == JDYN_OK);
    CHECK(jdyn_program_vjp(g.p, p.data(), 0, z.data(), v.data(), 2, gz.data(), nullptr, nullptr) == JDYN_OK);

    // A vector field must be square; the C++ constructors reject NULL params.
    const Specs wide = {linear(3)};
    jdyn::Program program(wide.data(), 1, 2);
    std::vector<double> pw((size_t)program.num_params(), 0.1);
    expect(jdyn::guarded([&] { jdyn::make_program_field<double>(program, pw.data()); }),
           "a vector field must map width D to D; this program maps 2 to 3");
    std::vector<float> pwf(pw.begin(), pw.end());
    expect(jdyn::guarded([&] { jdyn::make_program_field<float>(program, pwf.data()); }), "this program maps 2 to 3");
    const Specs sq = {linear(2)};
    jdyn::Program square(sq.data(), 1, 2);
    expect(jdyn::guarded([&] { jdyn::make_program_field<double>(square, nullptr); }),
           "params must not be NULL: the program has 6 parameters");
    expect(jdyn::guarded([&] { jdyn::ProgramField<double> f(square, pw.data()); f.forward(0, z.data(), out.data(), -1); }),
           "batch must be in [0, 2^31), got -1");
    expect(jdyn::guarded([&] { jdyn::ProgramField<double> f(square, pw.data()); f.forward(0, nullptr, out.data(), 1); }),
           "z and out must not be NULL");
}

// ---- speed (informational) ----------------------------------------------------------------------

TEST_CASE("tanh speed: 64 x 4096 elements, std::tanh against jdyn's (reported, not asserted)") {
    const int64_t n = 64 * 4096;
    std::mt19937_64 rng(2);
    std::vector<float> xf((size_t)n), yf((size_t)n);
    std::vector<double> xd((size_t)n), yd((size_t)n);
    for (int64_t i = 0; i < n; ++i) xd[(size_t)i] = xf[(size_t)i] = std::uniform_real_distribution<float>(-4, 4)(rng);
    volatile double sink = 0;
    const double std_f = best_ns([&] {
        for (int64_t i = 0; i < n; ++i) yf[(size_t)i] = std::tanh(xf[(size_t)i]);
        sink = sink + yf[7];
    }, 3) / (double)n;
    const double fast_f = best_ns([&] {
        jdyn::act::tanh(xf.data(), yf.data(), n);
        sink = sink + yf[7];
    }, 10) / (double)n;
    const double std_d = best_ns([&] {
        for (int64_t i = 0; i < n; ++i) yd[(size_t)i] = std::tanh(xd[(size_t)i]);
        sink = sink + yd[7];
    }, 3) / (double)n;
    const double fast_d = best_ns([&] {
        jdyn::act::tanh(xd.data(), yd.data(), n);
        sink = sink + yd[7];
    }, 10) / (double)n;
    MESSAGE("tanh over 64x4096, ns per element: float32 std::tanh " << std_f << ", jdyn " << fast_f << " ("
            << std_f / fast_f << "x); float64 std::tanh " << std_d << ", jdyn " << fast_d << " (" << std_d / fast_d
            << "x)");
    // A whole small neural ODE field: 2 -> 64 -> 64 -> 2 with tanh, batch 1000, float32.
    const Specs s = {linear(64), layer(JDYN_LAYER_TANH), linear(64), layer(JDYN_LAYER_TANH), linear(2)};
    jdyn::Program program(s.data(), (int64_t)s.size(), 2);
    std::vector<float> p((size_t)program.num_params());
    program.init_params(1, p.data());
    jdyn::ProgramField<float> field(program, p.data());
    const int64_t B = 1000;
    std::vector<float> z((size_t)(2 * B), 0.3f), dz((size_t)(2 * B)), gz((size_t)(2 * B)), gp(p.size());
    const double fwd = best_ns([&] { field.forward(0.0, z.data(), dz.data(), B); }, 20);
    const double vjp = best_ns([&] { field.vjp(0.0, z.data(), dz.data(), B, gz.data(), gp.data(), nullptr, nullptr); }, 20);
    MESSAGE("MLP 2-64-64-2 tanh, batch 1000, float32: forward " << fwd / 1e3 << " us, vjp " << vjp / 1e3 << " us");
    // The same at batch 1 in float64 (per-call overhead of a solve's step).
    std::vector<double> pd(p.begin(), p.end()), z1 = {0.3, -0.2}, dz1(2), gz1(2), gp1(p.size());
    jdyn::ProgramField<double> field1(program, pd.data());
    const double fwd1 = best_ns([&] { field1.forward(0.0, z1.data(), dz1.data(), 1); }, 2000);
    const double vjp1 = best_ns([&] { field1.vjp(0.0, z1.data(), z1.data(), 1, gz1.data(), gp1.data(), nullptr, nullptr); }, 2000);
    MESSAGE("MLP 2-64-64-2 tanh, batch 1, float64: forward " << fwd1 << " ns, vjp " << vjp1 << " ns");
    CHECK(std::isfinite(sink));
}
