// Runs a finished graph (a program) on a batch. The plan for a batch size (every node's buffer as an
// offset in one arena, reused by liveness) is made once and kept until the batch size changes, so an
// evaluation allocates nothing. Chains of element-wise ops (each link the only reader of the one
// before, all of one shape) are fused: they run tile by tile through small buffers that stay in the
// L1 cache, and only the chain's last value is written out. Not thread-safe: one executor per thread
// or solve.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/graph.h"

namespace jdyn {
namespace graph {

template <class T>
class Executor {
public:
    // accumulate[i]: output i is added into its destination rather than written (empty: none).
    explicit Executor(std::shared_ptr<const Graph> g, std::vector<bool> accumulate = {});

    const Graph& graph() const { return *g_; }

    // args[i] [arg i's shape], outs[i] [output i's shape], with the batch for every -1.
    void run(const T* params, double t, const T* const* args, int64_t batch, T* const* outs);

    // As run, with every node in a buffer of its own, each checked after it runs: throws
    // Failure(JDYN_ERR_NON_FINITE) naming the first op whose result is NaN or infinite while its inputs
    // are finite. For diagnosis (slower).
    void run_checked(const T* params, double t, const T* const* args, int64_t batch, T* const* outs);

private:
    void plan(int64_t batch, bool separate);
    void execute(const T* params, double t, const T* const* args, int64_t batch, T* const* outs, bool check);
    void run_chain(int32_t tail, T* out, int64_t batch);

    std::shared_ptr<const Graph> g_;
    std::vector<bool> accumulate_;
    std::vector<T> consts_;              // every CONST node's data in T
    std::vector<int64_t> const_off_;     // per node: offset in consts_ (-1 if not a CONST)
    std::vector<int32_t> direct_;        // per node: the output written straight to the caller (-1: none)
    std::vector<int32_t> tail_;          // per node: the last node of its fused chain (itself if none)
    std::vector<std::vector<int32_t>> chain_;  // per chain tail: its nodes in order (empty: no chain)
    std::vector<T> tiles_;               // per chain link but the last, one tile
    int64_t planned_batch_ = -1;
    bool planned_separate_ = false;
    std::vector<int64_t> off_;           // per node: offset in arena_ (-1: not in the arena)
    std::vector<T> arena_;
    std::vector<const T*> ptr_;          // per node, this run
    std::vector<Shape> in_shapes_;       // every node's input shapes, side by side
    std::vector<int64_t> shape_off_;     // per node: where its input shapes start in in_shapes_
    std::vector<char> time_input_;       // per node: whether an input is the time
    std::vector<const T*> in_ptrs_;
};

extern template class Executor<float>;
extern template class Executor<double>;

}  // namespace graph
}  // namespace jdyn
