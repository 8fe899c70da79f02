// Layer programs: a sequence of layers (jdyn.h's jdyn_layer_spec) run natively as a vector field.
//
// Program is the validated, dtype-agnostic description: widths, and where each layer's parameters sit
// in the caller's flat parameter buffer. ProgramField<T> binds a Program to a parameter buffer and
// runs it (forward, VJP, JVP) with its own workspace, which grows with the batch: it is not
// thread-safe, so use one per solve (or per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "jdyn.h"
#include "nn/diff_field.h"

namespace jdyn {

// One validated layer.
struct ProgramLayer {
    int64_t kind = 0;           // enum jdyn_layer_kind
    int64_t in = 0;             // input width
    int64_t out = 0;            // output width
    int64_t param_offset = 0;   // into the flat parameter buffer
    int64_t param_count = 0;
    bool bias = false;          // LINEAR, GALLINEAR
    int64_t basis = 0;          // GALLINEAR: enum jdyn_galerkin_basis
    int64_t n_basis = 0;        // GALLINEAR
    double alpha = 0;           // ELU: alpha; SOFTPLUS: beta; GALLINEAR Fourier: period (0 given -> 1)
    double threshold = 0;       // SOFTPLUS
};

// "LINEAR", "TANH", ...; nullptr for an unknown kind.
const char* layer_kind_name(int64_t kind);

class Program {
public:
    // Validates the specs layer by layer (throws Failure(JDYN_ERR_ARGUMENT) naming the layer index,
    // its kind and the problem, e.g. "layer 2 (LINEAR) has out_features 0").
    Program(const jdyn_layer_spec* specs, int64_t n_layers, int64_t dim_in);

    int64_t dim_in() const { return dim_in_; }
    int64_t dim_out() const { return dim_out_; }
    int64_t num_params() const { return n_params_; }
    int64_t num_layers() const { return (int64_t)layers_.size(); }
    // The widest activation (inputs included).
    int64_t max_width() const { return max_width_; }
    const std::vector<ProgramLayer>& layers() const { return layers_; }
    const ProgramLayer& layer(int64_t i) const { return layers_.at((size_t)i); }

    // PyTorch's default initialisation, reproducible from seed on any machine: every weight and bias
    // of a LINEAR layer (and of every GALLINEAR coefficient matrix) uniform in +-1/sqrt(in_features),
    // drawn in the order of the flat buffer from one splitmix64 stream. Parameterless layers take no
    // draws, so a layer's values depend only on the seed and the parameters before it.
    template <class T>
    void init_params(uint64_t seed, T* params) const;

private:
    std::vector<ProgramLayer> layers_;
    int64_t dim_in_ = 0, dim_out_ = 0, n_params_ = 0, max_width_ = 0;
};

// The Galerkin basis of a GALLINEAR layer at t: phi[k] and dphi[k] = d phi_k / dt, k < n_basis.
void galerkin_basis(const ProgramLayer& layer, double t, double* phi, double* dphi);

// Runs a Program in dtype T on a bound parameter buffer (which must outlive the field, and may change
// between calls). Works for any dim_in -> dim_out; as a DiffField (an ODE vector field) it is only
// meaningful when they are equal, which make_program_field enforces. Buffers must not overlap.
template <class T>
class ProgramField final : public DiffField<T> {
public:
    // Copies the program; params may be null only when the program has no parameters.
    ProgramField(const Program& program, const T* params);
    ~ProgramField() override;

    int64_t dim() const override { return program_.dim_in(); }
    int64_t dim_out() const { return program_.dim_out(); }
    int64_t num_params() const override { return program_.num_params(); }
    // Each layer's weight and bias as separate blocks (GalLinear: all coefficient matrices, then all
    // bias coefficients).
    std::vector<std::pair<int64_t, int64_t>> param_blocks() const override {
        std::vector<std::pair<int64_t, int64_t>> blocks;
        for (const ProgramLayer& l : program_.layers()) {
            if (l.param_count == 0) continue;
            const int64_t nb = l.kind == JDYN_LAYER_GALLINEAR ? l.n_basis : 1;
            const int64_t bias = l.bias ? nb * l.out : 0;
            blocks.push_back({l.param_offset, l.param_count - bias});
            if (bias > 0) blocks.push_back({l.param_offset + l.param_count - bias, bias});
        }
        return blocks;
    }
    const Program& program() const { return program_; }
    const T* params() const { return params_; }
    void bind_params(const T* params);

    // out [B, dim_out] = program(t, z [B, dim_in]).
    void forward(double t, const T* z, T* out, int64_t batch) override;
    // v [B, dim_out]; gz [B, dim_in] overwritten; gp [P] and *gt accumulated (null: skipped);
    // dz [B, dim_out] = forward(t, z) when not null.
    void vjp(double t, const T* z, const T* v, int64_t batch, T* gz, T* gp, double* gt, T* dz) override;
    // out [B, dim_out] = d program / dz  u, for u [B, dim_in].
    void jvp(double t, const T* z, const T* u, int64_t batch, T* out) override;

private:
    void reserve(int64_t batch);
    void check_batch(int64_t batch) const;
    const T* galerkin_weights(size_t li, double t);
    void layer_forward(size_t li, double t, const T* x, T* y, int64_t batch);
    void layer_backward(size_t li, const T* x, const T* y, const T* gy, T* gx, int64_t batch, T* gp, double* gt);
    void layer_tangent(size_t li, const T* x, const T* y, const T* dx, T* dy, int64_t batch);

    Program program_;
    const T* params_;
    int64_t capacity_ = 0;           // batch rows the buffers hold
    std::vector<T> acts_;            // every layer's output, [sum of widths] x capacity
    std::vector<int64_t> act_off_;   // per layer: offset in acts_ per batch row (times the batch at use)
    int64_t act_total_ = 0;          // sum of the layers' output widths
    std::vector<const T*> ys_;       // per layer: where this call's output is
    std::vector<T> work_[2];         // ping-pong [max_width x capacity]
    std::vector<T> gal_;             // per GALLINEAR layer: W(t) [out, in] then b(t) [out]
    std::vector<int64_t> gal_off_;   // per layer (-1 for non-Galerkin)
    std::vector<double> phi_;        // per GALLINEAR layer: phi [n_basis] then dphi [n_basis]
    std::vector<int64_t> phi_off_;
    std::vector<T> scratch_;         // [max out x in + max out] for the Galerkin backward
};

extern template class ProgramField<float>;
extern template class ProgramField<double>;

// The vector field f(t, z) = program(t, z) for the sensitivity engines. Throws
// Failure(JDYN_ERR_ARGUMENT) when dim_in != dim_out ("a vector field must map width D to D; this
// program maps A to B") or when params is null for a program with parameters.
template <class T>
std::unique_ptr<DiffField<T>> make_program_field(const Program& program, const T* params);

extern template std::unique_ptr<DiffField<float>> make_program_field<float>(const Program&, const float*);
extern template std::unique_ptr<DiffField<double>> make_program_field<double>(const Program&, const double*);

}  // namespace jdyn
