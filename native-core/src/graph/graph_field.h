// A program of one argument z [batch, D] and one output [batch, D'] as the vector field the engine and
// the sensitivities consume (DiffField<T>): forward, VJP and JVP each run a program by an executor of
// the field's own (its workspace), the derived programs coming from the shared CompiledProgram.
// When the program keeps batch rows independent (graph::mixes_rows is false), a batch of several row
// blocks (parallel.h's block_rows) runs block by block on the worker pool, one executor per block;
// the VJP's parameter and time gradients are summed per block and then added in block order, so the
// result does not depend on the thread count.
#pragma once

#include <memory>

#include "graph/compiled.h"
#include "graph/executor.h"
#include "nn/diff_field.h"

namespace jdyn {

class Program;

template <class T>
class GraphField final : public DiffField<T> {
public:
    GraphField(std::shared_ptr<const graph::CompiledProgram> program, const T* params);
    // A layer program, compiled here (for the core's own tests and tools).
    GraphField(const Program& layers, const T* params);
    ~GraphField() override;

    int64_t dim() const override { return program_->dim_in(); }
    int64_t dim_out() const { return program_->dim_out(); }
    int64_t num_params() const override { return program_->graph().num_param_elems(); }
    // One block per parameter tensor, in layout order.
    std::vector<std::pair<int64_t, int64_t>> param_blocks() const override;
    const graph::CompiledProgram& program() const { return *program_; }
    const T* params() const { return params_; }
    void bind_params(const T* params);

    void forward(double t, const T* z, T* out, int64_t batch) override;
    void vjp(double t, const T* z, const T* v, int64_t batch, T* gz, T* gp, double* gt, T* dz) override;
    void jvp(double t, const T* z, const T* u, int64_t batch, T* out) override;

private:
    void check(int64_t batch, const void* a, const void* b, const void* c, const char* what) const;
    std::unique_ptr<graph::Executor<T>> make_vjp(int wants, bool accumulate_params) const;
    // Row blocks this batch runs in (1: the whole batch on the calling thread's executors).
    int64_t blocks_for(int64_t batch);

    // One block's executors and its share of the VJP's parameter and time gradients.
    struct Block {
        std::unique_ptr<graph::Executor<T>> fwd, jvp, vjp[8];
        std::vector<T> gp;
        T gt = 0;
        std::vector<T*> outs;
    };

    std::shared_ptr<const graph::CompiledProgram> program_;
    const T* params_ = nullptr;
    std::unique_ptr<graph::Executor<T>> fwd_;
    std::unique_ptr<graph::Executor<T>> vjp_[8];
    std::unique_ptr<graph::Executor<T>> jvp_;
    std::vector<T*> outs_;
    T gt_ = 0;
    bool split_ = false;  // rows are independent: a large batch runs in row blocks
    std::vector<Block> blocks_;
};

extern template class GraphField<float>;
extern template class GraphField<double>;

}  // namespace jdyn
