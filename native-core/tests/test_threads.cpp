// Batch splitting over worker threads (parallel.h): solves and gradients of a program field are bitwise
// the same with 1, 2 and 3 threads; the split evaluations agree with unsplit ones; a program that mixes
// batch rows runs as one block and stays correct; a failure inside a worker reaches the caller.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph/graph_field.h"
#include "graph/rows.h"
#include "jdyn.h"
#include "nn/program_handle.h"
#include "parallel.h"
#include "status.h"

namespace {

// 5000 rows of width 4: 19 row blocks for the field and 20000 state values, two element blocks for
// the engine, so both kinds of splitting run.
constexpr int64_t kBatch = 5000, kDim = 28;  // 140,000 values: two element blocks in the engine

struct Threads {  // restores one thread whatever happens in a test
    explicit Threads(int n) { REQUIRE(jdyn_set_num_threads(n) == JDYN_OK); }
    ~Threads() { jdyn_set_num_threads(1); }
};

// f(t, z) = Linear(4, 16) - Tanh - Linear(16, 4), a program whose rows are independent.
jdyn_program* mlp(int64_t dtype) {
    jdyn_layer_spec layers[3];
    std::memset(layers, 0, sizeof layers);
    layers[0].kind = JDYN_LAYER_LINEAR;
    layers[0].out_features = 16;
    layers[0].bias = 1;
    layers[1].kind = JDYN_LAYER_TANH;
    layers[2].kind = JDYN_LAYER_LINEAR;
    layers[2].out_features = kDim;
    layers[2].bias = 1;
    jdyn_program* prog = nullptr;
    REQUIRE(jdyn_program_create(layers, 3, dtype, kDim, &prog) == JDYN_OK);
    return prog;
}

template <class T>
std::vector<T> uniform(size_t n, unsigned seed, double lo, double hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<T> v(n);
    for (auto& x : v) x = (T)u(rng);
    return v;
}

const std::vector<double> kTimes = {0.0, 0.35, 1.0};

jdyn_solve_config config(int64_t dtype, int64_t method, bool adaptive, int64_t batch, int64_t dim, double tol) {
    jdyn_solve_config c;
    std::memset(&c, 0, sizeof c);
    c.method = method;
    c.dtype = dtype;
    c.batch = batch;
    c.dim = dim;
    c.times = kTimes.data();
    c.n_times = (int64_t)kTimes.size();
    c.adaptive = adaptive ? 1 : 0;
    c.dt = adaptive ? 0 : 0.05;
    c.rtol = c.atol = tol;
    c.safety = 0.9;
    c.ifactor = 10;
    c.dfactor = 0.2;
    c.icoeff = 1;
    return c;
}

template <class T>
struct Solved {
    std::vector<T> ys;
    jdyn_solve_stats st;
};

template <class T>
Solved<T> solve(const jdyn_program* prog, const std::vector<T>& params, const std::vector<T>& y0,
                const jdyn_solve_config& c) {
    Solved<T> r;
    r.ys.resize(kTimes.size() * y0.size());
    REQUIRE(jdyn_program_solve(&c, prog, params.data(), nullptr, y0.data(), r.ys.data(), &r.st, nullptr, nullptr) ==
            JDYN_OK);
    return r;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(T) * a.size()) == 0;
}

template <class T>
void check_solve_bitwise(int64_t dtype) {
    jdyn_program* prog = mlp(dtype);
    int64_t din = 0, dout = 0, np = 0;
    REQUIRE(jdyn_program_info(prog, &din, &dout, &np) == JDYN_OK);
    const std::vector<T> params = uniform<T>((size_t)np, 1, -0.6, 0.6);
    const std::vector<T> y0 = uniform<T>((size_t)(kBatch * kDim), 2, -1, 1);
    for (const auto& [method, adaptive] : {std::pair<int64_t, bool>{JDYN_DOPRI5, true}, {JDYN_RK4, false}}) {
        const jdyn_solve_config c = config(dtype, method, adaptive, kBatch, kDim, dtype == JDYN_FLOAT32 ? 1e-5 : 1e-7);
        Solved<T> one;
        {
            Threads th(1);
            one = solve(prog, params, y0, c);
        }
        CHECK(one.st.accepted >= 3);
        for (int n : {2, 3}) {
            Threads th(n);
            const Solved<T> r = solve(prog, params, y0, c);
            INFO("threads " << n << " method " << method);
            CHECK(same_bits(one.ys, r.ys));
            CHECK(r.st.nfe == one.st.nfe);
            CHECK(r.st.accepted == one.st.accepted);
            CHECK(r.st.rejected == one.st.rejected);
            CHECK(r.st.last_dt == one.st.last_dt);
        }
    }
    jdyn_program_free(prog);
}

}  // namespace

TEST_CASE("block boundaries depend on the size alone") {
    CHECK(jdyn::num_row_blocks(1) == 1);
    CHECK(jdyn::num_row_blocks(511) == 1);
    CHECK(jdyn::num_row_blocks(512) == 2);
    CHECK(jdyn::num_row_blocks(kBatch) == 19);
    CHECK(jdyn::num_row_blocks(65536) == 64);
    CHECK(jdyn::block_rows(65536) == 1024);
    CHECK(jdyn::element_block(1025, 256) == 1025);
    CHECK(jdyn::element_block(kBatch * kDim, 256) == 70144);
    CHECK(jdyn::element_block(131071, 256) == 131071);
    for (int64_t n : {512, 777, 5000, 100000, 1 << 20}) {
        const int64_t rows = jdyn::block_rows(n), nb = jdyn::num_row_blocks(n);
        CHECK(rows >= 256);
        CHECK(nb <= 64);
        CHECK((nb - 1) * rows < n);
        CHECK(nb * rows >= n);
    }
}

TEST_CASE("a program field's solve is bitwise the same with 1, 2 and 3 threads (dopri5, rk4; float32, float64)") {
    check_solve_bitwise<double>(JDYN_FLOAT64);
    check_solve_bitwise<float>(JDYN_FLOAT32);
}

TEST_CASE("split evaluations agree with unsplit ones row by row, and gradients with their per-row sums") {
    jdyn_program* prog = mlp(JDYN_FLOAT64);
    int64_t din = 0, dout = 0, np = 0;
    REQUIRE(jdyn_program_info(prog, &din, &dout, &np) == JDYN_OK);
    const std::vector<double> params = uniform<double>((size_t)np, 3, -0.6, 0.6);
    const std::vector<double> z = uniform<double>((size_t)(kBatch * kDim), 4, -1, 1);
    const std::vector<double> v = uniform<double>((size_t)(kBatch * kDim), 5, -1, 1);
    Threads th(2);
    jdyn::GraphField<double> split(prog->compiled, params.data());
    std::vector<double> f((size_t)(kBatch * kDim)), gz(f.size()), gp((size_t)np, 0.0), jv(f.size());
    double gt = 0;
    split.forward(0.3, z.data(), f.data(), kBatch);
    split.vjp(0.3, z.data(), v.data(), kBatch, gz.data(), gp.data(), &gt, nullptr);
    split.jvp(0.3, z.data(), v.data(), kBatch, jv.data());
    // The reference: the same program on 100-row batches (one block each), parameter gradients summed
    // over them. Rows agree to rounding (a GEMM may order a row's sum differently for another row
    // count): the values are O(1) sums of 16 products, so 1e-13 absolute is far above double's
    // rounding and far below any misplaced row or lost block.
    jdyn::GraphField<double> whole(prog->compiled, params.data());
    std::vector<double> rf(100 * kDim), rgz(rf.size()), rgp((size_t)np, 0.0), rjv(rf.size());
    double rgt = 0;
    double worst = 0;
    for (int64_t r0 = 0; r0 < kBatch; r0 += 100) {
        const size_t o = (size_t)(r0 * kDim);
        whole.forward(0.3, z.data() + o, rf.data(), 100);
        whole.vjp(0.3, z.data() + o, v.data() + o, 100, rgz.data(), rgp.data(), &rgt, nullptr);
        whole.jvp(0.3, z.data() + o, v.data() + o, 100, rjv.data());
        for (size_t i = 0; i < rf.size(); ++i) {
            worst = std::max(worst, std::fabs(rf[i] - f[o + i]));
            worst = std::max(worst, std::fabs(rgz[i] - gz[o + i]));
            worst = std::max(worst, std::fabs(rjv[i] - jv[o + i]));
        }
    }
    CHECK(worst < 1e-13);
    // Parameter gradients are sums of 5000 O(1) terms: 1e-10 covers their reordering.
    for (int64_t i = 0; i < np; ++i) CHECK(std::fabs(gp[(size_t)i] - rgp[(size_t)i]) < 1e-10);
    CHECK(gt == 0.0);  // an autonomous field
    CHECK(rgt == 0.0);
    jdyn_program_free(prog);
}

TEST_CASE("gradients of a solve (autograd, adjoint with either norm, interpolated adjoint) are bitwise the same with 1, 2 and 3 threads") {
    jdyn_program* prog = mlp(JDYN_FLOAT64);
    int64_t din = 0, dout = 0, np = 0;
    REQUIRE(jdyn_program_info(prog, &din, &dout, &np) == JDYN_OK);
    const std::vector<double> params = uniform<double>((size_t)np, 6, -0.6, 0.6);
    const std::vector<double> y0 = uniform<double>((size_t)(kBatch * kDim), 7, -1, 1);
    const std::vector<double> cot = uniform<double>(kTimes.size() * y0.size(), 8, -1, 1);
    struct Grad {
        std::vector<double> ys, gy0, gp, gt;
        jdyn_backward_stats bst;
    };
    auto run = [&](int64_t sens, bool seminorm) {
        Grad g;
        const jdyn_solve_config c = config(JDYN_FLOAT64, JDYN_DOPRI5, true, kBatch, kDim, 1e-6);
        jdyn_grad_options o;
        std::memset(&o, 0, sizeof o);
        o.sensitivity = sens;
        o.seminorm = seminorm ? 1 : 0;
        g.ys.resize(cot.size());
        jdyn_solve_stats st;
        jdyn_tape* tape = nullptr;
        REQUIRE(jdyn_program_solve(&c, prog, params.data(), &o, y0.data(), g.ys.data(), &st, nullptr, &tape) ==
                JDYN_OK);
        g.gy0.resize(y0.size());
        g.gp.assign((size_t)np, 0.0);
        g.gt.resize(kTimes.size());
        REQUIRE(jdyn_tape_backward(tape, cot.data(), g.gy0.data(), g.gp.data(), g.gt.data(), &g.bst) == JDYN_OK);
        jdyn_tape_free(tape);
        return g;
    };
    for (const auto& [sens, seminorm] : {std::pair<int64_t, bool>{JDYN_SENS_AUTOGRAD, true},
                                         {JDYN_SENS_ADJOINT, true},
                                         {JDYN_SENS_ADJOINT, false},
                                         {JDYN_SENS_INTERPOLATED_ADJOINT, true}}) {
        Grad one;
        {
            Threads th(1);
            one = run(sens, seminorm);
        }
        CHECK(one.bst.nfe > 0);
        for (int n : {2, 3}) {
            Threads th(n);
            const Grad g = run(sens, seminorm);
            INFO("threads " << n << " sensitivity " << sens << " seminorm " << seminorm);
            CHECK(same_bits(one.ys, g.ys));
            CHECK(same_bits(one.gy0, g.gy0));
            CHECK(same_bits(one.gp, g.gp));
            CHECK(same_bits(one.gt, g.gt));
            CHECK(g.bst.nfe == one.bst.nfe);
            CHECK(g.bst.accepted == one.bst.accepted);
        }
    }
    jdyn_program_free(prog);
}

TEST_CASE("a program that mixes batch rows runs as one block and stays correct") {
    // f(z) = mean over the batch of z - z: the batch mean m is conserved and z(t) = m + (z0 - m) e^-t.
    // Split into blocks, each block would pull toward its own mean and the check below would fail.
    jdyn_graph* g = nullptr;
    REQUIRE(jdyn_graph_new(&g) == JDYN_OK);
    const int64_t shape[2] = {-1, kDim};
    int64_t z = 0, mean = 0, out = 0;
    REQUIRE(jdyn_graph_arg(g, shape, 2, &z) == JDYN_OK);
    const int64_t axis[2] = {0, 0};
    REQUIRE(jdyn_graph_op(g, JDYN_OP_MEAN, &z, 1, axis, 2, nullptr, 0, &mean) == JDYN_OK);
    const int64_t in[2] = {mean, z};
    REQUIRE(jdyn_graph_op(g, JDYN_OP_SUB, in, 2, nullptr, 0, nullptr, 0, &out) == JDYN_OK);
    jdyn_program* prog = nullptr;
    REQUIRE(jdyn_graph_finish(g, &out, 1, JDYN_FLOAT64, &prog) == JDYN_OK);
    jdyn_graph_free(g);
    CHECK(jdyn::graph::mixes_rows(prog->compiled->graph()));
    jdyn_program* rowwise = mlp(JDYN_FLOAT64);
    CHECK_FALSE(jdyn::graph::mixes_rows(rowwise->compiled->graph()));
    jdyn_program_free(rowwise);

    const std::vector<double> y0 = uniform<double>((size_t)(kBatch * kDim), 9, -1, 1);
    std::vector<double> m(kDim, 0.0);
    for (int64_t r = 0; r < kBatch; ++r)
        for (int64_t d = 0; d < kDim; ++d) m[(size_t)d] += y0[(size_t)(r * kDim + d)] / kBatch;
    const jdyn_solve_config c = config(JDYN_FLOAT64, JDYN_DOPRI5, true, kBatch, kDim, 1e-10);
    const std::vector<double> none(1);  // no parameters (the ABI wants a pointer all the same)
    Solved<double> one, two;
    {
        Threads th(1);
        one = solve(prog, none, y0, c);
    }
    {
        Threads th(2);
        two = solve(prog, none, y0, c);
    }
    CHECK(same_bits(one.ys, two.ys));
    // rtol = atol = 1e-10 on O(1) values: the global error stays below 1e-8.
    double worst = 0;
    const size_t n = y0.size();
    for (size_t k = 0; k < kTimes.size(); ++k)
        for (size_t i = 0; i < n; ++i) {
            const double mi = m[i % kDim];
            const double exact = mi + (y0[i] - mi) * std::exp(-kTimes[k]);
            worst = std::max(worst, std::fabs(two.ys[k * n + i] - exact));
        }
    CHECK(worst < 1e-8);
    jdyn_program_free(prog);
}

TEST_CASE("a failure inside a worker reaches the caller as a status and a message") {
    Threads th(3);
    // The pool on its own: every block runs, the lowest failing block's failure is reported, and the
    // pool serves the next job.
    std::vector<int> ran(40, 0);
    try {
        jdyn::parallel_for(40, [&](int64_t b) {
            ran[(size_t)b] = 1;
            if (b == 17 || b == 31) jdyn::fail(JDYN_ERR_NON_FINITE, "block " + std::to_string(b) + " failed");
        });
        FAIL("no exception");
    } catch (const jdyn::Failure& f) {
        CHECK(f.status() == JDYN_ERR_NON_FINITE);
        CHECK(std::string(f.what()) == "block 17 failed");
    }
    for (int r : ran) CHECK(r == 1);
    int64_t sum = 0;
    std::vector<int64_t> parts(40);
    jdyn::parallel_for(40, [&](int64_t b) { parts[(size_t)b] = b; });
    for (int64_t p : parts) sum += p;
    CHECK(sum == 40 * 39 / 2);

    // Through a solve: f(z) = z[:, 1:2] / z[:, 0:1] (as a 1 x 1 SOLVE) in both columns; a zero in row
    // 3000's first column is a singular matrix in a block that a worker may run.
    jdyn_graph* g = nullptr;
    REQUIRE(jdyn_graph_new(&g) == JDYN_OK);
    const int64_t shape[2] = {-1, 2};
    int64_t z = 0, a = 0, b = 0, a3 = 0, b3 = 0, x = 0, x2 = 0, out = 0;
    REQUIRE(jdyn_graph_arg(g, shape, 2, &z) == JDYN_OK);
    const int64_t s0[3] = {1, 0, 1}, s1[3] = {1, 1, 2};
    REQUIRE(jdyn_graph_op(g, JDYN_OP_SLICE, &z, 1, s0, 3, nullptr, 0, &a) == JDYN_OK);
    REQUIRE(jdyn_graph_op(g, JDYN_OP_SLICE, &z, 1, s1, 3, nullptr, 0, &b) == JDYN_OK);
    const int64_t r3[4] = {3, -1, 1, 1}, r2[3] = {2, -1, 1};
    REQUIRE(jdyn_graph_op(g, JDYN_OP_RESHAPE, &a, 1, r3, 4, nullptr, 0, &a3) == JDYN_OK);
    REQUIRE(jdyn_graph_op(g, JDYN_OP_RESHAPE, &b, 1, r3, 4, nullptr, 0, &b3) == JDYN_OK);
    const int64_t ab[2] = {a3, b3}, no_transpose = 0;
    REQUIRE(jdyn_graph_op(g, JDYN_OP_SOLVE, ab, 2, &no_transpose, 1, nullptr, 0, &x) == JDYN_OK);
    REQUIRE(jdyn_graph_op(g, JDYN_OP_RESHAPE, &x, 1, r2, 3, nullptr, 0, &x2) == JDYN_OK);
    const int64_t xx[2] = {x2, x2}, cat_axis = 1;
    REQUIRE(jdyn_graph_op(g, JDYN_OP_CONCAT, xx, 2, &cat_axis, 1, nullptr, 0, &out) == JDYN_OK);
    jdyn_program* prog = nullptr;
    REQUIRE(jdyn_graph_finish(g, &out, 1, JDYN_FLOAT64, &prog) == JDYN_OK);
    jdyn_graph_free(g);
    CHECK_FALSE(jdyn::graph::mixes_rows(prog->compiled->graph()));
    std::vector<double> y0 = uniform<double>(2 * kBatch, 10, 1, 2);
    y0[2 * 3000] = 0.0;
    jdyn_solve_config c = config(JDYN_FLOAT64, JDYN_RK4, false, kBatch, 2, 1e-6);
    std::vector<double> ys(kTimes.size() * y0.size());
    jdyn_solve_stats st;
    const std::vector<double> none(1);
    CHECK(jdyn_program_solve(&c, prog, none.data(), nullptr, y0.data(), ys.data(), &st, nullptr, nullptr) ==
          JDYN_ERR_NON_FINITE);
    const std::string msg = jdyn_last_error();
    INFO(msg);
    CHECK(msg.find("singular") != std::string::npos);
    // 5000 rows in 19 blocks of 264: row 3000 is row 96 of the block starting at row 2904.
    CHECK(msg.find("batch rows 2904 to 3167") != std::string::npos);
    jdyn_program_free(prog);
}
