// A differentiable vector field f(t, z; theta) on a batch [B, D]: what the sensitivity engines
// (autograd through the solver, adjoint, interpolated adjoint) need from a vector field. Layer
// programs implement it natively; a Java field with its own VJP implements it through upcalls.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace jdyn {

template <class T>
class DiffField {
public:
    virtual ~DiffField() = default;

    // State width D (inputs and outputs of an ODE vector field have the same width).
    virtual int64_t dim() const = 0;
    // Number of parameters P in the flat parameter vector.
    virtual int64_t num_params() const = 0;

    // The parameter tensors as (offset, count) blocks of the flat vector, in order (PyTorch's separate
    // weight and bias tensors): the adjoint's full norm takes one RMS per block, as torchdiffeq does.
    virtual std::vector<std::pair<int64_t, int64_t>> param_blocks() const {
        if (num_params() == 0) return {};
        return {{0, num_params()}};
    }

    // dz = f(t, z) for B rows; z and dz are [B, D] row-major.
    virtual void forward(double t, const T* z, T* dz, int64_t batch) = 0;

    // The vector-Jacobian products with cotangent v [B, D] of the output:
    //   gz  = v^T df/dz        [B, D], overwritten;
    //   gp += v^T df/dtheta    [P],    accumulated (summed over the batch), skipped when null;
    //   *gt += v^T df/dt       scalar, accumulated over the batch, skipped when null;
    //   dz  = f(t, z)          [B, D], written when not null (the forward pass the VJP needs anyway).
    virtual void vjp(double t, const T* z, const T* v, int64_t batch, T* gz, T* gp, double* gt, T* dz) = 0;

    // The Jacobian-vector product out = df/dz u for a tangent u [B, D] (parameters fixed).
    virtual void jvp(double t, const T* z, const T* u, int64_t batch, T* out) = 0;
};

}  // namespace jdyn
