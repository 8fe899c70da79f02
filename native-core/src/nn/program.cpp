// Program: validation of the layer specs, widths, parameter layout, PyTorch-style initialisation.
#include <cmath>
#include <cstdio>
#include <string>

#include "nn/program.h"
#include "graph/compiled.h"
#include "graph/lower_layers.h"
#include "status.h"

namespace jdyn {

namespace {

// Limits that keep every size product far from int64 overflow (and GEMM sizes within int).
constexpr int64_t kMaxWidth = int64_t(1) << 24;
constexpr int64_t kMaxBasis = 4096;
constexpr int64_t kMaxParams = int64_t(1) << 40;

const char* const kKindNames[] = {"LINEAR",  "TANH", "RELU",     "SOFTPLUS",  "SIGMOID",  "SIN",
                                  "ELU",     "SILU", "DEPTHCAT", "AUGMENTER", "GALLINEAR"};

std::string layer_label(int64_t index, int64_t kind) {
    return "layer " + std::to_string(index) + " (" + layer_kind_name(kind) + ")";
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

const char* layer_kind_name(int64_t kind) {
    if (kind < 0 || kind >= (int64_t)(sizeof kKindNames / sizeof kKindNames[0])) return nullptr;
    return kKindNames[kind];
}

Program::Program(const jdyn_layer_spec* specs, int64_t n_layers, int64_t dim_in) {
    if (n_layers < 1) fail(JDYN_ERR_ARGUMENT, "a program needs at least one layer, got n_layers = " + std::to_string(n_layers));
    if (!specs) fail(JDYN_ERR_ARGUMENT, "layers must not be NULL");
    if (dim_in < 1 || dim_in > kMaxWidth)
        fail(JDYN_ERR_ARGUMENT, "dim_in must be in [1, 2^24], got " + std::to_string(dim_in));
    if (n_layers > 1000000) fail(JDYN_ERR_ARGUMENT, "too many layers: " + std::to_string(n_layers));
    dim_in_ = dim_in;
    max_width_ = dim_in;
    int64_t width = dim_in, offset = 0;
    layers_.reserve((size_t)n_layers);
    for (int64_t i = 0; i < n_layers; ++i) {
        const jdyn_layer_spec& s = specs[i];
        if (!layer_kind_name(s.kind))
            fail(JDYN_ERR_ARGUMENT, "layer " + std::to_string(i) + " has unknown kind " + std::to_string(s.kind) +
                                        " (known kinds are 0 to 10, LINEAR to GALLINEAR)");
        const std::string label = layer_label(i, s.kind);
        ProgramLayer L;
        L.kind = s.kind;
        L.in = width;
        const bool linear = s.kind == JDYN_LAYER_LINEAR || s.kind == JDYN_LAYER_GALLINEAR;
        if (linear || s.kind == JDYN_LAYER_AUGMENTER) {
            if (s.out_features < 1 || s.out_features > kMaxWidth)
                fail(JDYN_ERR_ARGUMENT, label + " has out_features " + std::to_string(s.out_features) +
                                            " (must be in [1, 2^24])");
        } else if (s.out_features != 0) {
            fail(JDYN_ERR_ARGUMENT, label + " has out_features " + std::to_string(s.out_features) +
                                        " (only LINEAR, GALLINEAR and AUGMENTER take one; pass 0)");
        }
        if (linear) {
            if (s.bias != 0 && s.bias != 1)
                fail(JDYN_ERR_ARGUMENT, label + " has bias " + std::to_string(s.bias) + " (must be 0 or 1)");
            L.bias = s.bias == 1;
            L.out = s.out_features;
            int64_t per_matrix = L.out * L.in + (L.bias ? L.out : 0);
            if (s.kind == JDYN_LAYER_GALLINEAR) {
                if (s.basis != JDYN_BASIS_FOURIER && s.basis != JDYN_BASIS_POLYNOMIAL)
                    fail(JDYN_ERR_ARGUMENT, label + " has basis " + std::to_string(s.basis) +
                                                " (must be 0 (FOURIER) or 1 (POLYNOMIAL))");
                if (s.n_basis < 1 || s.n_basis > kMaxBasis)
                    fail(JDYN_ERR_ARGUMENT, label + " has n_basis " + std::to_string(s.n_basis) +
                                                " (must be in [1, 4096])");
                L.basis = s.basis;
                L.n_basis = s.n_basis;
                if (s.basis == JDYN_BASIS_FOURIER) {
                    if (!std::isfinite(s.alpha) || s.alpha < 0)
                        fail(JDYN_ERR_ARGUMENT, label + " has period (alpha) " + num(s.alpha) +
                                                    " (must be > 0, or 0 for the default 1)");
                    L.alpha = s.alpha == 0 ? 1.0 : s.alpha;
                }
                if (per_matrix > kMaxParams / L.n_basis)
                    fail(JDYN_ERR_ARGUMENT, label + " has too many parameters");
                per_matrix *= L.n_basis;
            }
            L.param_count = per_matrix;
        } else if (s.kind == JDYN_LAYER_AUGMENTER) {
            L.out = width + s.out_features;
        } else if (s.kind == JDYN_LAYER_DEPTHCAT) {
            L.out = width + 1;
        } else {
            L.out = width;
            if (s.kind == JDYN_LAYER_ELU) {
                if (!std::isfinite(s.alpha))
                    fail(JDYN_ERR_ARGUMENT, label + " has alpha " + num(s.alpha) + " (must be finite)");
                L.alpha = s.alpha;
            } else if (s.kind == JDYN_LAYER_SOFTPLUS) {
                if (!std::isfinite(s.alpha))
                    fail(JDYN_ERR_ARGUMENT, label + " has beta (alpha) " + num(s.alpha) +
                                                " (must be finite and non-zero, or 0 for the default 1)");
                if (std::isnan(s.threshold))
                    fail(JDYN_ERR_ARGUMENT, label + " has threshold NaN");
                L.alpha = s.alpha == 0 ? 1.0 : s.alpha;
                L.threshold = s.threshold;
            }
        }
        if (L.out > kMaxWidth)
            fail(JDYN_ERR_ARGUMENT, label + " makes the width " + std::to_string(L.out) + " (more than 2^24)");
        if (L.param_count > kMaxParams - offset) fail(JDYN_ERR_ARGUMENT, label + " has too many parameters");
        L.param_offset = offset;
        offset += L.param_count;
        width = L.out;
        if (width > max_width_) max_width_ = width;
        layers_.push_back(L);
    }
    dim_out_ = width;
    n_params_ = offset;
}

template <class T>
void Program::init_params(uint64_t seed, T* params) const {
    // The compiled graph declares each layer's parameters in layout order with PyTorch's bound
    // 1/sqrt(fan_in) (kaiming_uniform(a = sqrt(5)) on [out, in], and the bias bound), and draws them
    // from one splitmix64 stream in that order.
    graph::init_params(graph::lower_layers(*this), seed, params);
}

template void Program::init_params<float>(uint64_t, float*) const;
template void Program::init_params<double>(uint64_t, double*) const;

void galerkin_basis(const ProgramLayer& L, double t, double* phi, double* dphi) {
    const int64_t n = L.n_basis;
    if (n < 1) return;
    phi[0] = 1.0;
    dphi[0] = 0.0;
    if (L.basis == JDYN_BASIS_FOURIER) {
        // phi = 1, cos(w t), sin(w t), cos(2 w t), sin(2 w t), ...
        const double w = 6.283185307179586476925286766559 / L.alpha;
        for (int64_t k = 1; k < n; ++k) {
            const double jw = (double)((k + 1) / 2) * w;
            const double c = std::cos(jw * t), s = std::sin(jw * t);
            if (k % 2 == 1) {
                phi[k] = c;
                dphi[k] = -jw * s;
            } else {
                phi[k] = s;
                dphi[k] = jw * c;
            }
        }
    } else {
        // phi = 1, t, t^2, ...
        double p = 1.0;  // t^(k-1)
        for (int64_t k = 1; k < n; ++k) {
            dphi[k] = (double)k * p;
            p *= t;
            phi[k] = p;
        }
    }
}

}  // namespace jdyn

namespace jdyn {

template <class T>
std::unique_ptr<DiffField<T>> make_program_field(const Program& program, const T* params) {
    if (program.dim_in() != program.dim_out())
        fail(JDYN_ERR_ARGUMENT, "a vector field must map width D to D; this program maps " +
                                    std::to_string(program.dim_in()) + " to " + std::to_string(program.dim_out()));
    return std::make_unique<GraphField<T>>(program, params);
}

template std::unique_ptr<DiffField<float>> make_program_field<float>(const Program&, const float*);
template std::unique_ptr<DiffField<double>> make_program_field<double>(const Program&, const double*);

}  // namespace jdyn
