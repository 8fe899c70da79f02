// The C ABI of solves with gradients: jdyn_program_solve, jdyn_diff_field_solve and jdyn_tape_*.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "engine.h"
#include "jdyn.h"
#include "nn/program_handle.h"
#include "sensitivity/curvature.h"
#include "sensitivity/per_sample.h"
#include "sensitivity/tape.h"
#include "status.h"

namespace jdyn {
namespace {

// A differentiable field whose forward pass and VJP are callbacks (a Java field with its own VJP).
template <class T>
class CallbackField final : public DiffField<T> {
public:
    CallbackField(const jdyn_diff_field& f, int64_t dim) : f_(f), dim_(dim) {}
    int64_t dim() const override { return dim_; }
    int64_t num_params() const override { return f_.n_params; }

    void forward(double t, const T* z, T* dz, int64_t batch) override {
        const int32_t rc = f_.forward(f_.forward_ctx, t, z, dz, batch, dim_);
        if (rc != 0) fail(JDYN_ERR_CALLBACK, "the vector field reported failure (code " + std::to_string(rc) + ")");
    }

    void vjp(double t, const T* z, const T* v, int64_t batch, T* gz, T* gp, double* gt, T* dz) override {
        if (dz) forward(t, z, dz, batch);
        const int32_t rc = f_.vjp(f_.vjp_ctx, t, z, v, batch, dim_, gz, gp, gt);
        if (rc != 0) fail(JDYN_ERR_CALLBACK, "the vector field's VJP reported failure (code " + std::to_string(rc) + ")");
    }

    void jvp(double, const T*, const T*, int64_t, T*) override {
        fail(JDYN_ERR_ARGUMENT, "a vector field given by callbacks has no JVP");
    }

private:
    jdyn_diff_field f_;
    int64_t dim_;
};

class CallbackIntegral final : public IntegralLoss {
public:
    CallbackIntegral(jdyn_integral_fn fn, void* ctx) : fn_(fn), ctx_(ctx) {}
    void evaluate(double t, const void* z, int64_t batch, int64_t dim, double* value, void* grad) override {
        const int32_t rc = fn_(ctx_, t, z, batch, dim, value, grad);
        if (rc != 0) fail(JDYN_ERR_CALLBACK, "the integral loss reported failure (code " + std::to_string(rc) + ")");
        if (!std::isfinite(*value)) fail(JDYN_ERR_NON_FINITE, "the integral loss returned a non-finite value");
    }

private:
    jdyn_integral_fn fn_;
    void* ctx_;
};

template <class T>
int32_t diff_field_fn(void* ctx, double t, const void* z, void* dz, int64_t batch, int64_t) {
    static_cast<DiffField<T>*>(ctx)->forward(t, static_cast<const T*>(z), static_cast<T*>(dz), batch);
    return 0;
}

}  // namespace
}  // namespace jdyn

// What a caller holds between the forward and the backward pass.
struct jdyn_tape {
    std::shared_ptr<void> field;              // the DiffField<T> the tape differentiates
    std::unique_ptr<jdyn::IntegralLoss> integral;
    std::unique_ptr<jdyn::TapeBase> tape;
    jdyn::BackwardOptions options;
    // A program's solve: the program and parameters (SNOpt's factor program runs on them).
    std::shared_ptr<const jdyn::graph::CompiledProgram> program;
    const void* params = nullptr;
    int64_t dtype = JDYN_FLOAT32;
    bool per_sample = false;  // one sub-tape per batch row (sensitivity/per_sample.h)
};

namespace {

void check_grad_options(const jdyn_grad_options* g) {
    if (!g) return;
    if (g->sensitivity < JDYN_SENS_AUTOGRAD || g->sensitivity > JDYN_SENS_INTERPOLATED_ADJOINT)
        jdyn::fail(JDYN_ERR_ARGUMENT, "unknown sensitivity " + std::to_string(g->sensitivity) +
                                          " (0 autograd, 1 adjoint, 2 interpolated_adjoint)");
    if (!(g->rtol >= 0) || !(g->atol >= 0))
        jdyn::fail(JDYN_ERR_ARGUMENT, "backward tolerances must be >= 0 (0 = the forward solve's)");
    if (g->max_steps < 0) jdyn::fail(JDYN_ERR_ARGUMENT, "backward max_steps must be >= 0");
}

// Runs a solve of `field` (a DiffField<T> in `holder`), with a tape when one is asked for.
template <class T>
void solve_field(const jdyn_solve_config& config, std::shared_ptr<void> holder, jdyn::DiffField<T>* field,
                 const jdyn_grad_options* grad, const void* y0, void* ys, jdyn_solve_stats* stats,
                 double* integral_value, jdyn_tape** tape_out,
                 std::shared_ptr<const jdyn::graph::CompiledProgram> program = nullptr,
                 const jdyn::FieldMaker<T>& make_field = nullptr) {
    if (!stats || !ys || !y0) jdyn::fail(JDYN_ERR_ARGUMENT, "y0, ys and stats must not be NULL");
    check_grad_options(grad);
    if (field->dim() != config.dim)
        jdyn::fail(JDYN_ERR_ARGUMENT, "the vector field maps width " + std::to_string(field->dim()) +
                                          " but the state has dim " + std::to_string(config.dim));
    const bool per_sample = jdyn::steps_per_sample(config);
    if (per_sample && grad && grad->integral)
        jdyn::fail(JDYN_ERR_ARGUMENT, "an integral loss callback returns one value for the whole batch: a per-sample "
                                      "solve refuses it (give each sample its running cost as a state column, as "
                                      "NeuralODE's integralLoss does, or solve with per_sample = 0)");
    std::unique_ptr<jdyn::IntegralLoss> integral;
    if (grad && grad->integral) integral = std::make_unique<jdyn::CallbackIntegral>(grad->integral, grad->integral_ctx);
    if (per_sample && !tape_out) {
        // Inference, every row alone; the same row solves as the taped path's, so outputs agree bitwise.
        jdyn::solve_per_sample<T>(config, field, make_field, static_cast<const T*>(y0), static_cast<T*>(ys), *stats);
        if (integral_value) *integral_value = 0;
        return;
    }
    if (!tape_out && !integral) {
        // Inference: the field runs natively inside the engine; no tape.
        jdyn_solve_config c = config;
        c.field = jdyn::diff_field_fn<T>;
        c.field_ctx = field;
        jdyn::solve(c, y0, ys, nullptr, *stats, nullptr);
        if (integral_value) *integral_value = 0;
        return;
    }
    const int64_t sens = grad ? grad->sensitivity : (int64_t)JDYN_SENS_ADJOINT;
    auto t = std::make_unique<jdyn_tape>();
    t->field = std::move(holder);
    t->integral = std::move(integral);
    t->dtype = config.dtype;
    if (program) {
        t->program = std::move(program);
        t->params = static_cast<jdyn::GraphField<T>*>(field)->params();
    }
    if (grad) {
        t->options.seminorm = grad->seminorm != 0;
        t->options.rtol = grad->rtol;
        t->options.atol = grad->atol;
        t->options.max_steps = grad->max_steps;
    }
    if (per_sample) {
        t->per_sample = true;
        t->tape = jdyn::per_sample_forward_with_tape<T>(config, sens, field, make_field, static_cast<const T*>(y0),
                                                         static_cast<T*>(ys), *stats);
        if (integral_value) *integral_value = 0;
    } else {
        t->tape = jdyn::forward_with_tape<T>(config, sens, field, static_cast<const T*>(y0), static_cast<T*>(ys),
                                             *stats, t->integral.get(), integral_value);
    }
    if (tape_out) *tape_out = t.release();
}

// A program's solve: inference reuses this thread's cached field (no workspace to allocate and zero
// per solve); a solve with a tape owns a field of its own for as long as the tape lives.
template <class T>
void solve_program(const jdyn_solve_config& config, const jdyn_program* program, const T* params, bool inference,
                   const jdyn_grad_options* grad, const void* y0, void* ys, jdyn_solve_stats* stats,
                   double* integral_value, jdyn_tape** tape) {
    // A per-sample solve's row blocks each run on a field of their own over the same program and
    // parameters (a GraphField's executors are not shared between threads).
    jdyn::FieldMaker<T> make_field;
    if (jdyn::steps_per_sample(config)) {
        jdyn::require_rows_independent(program->compiled->graph());
        make_field = [compiled = program->compiled, params] {
            return std::unique_ptr<jdyn::DiffField<T>>(std::make_unique<jdyn::GraphField<T>>(compiled, params));
        };
    }
    if (inference) {
        jdyn_program_require_field(program);
        jdyn::GraphField<T>& f = jdyn_program_cached_field<T>(program, params);
        solve_field<T>(config, nullptr, &f, grad, y0, ys, stats, integral_value, nullptr, nullptr, make_field);
        return;
    }
    std::shared_ptr<jdyn::DiffField<T>> f = jdyn_program_field<T>(program, params);
    solve_field<T>(config, f, f.get(), grad, y0, ys, stats, integral_value, tape, program->compiled, make_field);
}

template <class T>
void backward_curvature(jdyn_tape* tape, const void* ys_cotangent, void* g_y0, void* g_params, double* g_times,
                        jdyn::BackwardStats& st, double sample_step, double* factors, int64_t* samples) {
    jdyn::KfacCollector<T> collector(tape->program, static_cast<const T*>(tape->params), sample_step, factors);
    jdyn::BackwardOptions opt = tape->options;
    opt.curvature = &collector;
    opt.sample_step = sample_step;
    tape->tape->backward(ys_cotangent, opt, tape->integral.get(), g_y0, g_params, g_times, st);
    const int64_t n = collector.finish();
    if (samples) *samples = n;
}

}  // namespace

extern "C" {

int32_t jdyn_program_solve(const jdyn_solve_config* config, const jdyn_program* program, const void* params,
                           const jdyn_grad_options* grad, const void* y0, void* ys, jdyn_solve_stats* stats,
                           double* integral_value, jdyn_tape** tape) {
    if (tape) *tape = nullptr;
    return jdyn::guarded([&] {
        if (!config || !program || !params) jdyn::fail(JDYN_ERR_ARGUMENT, "config, program and params must not be NULL");
        if (config->dtype != jdyn_program_dtype(program))
            jdyn::fail(JDYN_ERR_ARGUMENT, "the program's dtype differs from the solve's");
        const bool inference = !tape && !(grad && grad->integral);
        if (config->dtype == JDYN_FLOAT32)
            solve_program<float>(*config, program, static_cast<const float*>(params), inference, grad, y0, ys, stats,
                                 integral_value, tape);
        else
            solve_program<double>(*config, program, static_cast<const double*>(params), inference, grad, y0, ys,
                                  stats, integral_value, tape);
    });
}

int32_t jdyn_diff_field_solve(const jdyn_solve_config* config, const jdyn_diff_field* field,
                              const jdyn_grad_options* grad, const void* y0, void* ys, jdyn_solve_stats* stats,
                              double* integral_value, jdyn_tape** tape) {
    if (tape) *tape = nullptr;
    return jdyn::guarded([&] {
        if (!config || !field || !field->forward || !field->vjp)
            jdyn::fail(JDYN_ERR_ARGUMENT, "config, field, field->forward and field->vjp must not be NULL");
        if (field->n_params < 0) jdyn::fail(JDYN_ERR_ARGUMENT, "n_params must be >= 0");
        if (config->dtype == JDYN_FLOAT32) {
            auto f = std::make_shared<jdyn::CallbackField<float>>(*field, config->dim);
            solve_field<float>(*config, f, f.get(), grad, y0, ys, stats, integral_value, tape);
        } else {
            auto f = std::make_shared<jdyn::CallbackField<double>>(*field, config->dim);
            solve_field<double>(*config, f, f.get(), grad, y0, ys, stats, integral_value, tape);
        }
    });
}

namespace {
// Writes a backward pass's counts to the caller's stats when it ends, failed or not: the counts up to a
// failure are part of its diagnosis.
struct BackwardReport {
    jdyn::BackwardStats& st;
    jdyn_backward_stats* out;
    ~BackwardReport() {
        if (out) {
            out->nfe = st.nfe;
            out->accepted = st.accepted;
            out->rejected = st.rejected;
        }
    }
};
}  // namespace

int32_t jdyn_tape_backward(jdyn_tape* tape, const void* ys_cotangent, void* g_y0, void* g_params, double* g_times,
                           jdyn_backward_stats* stats) {
    return jdyn::guarded([&] {
        if (!tape) jdyn::fail(JDYN_ERR_ARGUMENT, "tape must not be NULL");
        jdyn::BackwardStats st;
        BackwardReport report{st, stats};
        tape->tape->backward(ys_cotangent, tape->options, tape->integral.get(), g_y0, g_params, g_times, st);
    });
}

int32_t jdyn_tape_backward_curvature(jdyn_tape* tape, const void* ys_cotangent, void* g_y0, void* g_params,
                                     double* g_times, jdyn_backward_stats* stats, double sample_step, double* factors,
                                     int64_t* samples) {
    if (samples) *samples = 0;
    return jdyn::guarded([&] {
        if (!tape || !factors) jdyn::fail(JDYN_ERR_ARGUMENT, "tape and factors must not be NULL");
        if (tape->per_sample)
            jdyn::fail(JDYN_ERR_ARGUMENT, "second-order statistics (SNOpt) are not collected by a per-sample solve: "
                                          "their factors average over the batch at shared times (solve with "
                                          "per_sample = 0)");
        if (!tape->program)
            jdyn::fail(JDYN_ERR_ARGUMENT, "second-order statistics need a program's solve (jdyn_program_solve), "
                                          "not a field given by callbacks");
        if (!(sample_step > 0) || !std::isfinite(sample_step))
            jdyn::fail(JDYN_ERR_ARGUMENT, "sample_step must be finite and > 0, got " + std::to_string(sample_step));
        jdyn::BackwardStats st;
        BackwardReport report{st, stats};
        if (tape->dtype == JDYN_FLOAT32)
            backward_curvature<float>(tape, ys_cotangent, g_y0, g_params, g_times, st, sample_step, factors, samples);
        else
            backward_curvature<double>(tape, ys_cotangent, g_y0, g_params, g_times, st, sample_step, factors, samples);
    });
}

int32_t jdyn_program_layer_factors(const jdyn_program* program, const void* params, double t, const void* x,
                                   const void* y_cotangent, int64_t batch, double* factors) {
    return jdyn::guarded([&] {
        jdyn_program_get(program);  // refuses a NULL or freed handle
        if (!params || !x || !y_cotangent || !factors)
            jdyn::fail(JDYN_ERR_ARGUMENT, "params, x, y_cotangent and factors must not be NULL");
        if (batch <= 0) jdyn::fail(JDYN_ERR_ARGUMENT, "batch must be > 0, got " + std::to_string(batch));
        if (!std::isfinite(t)) jdyn::fail(JDYN_ERR_ARGUMENT, "t must be finite, got " + std::to_string(t));
        // One sample of the batch, as the original's forward-pre and backward hooks on a layer outside
        // the ODEs: gy = batch * dL/d(layer output), no sampling step.
        if (jdyn_program_dtype(program) == JDYN_FLOAT32) {
            jdyn::KfacCollector<float> c(program->compiled, static_cast<const float*>(params), 1.0, factors);
            c.observe(t, x, y_cotangent, batch);
            c.finish();
        } else {
            jdyn::KfacCollector<double> c(program->compiled, static_cast<const double*>(params), 1.0, factors);
            c.observe(t, x, y_cotangent, batch);
            c.finish();
        }
    });
}

int32_t jdyn_program_linear_layers(const jdyn_program* program, int64_t* out, int64_t capacity, int64_t* count) {
    return jdyn::guarded([&] {
        const jdyn::graph::CompiledProgram& p = jdyn_program_get(program);
        if (!count) jdyn::fail(JDYN_ERR_ARGUMENT, "count must not be NULL");
        const std::vector<jdyn::LinearLayer> layers = jdyn::linear_layers(p.graph());
        *count = (int64_t)layers.size();
        if (!out) return;
        if (capacity < (int64_t)layers.size())
            jdyn::fail(JDYN_ERR_ARGUMENT, "out holds " + std::to_string(capacity) + " layers, " +
                                              std::to_string(layers.size()) + " needed");
        for (size_t i = 0; i < layers.size(); ++i) {
            int64_t* r = out + 6 * i;
            r[0] = layers[i].in;
            r[1] = layers[i].out;
            r[2] = layers[i].weight;
            r[3] = layers[i].bias;
            r[4] = layers[i].weight_offset;
            r[5] = layers[i].bias_offset;
        }
    });
}

int32_t jdyn_tape_info(const jdyn_tape* tape, int64_t* steps, int64_t* bytes) {
    return jdyn::guarded([&] {
        if (!tape) jdyn::fail(JDYN_ERR_ARGUMENT, "tape must not be NULL");
        if (steps) *steps = tape->tape->steps();
        if (bytes) *bytes = tape->tape->bytes();
    });
}

int32_t jdyn_tape_step_times(const jdyn_tape* tape, double* out) {
    return jdyn::guarded([&] {
        if (!tape || !out) jdyn::fail(JDYN_ERR_ARGUMENT, "tape and out must not be NULL");
        if (tape->per_sample) tape->tape->step_times(out);  // refuses: one sequence of steps per row
        if (tape->tape->steps() == 0) jdyn::fail(JDYN_ERR_ARGUMENT, "only an autograd tape records its steps");
        tape->tape->step_times(out);
    });
}

void jdyn_tape_free(jdyn_tape* tape) { delete tape; }

}  // extern "C"
