// Graph building: argument checks, shape inference and the simplifications applied at every add
// (identities, constant folding, common subexpressions), and pruning to what the outputs need.
#include "graph/graph.h"

#include <cmath>
#include <cstring>

#include "graph/kernels.h"
#include "status.h"

namespace jdyn {
namespace graph {

namespace {

const char* const kOpNames[JDYN_OP_COUNT] = {
    "ADD", "SUB", "MUL", "DIV", "NEG", "EXP", "LOG", "SQRT", "SQUARE", "ABS", "SIN", "COS", "TANH", "SIGMOID",
    "RELU", "SILU", "SOFTPLUS", "ELU", "POW", "SIGN", "STEP", "TANH_BWD", "SIGMOID_BWD", "SOFTPLUS_BWD", "ELU_BWD",
    "SILU_BWD", "GT", "LT", "EQ", "WHERE", "MAXIMUM", "MINIMUM", "MATMUL", "LINEAR", "BMM", "SUM", "MEAN", "MAX",
    "SOFTMAX", "LOG_SOFTMAX", "RESHAPE", "SUM_TO", "BROADCAST_TO", "SLICE", "PAD", "CONCAT", "TRANSPOSE", "FULL",
    "BASIS", "TIME", "ARG", "PARAM", "CONST", "RANDOM", "SOLVE"};

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

[[noreturn]] void bad(int op, const std::string& what) {
    fail(JDYN_ERR_ARGUMENT, std::string(op_name(op)) + ": " + what);
}

// numpy broadcasting, right-aligned, with the batch (-1) meeting only -1 or 1 and staying first.
Shape broadcast(int op, const Shape& a, const Shape& b) {
    Shape r;
    r.rank = std::max(a.rank, b.rank);
    for (int i = 0; i < r.rank; ++i) {
        const int ia = a.rank - r.rank + i, ib = b.rank - r.rank + i;
        const int64_t da = ia >= 0 ? a.d[ia] : 1, db = ib >= 0 ? b.d[ib] : 1;
        int64_t d;
        if (da == db) d = da;
        else if (da == 1) d = db;
        else if (db == 1) d = da;
        else
            bad(op, "shapes " + a.str() + " and " + b.str() + " do not broadcast (dimension " + std::to_string(i) +
                        ": " + (da == -1 ? "batch" : std::to_string(da)) + " against " +
                        (db == -1 ? "batch" : std::to_string(db)) + ")");
        r.d[i] = d;
    }
    for (int i = 1; i < r.rank; ++i)
        if (r.d[i] == -1)
            bad(op, "shapes " + a.str() + " and " + b.str() +
                        " broadcast to a shape whose batch is not the first dimension");
    return r;
}

int64_t norm_axis(int op, const Shape& s, int64_t axis) {
    if (s.rank == 0) bad(op, "needs a tensor of rank >= 1, got a scalar");
    const int64_t a = axis < 0 ? axis + s.rank : axis;
    if (a < 0 || a >= s.rank)
        bad(op, "axis " + std::to_string(axis) + " is out of range for shape " + s.str());
    return a;
}

Shape shape_attr(int op, const int64_t* ia) {
    const int64_t rank = ia[0];
    if (rank < 0 || rank > kMaxRank) bad(op, "rank " + std::to_string(rank) + " is not in [0, 4]");
    Shape s;
    s.rank = (int)rank;
    for (int i = 0; i < s.rank; ++i) {
        const int64_t d = ia[1 + i];
        if (d == -1 && i == 0) {
            s.d[i] = -1;
            continue;
        }
        if (d < 1 || d > kMaxDim)
            bad(op, "dimension " + std::to_string(i) + " is " + std::to_string(d) +
                        " (must be in [1, 2^24], or -1 first for the batch)");
        s.d[i] = d;
    }
    return s;
}

bool elementwise(int op) {
    return op <= JDYN_OP_MINIMUM;
}

int arity(int op) {
    if (op <= JDYN_OP_DIV) return 2;
    if (op <= JDYN_OP_STEP) return 1;
    if (op <= JDYN_OP_SILU_BWD) return 2;
    if (op <= JDYN_OP_EQ) return 2;
    if (op == JDYN_OP_WHERE) return 3;
    if (op <= JDYN_OP_MATMUL) return 2;
    if (op == JDYN_OP_LINEAR) return -1;  // 2 or 3
    if (op == JDYN_OP_BMM) return 2;
    if (op == JDYN_OP_CONCAT) return -2;  // any >= 1
    if (op == JDYN_OP_FULL) return 0;
    if (op == JDYN_OP_SOLVE) return 2;
    return 1;
}

void infer(const Graph& g, Node& n) {
    const int op = n.op;
    auto S = [&](int i) -> const Shape& { return g.shape(n.in[(size_t)i]); };
    switch (op) {
        case JDYN_OP_ADD: case JDYN_OP_SUB: case JDYN_OP_MUL: case JDYN_OP_DIV: case JDYN_OP_GT: case JDYN_OP_LT:
        case JDYN_OP_EQ: case JDYN_OP_MAXIMUM: case JDYN_OP_MINIMUM:
            n.shape = broadcast(op, S(0), S(1));
            return;
        case JDYN_OP_WHERE:
            n.shape = broadcast(op, broadcast(op, S(0), S(1)), S(2));
            return;
        case JDYN_OP_TANH_BWD: case JDYN_OP_SIGMOID_BWD: case JDYN_OP_SOFTPLUS_BWD: case JDYN_OP_ELU_BWD:
        case JDYN_OP_SILU_BWD:
            if (S(0) != S(1)) bad(op, "needs two inputs of one shape, got " + S(0).str() + " and " + S(1).str());
            n.shape = S(0);
            break;
        case JDYN_OP_MATMUL: {
            const bool ta = n.ia[0] != 0, tb = n.ia[1] != 0;
            const Shape& a = S(0);
            const Shape& b = S(1);
            if (a.rank < 1 || b.rank < 1) bad(op, "needs tensors of rank >= 1, got " + a.str() + " and " + b.str());
            const int64_t ka = a.d[a.rank - 1];
            if (ta && tb) bad(op, "trans_a and trans_b together are not supported");
            if (!ta) {
                if (b.rank != 2 || b.batched())
                    bad(op, "the right operand must be an unbatched matrix, got " + b.str() + " (with " + a.str() +
                                "; for one product per batch row use BMM)");
                const int64_t kb = tb ? b.d[1] : b.d[0];
                if (ka != kb)
                    bad(op, "shapes " + a.str() + " and " + b.str() + (tb ? " (transposed)" : "") +
                                " do not chain: " + std::to_string(ka) + " against " + std::to_string(kb));
                n.shape = a;
                n.shape.d[a.rank - 1] = tb ? b.d[0] : b.d[1];
                if (a.rank == 1 && a.batched()) bad(op, "a batched vector " + a.str() + " has no column dimension");
            } else {
                if (a.rank != b.rank) bad(op, "a^T b needs operands of one rank, got " + a.str() + " and " + b.str());
                for (int i = 0; i + 1 < a.rank; ++i)
                    if (a.d[i] != b.d[i])
                        bad(op, "a^T b needs equal leading dimensions, got " + a.str() + " and " + b.str());
                n.shape = Shape::of({ka, b.d[b.rank - 1]});
                if (ka == -1 || b.d[b.rank - 1] == -1) bad(op, "a^T b of batched vectors is not supported");
            }
            n.ia[0] = ta;
            n.ia[1] = tb;
            return;
        }
        case JDYN_OP_LINEAR: {
            const Shape& x = S(0);
            const Shape& w = S(1);
            if (x.rank < 1 || (x.rank == 1 && x.batched())) bad(op, "x must have a feature dimension, got " + x.str());
            if (w.rank != 2 || w.batched()) bad(op, "the weight must be an unbatched [out, in] matrix, got " + w.str());
            if (x.d[x.rank - 1] != w.d[1])
                bad(op, "x " + x.str() + " has " + std::to_string(x.d[x.rank - 1]) + " features but the weight " +
                            w.str() + " takes " + std::to_string(w.d[1]));
            if (n.in.size() == 3) {
                const Shape& b = S(2);
                if (b.rank != 1 || b.d[0] != w.d[0])
                    bad(op, "the bias must be [" + std::to_string(w.d[0]) + "], got " + b.str());
            }
            n.shape = x;
            n.shape.d[x.rank - 1] = w.d[0];
            return;
        }
        case JDYN_OP_BMM: {
            const Shape& a = S(0);
            const Shape& b = S(1);
            if (a.rank != 3 || b.rank != 3 || a.d[0] != b.d[0] || a.d[2] != b.d[1])
                bad(op, "needs [B, m, k] and [B, k, n], got " + a.str() + " and " + b.str());
            n.shape = Shape::of({a.d[0], a.d[1], b.d[2]});
            return;
        }
        case JDYN_OP_SUM: case JDYN_OP_MEAN: case JDYN_OP_MAX: {
            const Shape& x = S(0);
            const int64_t a = norm_axis(op, x, n.ia[0]);
            n.ia[0] = a;
            n.ia[1] = n.ia[1] != 0;
            Shape r;
            if (n.ia[1]) {
                r = x;
                r.d[a] = 1;
            } else {
                for (int i = 0; i < x.rank; ++i)
                    if (i != a) r.d[r.rank++] = x.d[i];
            }
            n.shape = r;
            return;
        }
        case JDYN_OP_SOFTMAX: case JDYN_OP_LOG_SOFTMAX:
            n.ia[0] = norm_axis(op, S(0), n.ia[0]);
            n.shape = S(0);
            return;
        case JDYN_OP_RESHAPE: {
            const Shape t = shape_attr(op, n.ia);
            const Shape& x = S(0);
            if (t.batched() != x.batched())
                bad(op, "cannot reshape " + x.str() + " to " + t.str() + (x.batched() ? ": the batch must stay first"
                                                                                      : ": an unbatched tensor has no batch"));
            if (t.row_numel() != x.row_numel())
                bad(op, "cannot reshape " + x.str() + " to " + t.str() + ": the element counts differ");
            n.shape = t;
            return;
        }
        case JDYN_OP_SUM_TO: case JDYN_OP_BROADCAST_TO: {
            const Shape t = shape_attr(op, n.ia);
            const Shape& x = S(0);
            const Shape& big = op == JDYN_OP_SUM_TO ? x : t;
            const Shape& small = op == JDYN_OP_SUM_TO ? t : x;
            const Shape b = broadcast(op, small, big);
            if (b != big || (small.batched() && !big.batched()))
                bad(op, op == JDYN_OP_SUM_TO ? "cannot sum " + x.str() + " to " + t.str()
                                             : "cannot broadcast " + x.str() + " to " + t.str());
            n.shape = t;
            return;
        }
        case JDYN_OP_SLICE: case JDYN_OP_PAD: {
            const Shape& x = S(0);
            const int64_t a = norm_axis(op, x, n.ia[0]);
            n.ia[0] = a;
            if (a == 0 && x.batched()) bad(op, "cannot act on the batch dimension of " + x.str());
            Shape r = x;
            if (op == JDYN_OP_SLICE) {
                if (n.ia[1] < 0 || n.ia[1] >= n.ia[2] || n.ia[2] > x.d[a])
                    bad(op, "[" + std::to_string(n.ia[1]) + ", " + std::to_string(n.ia[2]) +
                                ") is not a non-empty range of dimension " + std::to_string(a) + " of " + x.str());
                r.d[a] = n.ia[2] - n.ia[1];
            } else {
                if (n.ia[1] < 0 || n.ia[2] < 0 || x.d[a] + n.ia[1] + n.ia[2] > kMaxDim)
                    bad(op, "padding " + std::to_string(n.ia[1]) + " and " + std::to_string(n.ia[2]) +
                                " is out of range for " + x.str());
                r.d[a] = x.d[a] + n.ia[1] + n.ia[2];
            }
            n.shape = r;
            return;
        }
        case JDYN_OP_CONCAT: {
            const Shape& x0 = S(0);
            const int64_t a = norm_axis(op, x0, n.ia[0]);
            n.ia[0] = a;
            if (a == 0 && x0.batched()) bad(op, "cannot concatenate along the batch dimension of " + x0.str());
            Shape r = x0;
            for (size_t i = 1; i < n.in.size(); ++i) {
                const Shape& xi = S((int)i);
                bool ok = xi.rank == x0.rank;
                for (int k = 0; ok && k < x0.rank; ++k)
                    if (k != a && xi.d[k] != x0.d[k]) ok = false;
                if (!ok)
                    bad(op, "input " + std::to_string(i) + " has shape " + xi.str() + " but input 0 has " + x0.str() +
                                " (they may differ only in dimension " + std::to_string(a) + ")");
                r.d[a] += xi.d[a];
            }
            if (r.d[a] > kMaxDim) bad(op, "the result is too wide");
            n.shape = r;
            return;
        }
        case JDYN_OP_TRANSPOSE: {
            const Shape& x = S(0);
            if (x.rank < 2 || (x.batched() && x.rank < 3))
                bad(op, "needs two dimensions besides the batch, got " + x.str());
            n.shape = x;
            std::swap(n.shape.d[x.rank - 1], n.shape.d[x.rank - 2]);
            return;
        }
        case JDYN_OP_FULL:
            n.shape = shape_attr(op, n.ia);
            return;
        case JDYN_OP_RANDOM:
            if (S(0).numel() != 1 || S(0).batched())
                bad(op, "its input is the seed, one unbatched value; got " + S(0).str());
            if (n.ia[0] != JDYN_RANDOM_NORMAL && n.ia[0] != JDYN_RANDOM_RADEMACHER)
                bad(op, "distribution " + std::to_string(n.ia[0]) + " is neither 0 (NORMAL) nor 1 (RADEMACHER)");
            if (!(n.fa[0] >= 0 && n.fa[0] < 9007199254740992.0) || n.fa[0] != std::floor(n.fa[0]))
                bad(op, "stream " + num(n.fa[0]) + " must be an integer in [0, 2^53)");
            n.shape = shape_attr(op, n.ia + 1);
            n.fa[1] = 0;
            return;
        case JDYN_OP_SOLVE: {
            const Shape& a = S(0);
            const Shape& b = S(1);
            const bool ab = a.rank == 3, bb = b.rank == 3;
            if ((a.rank != 2 && !ab) || a.d[a.rank - 1] != a.d[a.rank - 2] || (a.rank == 2 && a.batched()))
                bad(op, "A must be a square matrix [n, n] or a batch of them [b, n, n], got " + a.str());
            if ((b.rank != 2 && !bb) || (b.rank == 2 && b.batched()))
                bad(op, "B must be a matrix [n, k] or a batch of them [b, n, k], got " + b.str() + " (a vector b is [n, 1])");
            const int64_t na = a.d[a.rank - 1];
            if (b.d[b.rank - 2] != na)
                bad(op, "A " + a.str() + " is " + std::to_string(na) + " x " + std::to_string(na) + " but B " + b.str() +
                            " has " + std::to_string(b.d[b.rank - 2]) + " rows");
            if (ab && bb && a.d[0] != b.d[0])
                bad(op, "A " + a.str() + " and B " + b.str() + " have different batches");
            if (n.ia[0] != 0 && n.ia[0] != 1) bad(op, "transpose must be 0 or 1, got " + std::to_string(n.ia[0]));
            n.shape = bb ? b : Shape::of({a.d[0], b.d[0], b.d[1]});
            if (!ab && !bb) n.shape = b;
            return;
        }
        case JDYN_OP_BASIS: {
            if (S(0).rank != 0) bad(op, "its input is the time, a scalar; got " + S(0).str());
            if (n.ia[0] != JDYN_BASIS_FOURIER && n.ia[0] != JDYN_BASIS_POLYNOMIAL)
                bad(op, "basis " + std::to_string(n.ia[0]) + " is neither 0 (FOURIER) nor 1 (POLYNOMIAL)");
            if (n.ia[1] < 1 || n.ia[1] > 4096) bad(op, "n " + std::to_string(n.ia[1]) + " is not in [1, 4096]");
            if (n.ia[2] < 0 || n.ia[2] > 64) bad(op, "derivative order " + std::to_string(n.ia[2]) + " is not in [0, 64]");
            if (n.ia[0] == JDYN_BASIS_FOURIER) {
                if (n.fa[0] == 0) n.fa[0] = 1.0;
                if (!(n.fa[0] > 0) || !std::isfinite(n.fa[0])) bad(op, "period " + num(n.fa[0]) + " must be > 0");
            } else {
                n.fa[0] = 0;
            }
            n.ia[3] = n.ia[4] = n.ia[5] = 0;
            n.shape = Shape::of({n.ia[1]});
            return;
        }
        default:
            n.shape = S(0);  // unary element-wise
    }
    switch (op) {
        case JDYN_OP_SOFTPLUS: case JDYN_OP_SOFTPLUS_BWD:
            if (n.fa[0] == 0) n.fa[0] = 1.0;
            if (!std::isfinite(n.fa[0])) bad(op, "beta " + num(n.fa[0]) + " must be finite and non-zero");
            if (std::isnan(n.fa[1])) bad(op, "threshold is NaN");
            break;
        case JDYN_OP_ELU: case JDYN_OP_ELU_BWD: case JDYN_OP_POW:
            if (!std::isfinite(n.fa[0])) bad(op, (op == JDYN_OP_POW ? "exponent " : "alpha ") + num(n.fa[0]) + " must be finite");
            n.fa[1] = 0;
            break;
        default: n.fa[0] = n.fa[1] = 0;
    }
}

// Which attributes an op reads (the others are zeroed so that equal nodes hash equal).
void clear_unused(Node& n) {
    int used_ia = 0;
    switch (n.op) {
        case JDYN_OP_MATMUL: used_ia = 2; break;
        case JDYN_OP_SUM: case JDYN_OP_MEAN: case JDYN_OP_MAX: used_ia = 2; break;
        case JDYN_OP_SOFTMAX: case JDYN_OP_LOG_SOFTMAX: case JDYN_OP_CONCAT: case JDYN_OP_SOLVE: used_ia = 1; break;
        case JDYN_OP_RESHAPE: case JDYN_OP_SUM_TO: case JDYN_OP_BROADCAST_TO: case JDYN_OP_FULL:
            used_ia = 1 + (int)std::max<int64_t>(0, std::min<int64_t>(n.ia[0], kMaxRank));
            break;
        case JDYN_OP_SLICE: case JDYN_OP_PAD: case JDYN_OP_BASIS: used_ia = 3; break;
        case JDYN_OP_RANDOM: used_ia = 2 + (int)std::max<int64_t>(0, std::min<int64_t>(n.ia[1], kMaxRank)); break;
        default: used_ia = 0;
    }
    for (int i = used_ia; i < 6; ++i) n.ia[i] = 0;
    if (n.op != JDYN_OP_FULL && n.op != JDYN_OP_SOFTPLUS && n.op != JDYN_OP_SOFTPLUS_BWD && n.op != JDYN_OP_ELU &&
        n.op != JDYN_OP_ELU_BWD && n.op != JDYN_OP_POW && n.op != JDYN_OP_BASIS && n.op != JDYN_OP_RANDOM)
        n.fa[0] = n.fa[1] = 0;
    if (n.op == JDYN_OP_FULL) n.fa[1] = 0;
}

}  // namespace

const char* op_name(int op) {
    if (op < 0 || op >= JDYN_OP_COUNT) return "UNKNOWN";
    return kOpNames[op];
}

int64_t Shape::numel(int64_t batch) const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= d[i] == -1 ? batch : d[i];
    return n;
}

int64_t Shape::row_numel() const {
    int64_t n = 1;
    for (int i = batched() ? 1 : 0; i < rank; ++i) n *= d[i];
    return n;
}

bool Shape::operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
        if (d[i] != o.d[i]) return false;
    return true;
}

std::string Shape::str() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) {
        if (i) s += ", ";
        s += d[i] == -1 ? std::string("batch") : std::to_string(d[i]);
    }
    return s + "]";
}

Shape Shape::of(std::initializer_list<int64_t> dims) {
    Shape s;
    for (int64_t v : dims) s.d[s.rank++] = v;
    return s;
}

Shape Shape::from(const int64_t* dims, int64_t rank, const char* what) {
    if (rank < 0 || rank > kMaxRank)
        fail(JDYN_ERR_ARGUMENT, std::string(what) + ": rank " + std::to_string(rank) + " is not in [0, 4]");
    if (rank > 0 && !dims) fail(JDYN_ERR_ARGUMENT, std::string(what) + ": shape must not be NULL");
    Shape s;
    s.rank = (int)rank;
    for (int i = 0; i < s.rank; ++i) {
        if (dims[i] == -1 && i == 0) {
            s.d[0] = -1;
            continue;
        }
        if (dims[i] < 1 || dims[i] > kMaxDim)
            fail(JDYN_ERR_ARGUMENT, std::string(what) + ": dimension " + std::to_string(i) + " is " +
                                        std::to_string(dims[i]) + " (must be in [1, 2^24], or -1 first for the batch)");
        s.d[i] = dims[i];
    }
    return s;
}

void extents4(const Shape& s, int64_t batch, int64_t out[4]) {
    const int pad = kMaxRank - s.rank;
    for (int i = 0; i < kMaxRank; ++i) out[i] = i < pad ? 1 : (s.d[i - pad] == -1 ? batch : s.d[i - pad]);
}

void around_axis(const Shape& s, int64_t axis, int64_t batch, int64_t& outer, int64_t& len, int64_t& inner) {
    outer = 1;
    inner = 1;
    for (int i = 0; i < s.rank; ++i) {
        const int64_t d = s.d[i] == -1 ? batch : s.d[i];
        if (i < axis) outer *= d;
        else if (i == axis) len = d;
        else inner *= d;
    }
}

Graph::Graph() = default;

const Node& Graph::node(int32_t id) const {
    if (id < 0 || id >= (int32_t)nodes_.size())
        fail(JDYN_ERR_ARGUMENT, "node " + std::to_string(id) + " does not exist (the graph has " +
                                    std::to_string(nodes_.size()) + " nodes)");
    return nodes_[(size_t)id];
}

int32_t Graph::push(Node&& n) {
    if ((int64_t)nodes_.size() >= kMaxNodes)
        fail(JDYN_ERR_ARGUMENT, "the graph is too large: more than " + std::to_string(kMaxNodes) + " nodes");
    nodes_.push_back(std::move(n));
    return (int32_t)nodes_.size() - 1;
}

int32_t Graph::time() {
    if (time_ < 0) {
        Node n;
        n.op = JDYN_OP_TIME;
        time_ = push(std::move(n));
    }
    return time_;
}

int32_t Graph::arg(const Shape& shape) {
    Node n;
    n.op = JDYN_OP_ARG;
    n.shape = shape;
    n.index = (int64_t)args_.size();
    const int32_t id = push(std::move(n));
    args_.push_back(id);
    return id;
}

int32_t Graph::param(const std::string& name, const Shape& shape, int32_t init, double init_arg) {
    if (name.empty()) fail(JDYN_ERR_ARGUMENT, "a parameter needs a name");
    if (name.size() > 256) fail(JDYN_ERR_ARGUMENT, "parameter name longer than 256 characters: " + name.substr(0, 40) + "...");
    for (const Param& p : params_)
        if (p.name == name) fail(JDYN_ERR_ARGUMENT, "duplicate parameter name \"" + name + "\"");
    if (shape.batched()) fail(JDYN_ERR_ARGUMENT, "parameter \"" + name + "\" cannot be batched: " + shape.str());
    if (init < JDYN_INIT_UNIFORM || init > JDYN_INIT_CONSTANT)
        fail(JDYN_ERR_ARGUMENT, "parameter \"" + name + "\": unknown init " + std::to_string(init) +
                                    " (0 uniform, 1 normal, 2 constant)");
    if (!std::isfinite(init_arg) || (init != JDYN_INIT_CONSTANT && init_arg < 0))
        fail(JDYN_ERR_ARGUMENT, "parameter \"" + name + "\": init argument " + num(init_arg) +
                                    (init == JDYN_INIT_CONSTANT ? " must be finite" : " must be finite and >= 0"));
    const int64_t count = shape.numel();
    if (count > kMaxParams - n_param_elems_) fail(JDYN_ERR_ARGUMENT, "too many parameters");
    Node n;
    n.op = JDYN_OP_PARAM;
    n.shape = shape;
    n.index = (int64_t)params_.size();
    const int32_t id = push(std::move(n));
    params_.push_back(Param{name, shape, n_param_elems_, count, init, init_arg, id});
    n_param_elems_ += count;
    return id;
}

int32_t Graph::constant(const std::vector<double>& data, const Shape& shape) {
    if (shape.batched()) fail(JDYN_ERR_ARGUMENT, "a constant cannot be batched: " + shape.str());
    if ((int64_t)data.size() != shape.numel())
        fail(JDYN_ERR_ARGUMENT, "a constant of shape " + shape.str() + " needs " + std::to_string(shape.numel()) +
                                    " values, got " + std::to_string(data.size()));
    Node n;
    n.op = JDYN_OP_CONST;
    n.shape = shape;
    std::string k = "C" + shape.str();
    k.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(double));
    auto it = cse_.find(k);
    if (it != cse_.end()) return it->second;
    n.index = (int64_t)consts_.size();
    consts_.push_back(data);
    const int32_t id = push(std::move(n));
    cse_.emplace(std::move(k), id);
    return id;
}

bool Graph::is_uniform(int32_t id, double* v) const {
    const Node& n = node(id);
    if (n.op == JDYN_OP_FULL) {
        *v = n.fa[0];
        return true;
    }
    if (n.op != JDYN_OP_CONST) return false;
    const std::vector<double>& d = consts_[(size_t)n.index];
    if (d.empty()) return false;
    for (double x : d)
        if (std::memcmp(&x, &d[0], sizeof x) != 0) return false;
    *v = d[0];
    return true;
}

std::string Graph::key(const Node& n) const {
    std::string k;
    k.reserve(96);
    k.append(reinterpret_cast<const char*>(&n.op), sizeof n.op);
    const int32_t nin = (int32_t)n.in.size();
    k.append(reinterpret_cast<const char*>(&nin), sizeof nin);
    k.append(reinterpret_cast<const char*>(n.in.data()), n.in.size() * sizeof(int32_t));
    k.append(reinterpret_cast<const char*>(n.ia), sizeof n.ia);
    k.append(reinterpret_cast<const char*>(n.fa), sizeof n.fa);
    return k;
}

int32_t Graph::matmul(int32_t a, int32_t b, bool ta, bool tb) {
    const int64_t ia[2] = {ta, tb};
    return op(JDYN_OP_MATMUL, {a, b}, ia, 2);
}

int32_t Graph::reduce(int32_t o, int32_t x, int64_t axis, bool keepdim) {
    const int64_t ia[2] = {axis, keepdim};
    return op(o, {x}, ia, 2);
}

int32_t Graph::shaped(int32_t o, int32_t x, const Shape& s) {
    int64_t ia[5] = {s.rank, 0, 0, 0, 0};
    for (int i = 0; i < s.rank; ++i) ia[1 + i] = s.d[i];
    return op(o, {x}, ia, 5);
}

int32_t Graph::full(const Shape& s, double v) {
    int64_t ia[5] = {s.rank, 0, 0, 0, 0};
    for (int i = 0; i < s.rank; ++i) ia[1 + i] = s.d[i];
    const double fa[1] = {v};
    return op(JDYN_OP_FULL, {}, ia, 5, fa, 1);
}

int32_t Graph::slice(int32_t x, int64_t axis, int64_t start, int64_t stop) {
    const int64_t ia[3] = {axis, start, stop};
    return op(JDYN_OP_SLICE, {x}, ia, 3);
}

int32_t Graph::pad(int32_t x, int64_t axis, int64_t before, int64_t after) {
    const int64_t ia[3] = {axis, before, after};
    return op(JDYN_OP_PAD, {x}, ia, 3);
}

// Identities that need no new node (or a cheaper one); -1 when none applies.
int32_t Graph::simplify(const Node& n) {
    double u, w;
    const auto in = [&](int i) { return n.in[(size_t)i]; };
    const auto same = [&](int i) { return shape(in(i)) == n.shape; };
    switch (n.op) {
        case JDYN_OP_ADD:
            if (is_uniform(in(1), &u) && u == 0) return broadcast_to(in(0), n.shape);
            if (is_uniform(in(0), &u) && u == 0) return broadcast_to(in(1), n.shape);
            break;
        case JDYN_OP_SUB:
            if (is_uniform(in(1), &u) && u == 0) return broadcast_to(in(0), n.shape);
            if (is_uniform(in(0), &u) && u == 0) return broadcast_to(neg(in(1)), n.shape);
            if (in(0) == in(1)) return full(n.shape, 0);
            break;
        case JDYN_OP_MUL:
            if (is_uniform(in(1), &u) && u == 1) return broadcast_to(in(0), n.shape);
            if (is_uniform(in(0), &u) && u == 1) return broadcast_to(in(1), n.shape);
            if ((is_uniform(in(0), &u) && u == 0) || (is_uniform(in(1), &w) && w == 0)) return full(n.shape, 0);
            if (is_uniform(in(1), &u) && u == -1) return broadcast_to(neg(in(0)), n.shape);
            if (is_uniform(in(0), &u) && u == -1) return broadcast_to(neg(in(1)), n.shape);
            break;
        case JDYN_OP_DIV:
            if (is_uniform(in(1), &u) && u == 1) return broadcast_to(in(0), n.shape);
            if (is_uniform(in(0), &u) && u == 0) return full(n.shape, 0);
            break;
        case JDYN_OP_NEG:
            if (node(in(0)).op == JDYN_OP_NEG) return node(in(0)).in[0];
            break;
        case JDYN_OP_POW:
            if (n.fa[0] == 1) return in(0);
            if (n.fa[0] == 2) return un(JDYN_OP_SQUARE, in(0));
            if (n.fa[0] == 0) return full(n.shape, 1);
            break;
        case JDYN_OP_RESHAPE:
            if (same(0)) return in(0);
            if (node(in(0)).op == JDYN_OP_RESHAPE) return shaped(JDYN_OP_RESHAPE, node(in(0)).in[0], n.shape);
            break;
        case JDYN_OP_SUM_TO: case JDYN_OP_BROADCAST_TO:
            if (same(0)) return in(0);
            break;
        case JDYN_OP_TRANSPOSE:
            if (node(in(0)).op == JDYN_OP_TRANSPOSE) return node(in(0)).in[0];
            break;
        case JDYN_OP_SLICE:
            if (same(0)) return in(0);
            break;
        case JDYN_OP_PAD:
            if (n.ia[1] == 0 && n.ia[2] == 0) return in(0);
            break;
        case JDYN_OP_CONCAT:
            if (n.in.size() == 1) return in(0);
            break;
        case JDYN_OP_SUM: case JDYN_OP_MEAN: case JDYN_OP_MAX:
            // Reducing a dimension of size 1 is a reshape.
            if (shape(in(0)).d[n.ia[0]] == 1) return shaped(JDYN_OP_RESHAPE, in(0), n.shape);
            break;
        default: break;
    }
    // Element-wise on uniform inputs (e.g. exp of zeros): a uniform result.
    if (elementwise(n.op) && !n.in.empty() && (n.shape.batched() || n.shape.numel() > kFoldLimit)) {
        double vals[3];
        for (size_t i = 0; i < n.in.size(); ++i)
            if (!is_uniform(n.in[i], &vals[i])) return -1;
        Node one = n;
        double out = 0;
        const double* ptrs[3] = {&vals[0], &vals[1], &vals[2]};
        for (size_t i = 0; i < n.in.size(); ++i) one.in[i] = -1;
        run_elementwise_scalar(one, ptrs, &out);
        return full(n.shape, out);
    }
    return -1;
}

// All inputs constant (CONST or an unbatched FULL) and a small result: evaluate now.
int32_t Graph::fold(const Node& n) {
    if (n.in.empty() || n.shape.batched() || n.shape.numel() > kFoldLimit || n.op == JDYN_OP_BASIS) return -1;
    std::vector<std::vector<double>> data(n.in.size());
    std::vector<const double*> ptrs(n.in.size());
    for (size_t i = 0; i < n.in.size(); ++i) {
        const Node& x = node(n.in[i]);
        if (x.op == JDYN_OP_CONST) {
            ptrs[i] = consts_[(size_t)x.index].data();
        } else if (x.op == JDYN_OP_FULL && !x.shape.batched() && x.shape.numel() <= kFoldLimit) {
            data[i].assign((size_t)x.shape.numel(), x.fa[0]);
            ptrs[i] = data[i].data();
        } else {
            return -1;
        }
    }
    std::vector<double> out((size_t)n.shape.numel());
    run_node_double(*this, n, ptrs.data(), out.data());
    return constant(out, n.shape);
}

int32_t Graph::op(int32_t o, const std::vector<int32_t>& in, const int64_t* ia, int n_ia, const double* fa, int n_fa) {
    if (o < 0 || o >= JDYN_OP_COUNT)
        fail(JDYN_ERR_ARGUMENT, "unknown op " + std::to_string(o) + " (0 to " + std::to_string(JDYN_OP_COUNT - 1) + ")");
    if (o >= JDYN_OP_TIME && o <= JDYN_OP_CONST)
        fail(JDYN_ERR_ARGUMENT, std::string(op_name(o)) + " nodes are made by their own calls (jdyn_graph_time, _arg, _param, _const)");
    const int ar = arity(o);
    const int64_t nin = (int64_t)in.size();
    if ((ar >= 0 && nin != ar) || (ar == -1 && nin != 2 && nin != 3) || (ar == -2 && (nin < 1 || nin > 1024)))
        bad(o, "takes " +
                   std::string(ar == -1 ? "2 or 3" : ar == -2 ? "1 to 1024" : std::to_string(ar)) + " inputs, got " +
                   std::to_string(nin));
    Node n;
    n.op = o;
    n.in = in;
    for (int64_t i = 0; i < nin; ++i)
        if (in[(size_t)i] < 0 || in[(size_t)i] >= (int32_t)nodes_.size())
            bad(o, "input " + std::to_string(i) + " is node " + std::to_string(in[(size_t)i]) + ", but the graph has " +
                       std::to_string(nodes_.size()) + " nodes");
    if (n_ia < 0 || n_ia > 6 || n_fa < 0 || n_fa > 2) bad(o, "at most 6 integer and 2 real attributes");
    for (int i = 0; i < n_ia; ++i) n.ia[i] = ia[i];
    for (int i = 0; i < n_fa; ++i) n.fa[i] = fa[i];
    infer(*this, n);
    clear_unused(n);
    const int32_t s = simplify(n);
    if (s >= 0) return s;
    const int32_t f = fold(n);
    if (f >= 0) return f;
    std::string k = key(n);
    auto it = cse_.find(k);
    if (it != cse_.end()) return it->second;
    const int32_t id = push(std::move(n));
    cse_.emplace(std::move(k), id);
    return id;
}

Graph Graph::pruned(std::vector<int32_t>& outs) const {
    std::vector<char> need(nodes_.size(), 0);
    for (int32_t o : outs) {
        node(o);  // checks the id
        need[(size_t)o] = 1;
    }
    for (size_t i = nodes_.size(); i-- > 0;) {
        const Node& n = nodes_[i];
        if (n.op == JDYN_OP_ARG || n.op == JDYN_OP_PARAM) need[i] = 1;
        if (!need[i]) continue;
        for (int32_t j : n.in) need[(size_t)j] = 1;
    }
    Graph g;
    std::vector<int32_t> remap(nodes_.size(), -1);
    for (size_t i = 0; i < nodes_.size(); ++i) {
        if (!need[i]) continue;
        Node n = nodes_[i];
        for (int32_t& j : n.in) j = remap[(size_t)j];
        if (n.op == JDYN_OP_CONST) {
            n.index = (int64_t)g.consts_.size();
            g.consts_.push_back(consts_[(size_t)nodes_[i].index]);
        }
        const int32_t id = (int32_t)g.nodes_.size();
        if (n.op == JDYN_OP_TIME) g.time_ = id;
        if (n.op == JDYN_OP_ARG) g.args_.push_back(id);
        std::string k;
        if (n.op == JDYN_OP_CONST) {
            const std::vector<double>& d = g.consts_.back();
            k = "C" + n.shape.str();
            k.append(reinterpret_cast<const char*>(d.data()), d.size() * sizeof(double));
        } else if (n.op != JDYN_OP_ARG && n.op != JDYN_OP_PARAM && n.op != JDYN_OP_TIME) {
            k = g.key(n);
        }
        g.nodes_.push_back(std::move(n));
        if (!k.empty()) g.cse_.emplace(std::move(k), id);
        remap[i] = id;
    }
    g.params_ = params_;
    for (Param& p : g.params_) p.node = remap[(size_t)p.node];
    g.n_param_elems_ = n_param_elems_;
    for (int32_t& o : outs) o = remap[(size_t)o];
    g.outputs = outs;
    return g;
}

}  // namespace graph
}  // namespace jdyn
