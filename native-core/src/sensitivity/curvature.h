// SNOpt's second-order statistics (Liu, Chen, Theodorou 2021): per Linear layer of a program, the
// Kronecker factors A = E[a a^T] of the layer input a (with a trailing 1 when the layer has a bias) and
// G = E[g g^T] of the cotangent g of the layer output, averaged over the batch and over times sampled
// along the adjoint backward pass. One factor program (arguments z and the adjoint a_z; outputs each
// layer's input and a_z^T df/d(layer output)) runs natively at each sampled time; nothing grows with
// the number of steps.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/compiled.h"
#include "graph/executor.h"

namespace jdyn {

// A LINEAR op of the program whose weight (and bias, if any) is a parameter used by no other LINEAR
// op, on a batched [batch, in] input: the layers SNOpt preconditions.
struct LinearLayer {
    int32_t node = -1;           // the LINEAR node
    int64_t in = 0, out = 0;
    int64_t weight = -1, bias = -1;                 // parameter indices (bias -1: none)
    int64_t weight_offset = 0, bias_offset = -1;    // in the flat parameter buffer
    // Sizes of the factors: A is a_dim x a_dim (in + 1 with a bias), G is out x out.
    int64_t a_dim() const { return in + (bias >= 0 ? 1 : 0); }
    int64_t factor_size() const { return a_dim() * a_dim() + out * out; }
};

std::vector<LinearLayer> linear_layers(const graph::Graph& g);

// Receives the state z [batch, dim] and the adjoint a_z [batch, dim] at a sampled time of the adjoint
// backward pass.
class CurvatureObserver {
public:
    virtual ~CurvatureObserver() = default;
    virtual void observe(double t, const void* z, const void* a, int64_t batch) = 0;
};

// Accumulates the factors of every layer into `factors` (per layer, A row-major then G row-major, in
// linear_layers order; sum of the sizes doubles): after finish(), the means over the samples. g is
// scaled by batch * gy_scale before its outer product (the original's convention: the loss is a batch
// mean, and gy_scale is the sampling step).
template <class T>
class KfacCollector final : public CurvatureObserver {
public:
    KfacCollector(std::shared_ptr<const graph::CompiledProgram> program, const T* params, double gy_scale,
                  double* factors);
    void observe(double t, const void* z, const void* a, int64_t batch) override;
    // Divides the sums by the number of samples; returns it.
    int64_t finish();
    int64_t samples() const { return samples_; }
    // Native bytes held (the factor program's workspace is planned per batch; this counts the rest).
    int64_t bytes() const;

private:
    std::vector<LinearLayer> layers_;
    std::unique_ptr<graph::Executor<T>> exec_;
    const T* params_;
    double gy_scale_;
    double* factors_;
    int64_t samples_ = 0;
    std::vector<std::vector<T>> outs_;
    std::vector<double> work_;
};

extern template class KfacCollector<float>;
extern template class KfacCollector<double>;

}  // namespace jdyn
