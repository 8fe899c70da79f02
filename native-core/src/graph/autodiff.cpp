// Differentiation as a transformation of graphs: every rule adds ordinary graph nodes, so derived
// programs are differentiable again (to any order). Zero cotangents and tangents are absent (-1), never
// materialised, which keeps derived programs small; the builder's simplifications do the rest.
#include <algorithm>

#include "graph/graph.h"
#include "status.h"

namespace jdyn {
namespace graph {

namespace {

constexpr int32_t kZero = -1;

// The product of the partial derivative of element-wise node `id` with respect to input `i` and v
// (an array shaped like the node, or broadcastable to it). For an element-wise op the Jacobian is
// diagonal, so the same product serves the VJP (v the cotangent) and the JVP (v the input's tangent).
// kZero when the partial is zero.
int32_t partial(Graph& g, int32_t id, int i, int32_t v) {
    const Node n = g.node(id);  // a copy: adding nodes may move the storage
    const int32_t x = n.in.empty() ? -1 : n.in[0];
    const int32_t b = n.in.size() > 1 ? n.in[1] : -1;
    const int32_t y = id;
    switch (n.op) {
        case JDYN_OP_ADD: return v;
        case JDYN_OP_SUB: return i == 0 ? v : g.neg(v);
        case JDYN_OP_MUL: return g.mul(v, i == 0 ? b : x);
        case JDYN_OP_DIV: return i == 0 ? g.div(v, b) : g.neg(g.div(g.mul(v, y), b));
        case JDYN_OP_MAXIMUM: case JDYN_OP_MINIMUM: {
            // To the first input where it is strictly the larger (smaller), else to the second.
            const int32_t d = n.op == JDYN_OP_MAXIMUM ? g.sub(x, b) : g.sub(b, x);
            const int32_t ma = g.un(JDYN_OP_STEP, d);
            return i == 0 ? g.mul(v, ma) : g.mul(v, g.sub(g.scalar(1), ma));
        }
        case JDYN_OP_NEG: return g.neg(v);
        case JDYN_OP_EXP: return g.mul(v, y);
        case JDYN_OP_LOG: return g.div(v, x);
        case JDYN_OP_SQRT: return g.div(g.mulc(v, 0.5), y);
        case JDYN_OP_SQUARE: return g.mul(v, g.mulc(x, 2));
        case JDYN_OP_ABS: return g.mul(v, g.un(JDYN_OP_SIGN, x));
        case JDYN_OP_SIN: return g.mul(v, g.un(JDYN_OP_COS, x));
        case JDYN_OP_COS: return g.neg(g.mul(v, g.un(JDYN_OP_SIN, x)));
        case JDYN_OP_TANH: return g.op(JDYN_OP_TANH_BWD, {y, v});
        case JDYN_OP_SIGMOID: return g.op(JDYN_OP_SIGMOID_BWD, {y, v});
        case JDYN_OP_RELU: return g.mul(v, g.un(JDYN_OP_STEP, x));
        case JDYN_OP_SILU: return g.op(JDYN_OP_SILU_BWD, {x, v});
        case JDYN_OP_SOFTPLUS: return g.op(JDYN_OP_SOFTPLUS_BWD, {x, v}, nullptr, 0, n.fa, 2);
        case JDYN_OP_ELU: return g.op(JDYN_OP_ELU_BWD, {x, v}, nullptr, 0, n.fa, 1);
        case JDYN_OP_POW: {
            const double p[1] = {n.fa[0] - 1};
            return g.mul(v, g.mulc(g.op(JDYN_OP_POW, {x}, nullptr, 0, p, 1), n.fa[0]));
        }
        case JDYN_OP_SIGN: case JDYN_OP_STEP: case JDYN_OP_GT: case JDYN_OP_LT: case JDYN_OP_EQ: return kZero;
        case JDYN_OP_TANH_BWD:
            // g (1 - y^2): d/dy = -2 y g, d/dg = 1 - y^2
            return i == 1 ? g.op(JDYN_OP_TANH_BWD, {x, v}) : g.mul(v, g.mulc(g.mul(x, b), -2));
        case JDYN_OP_SIGMOID_BWD:
            // g y (1 - y): d/dy = g (1 - 2 y)
            return i == 1 ? g.op(JDYN_OP_SIGMOID_BWD, {x, v})
                          : g.mul(v, g.mul(b, g.sub(g.scalar(1), g.mulc(x, 2))));
        case JDYN_OP_SOFTPLUS_BWD: {
            if (i == 1) return g.op(JDYN_OP_SOFTPLUS_BWD, {x, v}, nullptr, 0, n.fa, 2);
            // d/dx g s(beta x) = g beta s (1 - s), zero where beta x > threshold (the linear part)
            const int32_t bx = g.mulc(x, n.fa[0]);
            const int32_t s = g.un(JDYN_OP_SIGMOID, bx);
            const int32_t linear_part = g.bin(JDYN_OP_GT, bx, g.scalar(n.fa[1]));
            const int32_t mask = g.sub(g.scalar(1), linear_part);
            return g.mul(g.mulc(g.op(JDYN_OP_SIGMOID_BWD, {s, g.mul(v, b)}), n.fa[0]), mask);
        }
        case JDYN_OP_ELU_BWD: {
            if (i == 1) return g.op(JDYN_OP_ELU_BWD, {x, v}, nullptr, 0, n.fa, 1);
            // d/dx: 0 where x > 0, else g alpha exp(x)
            const int32_t neg_part = g.sub(g.scalar(1), g.un(JDYN_OP_STEP, x));
            return g.mul(g.mul(v, b), g.mul(neg_part, g.mulc(g.un(JDYN_OP_EXP, x), n.fa[0])));
        }
        case JDYN_OP_SILU_BWD: {
            if (i == 1) return g.op(JDYN_OP_SILU_BWD, {x, v});
            // d/dx of s (1 + x (1 - s)) = s (1 - s) (2 + x (1 - 2 s))
            const int32_t s = g.un(JDYN_OP_SIGMOID, x);
            const int32_t s1 = g.op(JDYN_OP_SIGMOID_BWD, {s, g.mul(v, b)});
            const int32_t term = g.add(g.scalar(2), g.mul(x, g.sub(g.scalar(1), g.mulc(s, 2))));
            return g.mul(s1, term);
        }
        case JDYN_OP_WHERE: {
            if (i == 0) return kZero;
            const int32_t zero = g.scalar(0);
            return i == 1 ? g.op(JDYN_OP_WHERE, {x, v, zero}) : g.op(JDYN_OP_WHERE, {x, zero, v});
        }
        default: fail(JDYN_ERR_INTERNAL, std::string("no element-wise partial for ") + op_name(n.op));
    }
}

bool is_elementwise(int op) { return op <= JDYN_OP_MINIMUM; }

int32_t add_opt(Graph& g, int32_t a, int32_t b) {
    if (a == kZero) return b;
    if (b == kZero) return a;
    return g.add(a, b);
}

Shape keepdim_shape(const Shape& x, int64_t axis) {
    Shape r = x;
    r.d[axis] = 1;
    if (axis == 0 && x.batched()) r.d[0] = 1;
    return r;
}

// P Q for SOLVE's rules: P [n, m] or [b, n, m], Q [m, k] or [b, m, k]; an unbatched side is broadcast to
// the other's batch (BMM takes one product per batch row).
int32_t mat_product(Graph& g, int32_t p, int32_t q) {
    const Shape sp = g.shape(p), sq = g.shape(q);
    if (sp.rank == 2 && sq.rank == 2) return g.matmul(p, q, false, false);
    if (sp.rank == 2) p = g.broadcast_to(p, Shape::of({sq.d[0], sp.d[0], sp.d[1]}));
    if (sq.rank == 2) q = g.broadcast_to(q, Shape::of({sp.d[0], sq.d[0], sq.d[1]}));
    return g.op(JDYN_OP_BMM, {p, q});
}

int32_t solve_node(Graph& g, int32_t a, int32_t b, bool transpose) {
    const int64_t ia[1] = {transpose};
    return g.op(JDYN_OP_SOLVE, {a, b}, ia, 1);
}

// Cotangent contributions of node `id` to its inputs, given its cotangent ct (shaped as the node).
// Each contribution is shaped as its input (kZero for none).
std::vector<int32_t> vjp_rule(Graph& g, int32_t id, int32_t ct) {
    const Node n = g.node(id);
    std::vector<int32_t> out(n.in.size(), kZero);
    const auto S = [&](int i) { return g.shape(n.in[(size_t)i]); };
    if (is_elementwise(n.op)) {
        for (size_t i = 0; i < n.in.size(); ++i) {
            const int32_t c = partial(g, id, (int)i, ct);
            out[i] = c == kZero ? kZero : g.sum_to(c, S((int)i));
        }
        return out;
    }
    const int32_t x = n.in.empty() ? -1 : n.in[0];
    switch (n.op) {
        case JDYN_OP_MATMUL: {
            const bool ta = n.ia[0] != 0, tb = n.ia[1] != 0;
            const int32_t a = n.in[0], b = n.in[1];
            if (!ta && !tb) {
                out[0] = g.matmul(ct, b, false, true);
                out[1] = g.matmul(a, ct, true, false);
            } else if (!ta && tb) {
                out[0] = g.matmul(ct, b, false, false);
                out[1] = g.matmul(ct, a, true, false);
            } else {
                out[0] = g.matmul(b, ct, false, true);
                out[1] = g.matmul(a, ct, false, false);
            }
            return out;
        }
        case JDYN_OP_LINEAR:
            out[0] = g.matmul(ct, n.in[1], false, false);
            out[1] = g.matmul(ct, x, true, false);
            if (n.in.size() == 3) out[2] = g.sum_to(ct, S(2));
            return out;
        case JDYN_OP_BMM:
            out[0] = g.op(JDYN_OP_BMM, {ct, g.un(JDYN_OP_TRANSPOSE, n.in[1])});
            out[1] = g.op(JDYN_OP_BMM, {g.un(JDYN_OP_TRANSPOSE, n.in[0]), ct});
            return out;
        case JDYN_OP_SUM: case JDYN_OP_MEAN: {
            const Shape ks = keepdim_shape(S(0), n.ia[0]);
            const Shape xs = S(0);
            int32_t c = g.broadcast_to(g.shaped(JDYN_OP_RESHAPE, ct, ks), xs);
            if (n.op == JDYN_OP_MEAN) {
                if (xs.d[n.ia[0]] == -1) {
                    // The batch size is known only at run time: count it as a sum of ones.
                    const int32_t count = g.reduce(JDYN_OP_SUM, g.full(Shape::of({-1}), 1), 0, false);
                    c = g.div(c, count);
                } else {
                    c = g.mulc(c, 1.0 / (double)xs.d[n.ia[0]]);
                }
            }
            out[0] = c;
            return out;
        }
        case JDYN_OP_MAX: {
            const Shape ks = keepdim_shape(S(0), n.ia[0]);
            const int32_t m = g.shaped(JDYN_OP_RESHAPE, id, ks);
            // Ties share the cotangent evenly (torch.amax's convention), so it passes on once.
            const int32_t eq = g.bin(JDYN_OP_EQ, x, m);
            const int32_t mask = g.div(eq, g.reduce(JDYN_OP_SUM, eq, n.ia[0], true));
            out[0] = g.mul(mask, g.shaped(JDYN_OP_RESHAPE, ct, ks));
            return out;
        }
        case JDYN_OP_SOFTMAX: {
            const int32_t gy = g.mul(ct, id);
            out[0] = g.sub(gy, g.mul(id, g.reduce(JDYN_OP_SUM, gy, n.ia[0], true)));
            return out;
        }
        case JDYN_OP_LOG_SOFTMAX:
            out[0] = g.sub(ct, g.mul(g.un(JDYN_OP_EXP, id), g.reduce(JDYN_OP_SUM, ct, n.ia[0], true)));
            return out;
        case JDYN_OP_RESHAPE: out[0] = g.shaped(JDYN_OP_RESHAPE, ct, S(0)); return out;
        case JDYN_OP_SUM_TO: out[0] = g.broadcast_to(ct, S(0)); return out;
        case JDYN_OP_BROADCAST_TO: out[0] = g.sum_to(ct, S(0)); return out;
        case JDYN_OP_SLICE: {
            const int64_t size = S(0).d[n.ia[0]];
            out[0] = g.pad(ct, n.ia[0], n.ia[1], size - n.ia[2]);
            return out;
        }
        case JDYN_OP_PAD: out[0] = g.slice(ct, n.ia[0], n.ia[1], n.ia[1] + S(0).d[n.ia[0]]); return out;
        case JDYN_OP_CONCAT: {
            int64_t at = 0;
            for (size_t i = 0; i < n.in.size(); ++i) {
                const int64_t len = S((int)i).d[n.ia[0]];
                out[i] = g.slice(ct, n.ia[0], at, at + len);
                at += len;
            }
            return out;
        }
        case JDYN_OP_TRANSPOSE: out[0] = g.un(JDYN_OP_TRANSPOSE, ct); return out;
        case JDYN_OP_SOLVE: {
            // op(A) X = B: Bbar = op(A)^-T G; op(A)bar = -Bbar X^T, so Abar = -Bbar X^T, or -X Bbar^T
            // when op(A) = A^T. Sums over the batch where a side was shared.
            const bool tr = n.ia[0] != 0;
            const int32_t bbar = solve_node(g, n.in[0], ct, !tr);
            out[1] = g.sum_to(bbar, S(1));
            const int32_t abar = tr ? mat_product(g, id, g.un(JDYN_OP_TRANSPOSE, bbar))
                                    : mat_product(g, bbar, g.un(JDYN_OP_TRANSPOSE, id));
            out[0] = g.sum_to(g.neg(abar), S(0));
            return out;
        }
        case JDYN_OP_FULL: case JDYN_OP_RANDOM: return out;  // constant in its seed
        case JDYN_OP_BASIS: {
            int64_t ia[3] = {n.ia[0], n.ia[1], n.ia[2] + 1};
            const int32_t d = g.op(JDYN_OP_BASIS, {x}, ia, 3, n.fa, 1);
            out[0] = g.reduce(JDYN_OP_SUM, g.mul(ct, d), 0, false);
            return out;
        }
        default: fail(JDYN_ERR_INTERNAL, std::string("no VJP rule for ") + op_name(n.op));
    }
}

// The tangent of node `id` from its inputs' tangents (kZero for none); kZero when all are zero.
int32_t jvp_rule(Graph& g, int32_t id, const std::vector<int32_t>& tin) {
    const Node n = g.node(id);
    bool any = false;
    for (int32_t t : tin) any |= t != kZero;
    if (!any) return kZero;
    const auto zero_of = [&](int i) { return g.full(g.shape(n.in[(size_t)i]), 0); };
    if (is_elementwise(n.op)) {
        int32_t acc = kZero;
        for (size_t i = 0; i < n.in.size(); ++i) {
            if (tin[i] == kZero) continue;
            const int32_t c = partial(g, id, (int)i, tin[i]);
            if (c != kZero) acc = add_opt(g, acc, g.broadcast_to(c, n.shape));
        }
        return acc;
    }
    switch (n.op) {
        case JDYN_OP_MATMUL: {
            const bool ta = n.ia[0] != 0, tb = n.ia[1] != 0;
            int32_t r = kZero;
            if (tin[0] != kZero) r = g.matmul(tin[0], n.in[1], ta, tb);
            if (tin[1] != kZero) r = add_opt(g, r, g.matmul(n.in[0], tin[1], ta, tb));
            return r;
        }
        case JDYN_OP_LINEAR: {
            int32_t r = kZero;
            if (tin[0] != kZero) r = g.op(JDYN_OP_LINEAR, {tin[0], n.in[1]});
            if (tin[1] != kZero) r = add_opt(g, r, g.matmul(n.in[0], tin[1], false, true));
            if (n.in.size() == 3 && tin[2] != kZero) r = add_opt(g, r, g.broadcast_to(tin[2], n.shape));
            return r;
        }
        case JDYN_OP_BMM: {
            int32_t r = kZero;
            if (tin[0] != kZero) r = g.op(JDYN_OP_BMM, {tin[0], n.in[1]});
            if (tin[1] != kZero) r = add_opt(g, r, g.op(JDYN_OP_BMM, {n.in[0], tin[1]}));
            return r;
        }
        case JDYN_OP_SUM: case JDYN_OP_MEAN: return g.reduce(n.op, tin[0], n.ia[0], n.ia[1] != 0);
        case JDYN_OP_MAX: {
            const Shape ks = keepdim_shape(g.shape(n.in[0]), n.ia[0]);
            const int32_t eq = g.bin(JDYN_OP_EQ, n.in[0], g.shaped(JDYN_OP_RESHAPE, id, ks));
            const int32_t mask = g.div(eq, g.reduce(JDYN_OP_SUM, eq, n.ia[0], true));
            return g.reduce(JDYN_OP_SUM, g.mul(mask, tin[0]), n.ia[0], n.ia[1] != 0);
        }
        case JDYN_OP_SOFTMAX: {
            const int32_t gy = g.mul(tin[0], id);
            return g.sub(gy, g.mul(id, g.reduce(JDYN_OP_SUM, gy, n.ia[0], true)));
        }
        case JDYN_OP_LOG_SOFTMAX:
            return g.sub(tin[0], g.reduce(JDYN_OP_SUM, g.mul(g.un(JDYN_OP_EXP, id), tin[0]), n.ia[0], true));
        case JDYN_OP_RESHAPE: case JDYN_OP_SUM_TO: case JDYN_OP_BROADCAST_TO:
            return g.shaped(n.op, tin[0], n.shape);
        case JDYN_OP_SLICE: return g.slice(tin[0], n.ia[0], n.ia[1], n.ia[2]);
        case JDYN_OP_PAD: return g.pad(tin[0], n.ia[0], n.ia[1], n.ia[2]);
        case JDYN_OP_TRANSPOSE: return g.un(JDYN_OP_TRANSPOSE, tin[0]);
        case JDYN_OP_SOLVE: {
            // op(A) dX = dB - op(dA) X
            const bool tr = n.ia[0] != 0;
            int32_t rhs = tin[1];
            if (tin[0] != kZero) {
                const int32_t da = tr ? g.un(JDYN_OP_TRANSPOSE, tin[0]) : tin[0];
                const int32_t dax = mat_product(g, da, id);
                rhs = rhs == kZero ? g.neg(dax) : g.sub(rhs, dax);
            }
            return solve_node(g, n.in[0], rhs, tr);
        }
        case JDYN_OP_CONCAT: {
            std::vector<int32_t> parts(n.in.size());
            for (size_t i = 0; i < n.in.size(); ++i) parts[i] = tin[i] != kZero ? tin[i] : zero_of((int)i);
            const int64_t ia[1] = {n.ia[0]};
            return g.op(JDYN_OP_CONCAT, parts, ia, 1);
        }
        case JDYN_OP_FULL: case JDYN_OP_RANDOM: return kZero;
        case JDYN_OP_BASIS: {
            int64_t ia[3] = {n.ia[0], n.ia[1], n.ia[2] + 1};
            return g.mul(g.op(JDYN_OP_BASIS, {n.in[0]}, ia, 3, n.fa, 1), tin[0]);
        }
        default: fail(JDYN_ERR_INTERNAL, std::string("no JVP rule for ") + op_name(n.op));
    }
}

void check_ids(const Graph& g, const std::vector<int32_t>& ids, const char* what) {
    for (int32_t id : ids) {
        if (id < 0 || id >= (int32_t)g.size())
            fail(JDYN_ERR_ARGUMENT, std::string(what) + ": node " + std::to_string(id) + " does not exist (the graph has " +
                                        std::to_string(g.size()) + " nodes)");
    }
}

}  // namespace

std::vector<int32_t> vjp(Graph& g, const std::vector<int32_t>& outs, const std::vector<int32_t>& cts,
                         const std::vector<int32_t>& wrt) {
    if (outs.size() != cts.size())
        fail(JDYN_ERR_ARGUMENT, "vjp: " + std::to_string(outs.size()) + " outputs but " + std::to_string(cts.size()) +
                                    " cotangents");
    check_ids(g, outs, "vjp output");
    check_ids(g, cts, "vjp cotangent");
    check_ids(g, wrt, "vjp wrt");
    for (size_t i = 0; i < outs.size(); ++i)
        if (g.shape(outs[i]) != g.shape(cts[i]))
            fail(JDYN_ERR_ARGUMENT, "vjp: output " + std::to_string(i) + " has shape " + g.shape(outs[i]).str() +
                                        " but its cotangent has shape " + g.shape(cts[i]).str());
    const int32_t last = *std::max_element(outs.begin(), outs.end());
    // Which nodes lie on a path from wrt to an output: only they carry cotangents.
    std::vector<char> from_wrt((size_t)last + 1, 0);
    for (int32_t w : wrt)
        if (w <= last) from_wrt[(size_t)w] = 1;
    for (int32_t i = 0; i <= last; ++i)
        for (int32_t j : g.node(i).in)
            if (from_wrt[(size_t)j]) from_wrt[(size_t)i] = 1;
    std::vector<int32_t> ct((size_t)last + 1, kZero);
    for (size_t i = 0; i < outs.size(); ++i)
        if (from_wrt[(size_t)outs[i]]) ct[(size_t)outs[i]] = add_opt(g, ct[(size_t)outs[i]], cts[i]);
    std::vector<char> is_wrt((size_t)last + 1, 0);
    for (int32_t w : wrt)
        if (w <= last) is_wrt[(size_t)w] = 1;
    for (int32_t i = last; i >= 0; --i) {
        const int32_t c = ct[(size_t)i];
        if (c == kZero) continue;
        const Node& n = g.node(i);
        if (n.in.empty()) continue;
        bool needed = false;
        for (int32_t j : n.in) needed |= from_wrt[(size_t)j] != 0;
        if (!needed) continue;
        // A copy: the rules and the sums below add nodes, which may move the graph's storage.
        const std::vector<int32_t> ins = n.in;
        const std::vector<int32_t> contrib = vjp_rule(g, i, c);
        for (size_t k = 0; k < contrib.size(); ++k) {
            const int32_t j = ins[k];
            if (contrib[k] == kZero || !from_wrt[(size_t)j]) continue;
            ct[(size_t)j] = add_opt(g, ct[(size_t)j], contrib[k]);
        }
    }
    std::vector<int32_t> grads;
    grads.reserve(wrt.size());
    for (int32_t w : wrt) {
        const int32_t c = w <= last ? ct[(size_t)w] : kZero;
        grads.push_back(c == kZero ? g.full(g.shape(w), 0) : c);
    }
    return grads;
}

std::vector<int32_t> jvp(Graph& g, const std::vector<int32_t>& wrt, const std::vector<int32_t>& tangents,
                         const std::vector<int32_t>& outs) {
    if (wrt.size() != tangents.size())
        fail(JDYN_ERR_ARGUMENT, "jvp: " + std::to_string(wrt.size()) + " inputs but " + std::to_string(tangents.size()) +
                                    " tangents");
    check_ids(g, wrt, "jvp wrt");
    check_ids(g, tangents, "jvp tangent");
    check_ids(g, outs, "jvp output");
    for (size_t i = 0; i < wrt.size(); ++i)
        if (g.shape(wrt[i]) != g.shape(tangents[i]))
            fail(JDYN_ERR_ARGUMENT, "jvp: input " + std::to_string(i) + " has shape " + g.shape(wrt[i]).str() +
                                        " but its tangent has shape " + g.shape(tangents[i]).str());
    if (outs.empty()) return {};
    const int32_t last = *std::max_element(outs.begin(), outs.end());
    std::vector<int32_t> tan((size_t)last + 1, kZero);
    for (size_t i = 0; i < wrt.size(); ++i)
        if (wrt[i] <= last) tan[(size_t)wrt[i]] = add_opt(g, tan[(size_t)wrt[i]], tangents[i]);
    // A seed adds to whatever tangent reaches its node from other seeds (wrt = {h, x} with h a
    // function of x gives d/dh u_h + (total d/dx) u_x, the adjoint of the VJP's gradients).
    std::vector<int32_t> seed((size_t)last + 1, kZero);
    for (size_t i = 0; i < wrt.size(); ++i)
        if (wrt[i] <= last) seed[(size_t)wrt[i]] = tan[(size_t)wrt[i]];
    for (int32_t i = 0; i <= last; ++i) {
        const Node& n = g.node(i);
        if (n.in.empty()) continue;
        std::vector<int32_t> tin(n.in.size());
        bool any = false;
        for (size_t k = 0; k < n.in.size(); ++k) {
            tin[k] = tan[(size_t)n.in[k]];
            any |= tin[k] != kZero;
        }
        if (any) tan[(size_t)i] = add_opt(g, jvp_rule(g, i, tin), seed[(size_t)i]);
    }
    std::vector<int32_t> res;
    res.reserve(outs.size());
    for (int32_t o : outs) res.push_back(tan[(size_t)o] == kZero ? g.full(g.shape(o), 0) : tan[(size_t)o]);
    return res;
}

}  // namespace graph
}  // namespace jdyn
