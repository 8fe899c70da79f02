// Gradients of a solve of a differentiable vector field: a forward solve that keeps what its
// sensitivity method needs (the tape), and a backward pass from the cotangents of the outputs.
// Each method is a strategy of its own (tape.cpp: BackpropTape, AdjointTape, InterpolatedAdjointTape
// over a common Tape that runs the forward solve and the backward bookkeeping).
//
//   autograd               backpropagation through the accepted steps (the exact gradient of the
//                          discrete solve with each step a fixed fraction of its output interval);
//                          the tape holds the state at every step: memory grows with the steps.
//   adjoint                backsolve of [z, a_z, a_theta] from the last output time, z restarted
//                          from the forward outputs at each output time; O(1) memory in the steps.
//   interpolated adjoint   backsolve of [a_z, a_theta] only, z(t) read from the forward interpolant.
//
// In both adjoint modes the error norm is by default the seminorm of Kidger et al. (the parameter
// adjoint left out of step control), else the largest RMS over the blocks [z], [a_z], [a_theta]
// (torchdiffeq's mixed norm, the paper's "full norm").
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dense.h"
#include "jdyn.h"
#include "nn/diff_field.h"
#include "sensitivity/curvature.h"

namespace jdyn {

struct BackwardOptions {
    bool seminorm = true;
    double rtol = 0;        // 0: the forward solve's
    double atol = 0;
    int64_t max_steps = 0;  // 0: the forward solve's
    // SNOpt: with an observer (adjoint modes only), the backsolve also outputs at times spaced
    // sample_step apart inside each output interval and shows the observer (z, a_z) there.
    CurvatureObserver* curvature = nullptr;
    double sample_step = 0;
};

struct BackwardStats {
    int64_t nfe = 0;        // evaluations of the vector field or its VJP in the backward pass
    int64_t accepted = 0;
    int64_t rejected = 0;
};

// A scalar running cost l(t, z) summed over the batch, whose integral over the solve joins the loss
// (torchdyn's integral_loss). value receives l; grad receives dl/dz [batch, dim].
class IntegralLoss {
public:
    virtual ~IntegralLoss() = default;
    virtual void evaluate(double t, const void* z, int64_t batch, int64_t dim, double* value, void* grad) = 0;
};

class TapeBase {
public:
    virtual ~TapeBase() = default;
    virtual int64_t steps() const = 0;
    // Native bytes the tape holds (the autograd tape grows with the steps; the adjoint's does not).
    virtual int64_t bytes() const = 0;
    // Accepted step boundaries, steps() + 1 values (autograd only; the other modes keep none).
    virtual void step_times(double* out) const = 0;
    // Gradients from ys_cotangent [n_times, batch, dim]: g_y0 [batch, dim] and g_times [n_times] are
    // overwritten, g_params [P] is accumulated (each may be null to skip). integral (may be null) adds
    // the running cost's integral to the loss.
    virtual void backward(const void* ys_cotangent, const BackwardOptions& options, IntegralLoss* integral,
                          void* g_y0, void* g_params, double* g_times, BackwardStats& stats) = 0;
};

// Runs the forward solve (config's field is ignored: field is used) and returns its tape; ys and
// stats as jdyn_solve. integral (may be null) is integrated along and its value written to
// *integral_value. The field must outlive the tape.
template <class T>
std::unique_ptr<TapeBase> forward_with_tape(const jdyn_solve_config& config, int64_t sensitivity, DiffField<T>* field,
                                            const T* y0, T* ys, jdyn_solve_stats& stats, IntegralLoss* integral,
                                            double* integral_value);

}  // namespace jdyn
