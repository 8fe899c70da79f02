// The C ABI of layer programs (jdyn.h, "Layer programs"): argument checks and dtype dispatch.
//
// The one-shot entry points (forward, vjp, jvp) reuse a per-thread GraphField for the program used
// last on that thread, so calling them in a loop does not reallocate the workspace; programs are
// told apart by an id that is never reused (not by address, which a freed program's successor may
// share).
#include <atomic>
#include <memory>
#include <string>

#include "jdyn.h"
#include "graph/lower_layers.h"
#include "nn/program.h"
#include "nn/program_handle.h"  // struct jdyn_program
#include "status.h"

static_assert(sizeof(jdyn_layer_spec) == 7 * 8, "jdyn_layer_spec changed: update the Java layout");

namespace {

std::atomic<uint64_t> next_program_id{1};

const jdyn::graph::CompiledProgram& checked(const jdyn_program* program) { return jdyn_program_get(program); }

void check_params(const jdyn_program* program, const void* params) {
    const int64_t n = program->compiled->graph().num_param_elems();
    if (!params && n > 0)
        jdyn::fail(JDYN_ERR_ARGUMENT, "params must not be NULL: the program has " + std::to_string(n) + " parameters");
}

// One-shot forward/VJP/JVP need a program of one batched argument and one batched output.
void check_map(const jdyn_program* program) {
    if (!checked(program).is_map())
        jdyn::fail(JDYN_ERR_ARGUMENT, "forward, vjp and jvp take a program of one batched argument and one batched "
                                      "output; run other programs with jdyn_program_run");
}

void check_batch(int64_t batch) {
    if (batch < 1 || batch > INT32_MAX)
        jdyn::fail(JDYN_ERR_ARGUMENT, "batch must be in [1, 2^31), got " + std::to_string(batch));
}

template <class T>
jdyn::GraphField<T>& field_for(const jdyn_program* program, const void* params) {
    return jdyn_program_cached_field<T>(program, static_cast<const T*>(params));
}

}  // namespace

jdyn_program* jdyn_program_new(jdyn::graph::Graph finished, int64_t dtype,
                               std::vector<std::pair<int64_t, int64_t>> layer_params) {
    auto compiled = std::make_shared<const jdyn::graph::CompiledProgram>(std::move(finished));
    return new jdyn_program{std::move(compiled), dtype, next_program_id.fetch_add(1), std::move(layer_params)};
}

extern "C" {

int32_t jdyn_program_create(const jdyn_layer_spec* layers, int64_t n_layers, int64_t dtype, int64_t dim_in,
                            jdyn_program** out) {
    if (out) *out = nullptr;
    return jdyn::guarded([&] {
        if (!out) jdyn::fail(JDYN_ERR_ARGUMENT, "out must not be NULL");
        if (dtype != JDYN_FLOAT32 && dtype != JDYN_FLOAT64)
            jdyn::fail(JDYN_ERR_ARGUMENT, "dtype must be 0 (float32) or 1 (float64), got " + std::to_string(dtype));
        jdyn::Program program(layers, n_layers, dim_in);
        std::vector<std::pair<int64_t, int64_t>> layer_params;
        for (const jdyn::ProgramLayer& L : program.layers()) layer_params.push_back({L.param_offset, L.param_count});
        *out = jdyn_program_new(jdyn::graph::lower_layers(program), dtype, std::move(layer_params));
    });
}

void jdyn_program_free(jdyn_program* program) { delete program; }

int32_t jdyn_program_info(const jdyn_program* program, int64_t* dim_in, int64_t* dim_out, int64_t* n_params) {
    return jdyn::guarded([&] {
        const jdyn::graph::CompiledProgram& p = checked(program);
        if (dim_in) *dim_in = p.dim_in();
        if (dim_out) *dim_out = p.dim_out();
        if (n_params) *n_params = p.graph().num_param_elems();
    });
}

int32_t jdyn_program_layer_params(const jdyn_program* program, int64_t layer, int64_t* offset, int64_t* count) {
    return jdyn::guarded([&] {
        checked(program);
        const int64_t n = (int64_t)program->layer_params.size();
        if (layer < 0 || layer >= n)
            jdyn::fail(JDYN_ERR_ARGUMENT, "layer " + std::to_string(layer) + " is out of range [0, " + std::to_string(n) +
                                              ")" + (n == 0 ? " (the program was not made from layers)" : ""));
        if (offset) *offset = program->layer_params[(size_t)layer].first;
        if (count) *count = program->layer_params[(size_t)layer].second;
    });
}

int32_t jdyn_program_init_params(const jdyn_program* program, uint64_t seed, void* params) {
    return jdyn::guarded([&] {
        const jdyn::graph::CompiledProgram& p = checked(program);
        check_params(program, params);
        if (program->dtype == JDYN_FLOAT32)
            jdyn::graph::init_params(p.graph(), seed, static_cast<float*>(params));
        else
            jdyn::graph::init_params(p.graph(), seed, static_cast<double*>(params));
    });
}

int32_t jdyn_program_forward(const jdyn_program* program, const void* params, double t, const void* z,
                             int64_t batch, void* out) {
    return jdyn::guarded([&] {
        check_map(program);
        check_params(program, params);
        check_batch(batch);
        if (!z || !out) jdyn::fail(JDYN_ERR_ARGUMENT, "z and out must not be NULL");
        if (program->dtype == JDYN_FLOAT32)
            field_for<float>(program, params).forward(t, static_cast<const float*>(z), static_cast<float*>(out), batch);
        else
            field_for<double>(program, params)
                .forward(t, static_cast<const double*>(z), static_cast<double*>(out), batch);
    });
}

int32_t jdyn_program_vjp(const jdyn_program* program, const void* params, double t, const void* z, const void* v,
                         int64_t batch, void* gz, void* gparams, double* gt) {
    return jdyn::guarded([&] {
        check_map(program);
        check_params(program, params);
        check_batch(batch);
        if (!z || !v || !gz) jdyn::fail(JDYN_ERR_ARGUMENT, "z, v and gz must not be NULL");
        if (program->dtype == JDYN_FLOAT32)
            field_for<float>(program, params)
                .vjp(t, static_cast<const float*>(z), static_cast<const float*>(v), batch, static_cast<float*>(gz),
                     static_cast<float*>(gparams), gt, nullptr);
        else
            field_for<double>(program, params)
                .vjp(t, static_cast<const double*>(z), static_cast<const double*>(v), batch, static_cast<double*>(gz),
                     static_cast<double*>(gparams), gt, nullptr);
    });
}

int32_t jdyn_program_jvp(const jdyn_program* program, const void* params, double t, const void* z, const void* u,
                         int64_t batch, void* out) {
    return jdyn::guarded([&] {
        check_map(program);
        check_params(program, params);
        check_batch(batch);
        if (!z || !u || !out) jdyn::fail(JDYN_ERR_ARGUMENT, "z, u and out must not be NULL");
        if (program->dtype == JDYN_FLOAT32)
            field_for<float>(program, params)
                .jvp(t, static_cast<const float*>(z), static_cast<const float*>(u), batch, static_cast<float*>(out));
        else
            field_for<double>(program, params)
                .jvp(t, static_cast<const double*>(z), static_cast<const double*>(u), batch, static_cast<double*>(out));
    });
}

}  // extern "C"
