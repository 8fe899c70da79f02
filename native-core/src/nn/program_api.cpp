// The C ABI of layer programs (jdyn.h, "Layer programs"): argument checks and dtype dispatch.
//
// The one-shot entry points (forward, vjp, jvp) reuse a per-thread ProgramField for the program used
// last on that thread, so calling them in a loop does not reallocate the workspace; programs are
// told apart by an id that is never reused (not by address, which a freed program's successor may
// share).
#include <atomic>
#include <memory>
#include <string>

#include "jdyn.h"
#include "nn/program.h"
#include "nn/program_handle.h"  // struct jdyn_program
#include "status.h"

static_assert(sizeof(jdyn_layer_spec) == 7 * 8, "jdyn_layer_spec changed: update the Java layout");

namespace {

std::atomic<uint64_t> next_program_id{1};

const jdyn::Program& checked(const jdyn_program* program) { return jdyn_program_get(program); }

void check_params(const jdyn_program* program, const void* params) {
    if (!params && program->program.num_params() > 0)
        jdyn::fail(JDYN_ERR_ARGUMENT, "params must not be NULL: the program has " +
                                          std::to_string(program->program.num_params()) + " parameters");
}

void check_batch(int64_t batch) {
    if (batch < 1 || batch > INT32_MAX)
        jdyn::fail(JDYN_ERR_ARGUMENT, "batch must be in [1, 2^31), got " + std::to_string(batch));
}

template <class T>
jdyn::ProgramField<T>& field_for(const jdyn_program* program, const void* params) {
    return jdyn_program_cached_field<T>(program, static_cast<const T*>(params));
}

}  // namespace

extern "C" {

int32_t jdyn_program_create(const jdyn_layer_spec* layers, int64_t n_layers, int64_t dtype, int64_t dim_in,
                            jdyn_program** out) {
    if (out) *out = nullptr;
    return jdyn::guarded([&] {
        if (!out) jdyn::fail(JDYN_ERR_ARGUMENT, "out must not be NULL");
        if (dtype != JDYN_FLOAT32 && dtype != JDYN_FLOAT64)
            jdyn::fail(JDYN_ERR_ARGUMENT, "dtype must be 0 (float32) or 1 (float64), got " + std::to_string(dtype));
        jdyn::Program program(layers, n_layers, dim_in);
        *out = new jdyn_program{std::move(program), dtype, next_program_id.fetch_add(1)};
    });
}

void jdyn_program_free(jdyn_program* program) { delete program; }

int32_t jdyn_program_info(const jdyn_program* program, int64_t* dim_in, int64_t* dim_out, int64_t* n_params) {
    return jdyn::guarded([&] {
        const jdyn::Program& p = checked(program);
        if (dim_in) *dim_in = p.dim_in();
        if (dim_out) *dim_out = p.dim_out();
        if (n_params) *n_params = p.num_params();
    });
}

int32_t jdyn_program_layer_params(const jdyn_program* program, int64_t layer, int64_t* offset, int64_t* count) {
    return jdyn::guarded([&] {
        const jdyn::Program& p = checked(program);
        if (layer < 0 || layer >= p.num_layers())
            jdyn::fail(JDYN_ERR_ARGUMENT, "layer " + std::to_string(layer) + " is out of range [0, " +
                                              std::to_string(p.num_layers()) + ")");
        if (offset) *offset = p.layer(layer).param_offset;
        if (count) *count = p.layer(layer).param_count;
    });
}

int32_t jdyn_program_init_params(const jdyn_program* program, uint64_t seed, void* params) {
    return jdyn::guarded([&] {
        const jdyn::Program& p = checked(program);
        check_params(program, params);
        if (program->dtype == JDYN_FLOAT32)
            p.init_params(seed, static_cast<float*>(params));
        else
            p.init_params(seed, static_cast<double*>(params));
    });
}

int32_t jdyn_program_forward(const jdyn_program* program, const void* params, double t, const void* z,
                             int64_t batch, void* out) {
    return jdyn::guarded([&] {
        checked(program);
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
        checked(program);
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
        checked(program);
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
