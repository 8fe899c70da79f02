// The computation of one node: every op of the graph for float and double, on row-major buffers
// (the executor owns them; shapes come from the node and its inputs).
#pragma once

#include <cstdint>

#include "graph/graph.h"

namespace jdyn {
namespace graph {

// out = op(in...) for a batch of `batch` rows; in_shapes[i] is input i's shape; t is the solve's
// time in double (BASIS of the time input reads it rather than the rounded tensor).
template <class T>
void run_op(const Node& n, const Shape* in_shapes, const T* const* in, T* out, int64_t batch, double t,
            bool input_is_time);

extern template void run_op<float>(const Node&, const Shape*, const float* const*, float*, int64_t, double, bool);
extern template void run_op<double>(const Node&, const Shape*, const double* const*, double*, int64_t, double, bool);

// Element-wise ops that a fused chain runs tile by tile: unary ops, the derivative products, and the
// binary ops whose operands have the result's shape or a single element.
bool fusible_op(int op);
// One tile of a fusible op: `len` elements; input k is in[k][0..len) or, when scalar[k], in[k][0].
template <class T>
void run_flat(const Node& n, const T* const* in, const bool* scalar, T* out, int64_t len);

extern template void run_flat<float>(const Node&, const float* const*, const bool*, float*, int64_t);
extern template void run_flat<double>(const Node&, const double* const*, const bool*, double*, int64_t);

// Constant folding: the node (unbatched) on constant inputs, in double.
void run_node_double(const Graph& g, const Node& n, const double* const* in, double* out);
// An element-wise node on one element per input.
void run_elementwise_scalar(const Node& n, const double* const* in, double* out);

// C = op(A) op(B) + beta C, row-major, OpenBLAS (a plain loop for tiny products).
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double beta, double* c, int64_t ldc);

}  // namespace graph
}  // namespace jdyn
