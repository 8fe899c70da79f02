// Per-sample solves of differentiable fields (jdyn_solve_config.per_sample = 1 on an adaptive method):
// every batch row is solved as if it were alone (its own steps, error norm, initial step and max_steps),
// inside one native call. The tape of such a solve holds one sub-tape per row, each an ordinary tape
// (BackpropTape, AdjointTape or InterpolatedAdjointTape of tape.cpp) of the field at batch 1 over that
// row's own copy of the state. So row b's outputs, dL/dy0[b] and its share of dL/dtheta and dL/dt are
// exactly those of the solve of row b alone; dL/dtheta and dL/dt are summed over the rows in row order.
//
// Rows run in fixed row blocks on the worker pool (parallel.h), each block on its own field, solving
// its rows in row order; dL/dtheta and dL/dt are summed per block in row order, then over the blocks in
// block order. Block boundaries depend on the batch size only, so results are bitwise equal on any
// number of threads. A batch of one block (up to 8 rows), or a field without make_field, runs serially
// on the calling thread with plain row-order sums.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "graph/graph.h"
#include "jdyn.h"
#include "nn/diff_field.h"
#include "sensitivity/tape.h"

namespace jdyn {

// A new field equal to the solve's (same program and parameters) for a row block on another thread; an
// empty one means the field cannot be copied or used off the calling thread (Java callbacks): rows then
// run serially on the calling thread.
template <class T>
using FieldMaker = std::function<std::unique_ptr<DiffField<T>>()>;

// Whether a solve with this config steps per sample (per_sample = 1 and an adaptive method; fixed
// steps are the same for every row, so per_sample changes nothing there). Refuses a per_sample other
// than 0 or 1.
bool steps_per_sample(const jdyn_solve_config& config);

// Refuses, with a message naming the node, a program whose rows interact (a reduction, softmax,
// concatenation or product over the batch axis, or any batched value made unbatched): such a field
// evaluated on one row is not the field of the batch restricted to that row.
void require_rows_independent(const graph::Graph& g);

// Solves every row alone without a tape (inference); ys, stats and config.sample_stats as jdyn_solve.
template <class T>
void solve_per_sample(const jdyn_solve_config& config, DiffField<T>* field, const FieldMaker<T>& make_field,
                      const T* y0, T* ys, jdyn_solve_stats& stats);

// As forward_with_tape, one sub-tape per row. Totals go to stats (see per_sample.cpp), per-row counts
// to config.sample_stats when not null. The field must outlive the tape (the tape owns
// the fields it makes).
template <class T>
std::unique_ptr<TapeBase> per_sample_forward_with_tape(const jdyn_solve_config& config, int64_t sensitivity,
                                                       DiffField<T>* field, const FieldMaker<T>& make_field,
                                                       const T* y0, T* ys, jdyn_solve_stats& stats);

}  // namespace jdyn
