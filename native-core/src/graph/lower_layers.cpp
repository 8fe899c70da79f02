// Each layer kind as graph ops.
#include "graph/lower_layers.h"

#include <cmath>
#include <string>

#include "nn/program.h"
#include "status.h"

namespace jdyn {
namespace graph {

Graph lower_layers(const Program& program) {
    Graph g;
    const int32_t t = g.time();
    int32_t x = g.arg(Shape::of({-1, program.dim_in()}));
    for (int64_t i = 0; i < program.num_layers(); ++i) {
        const ProgramLayer& L = program.layer(i);
        const std::string name = std::to_string(i);
        const double bound = 1.0 / std::sqrt((double)L.in);
        switch (L.kind) {
            case JDYN_LAYER_LINEAR: {
                const int32_t w = g.param(name + ".weight", Shape::of({L.out, L.in}), JDYN_INIT_UNIFORM, bound);
                if (L.bias) {
                    const int32_t b = g.param(name + ".bias", Shape::of({L.out}), JDYN_INIT_UNIFORM, bound);
                    x = g.op(JDYN_OP_LINEAR, {x, w, b});
                } else {
                    x = g.op(JDYN_OP_LINEAR, {x, w});
                }
                break;
            }
            case JDYN_LAYER_GALLINEAR: {
                // W(t) = sum_k phi_k(t) W_k as phi [1, n] times the coefficients [n, out * in].
                const int64_t nb = L.n_basis;
                const int32_t wk = g.param(name + ".coeffs_weight", Shape::of({nb, L.out, L.in}), JDYN_INIT_UNIFORM, bound);
                const int64_t ia[3] = {L.basis, nb, 0};
                const double fa[1] = {L.basis == JDYN_BASIS_FOURIER ? L.alpha : 0.0};
                const int32_t phi = g.shaped(JDYN_OP_RESHAPE, g.op(JDYN_OP_BASIS, {t}, ia, 3, fa, 1), Shape::of({1, nb}));
                const int32_t w = g.shaped(
                    JDYN_OP_RESHAPE,
                    g.matmul(phi, g.shaped(JDYN_OP_RESHAPE, wk, Shape::of({nb, L.out * L.in})), false, false),
                    Shape::of({L.out, L.in}));
                if (L.bias) {
                    const int32_t bk = g.param(name + ".coeffs_bias", Shape::of({nb, L.out}), JDYN_INIT_UNIFORM, bound);
                    const int32_t b = g.shaped(JDYN_OP_RESHAPE, g.matmul(phi, bk, false, false), Shape::of({L.out}));
                    x = g.op(JDYN_OP_LINEAR, {x, w, b});
                } else {
                    x = g.op(JDYN_OP_LINEAR, {x, w});
                }
                break;
            }
            case JDYN_LAYER_TANH: x = g.un(JDYN_OP_TANH, x); break;
            case JDYN_LAYER_RELU: x = g.un(JDYN_OP_RELU, x); break;
            case JDYN_LAYER_SIGMOID: x = g.un(JDYN_OP_SIGMOID, x); break;
            case JDYN_LAYER_SIN: x = g.un(JDYN_OP_SIN, x); break;
            case JDYN_LAYER_SILU: x = g.un(JDYN_OP_SILU, x); break;
            case JDYN_LAYER_SOFTPLUS: {
                const double fa[2] = {L.alpha, L.threshold};
                x = g.op(JDYN_OP_SOFTPLUS, {x}, nullptr, 0, fa, 2);
                break;
            }
            case JDYN_LAYER_ELU: {
                const double fa[1] = {L.alpha};
                x = g.op(JDYN_OP_ELU, {x}, nullptr, 0, fa, 1);
                break;
            }
            case JDYN_LAYER_DEPTHCAT: {
                const int64_t ia[1] = {1};
                x = g.op(JDYN_OP_CONCAT, {x, g.broadcast_to(t, Shape::of({-1, 1}))}, ia, 1);
                break;
            }
            case JDYN_LAYER_AUGMENTER: {
                const int64_t ia[1] = {1};
                x = g.op(JDYN_OP_CONCAT, {x, g.full(Shape::of({-1, L.out - L.in}), 0)}, ia, 1);
                break;
            }
            default: fail(JDYN_ERR_INTERNAL, "unknown layer kind " + std::to_string(L.kind));
        }
    }
    std::vector<int32_t> outs{x};
    return g.pruned(outs);
}

}  // namespace graph
}  // namespace jdyn
