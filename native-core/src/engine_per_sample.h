// Per-sample adaptive stepping (jdyn_solve_config.per_sample = 1, torchode's feature): every batch row
// takes its own steps, in lockstep iterations over the batch. engine_per_sample.cpp holds the loop;
// like engine.cpp it is compiled once per instruction set (engine_per_sample_avx2.cpp), so a row gives
// bitwise what the shared engine gives for that row alone (batch = 1) on the same CPU.
#pragma once

#include <memory>

#include "dense.h"
#include "engine.h"
#include "jdyn.h"
#include "tableau.h"

namespace jdyn {
namespace isa_base {
void run_per_sample(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys,
                    jdyn_solve_stats& st);
}
namespace isa_avx2 {
void run_per_sample(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys,
                    jdyn_solve_stats& st);
}

using SharedEngineFn = void (*)(const jdyn_solve_config&, const ButcherTableau&, const void*, void*, void*,
                                jdyn_solve_stats&, std::unique_ptr<DenseOutput>*, StepObserver*);

// solve()'s branch for a validated config with per_sample set or with only field_rows: per-sample
// adaptive solves run the lockstep loop (of the AVX2 variant when avx2); fixed-step per-sample solves
// run the shared engine (every row is on the same grid anyway) and fill sample_stats; a config with only
// field_rows runs the shared engine through an adapter that hands every row the step's one time.
void solve_rows(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys, void* event_state,
                jdyn_solve_stats& st, std::unique_ptr<DenseOutput>* dense, StepObserver* observer, bool avx2,
                SharedEngineFn shared);
}  // namespace jdyn
