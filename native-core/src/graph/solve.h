// The kernel of SOLVE (torch.linalg.solve): X with A X = B, or A^T X = B, for each matrix of a batch.
#pragma once

#include <cstdint>

#include "graph/graph.h"

namespace jdyn {
namespace graph {

// A [n, n] or [b, n, n], B [n, k] or [b, n, k] (an unbatched side shared by every matrix of the other),
// out [b, n, k] (or [n, k]) for a batch of `batch` rows. LU with partial pivoting, one matrix at a time
// in a scratch copy (a thread's scratch grows once and is reused). A zero or non-finite pivot throws
// Failure(JDYN_ERR_NON_FINITE) naming the matrix and the column.
template <class T>
void solve(const Shape& sa, const Shape& sb, bool transpose, int64_t batch, const T* a, const T* b, T* out);

extern template void solve<float>(const Shape&, const Shape&, bool, int64_t, const float*, const float*, float*);
extern template void solve<double>(const Shape&, const Shape&, bool, int64_t, const double*, const double*, double*);

}  // namespace graph
}  // namespace jdyn
