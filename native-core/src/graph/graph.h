// Differentiable programs: a typed graph of tensor operations (see docs/programs.md and jdyn.h's
// "Differentiable programs"). Graph is the builder and, once finished, the program itself: nodes in
// topological order (an input always precedes its users), shapes inferred and checked at each add.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "jdyn.h"

namespace jdyn {
namespace graph {

constexpr int kMaxRank = 4;
constexpr int64_t kMaxDim = int64_t(1) << 24;
constexpr int64_t kMaxNodes = 1000000;
constexpr int64_t kMaxParams = int64_t(1) << 40;
constexpr int64_t kFoldLimit = 4096;  // constants up to this many elements are folded at build time

// Row-major dims; d[0] == -1 marks a batched tensor (the batch first).
struct Shape {
    int rank = 0;
    int64_t d[kMaxRank] = {0, 0, 0, 0};

    bool batched() const { return rank > 0 && d[0] == -1; }
    // Elements for a batch of `batch` rows.
    int64_t numel(int64_t batch = 1) const;
    // Elements of one batch row (the whole tensor when unbatched).
    int64_t row_numel() const;
    bool operator==(const Shape& o) const;
    bool operator!=(const Shape& o) const { return !(*this == o); }
    std::string str() const;
    static Shape of(std::initializer_list<int64_t> dims);
    static Shape from(const int64_t* dims, int64_t rank, const char* what);
};

struct Node {
    int32_t op = 0;
    std::vector<int32_t> in;
    int64_t ia[6] = {0, 0, 0, 0, 0, 0};
    double fa[2] = {0, 0};
    Shape shape;
    int64_t index = -1;  // ARG: argument index; PARAM: parameter index; CONST: constant index
};

struct Param {
    std::string name;
    Shape shape;
    int64_t offset = 0, count = 0;
    int32_t init = JDYN_INIT_UNIFORM;
    double init_arg = 0;
    int32_t node = -1;
};

const char* op_name(int op);

class Graph {
public:
    Graph();

    // Inputs.
    int32_t time();
    int32_t arg(const Shape& shape);
    int32_t param(const std::string& name, const Shape& shape, int32_t init, double init_arg);
    int32_t constant(const std::vector<double>& data, const Shape& shape);
    int32_t scalar(double v) { return constant({v}, Shape{}); }

    // An operation: checks inputs and attributes, infers the shape, simplifies (identities, constant
    // folding, common subexpressions) and returns the id of the node that computes it.
    int32_t op(int32_t op, const std::vector<int32_t>& in, const int64_t* ia = nullptr, int n_ia = 0,
               const double* fa = nullptr, int n_fa = 0);

    // Shorthands used by the differentiation rules.
    int32_t un(int32_t o, int32_t x) { return op(o, {x}); }
    int32_t bin(int32_t o, int32_t a, int32_t b) { return op(o, {a, b}); }
    int32_t add(int32_t a, int32_t b) { return bin(JDYN_OP_ADD, a, b); }
    int32_t sub(int32_t a, int32_t b) { return bin(JDYN_OP_SUB, a, b); }
    int32_t mul(int32_t a, int32_t b) { return bin(JDYN_OP_MUL, a, b); }
    int32_t div(int32_t a, int32_t b) { return bin(JDYN_OP_DIV, a, b); }
    int32_t neg(int32_t a) { return un(JDYN_OP_NEG, a); }
    int32_t mulc(int32_t a, double c) { return mul(a, scalar(c)); }
    int32_t matmul(int32_t a, int32_t b, bool ta, bool tb);
    int32_t reduce(int32_t o, int32_t x, int64_t axis, bool keepdim);
    int32_t shaped(int32_t o, int32_t x, const Shape& s);  // RESHAPE, SUM_TO, BROADCAST_TO
    int32_t full(const Shape& s, double v);
    int32_t slice(int32_t x, int64_t axis, int64_t start, int64_t stop);
    int32_t pad(int32_t x, int64_t axis, int64_t before, int64_t after);
    // x shaped as s: x itself, or broadcast to s.
    int32_t broadcast_to(int32_t x, const Shape& s) { return shape(x) == s ? x : shaped(JDYN_OP_BROADCAST_TO, x, s); }
    // x summed to s: x itself, or SUM_TO s.
    int32_t sum_to(int32_t x, const Shape& s) { return shape(x) == s ? x : shaped(JDYN_OP_SUM_TO, x, s); }

    const Node& node(int32_t id) const;
    const Shape& shape(int32_t id) const { return node(id).shape; }
    int64_t size() const { return (int64_t)nodes_.size(); }
    const std::vector<Node>& nodes() const { return nodes_; }
    const std::vector<Param>& params() const { return params_; }
    const std::vector<int32_t>& args() const { return args_; }
    int32_t time_node() const { return time_; }
    int64_t num_param_elems() const { return n_param_elems_; }
    const std::vector<double>& const_data(int64_t index) const { return consts_.at((size_t)index); }
    // A constant node whose every element is v (a CONST of equal elements, or an unbatched-or-batched FULL).
    bool is_uniform(int32_t id, double* v) const;

    // The graph of the nodes `outputs` need, renumbered, with `outputs` remapped (every argument and
    // parameter is kept, so the signature does not depend on what the outputs use).
    Graph pruned(std::vector<int32_t>& outputs) const;

    // Outputs of a finished program.
    std::vector<int32_t> outputs;

private:
    int32_t push(Node&& n);
    int32_t fold(const Node& n);
    int32_t simplify(const Node& n);
    std::string key(const Node& n) const;

    std::vector<Node> nodes_;
    std::vector<Param> params_;
    std::vector<int32_t> args_;
    std::vector<std::vector<double>> consts_;
    std::unordered_map<std::string, int32_t> cse_;
    int32_t time_ = -1;
    int64_t n_param_elems_ = 0;
};

// Reverse mode: adds the nodes of sum_i <cts[i], d outs[i] / d wrt[j]> for each j; a j that nothing
// depends on gets a zero FULL node.
std::vector<int32_t> vjp(Graph& g, const std::vector<int32_t>& outs, const std::vector<int32_t>& cts,
                         const std::vector<int32_t>& wrt);
// Forward mode: adds the nodes of sum_j d outs[i] / d wrt[j] tangents[j] for each i.
std::vector<int32_t> jvp(Graph& g, const std::vector<int32_t>& wrt, const std::vector<int32_t>& tangents,
                         const std::vector<int32_t>& outs);

// Resolved extents of a shape for a batch: dims left-padded with 1 to rank 4.
void extents4(const Shape& s, int64_t batch, int64_t out[4]);
// The three-part view [outer, len, inner] of a shape around `axis` for a batch.
void around_axis(const Shape& s, int64_t axis, int64_t batch, int64_t& outer, int64_t& len, int64_t& inner);

}  // namespace graph
}  // namespace jdyn
