// SOLVE (torch.linalg.solve) through the graph ABI: values against Cramer's rule (an independent
// algorithm), the VJP and JVP against central differences and <v, J u> = <J^T v, u> for every
// combination of batched and shared operands and both transpose modes, second derivatives (the
// derivatives of a derivative program that itself contains SOLVE nodes), float32 against float64,
// the shape checks, and the failures: a singular or non-finite matrix names SOLVE, the node and the
// batch row.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "graph_testing.h"

using namespace gt;

namespace {

// A raw input drawn in [-1, 1] plus 4 P, P a permutation with no fixed point: the matrix is far from
// singular (every row has one entry of magnitude >= 3 in a distinct column, the rest sum to < 3), and
// elimination must swap rows (the largest entry of column 0 is not on the diagonal).
Vec shifted_permutation(int64_t n) {
    Vec c((size_t)(n * n), 0.0);
    for (int64_t i = 0; i < n; ++i) c[(size_t)(i * n + (i + 1) % n)] = 4.0;
    return c;
}

double det(const Vec& m, int64_t n) {
    if (n == 1) return m[0];
    double d = 0;
    for (int64_t j = 0; j < n; ++j) {
        Vec minor;
        for (int64_t r = 1; r < n; ++r)
            for (int64_t c = 0; c < n; ++c)
                if (c != j) minor.push_back(m[(size_t)(r * n + c)]);
        d += (j % 2 ? -1 : 1) * m[(size_t)j] * det(minor, n - 1);
    }
    return d;
}

// Cramer's rule: x_i = det(A with column i replaced by b) / det(A), one column of B at a time.
Vec cramer(const Vec& a, const Vec& b, int64_t n, int64_t k) {
    const double d = det(a, n);
    Vec x((size_t)(n * k));
    for (int64_t col = 0; col < k; ++col)
        for (int64_t i = 0; i < n; ++i) {
            Vec ai = a;
            for (int64_t r = 0; r < n; ++r) ai[(size_t)(r * n + i)] = b[(size_t)(r * k + col)];
            x[(size_t)(i * k + col)] = det(ai, n) / d;
        }
    return x;
}

struct SolveCase {
    std::string name;
    Input a, b;
    bool transpose;
    Shape out;
    int64_t batch = 3;
};

int64_t dim_of(const Shape& s, int64_t batch, int i) { return s[(size_t)i] == -1 ? batch : s[(size_t)i]; }

// The case's graph: SOLVE(raw A + 4 P, B).
Checked::Builder builder(int64_t n, bool transpose) {
    return [n, transpose](Graph& g, const Ids& x) {
        const int64_t a = g.op(JDYN_OP_ADD, {x[0], g.constant(shifted_permutation(n), {n, n})});
        return Ids{g.op(JDYN_OP_SOLVE, {a, x[1]}, {transpose ? 1 : 0})};
    };
}

// The expected X from the raw inputs, matrix by matrix.
Vec reference(const SolveCase& c, const Vec& araw, const Vec& b) {
    const Shape& sa = c.a.shape;
    const Shape& sb = c.b.shape;
    const int64_t n = sa.back(), k = sb.back();
    const int64_t count = sa.size() == 3 ? dim_of(sa, c.batch, 0) : sb.size() == 3 ? dim_of(sb, c.batch, 0) : 1;
    const Vec shift = shifted_permutation(n);
    Vec x;
    for (int64_t m = 0; m < count; ++m) {
        Vec am((size_t)(n * n)), bm(b.begin() + (sb.size() == 3 ? m * n * k : 0),
                                    b.begin() + (sb.size() == 3 ? m * n * k : 0) + n * k);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j) {
                const int64_t src = (sa.size() == 3 ? m * n * n : 0) + (c.transpose ? j * n + i : i * n + j);
                const int64_t s = c.transpose ? j * n + i : i * n + j;
                am[(size_t)(i * n + j)] = araw[(size_t)src] + shift[(size_t)s];
            }
        const Vec xm = cramer(am, bm, n, k);
        x.insert(x.end(), xm.begin(), xm.end());
    }
    return x;
}

std::vector<SolveCase> cases() {
    return {
        {"A [-1,3,3], B [-1,3,2]", arg({-1, 3, 3}), arg({-1, 3, 2}), false, {-1, 3, 2}},
        {"A^T [-1,3,3], B [-1,3,2]", arg({-1, 3, 3}), arg({-1, 3, 2}), true, {-1, 3, 2}},
        {"A [3,3] shared, B [-1,3,1]", param({3, 3}), arg({-1, 3, 1}), false, {-1, 3, 1}},
        {"A^T [3,3] shared, B [-1,3,2]", param({3, 3}), arg({-1, 3, 2}), true, {-1, 3, 2}},
        {"A [-1,2,2], B [2,3] shared", arg({-1, 2, 2}), param({2, 3}), false, {-1, 2, 3}},
        {"A [4,4], B [4,2] (unbatched)", param({4, 4}), param({4, 2}), false, {4, 2}},
        {"A^T [4,4], B [4,2] (unbatched)", param({4, 4}), param({4, 2}), true, {4, 2}},
        {"A [2,3,3], B [2,3,2] (a fixed batch)", param({2, 3, 3}), param({2, 3, 2}), false, {2, 3, 2}},
        {"A [-1,1,1], B [-1,1,1] (a division)", arg({-1, 1, 1}), arg({-1, 1, 1}), false, {-1, 1, 1}},
    };
}

// Cramer's rule and elimination agree to rounding: condition numbers here are below ~10 and the
// values O(1), so 1e-12 (relative + absolute) holds with a wide margin and catches any wrong entry.
constexpr double kValueTol = 1e-12;

}  // namespace

TEST_CASE("SOLVE: values against Cramer's rule, VJP and JVP against central differences") {
    uint64_t seed = 5400;
    for (const SolveCase& c : cases()) {
        INFO("case: ", c.name);
        try {
            Checked ch({c.a, c.b}, builder(c.a.shape.back(), c.transpose), seed++, c.batch);
            REQUIRE(ch.out_shapes.size() == 1);
            CHECK_MESSAGE(ch.out_shapes[0] == c.out, "shape ", shape_str(ch.out_shapes[0]));
            const Program f = ch.g.finish(ch.outs);
            const auto got = ch.eval(f, ch.point);
            const Vec want = reference(c, ch.value(ch.point, 0), ch.value(ch.point, 1));
            REQUIRE(got[0].size() == want.size());
            Mismatches m("SOLVE vs Cramer's rule", kValueTol);
            for (size_t i = 0; i < want.size(); ++i) m.compare(got[0][i], want[i], "element " + std::to_string(i));
            m.report();
            ch.check_first_order();
        } catch (const Failure& f) {
            FAIL_CHECK(std::string(f.what()));
        }
    }
}

TEST_CASE("SOLVE: second derivatives (the VJP of 0.5 |X|^2, itself differentiated)") {
    uint64_t seed = 5500;
    for (const SolveCase& c : cases()) {
        INFO("case: ", c.name);
        try {
            const int64_t n = c.a.shape.back();
            const bool tr = c.transpose;
            Checked ch({c.a, c.b},
                       [n, tr](Graph& g, const Ids& x) {
                           const int64_t a = g.op(JDYN_OP_ADD, {x[0], g.constant(shifted_permutation(n), {n, n})});
                           const int64_t s = g.op(JDYN_OP_SOLVE, {a, x[1]}, {tr ? 1 : 0});
                           // d/dA and d/dB of 0.5 |X|^2 (cotangent X): programs with SOLVE nodes of both modes
                           return g.vjp({s}, {s}, {x[0], x[1]});
                       },
                       seed++, c.batch);
            ch.check_first_order();
        } catch (const Failure& f) {
            FAIL_CHECK(std::string(f.what()));
        }
    }
}

TEST_CASE("SOLVE: float32 agrees with float64") {
    uint64_t seed = 5600;
    for (const SolveCase& c : cases()) {
        INFO("case: ", c.name);
        Checked ch({c.a, c.b}, builder(c.a.shape.back(), c.transpose), seed++, c.batch);
        const Program f64 = ch.g.finish(ch.outs, JDYN_FLOAT64), f32 = ch.g.finish(ch.outs, JDYN_FLOAT32);
        const std::vector<float> pf(ch.point.params.begin(), ch.point.params.end());
        std::vector<std::vector<float>> af;
        for (const auto& a : ch.point.args) af.emplace_back(a.begin(), a.end());
        const auto want = f64.run(ch.point.params, ch.point.t, ch.point.args, ch.batch());
        const auto got = f32.run(pf, ch.point.t, af, ch.batch());
        // float32 rounding (6e-8) amplified by condition numbers below ~10 over a few eliminations.
        Mismatches m("float32 vs float64", 1e-5);
        for (size_t i = 0; i < want[0].size(); ++i) m.compare((double)got[0][i], want[0][i], std::to_string(i));
        m.report();
    }
}

TEST_CASE("SOLVE: shape checks name the op and the shapes") {
    struct Bad {
        Shape a, b;
        Ids ia;
        std::string message;
    };
    const std::vector<Bad> bad = {
        {{-1, 3, 2}, {-1, 3, 1}, {}, "square"},
        {{-1, 3}, {-1, 3, 1}, {}, "square"},
        {{-1, 3, 3}, {-1, 2, 1}, {}, "rows"},
        {{-1, 3, 3}, {-1, 3}, {}, "B must be a matrix"},
        {{2, 3, 3}, {-1, 3, 1}, {}, "different batches"},
        {{3, 3}, {3, 1}, {2}, "transpose must be 0 or 1"},
    };
    for (const Bad& b : bad) {
        Graph g;
        const int64_t a = g.arg(b.a), bb = g.arg(b.b);
        int64_t id = -1;
        CHECK(g.try_op(JDYN_OP_SOLVE, {a, bb}, b.ia, {}, &id) == JDYN_ERR_ARGUMENT);
        const std::string msg = last_error();
        INFO(msg);
        CHECK(mentions(msg, "SOLVE"));
        CHECK(mentions(msg, b.message));
    }
}

TEST_CASE("SOLVE: a singular or non-finite matrix fails naming SOLVE, the node and the batch row") {
    Graph g;
    const int64_t a = g.arg({-1, 2, 2}), b = g.arg({-1, 2, 1});
    const int64_t x = g.op(JDYN_OP_SOLVE, {a, b});
    const Program p = g.finish({x});
    const Vec rhs = {1, 2, 3, 4, 5, 6};
    std::vector<std::vector<double>> out;
    // Row 0 is regular, row 1 singular (rank one), row 2 regular.
    const Vec singular = {2, 1, 1, 3, 1, 2, 2, 4, 0, 1, 1, 0};
    CHECK(p.try_run<double>({}, 0.0, {singular, rhs}, 3, out) == JDYN_ERR_NON_FINITE);
    std::string msg = last_error();
    INFO(msg);
    CHECK(mentions(msg, "SOLVE"));
    CHECK(mentions(msg, "singular"));
    CHECK(mentions(msg, "batch row 1"));
    CHECK(mentions(msg, "node " + std::to_string(x)));
    const Vec nan_matrix = {2, 1, 1, 3, 1, 0, 0, std::nan(""), 0, 1, 1, 0};
    CHECK(p.try_run<double>({}, 0.0, {nan_matrix, rhs}, 3, out) == JDYN_ERR_NON_FINITE);
    msg = last_error();
    CHECK(mentions(msg, "not finite"));
    CHECK(mentions(msg, "batch row 1"));
    // The same matrices without the bad row solve: the pivoting handles the zero diagonal of row 2.
    const Vec fine = {2, 1, 1, 3, 0, 1, 1, 0};
    const auto ok = p.run<double>({}, 0.0, {fine, Vec{1, 2, 3, 4}}, 2);
    CHECK(ok[0][0] == doctest::Approx(0.2));  // 2x + y = 1, x + 3y = 2: x = 1/5, y = 3/5
    CHECK(ok[0][1] == doctest::Approx(0.6));
    CHECK(ok[0][2] == doctest::Approx(4.0));  // y = 3, x = 4
    CHECK(ok[0][3] == doctest::Approx(3.0));
}
