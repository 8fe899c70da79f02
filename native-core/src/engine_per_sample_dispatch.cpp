// solve()'s per-sample branch (engine_per_sample.h): which loop runs, the row-time field's adapter for
// the shared engine, and the per-row statistics of shared-step solves.
#include <vector>

#include "engine_per_sample.h"
#include "status.h"

namespace jdyn {

namespace {

// A scalar field over a row-time one: every row at the one time the shared engine asks for.
struct RowsAdapter {
    jdyn_field_rows_fn rows;
    void* ctx;
    std::vector<double> t;
};

int32_t rows_adapter(void* ctx, double t, const void* z, void* dz, int64_t batch, int64_t dim) {
    auto* a = static_cast<RowsAdapter*>(ctx);
    a->t.assign((size_t)batch, t);
    return a->rows(a->ctx, a->t.data(), z, dz, batch, dim);
}

void fill_shared(const jdyn_solve_config& cfg, const jdyn_solve_stats& st) {
    if (!cfg.per_sample || !cfg.sample_stats) return;
    for (int64_t b = 0; b < cfg.batch; ++b) {
        cfg.sample_stats[3 * b] = st.nfe;
        cfg.sample_stats[3 * b + 1] = st.accepted;
        cfg.sample_stats[3 * b + 2] = st.rejected;
    }
}

}  // namespace

void solve_rows(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys, void* event_state,
                jdyn_solve_stats& st, std::unique_ptr<DenseOutput>* dense, StepObserver* observer, bool avx2,
                SharedEngineFn shared) {
    if (cfg.per_sample && cfg.adaptive) {
        if (observer)
            fail(JDYN_ERR_ARGUMENT, "per-sample stepping is not available to gradient solves through this path");
        if (avx2)
            isa_avx2::run_per_sample(cfg, tab, y0, ys, st);
        else
            isa_base::run_per_sample(cfg, tab, y0, ys, st);
        return;
    }
    jdyn_solve_config c = cfg;
    RowsAdapter adapter{cfg.field_rows, cfg.field_rows_ctx, {}};
    if (!c.field) {
        c.field = rows_adapter;
        c.field_ctx = &adapter;
    }
    try {
        shared(c, tab, y0, ys, event_state, st, dense, observer);
    } catch (...) {
        fill_shared(cfg, st);
        throw;
    }
    fill_shared(cfg, st);
}

}  // namespace jdyn
