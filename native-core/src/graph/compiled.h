// A finished program and what is derived from it once, on first use: the VJP programs the
// sensitivities need (one per combination of requested gradients) and the JVP program. Immutable
// apart from that cache (which a mutex guards), so one is shared by every field and tape built on it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace jdyn {
namespace graph {

// Bits of a VJP program's outputs beyond the input cotangent.
enum VjpWants { kWantParams = 1, kWantTime = 2, kWantValue = 4 };

class CompiledProgram {
public:
    // g must be finished (outputs set, pruned).
    explicit CompiledProgram(Graph g);

    const Graph& graph() const { return *graph_; }
    std::shared_ptr<const Graph> graph_ptr() const { return graph_; }
    // For a program of one argument and one output: their per-row widths (the arg's and output's
    // elements per batch row); 0 when the program has another signature.
    int64_t dim_in() const { return dim_in_; }
    int64_t dim_out() const { return dim_out_; }
    bool is_map() const { return dim_in_ > 0; }

    // The VJP of a one-argument, one-output program: arguments (z, v), outputs: gz, then f(z) when
    // wants has kWantValue, each parameter's gradient (kWantParams), d/dt as a [] tensor (kWantTime).
    std::shared_ptr<const Graph> vjp_program(int wants) const;
    // The JVP of a one-argument, one-output program: arguments (z, u), output (df/dz) u.
    std::shared_ptr<const Graph> jvp_program() const;

private:
    std::shared_ptr<const Graph> graph_;
    int64_t dim_in_ = 0, dim_out_ = 0;
    mutable std::mutex mutex_;
    mutable std::array<std::shared_ptr<const Graph>, 8> vjp_;
    mutable std::shared_ptr<const Graph> jvp_;
};

// Parameters initialised in layout order from one seeded splitmix64 stream (uniform in +-arg,
// normal with standard deviation arg (Box-Muller), or the constant arg).
template <class T>
void init_params(const Graph& g, uint64_t seed, T* params);

}  // namespace graph
}  // namespace jdyn
