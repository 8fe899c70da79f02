// The generic explicit Runge-Kutta engine: every method, fixed or adaptive, forward or backward in
// time, for a batch [B, D] sharing one step. One call runs the whole solve.
#pragma once

#include <memory>

#include "dense.h"
#include "jdyn.h"

namespace jdyn {

// Sees every accepted step: its start time, its end time and the state at its start (in the solve's
// dtype, batch * dim values). The autograd sensitivity records its tape through this.
class StepObserver {
public:
    virtual ~StepObserver() = default;
    virtual void on_step(double t_start, double t_end, const void* y_start) = 0;
};

// Validates config (throws Failure(JDYN_ERR_ARGUMENT) naming the defect) and runs the solve.
// y0, ys and event_state are in config.dtype. On a failure inside the loop, stats is filled and
// *dense (when requested) holds the steps accepted until then before the Failure propagates.
void solve(const jdyn_solve_config& config, const void* y0, void* ys, void* event_state, jdyn_solve_stats& stats,
           std::unique_ptr<DenseOutput>* dense, StepObserver* observer = nullptr);

}  // namespace jdyn
