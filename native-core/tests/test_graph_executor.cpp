// The executor's own mechanics through the C ABI: fused element-wise chains (across tile boundaries,
// with broadcast operands beside them), buffer planning when the batch size changes, outputs that
// other nodes read, and the same node asked for twice. Values are compared with direct computation.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <random>
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
    int64_t op(int64_t o, std::vector<int64_t> in, std::vector<int64_t> ia = {}, std::vector<double> fa = {}) {
        int64_t id;
        const int32_t rc = jdyn_graph_op(g, o, in.data(), (int64_t)in.size(), ia.data(), (int64_t)ia.size(), fa.data(),
                                         (int64_t)fa.size(), &id);
        INFO(jdyn_last_error());
        REQUIRE(rc == JDYN_OK);
        return id;
    }
    int64_t scalar(double v) {
        int64_t id;
        REQUIRE(jdyn_graph_const(g, &v, nullptr, 0, &id) == JDYN_OK);
        return id;
    }
    jdyn_program* finish(std::vector<int64_t> outs) {
        jdyn_program* p;
        REQUIRE(jdyn_graph_finish(g, outs.data(), (int64_t)outs.size(), JDYN_FLOAT64, &p) == JDYN_OK);
        return p;
    }
};

std::vector<std::vector<double>> run(jdyn_program* p, std::vector<std::vector<double>> args, int64_t batch,
                                     std::vector<int64_t> out_sizes) {
    std::vector<const void*> a;
    for (auto& v : args) a.push_back(v.data());
    std::vector<std::vector<double>> outs;
    for (int64_t n : out_sizes) outs.emplace_back((size_t)n, NAN);
    std::vector<void*> o;
    for (auto& v : outs) o.push_back(v.data());
    const int32_t rc = jdyn_program_run(p, nullptr, 0.25, a.data(), batch, o.data());
    INFO(jdyn_last_error());
    REQUIRE(rc == JDYN_OK);
    return outs;
}

std::vector<double> random_vec(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-1.5, 1.5);
    std::vector<double> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

}  // namespace

TEST_CASE("a fused chain beside a broadcast operand: (x + mean(x, 1, keepdim)) + tanh(x), row by row") {
    // A regression: a chain once read a broadcast [batch, 1] operand as if it were one element.
    for (int64_t batch : {2, 3, 600}) {
        G g;
        const int64_t x = g.arg({-1, 4});
        const int64_t m = g.op(JDYN_OP_MEAN, {x}, {1, 1});
        const int64_t y = g.op(JDYN_OP_ADD, {g.op(JDYN_OP_ADD, {x, m}), g.op(JDYN_OP_TANH, {x})});
        jdyn_program* p = g.finish({y});
        const auto xv = random_vec((size_t)(batch * 4), 1);
        const auto r = run(p, {xv}, batch, {batch * 4});
        for (int64_t b = 0; b < batch; ++b) {
            double mean = 0;
            for (int j = 0; j < 4; ++j) mean += xv[(size_t)(b * 4 + j)] / 4;
            for (int j = 0; j < 4; ++j) {
                const double xi = xv[(size_t)(b * 4 + j)];
                CHECK(r[0][(size_t)(b * 4 + j)] == doctest::Approx(xi + mean + std::tanh(xi)).epsilon(1e-14));
            }
        }
        jdyn_program_free(p);
    }
}

TEST_CASE("a long element-wise chain across tile boundaries, at several batch sizes in turn (re-planned)") {
    G g;
    const int64_t x = g.arg({-1, 7});
    int64_t h = x;
    // sin, *0.5, +x... : each link read once, so the whole chain fuses; x is read by several links.
    h = g.op(JDYN_OP_SIN, {h});
    h = g.op(JDYN_OP_MUL, {h, g.scalar(0.5)});
    h = g.op(JDYN_OP_ADD, {h, x});
    h = g.op(JDYN_OP_TANH, {h});
    h = g.op(JDYN_OP_SQUARE, {h});
    h = g.op(JDYN_OP_SUB, {h, g.scalar(0.25)});
    h = g.op(JDYN_OP_EXP, {h});
    h = g.op(JDYN_OP_MUL, {h, x});
    h = g.op(JDYN_OP_SIGMOID, {h});
    jdyn_program* p = g.finish({h});
    for (int64_t batch : {3, 700, 1, 1000, 3}) {
        const auto xv = random_vec((size_t)(batch * 7), (uint32_t)batch);
        const auto r = run(p, {xv}, batch, {batch * 7});
        for (size_t i = 0; i < xv.size(); ++i) {
            const double xi = xv[i];
            double v = std::tanh(0.5 * std::sin(xi) + xi);
            v = std::exp(v * v - 0.25) * xi;
            v = 1 / (1 + std::exp(-v));
            INFO("batch ", batch, " element ", i);
            CHECK(r[0][i] == doctest::Approx(v).epsilon(1e-14));
        }
    }
    jdyn_program_free(p);
}

TEST_CASE("outputs that later nodes read, a chain link that is an output, and one node asked for twice") {
    G g;
    const int64_t x = g.arg({-1, 5});
    const int64_t t1 = g.op(JDYN_OP_TANH, {x});       // an output, and read by e
    const int64_t e = g.op(JDYN_OP_EXP, {t1});        // an output
    const int64_t s = g.op(JDYN_OP_MUL, {e, t1});     // reads both
    jdyn_program* p = g.finish({t1, e, s, t1});
    const int64_t batch = 9;
    const auto xv = random_vec((size_t)(batch * 5), 3);
    const auto r = run(p, {xv}, batch, {batch * 5, batch * 5, batch * 5, batch * 5});
    for (size_t i = 0; i < xv.size(); ++i) {
        const double a = std::tanh(xv[i]), b = std::exp(a);
        CHECK(r[0][i] == doctest::Approx(a).epsilon(1e-15));
        CHECK(r[1][i] == doctest::Approx(b).epsilon(1e-15));
        CHECK(r[2][i] == doctest::Approx(a * b).epsilon(1e-15));
        CHECK(r[3][i] == doctest::Approx(a).epsilon(1e-15));
    }
    jdyn_program_free(p);
}

TEST_CASE("many intermediate values: buffers reused by liveness keep every value right") {
    // A deep residual stack: h_{k+1} = h_k + 0.1 tanh(h_k W_k) with its own constant W_k each.
    G g;
    const int64_t x = g.arg({-1, 6});
    int64_t h = x;
    std::vector<std::vector<double>> ws;
    for (int k = 0; k < 40; ++k) {
        ws.push_back(random_vec(36, (uint32_t)(100 + k)));
        const int64_t shape[2] = {6, 6};
        int64_t w;
        REQUIRE(jdyn_graph_const(g.g, ws.back().data(), shape, 2, &w) == JDYN_OK);
        const int64_t z = g.op(JDYN_OP_MATMUL, {h, w}, {0, 0});
        h = g.op(JDYN_OP_ADD, {h, g.op(JDYN_OP_MUL, {g.op(JDYN_OP_TANH, {z}), g.scalar(0.1)})});
    }
    jdyn_program* p = g.finish({h});
    const int64_t batch = 33;
    const auto xv = random_vec((size_t)(batch * 6), 5);
    const auto r = run(p, {xv}, batch, {batch * 6});
    std::vector<double> hv = xv;
    for (int k = 0; k < 40; ++k) {
        std::vector<double> next = hv;
        for (int64_t b = 0; b < batch; ++b)
            for (int j = 0; j < 6; ++j) {
                double z = 0;
                for (int q = 0; q < 6; ++q) z += hv[(size_t)(b * 6 + q)] * ws[(size_t)k][(size_t)(q * 6 + j)];
                next[(size_t)(b * 6 + j)] += 0.1 * std::tanh(z);
            }
        hv = next;
    }
    for (size_t i = 0; i < hv.size(); ++i) CHECK(r[0][i] == doctest::Approx(hv[i]).epsilon(1e-12));
    jdyn_program_free(p);
}

TEST_CASE("a batch too large for memory is refused with the node named, not attempted") {
    G g;
    const int64_t x = g.arg({-1, 1 << 24});
    const int64_t y = g.op(JDYN_OP_TANH, {x});
    jdyn_program* p = g.finish({y});
    double in = 0, out = 0;
    const void* a[1] = {&in};
    void* o[1] = {&out};
    CHECK(jdyn_program_run(p, nullptr, 0.0, a, int64_t(1) << 20, o) == JDYN_ERR_OUT_OF_MEMORY);
    CHECK(std::string(jdyn_last_error()).find("TANH") != std::string::npos);
    jdyn_program_free(p);
}

TEST_CASE("products of a batch of one (matrix-vector through BLAS) equal the naive loop") {
    // LINEAR (x W^T + b) and MATMUL (x B) at batch 1 with more than 512 multiply-adds: the one-row path.
    for (int64_t batch : {1, 2}) {
        G g;
        const int64_t x = g.arg({-1, 64});
        const auto wv = random_vec(48 * 64, 11), bv = random_vec(48, 12), mv = random_vec(64 * 40, 13);
        const int64_t ws[2] = {48, 64}, bs[1] = {48}, ms[2] = {64, 40};
        int64_t w, b, m;
        REQUIRE(jdyn_graph_const(g.g, wv.data(), ws, 2, &w) == JDYN_OK);
        REQUIRE(jdyn_graph_const(g.g, bv.data(), bs, 1, &b) == JDYN_OK);
        REQUIRE(jdyn_graph_const(g.g, mv.data(), ms, 2, &m) == JDYN_OK);
        const int64_t lin = g.op(JDYN_OP_LINEAR, {x, w, b});
        const int64_t mm = g.op(JDYN_OP_MATMUL, {x, m}, {0, 0});
        jdyn_program* p = g.finish({lin, mm});
        const auto xv = random_vec((size_t)(64 * batch), 14);
        const auto r = run(p, {xv}, batch, {48 * batch, 40 * batch});
        for (int64_t row = 0; row < batch; ++row) {
            for (int j = 0; j < 48; ++j) {
                double s = bv[(size_t)j];
                for (int q = 0; q < 64; ++q) s += xv[(size_t)(row * 64 + q)] * wv[(size_t)(j * 64 + q)];
                CHECK(r[0][(size_t)(row * 48 + j)] == doctest::Approx(s).epsilon(1e-13));
            }
            for (int j = 0; j < 40; ++j) {
                double s = 0;
                for (int q = 0; q < 64; ++q) s += xv[(size_t)(row * 64 + q)] * mv[(size_t)(q * 40 + j)];
                CHECK(r[1][(size_t)(row * 40 + j)] == doctest::Approx(s).epsilon(1e-13));
            }
        }
        jdyn_program_free(p);
    }
}
