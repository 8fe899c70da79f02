// RANDOM: the counter-based noise behind Hutchinson's trace estimator. Checked: moments against the
// distributions (with tolerances from their standard errors), one seed giving the same values on every
// run and for every batch size, different seeds and streams giving unrelated values, a zero derivative,
// and the errors that name bad attributes.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "jdyn.h"

namespace {

struct G {
    jdyn_graph* g = nullptr;
    G() { REQUIRE(jdyn_graph_new(&g) == JDYN_OK); }
    ~G() { jdyn_graph_free(g); }
    int64_t arg(std::vector<int64_t> s) {
        int64_t id;
        REQUIRE(jdyn_graph_arg(g, s.data(), (int64_t)s.size(), &id) == JDYN_OK);
        return id;
    }
    int64_t seed_param() {
        int64_t id, shape[1] = {1};
        REQUIRE(jdyn_graph_param(g, "noise", shape, 1, JDYN_INIT_CONSTANT, 0.0, &id) == JDYN_OK);
        return id;
    }
    int32_t try_op(int64_t o, std::vector<int64_t> in, std::vector<int64_t> ia, std::vector<double> fa, int64_t* id) {
        return jdyn_graph_op(g, o, in.data(), (int64_t)in.size(), ia.data(), (int64_t)ia.size(), fa.data(),
                             (int64_t)fa.size(), id);
    }
    int64_t op(int64_t o, std::vector<int64_t> in, std::vector<int64_t> ia = {}, std::vector<double> fa = {}) {
        int64_t id;
        const int32_t rc = try_op(o, in, ia, fa, &id);
        INFO(jdyn_last_error());
        REQUIRE(rc == JDYN_OK);
        return id;
    }
    int64_t random(int64_t seed, int64_t dist, std::vector<int64_t> shape, double stream = 0) {
        std::vector<int64_t> ia = {dist, (int64_t)shape.size()};
        ia.insert(ia.end(), shape.begin(), shape.end());
        return op(JDYN_OP_RANDOM, {seed}, ia, {stream});
    }
    jdyn_program* finish(std::vector<int64_t> outs) {
        jdyn_program* p;
        REQUIRE(jdyn_graph_finish(g, outs.data(), (int64_t)outs.size(), JDYN_FLOAT64, &p) == JDYN_OK);
        return p;
    }
};

// Runs p with the seed parameter at `seed` and one batched argument of width w (values unused by RANDOM).
std::vector<double> run(jdyn_program* p, double seed, int64_t batch, int64_t width, int64_t out_size) {
    std::vector<double> x((size_t)(batch * width), 0.5), out((size_t)out_size, NAN);
    const void* args[1] = {x.data()};
    void* outs[1] = {out.data()};
    const int32_t rc = jdyn_program_run(p, &seed, 0.0, args, batch, outs);
    INFO(jdyn_last_error());
    REQUIRE(rc == JDYN_OK);
    return out;
}

}  // namespace

TEST_CASE("normal draws have mean 0, variance 1, no skew and kurtosis 3, within 5 standard errors") {
    G g;
    const int64_t x = g.arg({-1, 4});
    const int64_t r = g.random(g.seed_param(), JDYN_RANDOM_NORMAL, {-1, 4});
    jdyn_program* p = g.finish({g.op(JDYN_OP_ADD, {r, g.op(JDYN_OP_MUL, {x, g.op(JDYN_OP_FULL, {}, {0}, {0.0})})})});
    const int64_t batch = 50000, n = batch * 4;
    const auto v = run(p, 7, batch, 4, n);
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    for (double e : v) m1 += e, m2 += e * e, m3 += e * e * e, m4 += e * e * e * e;
    m1 /= (double)n, m2 /= (double)n, m3 /= (double)n, m4 /= (double)n;
    // Standard errors of the sample moments of N(0, 1): sqrt(1/n), sqrt(2/n), sqrt(15/n), sqrt(96/n).
    const double sn = std::sqrt((double)n);
    CHECK(std::abs(m1) < 5 / sn);
    CHECK(std::abs(m2 - 1) < 5 * std::sqrt(2.0) / sn);
    CHECK(std::abs(m3) < 5 * std::sqrt(15.0) / sn);
    CHECK(std::abs(m4 - 3) < 5 * std::sqrt(96.0) / sn);
    // Neighbouring elements are uncorrelated (a counter generator's failure mode): lag-1 and lag-4.
    for (int64_t lag : {1, 4}) {
        double c = 0;
        for (int64_t i = 0; i + lag < n; ++i) c += v[(size_t)i] * v[(size_t)(i + lag)];
        CHECK(std::abs(c / (double)(n - lag)) < 5 / sn);
    }
    jdyn_program_free(p);
}

TEST_CASE("Rademacher draws are +-1 with mean 0 within 5 standard errors") {
    G g;
    g.arg({-1, 3});
    jdyn_program* p = g.finish({g.random(g.seed_param(), JDYN_RANDOM_RADEMACHER, {-1, 3})});
    const int64_t batch = 40000, n = batch * 3;
    const auto v = run(p, 3, batch, 3, n);
    double m = 0;
    for (double e : v) {
        REQUIRE((e == 1.0 || e == -1.0));
        m += e;
    }
    CHECK(std::abs(m / (double)n) < 5 / std::sqrt((double)n));
    jdyn_program_free(p);
}

TEST_CASE("one seed gives the same values on every run and for every batch size; other seeds and streams do not") {
    G g;
    g.arg({-1, 2});
    const int64_t s = g.seed_param();
    jdyn_program* p = g.finish({g.random(s, JDYN_RANDOM_NORMAL, {-1, 2}), g.random(s, JDYN_RANDOM_NORMAL, {-1, 2}, 1)});
    auto run2 = [&](double seed, int64_t batch) {
        std::vector<double> x((size_t)(batch * 2), 0.0), a((size_t)(batch * 2)), b((size_t)(batch * 2));
        const void* args[1] = {x.data()};
        void* outs[2] = {a.data(), b.data()};
        REQUIRE(jdyn_program_run(p, &seed, 0.0, args, batch, outs) == JDYN_OK);
        return std::make_pair(a, b);
    };
    const auto big = run2(11, 64), again = run2(11, 64), small = run2(11, 5), other = run2(12, 64);
    CHECK(big.first == again.first);
    for (size_t i = 0; i < small.first.size(); ++i) CHECK(small.first[i] == big.first[i]);  // row b is row b
    int same_seed = 0, same_stream = 0;
    for (size_t i = 0; i < big.first.size(); ++i) {
        same_seed += big.first[i] == other.first[i];
        same_stream += big.first[i] == big.second[i];
    }
    CHECK(same_seed == 0);
    CHECK(same_stream == 0);
    // 11.4 rounds to the same seed: a float32 seed parameter holds integers exactly, nothing else matters.
    CHECK(run2(11.4, 64).first == big.first);
    jdyn_program_free(p);
}

TEST_CASE("RANDOM's derivative is zero: the VJP to the seed and the JVP from it") {
    G g;
    const int64_t x = g.arg({-1, 2});
    const int64_t s = g.seed_param();
    const int64_t r = g.random(s, JDYN_RANDOM_NORMAL, {-1, 2});
    const int64_t y = g.op(JDYN_OP_MUL, {r, x});
    int64_t ct = g.op(JDYN_OP_FULL, {}, {2, -1, 2}, {1.0}), gs, gx, ty;
    REQUIRE(jdyn_graph_vjp(g.g, &y, &ct, 1, &s, 1, &gs) == JDYN_OK);
    REQUIRE(jdyn_graph_vjp(g.g, &y, &ct, 1, &x, 1, &gx) == JDYN_OK);
    int64_t one = g.op(JDYN_OP_FULL, {}, {1, 1}, {1.0});
    REQUIRE(jdyn_graph_jvp(g.g, &s, &one, 1, &y, 1, &ty) == JDYN_OK);
    jdyn_program* p = g.finish({gs, gx, r, ty});
    const int64_t batch = 3;
    std::vector<double> xv(6, 2.0), o0(1, NAN), o1(6, NAN), o2(6, NAN), o3(6, NAN);
    const void* args[1] = {xv.data()};
    void* outs[4] = {o0.data(), o1.data(), o2.data(), o3.data()};
    double seed = 5;
    REQUIRE(jdyn_program_run(p, &seed, 0.0, args, batch, outs) == JDYN_OK);
    CHECK(o0[0] == 0.0);
    for (size_t i = 0; i < 6; ++i) {
        CHECK(o1[i] == o2[i]);  // d(r x)/dx = r, the same noise the forward drew
        CHECK(o3[i] == 0.0);
    }
    jdyn_program_free(p);
}

TEST_CASE("RANDOM refuses a batched or wide seed, an unknown distribution and a fractional stream") {
    G g;
    const int64_t x = g.arg({-1, 2});
    const int64_t s = g.seed_param();
    int64_t id;
    CHECK(g.try_op(JDYN_OP_RANDOM, {x}, {0, 2, -1, 2}, {0.0}, &id) != JDYN_OK);
    CHECK(std::string(jdyn_last_error()).find("RANDOM: its input is the seed") != std::string::npos);
    CHECK(g.try_op(JDYN_OP_RANDOM, {s}, {2, 2, -1, 2}, {0.0}, &id) != JDYN_OK);
    CHECK(std::string(jdyn_last_error()).find("distribution 2") != std::string::npos);
    CHECK(g.try_op(JDYN_OP_RANDOM, {s}, {0, 2, -1, 2}, {0.5}, &id) != JDYN_OK);
    CHECK(std::string(jdyn_last_error()).find("stream 0.5") != std::string::npos);
}
