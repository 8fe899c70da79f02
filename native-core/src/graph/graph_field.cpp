// GraphField: a program as the DiffField of the engine and the sensitivities.
#include "graph/graph_field.h"

#include <climits>

#include "graph/lower_layers.h"
#include "nn/program.h"
#include "status.h"

namespace jdyn {

template <class T>
GraphField<T>::GraphField(std::shared_ptr<const graph::CompiledProgram> program, const T* params)
    : program_(std::move(program)) {
    if (!program_->is_map())
        fail(JDYN_ERR_ARGUMENT, "a field needs a program of one batched argument and one batched output");
    bind_params(params);
    // OpenBLAS's thread count is applied lazily (blas.cpp); make sure it is before the first GEMM.
    (void)jdyn_get_num_threads();
    fwd_ = std::make_unique<graph::Executor<T>>(program_->graph_ptr());
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
    const T* args[1] = {z};
    T* outs[1] = {out};
    fwd_->run(params_, t, args, batch, outs);
}

template <class T>
void GraphField<T>::vjp(double t, const T* z, const T* v, int64_t batch, T* gz, T* gp, double* gt, T* dz) {
    check(batch, z, v, gz, "vjp: z, v and gz");
    if (batch == 0) return;
    const int wants = (gp && num_params() > 0 ? graph::kWantParams : 0) | (gt ? graph::kWantTime : 0) |
                      (dz ? graph::kWantValue : 0);
    std::unique_ptr<graph::Executor<T>>& ex = vjp_[wants];
    const auto& params = program_->graph().params();
    if (!ex) {
        std::vector<bool> acc{false};
        if (wants & graph::kWantValue) acc.push_back(false);
        if (wants & graph::kWantParams) acc.insert(acc.end(), params.size(), true);
        if (wants & graph::kWantTime) acc.push_back(false);
        ex = std::make_unique<graph::Executor<T>>(program_->vjp_program(wants), acc);
    }
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
    if (!jvp_) jvp_ = std::make_unique<graph::Executor<T>>(program_->jvp_program());
    const T* args[2] = {z, u};
    T* outs[1] = {out};
    jvp_->run(params_, t, args, batch, outs);
}

template class GraphField<float>;
template class GraphField<double>;

}  // namespace jdyn
