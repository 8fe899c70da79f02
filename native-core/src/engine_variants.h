// The instruction-set variants of the engine (engine.cpp compiled once per variant).
#pragma once

#include <memory>

#include "dense.h"
#include "engine.h"
#include "jdyn.h"
#include "tableau.h"

namespace jdyn {
namespace isa_base {
void run_engine(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys, void* event_state,
                jdyn_solve_stats& st, std::unique_ptr<DenseOutput>* dense, StepObserver* observer);
}
namespace isa_avx2 {
void run_engine(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys, void* event_state,
                jdyn_solve_stats& st, std::unique_ptr<DenseOutput>* dense, StepObserver* observer);
}
// "avx2+fma" or "x86-64-v2": the variant this CPU runs.
const char* engine_variant();
}  // namespace jdyn
