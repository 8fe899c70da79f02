// GraphField: a program as the DiffField of the engine and the sensitivities.
#include "graph/graph_field.h"

#include <algorithm>
#include <climits>

#include "graph/lower_layers.h"
#include "graph/rows.h"
#include "nn/program.h"
#include "parallel.h"
#include "status.h"

namespace jdyn {

namespace {
// Runs one row block's evaluation; a failure names the block, since a batch row in its message (a
// SOLVE's singular matrix) counts from the block's first row.
template <class F>
void run_block(int64_t r0, int64_t len, F&& f) {
    try {
        f();
    } catch (const Failure& e) {
        fail(e.status(), std::string(e.what()) + " (in batch rows " + std::to_string(r0) + " to " +
                             std::to_string(r0 + len - 1) + ", evaluated as one block: row numbers above count from " +
                             std::to_string(r0) + ")");
    }
}
}  // namespace

template <class T>
GraphField<T>::GraphField(std::shared_ptr<const graph::CompiledProgram> program, const T* params)
    : program_(std::move(program)) {
    if (!program_->is_map())
        fail(JDYN_ERR_ARGUMENT, "a field needs a program of one batched argument and one batched output");
    bind_params(params);
    // OpenBLAS's thread count is applied lazily (blas.cpp); make sure it is before the first GEMM.
    (void)jdyn_get_num_threads();
    fwd_ = std::make_unique<graph::Executor<T>>(program_->graph_ptr());
    split_ = !graph::mixes_rows(program_->graph());
}

template <class T>
GraphField<T>::GraphField(const Program& layers, const T* params)
    : GraphField(std::make_shared<const graph::CompiledProgram>(graph::lower_layers(layers)), params) {}

template <class T>
GraphField<T>::~GraphField() = default;

template <class T>
std::vector<std::pair<int64_t, int64_t>> GraphField<T>::param_blocks() const {
    std::vector<std::pair<int64_t, int64_t>> blocks;
    for (const graph::Param& p : program_->graph().params())
        if (p.count > 0) blocks.push_back({p.offset, p.count});
    return blocks;
}

template <class T>
void GraphField<T>::bind_params(const T* params) {
    if (!params && num_params() > 0)
        fail(JDYN_ERR_ARGUMENT, "params must not be NULL: the program has " + std::to_string(num_params()) +
                                    " parameters");
    params_ = params;
}

template <class T>
void GraphField<T>::check(int64_t batch, const void* a, const void* b, const void* c, const char* what) const {
    if (batch < 0 || batch > INT_MAX) fail(JDYN_ERR_ARGUMENT, "batch must be in [0, 2^31), got " + std::to_string(batch));
    if (batch > 0 && (!a || !b || !c)) fail(JDYN_ERR_ARGUMENT, std::string("program ") + what + " must not be NULL");
}

template <class T>
void GraphField<T>::forward(double t, const T* z, T* out, int64_t batch) {
    check(batch, z, out, out, "forward: z and out");
    if (batch == 0) return;
    const int64_t nb = blocks_for(batch);
    if (nb == 1) {
        const T* args[1] = {z};
        T* outs[1] = {out};
        fwd_->run(params_, t, args, batch, outs);
        return;
    }
    const int64_t rows = block_rows(batch), din = dim(), dout = dim_out();
    parallel_for(nb, [&](int64_t b) {
        Block& blk = blocks_[(size_t)b];
        if (!blk.fwd) blk.fwd = std::make_unique<graph::Executor<T>>(program_->graph_ptr());
        const int64_t r0 = b * rows, len = std::min(rows, batch - r0);
        const T* args[1] = {z + r0 * din};
        T* outs[1] = {out + r0 * dout};
        run_block(r0, len, [&] { blk.fwd->run(params_, t, args, len, outs); });
    });
}

template <class T>
int64_t GraphField<T>::blocks_for(int64_t batch) {
    if (!split_) return 1;
    const int64_t nb = num_row_blocks(batch);
    if (nb > 1 && (int64_t)blocks_.size() < nb) blocks_.resize((size_t)nb);
    return nb;
}

template <class T>
std::unique_ptr<graph::Executor<T>> GraphField<T>::make_vjp(int wants, bool accumulate_params) const {
    std::vector<bool> acc{false};
    if (wants & graph::kWantValue) acc.push_back(false);
    if (wants & graph::kWantParams) acc.insert(acc.end(), program_->graph().params().size(), accumulate_params);
    if (wants & graph::kWantTime) acc.push_back(false);
    return std::make_unique<graph::Executor<T>>(program_->vjp_program(wants), acc);
}

template <class T>
void GraphField<T>::vjp(double t, const T* z, const T* v, int64_t batch, T* gz, T* gp, double* gt, T* dz) {
    check(batch, z, v, gz, "vjp: z, v and gz");
    if (batch == 0) return;
    const int wants = (gp && num_params() > 0 ? graph::kWantParams : 0) | (gt ? graph::kWantTime : 0) |
                      (dz ? graph::kWantValue : 0);
    const auto& params = program_->graph().params();
    const int64_t nb = blocks_for(batch);
    if (nb > 1) {
        // Each block writes its own parameter and time gradients; they are added in block order below.
        const int64_t rows = block_rows(batch), din = dim(), dout = dim_out(), np = num_params();
        parallel_for(nb, [&](int64_t b) {
            Block& blk = blocks_[(size_t)b];
            std::unique_ptr<graph::Executor<T>>& bex = blk.vjp[wants];
            if (!bex) bex = make_vjp(wants, false);
            const int64_t r0 = b * rows;
            blk.outs.clear();
            blk.outs.push_back(gz + r0 * din);
            if (wants & graph::kWantValue) blk.outs.push_back(dz + r0 * dout);
            if (wants & graph::kWantParams) {
                blk.gp.resize((size_t)np);
                for (const graph::Param& p : params) blk.outs.push_back(blk.gp.data() + p.offset);
            }
            if (wants & graph::kWantTime) blk.outs.push_back(&blk.gt);
            const T* args[2] = {z + r0 * din, v + r0 * dout};
            const int64_t len = std::min(rows, batch - r0);
            run_block(r0, len, [&] { bex->run(params_, t, args, len, blk.outs.data()); });
        });
        if (wants & graph::kWantParams)
            for (int64_t b = 0; b < nb; ++b) {
                const T* part = blocks_[(size_t)b].gp.data();
                for (int64_t i = 0; i < np; ++i) gp[i] += part[i];
            }
        if (wants & graph::kWantTime)
            for (int64_t b = 0; b < nb; ++b) *gt += (double)blocks_[(size_t)b].gt;
        return;
    }
    std::unique_ptr<graph::Executor<T>>& ex = vjp_[wants];
    if (!ex) ex = make_vjp(wants, true);
    outs_.clear();
    outs_.push_back(gz);
    if (wants & graph::kWantValue) outs_.push_back(dz);
    if (wants & graph::kWantParams)
        for (const graph::Param& p : params) outs_.push_back(gp + p.offset);
    if (wants & graph::kWantTime) outs_.push_back(&gt_);
    const T* args[2] = {z, v};
    ex->run(params_, t, args, batch, outs_.data());
    if (gt) *gt += (double)gt_;
}

template <class T>
void GraphField<T>::jvp(double t, const T* z, const T* u, int64_t batch, T* out) {
    check(batch, z, u, out, "jvp: z, u and out");
    if (batch == 0) return;
    const int64_t nb = blocks_for(batch);
    if (nb > 1) {
        const int64_t rows = block_rows(batch), din = dim(), dout = dim_out();
        parallel_for(nb, [&](int64_t b) {
            Block& blk = blocks_[(size_t)b];
            if (!blk.jvp) blk.jvp = std::make_unique<graph::Executor<T>>(program_->jvp_program());
            const int64_t r0 = b * rows;
            const T* args[2] = {z + r0 * din, u + r0 * din};
            T* outs[1] = {out + r0 * dout};
            const int64_t len = std::min(rows, batch - r0);
            run_block(r0, len, [&] { blk.jvp->run(params_, t, args, len, outs); });
        });
        return;
    }
    if (!jvp_) jvp_ = std::make_unique<graph::Executor<T>>(program_->jvp_program());
    const T* args[2] = {z, u};
    T* outs[1] = {out};
    jvp_->run(params_, t, args, batch, outs);
}

template class GraphField<float>;
template class GraphField<double>;

}  // namespace jdyn
