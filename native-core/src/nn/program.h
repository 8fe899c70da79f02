// Layer programs: a sequence of layers (jdyn.h's jdyn_layer_spec) run natively as a vector field.
//
// Program is the validated, dtype-agnostic description: widths, and where each layer's parameters sit
// in the caller's flat parameter buffer. It runs as the graph it compiles into
// (graph/lower_layers.h) through GraphField, like every other program.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "jdyn.h"
#include "nn/diff_field.h"
#include "graph/graph_field.h"

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

// A layer program runs as the graph it compiles into (graph/lower_layers.h), through GraphField.
template <class T>
using ProgramField = GraphField<T>;

// The vector field f(t, z) = program(t, z) for the sensitivity engines. Throws
// Failure(JDYN_ERR_ARGUMENT) when dim_in != dim_out ("a vector field must map width D to D; this
// program maps A to B") or when params is null for a program with parameters.
template <class T>
std::unique_ptr<DiffField<T>> make_program_field(const Program& program, const T* params);

}  // namespace jdyn
