#include "validate.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "method_registry.h"
#include "status.h"

namespace jdyn {

namespace {

[[noreturn]] void bad(const std::string& message) { fail(JDYN_ERR_ARGUMENT, message); }

std::string num(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

void check_positive_vector(const double* v, int64_t n, const char* name) {
    for (int64_t i = 0; i < n; ++i) {
        if (!(std::isfinite(v[i]) && v[i] > 0))
            bad(std::string(name) + "[" + std::to_string(i) + "] must be finite and > 0, got " + num(v[i]));
    }
}

// Times strictly monotone in the direction dir (+1 or -1).
void check_monotone(const double* v, int64_t n, double dir, const char* name) {
    for (int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(v[i])) bad(std::string(name) + "[" + std::to_string(i) + "] is not finite: " + num(v[i]));
        if (i > 0 && !((v[i] - v[i - 1]) * dir > 0))
            bad(std::string(name) + " must be strictly " + (dir > 0 ? "increasing" : "decreasing") + ": " + name +
                "[" + std::to_string(i) + "]=" + num(v[i]) + " after " + name + "[" + std::to_string(i - 1) +
                "]=" + num(v[i - 1]));
    }
}

template <class T>
void check_finite_state(const T* y0, int64_t batch, int64_t dim) {
    for (int64_t i = 0; i < batch * dim; ++i) {
        if (!std::isfinite((double)y0[i]))
            bad("y0 has a non-finite value " + num((double)y0[i]) + " at [" + std::to_string(i / dim) + ", " +
                std::to_string(i % dim) + "]");
    }
}

}  // namespace

const ButcherTableau& validate_config(const jdyn_solve_config& c, const void* y0) {
    const ButcherTableau* tab = tableau_for(c.method);
    if (!tab) bad("unknown method number " + std::to_string(c.method));
    if (c.dtype != JDYN_FLOAT32 && c.dtype != JDYN_FLOAT64)
        bad("dtype must be float32 (0) or float64 (1), got " + std::to_string(c.dtype));
    if (c.batch < 1 || c.dim < 1)
        bad("the state must be [batch, dim] with both >= 1, got [" + std::to_string(c.batch) + ", " +
            std::to_string(c.dim) + "]");
    if (c.batch > (int64_t(1) << 40) / c.dim) bad("the state [batch, dim] is too large");
    if (!c.field && !c.field_rows) bad("no vector field given");
    if (!y0) bad("no initial state given");
    if (!c.times || c.n_times < 2) bad("at least two times are needed (t0 and one output time), got " +
                                       std::to_string(c.times ? c.n_times : 0));
    if (!std::isfinite(c.times[0]) || !std::isfinite(c.times[1])) bad("times must be finite");
    const double dir = c.times[1] > c.times[0] ? 1.0 : -1.0;
    check_monotone(c.times, c.n_times, dir, "times");

    if (c.adaptive) {
        if (tab->error_order == 0)
            bad("method " + tab->name + " has no error estimate, so it cannot step adaptively: give a step (dt) "
                "or a grid");
        if (c.rtol_vec)
            check_positive_vector(c.rtol_vec, c.dim, "rtol");
        else if (!(std::isfinite(c.rtol) && c.rtol > 0))
            bad("rtol must be finite and > 0, got " + num(c.rtol));
        if (c.atol_vec)
            check_positive_vector(c.atol_vec, c.dim, "atol");
        else if (!(std::isfinite(c.atol) && c.atol > 0))
            bad("atol must be finite and > 0, got " + num(c.atol));
        if (!(std::isfinite(c.dt) && c.dt >= 0)) bad("the initial step dt must be >= 0 (0 = automatic), got " + num(c.dt));
        if (!(std::isfinite(c.min_step) && c.min_step >= 0)) bad("min_step must be >= 0, got " + num(c.min_step));
        if (!(std::isfinite(c.max_step) && c.max_step >= 0)) bad("max_step must be >= 0 (0 = none), got " + num(c.max_step));
        if (c.max_step > 0 && c.min_step > c.max_step)
            bad("min_step " + num(c.min_step) + " is larger than max_step " + num(c.max_step));
        if (!(c.safety > 0 && c.safety <= 1)) bad("safety must be in (0, 1], got " + num(c.safety));
        if (!(c.ifactor >= 1 && std::isfinite(c.ifactor))) bad("ifactor must be >= 1, got " + num(c.ifactor));
        if (!(c.dfactor > 0 && c.dfactor <= 1)) bad("dfactor must be in (0, 1], got " + num(c.dfactor));
        if (!std::isfinite(c.pcoeff) || !std::isfinite(c.icoeff) || !std::isfinite(c.dcoeff))
            bad("controller coefficients must be finite");
        if (c.pcoeff + c.icoeff + c.dcoeff <= 0)
            bad("controller coefficients must have pcoeff + icoeff + dcoeff > 0, got " + num(c.pcoeff) + ", " +
                num(c.icoeff) + ", " + num(c.dcoeff));
        if (c.n_step_ts > 0) {
            if (!c.step_ts) bad("step_ts is NULL with n_step_ts > 0");
            check_monotone(c.step_ts, c.n_step_ts, dir, "step_ts");
        }
        if (c.norm_weights) {
            int64_t count = 0;
            for (int64_t d = 0; d < c.dim; ++d) {
                const double w = c.norm_weights[d];
                if (!(w >= 0 && w <= 64 && w == std::floor(w)))
                    bad("norm weights are group numbers, integers in [0, 64], got " + num(w) + " at component " +
                        std::to_string(d));
                if (w != 0.0) ++count;
            }
            if (count == 0) bad("the norm counts no component: at least one norm weight must be positive");
        }
    } else if (c.grid) {
        if (c.n_grid < 2) bad("a grid needs at least two times, got " + std::to_string(c.n_grid));
        check_monotone(c.grid, c.n_grid, dir, "grid");
        if (c.grid[0] != c.times[0] || c.grid[c.n_grid - 1] != c.times[c.n_times - 1])
            bad("the grid must start at t0=" + num(c.times[0]) + " and end at t1=" + num(c.times[c.n_times - 1]) +
                ", got [" + num(c.grid[0]) + ", " + num(c.grid[c.n_grid - 1]) + "]");
    } else {
        if (!(std::isfinite(c.dt) && c.dt > 0))
            bad("fixed-step solving with " + tab->name + " needs a step dt > 0 or a grid, got dt=" + num(c.dt));
    }
    if (c.per_sample != 0 && c.per_sample != 1) bad("per_sample must be 0 or 1, got " + std::to_string(c.per_sample));
    if (c.per_sample && c.adaptive && c.event)
        bad("per-sample stepping cannot have a terminal event: the event function is one value for the whole "
            "batch, but each row is at its own time (solve without per_sample, or one row at a time)");
    if (c.per_sample && c.adaptive && c.dense)
        bad("per-sample stepping does not keep the dense interpolant: each row has its own steps (ask for output "
            "times instead, or solve without per_sample)");
    if (c.max_steps < 0) bad("max_steps must be >= 0 (0 = unlimited), got " + std::to_string(c.max_steps));
    if (c.event) {
        if (!(std::isfinite(c.event_tol) && c.event_tol > 0)) bad("event_tol must be > 0, got " + num(c.event_tol));
        if (!(std::isfinite(c.event_max_check) && c.event_max_check >= 0))
            bad("event_max_check must be >= 0 (0 = step ends only), got " + num(c.event_max_check));
        if (c.event_direction < -1 || c.event_direction > 1)
            bad("event_direction must be -1, 0 or 1, got " + std::to_string(c.event_direction));
    }
    if (c.dtype == JDYN_FLOAT32)
        check_finite_state(static_cast<const float*>(y0), c.batch, c.dim);
    else
        check_finite_state(static_cast<const double*>(y0), c.batch, c.dim);
    return *tab;
}

}  // namespace jdyn
