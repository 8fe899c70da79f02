// Whether a program treats batch rows independently: then any block of rows can run alone (a
// separate executor, another thread) and give the rows the same values as the whole batch would.
#pragma once

#include "graph/graph.h"

namespace jdyn {
namespace graph {

// True when some node of g mixes batch rows: a reduction over the batch (a batched input, an
// unbatched result: SUM/MEAN/MAX over axis 0, MATMUL with trans_a, SUM_TO), a softmax along the
// batch axis, or batched RANDOM noise (its values follow the row's index in the whole batch).
bool mixes_rows(const Graph& g);

}  // namespace graph
}  // namespace jdyn
