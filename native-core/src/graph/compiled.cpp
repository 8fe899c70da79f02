// CompiledProgram: the derived VJP/JVP programs, built once each, and parameter initialisation.
#include "graph/compiled.h"

#include <cmath>

#include "status.h"

namespace jdyn {
namespace graph {

CompiledProgram::CompiledProgram(Graph g) : graph_(std::make_shared<const Graph>(std::move(g))) {
    const Graph& G = *graph_;
    if (G.args().size() == 1 && G.outputs.size() == 1) {
        const Shape& a = G.shape(G.args()[0]);
        const Shape& o = G.shape(G.outputs[0]);
        if (a.batched() && o.batched()) {
            dim_in_ = a.row_numel();
            dim_out_ = o.row_numel();
        }
    }
}

std::shared_ptr<const Graph> CompiledProgram::vjp_program(int wants) const {
    if (!is_map())
        fail(JDYN_ERR_ARGUMENT, "only a program of one batched argument and one batched output has a field VJP");
    std::lock_guard<std::mutex> lock(mutex_);
    std::shared_ptr<const Graph>& slot = vjp_[(size_t)(wants & 7)];
    if (slot) return slot;
    Graph g = *graph_;
    const int32_t z = g.args()[0];
    const int32_t out = g.outputs[0];
    const int32_t v = g.arg(g.shape(out));
    std::vector<int32_t> wrt{z};
    if (wants & kWantParams)
        for (const Param& p : g.params()) wrt.push_back(p.node);
    if (wants & kWantTime) wrt.push_back(g.time());
    const std::vector<int32_t> grads = vjp(g, {out}, {v}, wrt);
    std::vector<int32_t> outs{grads[0]};
    if (wants & kWantValue) outs.push_back(out);
    for (size_t i = 1; i < grads.size(); ++i) outs.push_back(grads[i]);
    slot = std::make_shared<const Graph>(g.pruned(outs));
    return slot;
}

std::shared_ptr<const Graph> CompiledProgram::jvp_program() const {
    if (!is_map())
        fail(JDYN_ERR_ARGUMENT, "only a program of one batched argument and one batched output has a field JVP");
    std::lock_guard<std::mutex> lock(mutex_);
    if (jvp_) return jvp_;
    Graph g = *graph_;
    const int32_t z = g.args()[0];
    const int32_t u = g.arg(g.shape(z));
    std::vector<int32_t> outs = jvp(g, {z}, {u}, {g.outputs[0]});
    jvp_ = std::make_shared<const Graph>(g.pruned(outs));
    return jvp_;
}

namespace {

// splitmix64 (Steele, Lea, Flood 2014): 64-bit integer arithmetic only, so the stream is the same on
// every machine; uniform doubles from its top 53 bits.
struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [-bound, bound): 2u - 1 is exact, the product is one IEEE rounding.
    double symmetric(double bound) { return bound * ((double)(next() >> 11) * 0x1.0p-52 - 1.0); }
    // Uniform in (0, 1].
    double open01() { return ((double)(next() >> 11) + 1.0) * 0x1.0p-53; }
};

}  // namespace

template <class T>
void init_params(const Graph& g, uint64_t seed, T* params) {
    SplitMix64 rng{seed};
    for (const Param& p : g.params()) {
        T* out = params + p.offset;
        for (int64_t j = 0; j < p.count; ++j) {
            switch (p.init) {
                case JDYN_INIT_UNIFORM: out[j] = (T)rng.symmetric(p.init_arg); break;
                case JDYN_INIT_NORMAL: {
                    const double u1 = rng.open01(), u2 = rng.open01();
                    out[j] = (T)(p.init_arg * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
                    break;
                }
                default: out[j] = (T)p.init_arg;
            }
        }
    }
}

template void init_params<float>(const Graph&, uint64_t, float*);
template void init_params<double>(const Graph&, uint64_t, double*);

}  // namespace graph
}  // namespace jdyn
