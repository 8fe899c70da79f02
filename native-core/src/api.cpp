// The C ABI of jdyn.h: argument plumbing only; every body runs inside guarded() so that no C++
// exception crosses into the JVM.
#include <memory>

#include "dense.h"
#include "engine.h"
#include "jdyn.h"
#include "method_registry.h"
#include "status.h"

// The Java side (ffm-bindings SolveStructs) describes these structs field by field; the sizes are
// pinned here and there so that a field added on one side only fails the build.
static_assert(sizeof(jdyn_solve_config) == 38 * 8, "jdyn_solve_config changed: update SolveStructs.CONFIG");
static_assert(sizeof(jdyn_solve_stats) == 13 * 8, "jdyn_solve_stats changed: update SolveStructs.STATS");

struct jdyn_dense {
    std::unique_ptr<jdyn::DenseOutput> impl;
};

#ifndef JDYN_VERSION
#define JDYN_VERSION "0.0.0-dev"
#endif

extern "C" {

const char* jdyn_version(void) { return JDYN_VERSION; }

int32_t jdyn_solve(const jdyn_solve_config* config, const void* y0, void* ys, void* event_state,
                   jdyn_solve_stats* stats, jdyn_dense** dense_out) {
    if (dense_out) *dense_out = nullptr;
    return jdyn::guarded([&] {
        if (!config || !stats || !ys) jdyn::fail(JDYN_ERR_ARGUMENT, "config, ys and stats must not be NULL");
        std::unique_ptr<jdyn::DenseOutput> dense;
        try {
            jdyn::solve(*config, y0, ys, event_state, *stats, config->dense ? &dense : nullptr);
        } catch (...) {
            if (dense && dense_out) *dense_out = new jdyn_dense{std::move(dense)};
            throw;
        }
        if (dense && dense_out) *dense_out = new jdyn_dense{std::move(dense)};
    });
}

int32_t jdyn_method_info(int64_t method, int64_t* order, int64_t* error_order, int64_t* stages,
                         int64_t* dense_degree) {
    return jdyn::guarded([&] {
        const jdyn::ButcherTableau* t = jdyn::tableau_for(method);
        if (!t) jdyn::fail(JDYN_ERR_ARGUMENT, "unknown method number " + std::to_string(method));
        if (order) *order = t->order;
        if (error_order) *error_order = t->error_order;
        if (stages) *stages = t->stages;
        if (dense_degree) *dense_degree = t->degree;
    });
}

int32_t jdyn_dense_eval(const jdyn_dense* dense, const double* ts, int64_t n, void* out) {
    return jdyn::guarded([&] {
        if (!dense || !ts || !out || n < 0) jdyn::fail(JDYN_ERR_ARGUMENT, "dense, ts and out must not be NULL");
        dense->impl->eval(ts, n, out);
    });
}

int32_t jdyn_dense_span(const jdyn_dense* dense, double* t_first, double* t_last, int64_t* steps) {
    return jdyn::guarded([&] {
        if (!dense) jdyn::fail(JDYN_ERR_ARGUMENT, "dense must not be NULL");
        if (t_first) *t_first = dense->impl->t_first();
        if (t_last) *t_last = dense->impl->t_last();
        if (steps) *steps = dense->impl->steps();
    });
}

void jdyn_dense_free(jdyn_dense* dense) { delete dense; }

}  // extern "C"
