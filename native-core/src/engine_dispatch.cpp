// Picks the engine variant for this CPU once, then validates and runs each solve.
#include <cstring>

#include "engine.h"
#include "engine_per_sample.h"
#include "engine_variants.h"
#include "validate.h"

namespace jdyn {

namespace {
using EngineFn = void (*)(const jdyn_solve_config&, const ButcherTableau&, const void*, void*, void*,
                          jdyn_solve_stats&, std::unique_ptr<DenseOutput>*, StepObserver*);

EngineFn pick() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return isa_avx2::run_engine;
    return isa_base::run_engine;
}
}  // namespace

const char* engine_variant() { return pick() == isa_avx2::run_engine ? "avx2+fma" : "x86-64-v2"; }

void solve(const jdyn_solve_config& cfg, const void* y0, void* ys, void* event_state, jdyn_solve_stats& st,
           std::unique_ptr<DenseOutput>* dense, StepObserver* observer) {
    static const EngineFn engine = pick();
    std::memset(&st, 0, sizeof st);
    st.bad_index = -1;
    const ButcherTableau& tab = validate_config(cfg, y0);
    if (cfg.per_sample || !cfg.field) {
        solve_rows(cfg, tab, y0, ys, event_state, st, dense, observer, engine == isa_avx2::run_engine, engine);
        return;
    }
    engine(cfg, tab, y0, ys, event_state, st, dense, observer);
}

}  // namespace jdyn
