#include "sensitivity/tape.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "engine.h"
#include "method_registry.h"
#include "status.h"

namespace jdyn {

namespace {

// The solve as the tape sees it: one flat state of N = batch * dim values (plus the running
// integral of an integral loss as its last value), so that every sensitivity method works on one
// vector and Hairer's RMS over it is the RMS over the batch.
template <class T>
class FlatField {
public:
    FlatField(DiffField<T>* f, int64_t batch, IntegralLoss* integral)
        : f_(f), batch_(batch), dim_(f->dim()), n_(batch * f->dim()), integral_(integral) {
        if (integral_) grad_.resize((size_t)n_);
    }

    int64_t size() const { return n_ + (integral_ ? 1 : 0); }  // the flat state's length
    int64_t core() const { return n_; }                         // batch * dim
    int64_t params() const { return f_->num_params(); }
    std::vector<std::pair<int64_t, int64_t>> param_blocks() const { return f_->param_blocks(); }
    bool has_integral() const { return integral_ != nullptr; }

    void forward(double t, const T* z, T* dz) {
        f_->forward(t, z, dz, batch_);
        if (integral_) {
            double l = 0;
            integral_->evaluate(t, z, batch_, dim_, &l, grad_.data());
            dz[n_] = (T)l;
        }
    }

    // gz = v^T dF/dz, gp += v^T dF/dtheta, *gt += v^T dF/dt, dz = F (when not null).
    void vjp(double t, const T* z, const T* v, T* gz, T* gp, double* gt, T* dz) {
        f_->vjp(t, z, v, batch_, gz, gp, gt, dz);
        if (integral_) {
            double l = 0;
            integral_->evaluate(t, z, batch_, dim_, &l, grad_.data());
            const double vl = (double)v[n_];
            for (int64_t i = 0; i < n_; ++i) gz[i] = (T)((double)gz[i] + vl * (double)grad_[(size_t)i]);
            gz[n_] = 0;  // the vector field never reads the integral
            if (dz) dz[n_] = (T)l;
            if (gt && vl != 0) *gt += vl * integral_dt(t, z);
        }
    }

private:
    // dl/dt at fixed z, which a jdyn_integral_fn does not return: a central difference of the callback.
    // Only autograd asks (it differentiates through each stage's time); h = 1e-5 max(1, |t|) keeps the
    // truncation (h^2 times l's third derivative in t, over 6) and the rounding (eps |l| / h) near 1e-10
    // relative for a smooth cost. An IntegralCost (a program) is differentiated exactly instead.
    double integral_dt(double t, const T* z) {
        const double h = 1e-5 * std::max(1.0, std::fabs(t));
        double up = 0, down = 0;
        scratch_.resize((size_t)n_);
        integral_->evaluate(t + h, z, batch_, dim_, &up, scratch_.data());
        integral_->evaluate(t - h, z, batch_, dim_, &down, scratch_.data());
        return (up - down) / (2 * h);
    }

    DiffField<T>* f_;
    int64_t batch_, dim_, n_;
    IntegralLoss* integral_;
    std::vector<T> grad_, scratch_;
};

// What the forward solve's configuration says, copied: the caller's arrays do not outlive the call.
struct SolveSetup {
    int64_t method = 0, dtype = 0, batch = 1, dim = 1;
    std::vector<double> times;
    bool adaptive = true;
    double rtol = 0, atol = 0;
    std::vector<double> rtol_vec, atol_vec, norm_weights;  // per component of [batch, dim], expanded
    double dt = 0;
    std::vector<double> grid, step_ts;
    double min_step = 0, max_step = 0;
    int64_t max_steps = 0;
    double safety = 0.9, ifactor = 10, dfactor = 0.2, pcoeff = 0, icoeff = 1, dcoeff = 0;

    explicit SolveSetup(const jdyn_solve_config& c) {
        method = c.method;
        dtype = c.dtype;
        batch = c.batch;
        dim = c.dim;
        if (!c.times || c.n_times < 2) fail(JDYN_ERR_ARGUMENT, "at least two times are needed");
        times.assign(c.times, c.times + c.n_times);
        adaptive = c.adaptive != 0;
        rtol = c.rtol;
        atol = c.atol;
        auto expand = [&](const double* v, std::vector<double>& out) {
            if (!v) return;
            out.resize((size_t)(batch * dim));
            for (int64_t b = 0; b < batch; ++b)
                for (int64_t d = 0; d < dim; ++d) out[(size_t)(b * dim + d)] = v[d];
        };
        expand(c.rtol_vec, rtol_vec);
        expand(c.atol_vec, atol_vec);
        expand(c.norm_weights, norm_weights);
        dt = c.dt;
        if (c.grid) grid.assign(c.grid, c.grid + c.n_grid);
        if (c.step_ts) step_ts.assign(c.step_ts, c.step_ts + c.n_step_ts);
        min_step = c.min_step;
        max_step = c.max_step;
        max_steps = c.max_steps;
        safety = c.safety;
        ifactor = c.ifactor;
        dfactor = c.dfactor;
        pcoeff = c.pcoeff;
        icoeff = c.icoeff;
        dcoeff = c.dcoeff;
        if (c.event) fail(JDYN_ERR_ARGUMENT, "terminal events are not supported in a solve with gradients");
    }

    // A config over a flat state of n values from t_from to t_to (or over this setup's times when
    // both are NaN), with the given norm mask (n entries, or empty for all) and tolerance vectors.
    jdyn_solve_config config(int64_t n, const std::vector<double>& ts, const std::vector<double>& mask,
                             const std::vector<double>& rvec, const std::vector<double>& avec) const {
        jdyn_solve_config c;
        std::memset(&c, 0, sizeof c);
        c.method = method;
        c.dtype = dtype;
        c.batch = 1;
        c.dim = n;
        c.times = ts.data();
        c.n_times = (int64_t)ts.size();
        c.adaptive = adaptive ? 1 : 0;
        c.rtol = rtol;
        c.atol = atol;
        c.rtol_vec = rvec.empty() ? nullptr : rvec.data();
        c.atol_vec = avec.empty() ? nullptr : avec.data();
        c.norm_weights = mask.empty() ? nullptr : mask.data();
        c.dt = dt;
        c.min_step = min_step;
        c.max_step = max_step;
        c.max_steps = max_steps;
        c.safety = safety;
        c.ifactor = ifactor;
        c.dfactor = dfactor;
        c.pcoeff = pcoeff;
        c.icoeff = icoeff;
        c.dcoeff = dcoeff;
        return c;
    }
};

// A vector with one extra trailing value (the integral) when there is one, equal to `fill` there.
std::vector<double> with_tail(const std::vector<double>& v, int64_t core, bool tail, double fill) {
    if (v.empty()) return v;
    std::vector<double> out(v);
    (void)core;
    if (tail) out.push_back(fill);
    return out;
}

template <class T>
int32_t flat_field_fn(void* ctx, double t, const void* z, void* dz, int64_t, int64_t) {
    static_cast<FlatField<T>*>(ctx)->forward(t, static_cast<const T*>(z), static_cast<T*>(dz));
    return 0;
}

// Records the start of every accepted step (autograd's tape).
template <class T>
class StepRecorder : public StepObserver {
public:
    explicit StepRecorder(int64_t n) : n_(n) {}
    void on_step(double t_start, double t_end, const void* y_start) override {
        if (t.empty()) t.push_back(t_start);
        t.push_back(t_end);
        const T* y = static_cast<const T*>(y_start);
        y_starts.insert(y_starts.end(), y, y + n_);
    }
    std::vector<double> t;      // steps + 1 boundaries
    std::vector<T> y_starts;    // steps * n

private:
    int64_t n_;
};

// What every sensitivity method shares: the forward solve over the flat state (with the hooks a
// method needs: where steps must land, an observer of accepted steps, the dense output), the outputs
// kept for the backward pass, and the backward pass's bookkeeping (cotangents on the flat state,
// gradients handed back). Each method is a subclass: BackpropTape, AdjointTape,
// InterpolatedAdjointTape.
template <class T>
class Tape : public TapeBase {
public:
    Tape(const jdyn_solve_config& cfg, DiffField<T>* field, IntegralLoss* integral)
        : setup_(cfg), field_(field), integral_(integral) {
        if (field->dim() != cfg.dim)
            fail(JDYN_ERR_ARGUMENT, "the vector field has width " + std::to_string(field->dim()) +
                                        " but the state has dim " + std::to_string(cfg.dim));
        tab_ = tableau_for(cfg.method);
        if (!tab_) fail(JDYN_ERR_ARGUMENT, "unknown method number " + std::to_string(cfg.method));
    }

    void forward(const T* y0, T* ys, jdyn_solve_stats& st, double* integral_value) {
        FlatField<T> flat(field_, setup_.batch, integral_);
        const int64_t n = flat.size(), core = flat.core();
        const bool tail = flat.has_integral();
        std::vector<double> mask = setup_.norm_weights;
        if (tail) {
            // The running integral never steers the step size.
            if (mask.empty()) mask.assign((size_t)core, 1.0);
            mask.push_back(0.0);
        }
        std::vector<double> rvec = with_tail(setup_.rtol_vec, core, tail, setup_.rtol);
        std::vector<double> avec = with_tail(setup_.atol_vec, core, tail, setup_.atol);
        std::vector<double> step_ts = setup_.step_ts;
        std::vector<double> grid = setup_.grid;
        adjust_steps(step_ts, grid);
        jdyn_solve_config c = setup_.config(n, setup_.times, mask, rvec, avec);
        c.step_ts = step_ts.empty() ? nullptr : step_ts.data();
        c.n_step_ts = (int64_t)step_ts.size();
        c.grid = grid.empty() ? nullptr : grid.data();
        c.n_grid = (int64_t)grid.size();
        c.field = flat_field_fn<T>;
        c.field_ctx = &flat;
        c.dense = wants_dense() ? 1 : 0;

        const int64_t nt = (int64_t)setup_.times.size();
        std::vector<T> y0f((size_t)n, T(0));
        std::copy(y0, y0 + core, y0f.begin());
        std::vector<T> ysf((size_t)(nt * n));
        solve(c, y0f.data(), ysf.data(), nullptr, st, &dense_, observer(n));
        // Outputs to the caller's [T, batch, dim], and kept for the backward pass.
        outputs_ = ysf;
        for (int64_t k = 0; k < nt; ++k) std::copy(ysf.begin() + k * n, ysf.begin() + k * n + core, ys + k * core);
        if (integral_value) *integral_value = tail ? (double)ysf[(size_t)((nt - 1) * n + core)] : 0.0;
        after_forward();
    }

    int64_t steps() const override { return 0; }

    int64_t bytes() const override {
        int64_t b = (int64_t)(outputs_.size() * sizeof(T));
        if (dense_) b += dense_->steps() * (int64_t)(tab_->degree + 1) * (int64_t)(outputs_.size() / setup_.times.size()) *
                         (int64_t)sizeof(T);
        return b;
    }

    void step_times(double*) const override {}

    void backward(const void* ys_cot_raw, const BackwardOptions& opt, IntegralLoss* integral, void* g_y0_raw,
                  void* g_params_raw, double* g_times, BackwardStats& bst) override {
        if (integral != integral_)
            fail(JDYN_ERR_ARGUMENT, "the integral loss of the backward pass must be the forward pass's");
        if (opt.curvature && !samples_adjoint())
            fail(JDYN_ERR_ARGUMENT, "second-order statistics (SNOpt) are collected along the adjoint backward pass: "
                                    "use the adjoint or interpolated_adjoint sensitivity");
        const T* ys_cot = static_cast<const T*>(ys_cot_raw);
        T* g_y0 = static_cast<T*>(g_y0_raw);
        T* g_params = static_cast<T*>(g_params_raw);
        bst = BackwardStats{};  // counted as the pass goes, so a failure still reports them
        FlatField<T> flat(field_, setup_.batch, integral_);
        const int64_t nt = (int64_t)setup_.times.size();
        const int64_t n = flat.size(), core = flat.core(), P = flat.params();
        // Cotangents on the flat state: the integral's is 1 (it is added to the loss as is).
        std::vector<T> cot((size_t)(nt * n), T(0));
        for (int64_t k = 0; k < nt; ++k) {
            if (ys_cot) std::copy(ys_cot + k * core, ys_cot + (k + 1) * core, cot.begin() + k * n);
        }
        if (flat.has_integral()) cot[(size_t)((nt - 1) * n + core)] = T(1);
        std::vector<T> gy((size_t)n, T(0));
        std::vector<T> gp((size_t)P, T(0));
        std::vector<double> gt((size_t)nt, 0.0);
        run_backward(flat, cot, opt, gy, gp, gt, bst);
        if (g_y0) std::copy(gy.begin(), gy.begin() + core, g_y0);
        if (g_params)
            for (int64_t i = 0; i < P; ++i) g_params[i] = (T)((double)g_params[i] + (double)gp[(size_t)i]);
        if (g_times) std::copy(gt.begin(), gt.end(), g_times);
    }

protected:
    // Whether the backward pass can show a CurvatureObserver (z, a_z) at sampled times.
    virtual bool samples_adjoint() const { return false; }
    // Where the forward solve's steps must land (step_ts) and its fixed grid, as the method needs.
    virtual void adjust_steps(std::vector<double>& step_ts, std::vector<double>& grid) const {
        (void)step_ts;
        (void)grid;
    }
    // An observer of the accepted steps over a flat state of n values, or null.
    virtual StepObserver* observer(int64_t n) {
        (void)n;
        return nullptr;
    }
    virtual bool wants_dense() const { return false; }
    virtual void after_forward() {}
    // The gradients on the flat state: gy (dL/dy0), gp (dL/dtheta), gt (dL/dt per output time).
    virtual void run_backward(FlatField<T>& f, const std::vector<T>& cot, const BackwardOptions& opt,
                              std::vector<T>& gy, std::vector<T>& gp, std::vector<double>& gt,
                              BackwardStats& bst) = 0;

    static double dot(const T* a, const T* b, int64_t n) {
        double s = 0;
        for (int64_t i = 0; i < n; ++i) s += (double)a[i] * (double)b[i];
        return s;
    }

    SolveSetup setup_;
    DiffField<T>* field_;
    IntegralLoss* integral_;
    const ButcherTableau* tab_ = nullptr;
    std::vector<T> outputs_;       // flat forward outputs [T, n]
    std::unique_ptr<DenseOutput> dense_;
};

// "autograd": backpropagation through the accepted steps, which land on every output time.
template <class T>
class BackpropTape final : public Tape<T> {
public:
    using Tape<T>::Tape;

    int64_t steps() const override { return step_t_.empty() ? 0 : (int64_t)step_t_.size() - 1; }
    int64_t bytes() const override {
        return Tape<T>::bytes() + (int64_t)(step_y_.size() * sizeof(T) + step_t_.size() * 8);
    }
    void step_times(double* out) const override { std::copy(step_t_.begin(), step_t_.end(), out); }

protected:
    using Tape<T>::setup_;
    using Tape<T>::tab_;

    // Steps land on every output time, so outputs are step ends and backprop needs no interpolant:
    // each output interval is a fixed set of fractions.
    void adjust_steps(std::vector<double>& step_ts, std::vector<double>& grid) const override {
        step_ts.insert(step_ts.end(), setup_.times.begin() + 1, setup_.times.end() - 1);
        const double dir = setup_.times.back() > setup_.times.front() ? 1.0 : -1.0;
        std::sort(step_ts.begin(), step_ts.end(), [dir](double a, double b) { return (a - b) * dir < 0; });
        step_ts.erase(std::unique(step_ts.begin(), step_ts.end()), step_ts.end());
        if (!setup_.adaptive) grid = fixed_grid_through_outputs();
    }

    StepObserver* observer(int64_t n) override {
        recorder_ = std::make_unique<StepRecorder<T>>(n);
        return recorder_.get();
    }

    void after_forward() override {
        step_t_ = std::move(recorder_->t);
        step_y_ = std::move(recorder_->y_starts);
        recorder_.reset();
    }

    void run_backward(FlatField<T>& f, const std::vector<T>& cot, const BackwardOptions&, std::vector<T>& gy,
                      std::vector<T>& gp, std::vector<double>& gt, BackwardStats& bst) override {
        backprop(f, cot, gy, gp, gt, bst);
    }

private:
    std::unique_ptr<StepRecorder<T>> recorder_;
    std::vector<double> step_t_;   // step boundaries
    std::vector<T> step_y_;        // state at each step start

    // Fixed steps for autograd that land on every output time: the caller's grid with the output
    // times added, or steps of dt in each output interval with a shorter last one.
    std::vector<double> fixed_grid_through_outputs() const {
        const std::vector<double>& ts = setup_.times;
        const double dir = ts.back() > ts.front() ? 1.0 : -1.0;
        std::vector<double> g;
        if (!setup_.grid.empty()) {
            g = setup_.grid;
            g.insert(g.end(), ts.begin(), ts.end());
            std::sort(g.begin(), g.end(), [dir](double a, double b) { return (a - b) * dir < 0; });
            g.erase(std::unique(g.begin(), g.end()), g.end());
            return g;
        }
        const double dt = setup_.dt;
        if (!(dt > 0)) fail(JDYN_ERR_ARGUMENT, "fixed-step solving needs a step dt > 0 or a grid");
        g.push_back(ts.front());
        for (size_t k = 1; k < ts.size(); ++k) {
            const double a = ts[k - 1], b = ts[k];
            for (int64_t j = 1;; ++j) {
                const double p = a + dir * dt * (double)j;
                if ((b - p) * dir <= 1e-10 * dt) break;
                g.push_back(p);
            }
            g.push_back(b);
        }
        return g;
    }

    // Backpropagation through every accepted step. Steps land on the output times; within output
    // interval k a step's start and size are fixed fractions of [t_{k-1}, t_k], which gives the
    // gradients with respect to the output times.
    void backprop(FlatField<T>& f, const std::vector<T>& cot, std::vector<T>& ybar, std::vector<T>& gp,
                  std::vector<double>& gt, BackwardStats& bst) {
        const ButcherTableau& tab = *tab_;
        const int S = tab.stages;
        const int64_t n = f.size();
        const int64_t nt = (int64_t)setup_.times.size();
        const int64_t N = steps();
        std::vector<std::vector<T>> K((size_t)S, std::vector<T>((size_t)n)), Y((size_t)S, std::vector<T>((size_t)n)),
            G((size_t)S, std::vector<T>((size_t)n)), kbar((size_t)S, std::vector<T>((size_t)n));
        // Whether stage i's cotangent can be non-zero: b_i != 0 or a later stage reads it.
        std::vector<bool> live((size_t)S, false);
        for (int i = S - 1; i >= 0; --i) {
            bool l = tab.b[(size_t)i] != 0.0;
            for (int j = i + 1; j < S && !l; ++j) l = live[(size_t)j] && tab.a[(size_t)j][(size_t)i] != 0.0;
            live[(size_t)i] = l;
        }
        // Output k sits at the end of the step whose end time equals times[k].
        int64_t k = nt - 1;
        std::fill(ybar.begin(), ybar.end(), T(0));
        for (int64_t i = 0; i < n; ++i) ybar[(size_t)i] = cot[(size_t)(k * n + i)];
        for (int64_t s = N - 1; s >= 0; --s) {
            const double t0 = step_t_[(size_t)s], t1 = step_t_[(size_t)(s + 1)], h = t1 - t0;
            const T* y0 = step_y_.data() + s * n;
            // Recompute the stages of this step.
            for (int i = 0; i < S; ++i) {
                T* yi = Y[(size_t)i].data();
                for (int64_t q = 0; q < n; ++q) {
                    double acc = 0;
                    for (int j = 0; j < i; ++j) acc += tab.a[(size_t)i][(size_t)j] * (double)K[(size_t)j][(size_t)q];
                    yi[q] = (T)((double)y0[q] + h * acc);
                }
                f.forward(t0 + tab.c[(size_t)i] * h, yi, K[(size_t)i].data());
                bst.nfe++;
            }
            // Reverse through the stages.
            double hbar = 0, tbar_start = 0;
            for (int64_t q = 0; q < n; ++q) {
                double bk = 0;
                for (int i = 0; i < S; ++i) bk += tab.b[(size_t)i] * (double)K[(size_t)i][(size_t)q];
                hbar += (double)ybar[(size_t)q] * bk;
            }
            std::vector<T> ynext_bar = ybar;
            for (int i = S - 1; i >= 0; --i) {
                if (!live[(size_t)i]) {
                    std::fill(G[(size_t)i].begin(), G[(size_t)i].end(), T(0));
                    continue;
                }
                T* kb = kbar[(size_t)i].data();
                for (int64_t q = 0; q < n; ++q) {
                    double acc = tab.b[(size_t)i] * (double)ynext_bar[(size_t)q];
                    for (int j = i + 1; j < S; ++j) {
                        const double a = tab.a[(size_t)j][(size_t)i];
                        if (a != 0.0) acc += a * (double)G[(size_t)j][(size_t)q];
                    }
                    kb[q] = (T)(h * acc);
                }
                double tbar_i = 0;
                f.vjp(t0 + tab.c[(size_t)i] * h, Y[(size_t)i].data(), kb, G[(size_t)i].data(), gp.data(), &tbar_i,
                      nullptr);
                bst.nfe++;
                // Stage i's input y0 + h sum_j a_ij K_j depends on h.
                for (int64_t q = 0; q < n; ++q) {
                    double acc = 0;
                    for (int j = 0; j < i; ++j) acc += tab.a[(size_t)i][(size_t)j] * (double)K[(size_t)j][(size_t)q];
                    hbar += (double)G[(size_t)i][(size_t)q] * acc;
                }
                hbar += tab.c[(size_t)i] * tbar_i;
                tbar_start += tbar_i;
            }
            // dL/dy at the step's start.
            for (int i = 0; i < S; ++i) {
                if (!live[(size_t)i]) continue;
                for (int64_t q = 0; q < n; ++q)
                    ybar[(size_t)q] = (T)((double)ybar[(size_t)q] + (double)G[(size_t)i][(size_t)q]);
            }
            // The step is the fraction [sigma0, sigma1] of output interval [times[k-1], times[k]].
            const double ta = setup_.times[(size_t)(k - 1)], tb = setup_.times[(size_t)k], span = tb - ta;
            const double sigma0 = (t0 - ta) / span, dsigma = h / span;
            gt[(size_t)k] += sigma0 * tbar_start + dsigma * hbar;
            gt[(size_t)(k - 1)] += (1 - sigma0) * tbar_start - dsigma * hbar;
            // Entering the previous output interval: its end is output k-1.
            if (s > 0 && step_t_[(size_t)s] == setup_.times[(size_t)(k - 1)]) {
                --k;
                for (int64_t q = 0; q < n; ++q)
                    ybar[(size_t)q] = (T)((double)ybar[(size_t)q] + (double)cot[(size_t)(k * n + q)]);
            }
        }
        // Output 0 is y0 itself.
        for (int64_t q = 0; q < n; ++q) ybar[(size_t)q] = (T)((double)ybar[(size_t)q] + (double)cot[(size_t)q]);
    }

};

// "adjoint": the backsolve of [z, a_z, a_theta] per output interval, z restarted from the forward
// outputs at each output time; O(1) memory in the steps.
template <class T>
class AdjointTape : public Tape<T> {
public:
    using Tape<T>::Tape;

protected:
    using Tape<T>::setup_;
    using Tape<T>::outputs_;
    using Tape<T>::dense_;
    using Tape<T>::dot;

    // Whether z comes from the forward interpolant rather than from the backsolve itself.
    virtual bool interpolated() const { return false; }
    bool samples_adjoint() const override { return true; }

    // The backsolve's output times from t_from to t_to: both ends, and with a curvature observer
    // points every `step` from t_from (the original's create_snopt_samp_t: a last point within half a
    // step of t_to is moved onto it).
    static std::vector<double> sample_times(double t_from, double t_to, double step) {
        std::vector<double> ts{t_from};
        const double span = std::fabs(t_to - t_from);
        if (step > 0 && step < span) {
            const double dir = t_to > t_from ? 1.0 : -1.0;
            for (int64_t j = 1;; ++j) {
                const double p = t_from + dir * step * (double)j;
                if ((t_to - p) * dir <= 0) break;
                ts.push_back(p);
            }
            if (std::fabs(ts.back() - t_to) < step / 2 && ts.size() > 1) ts.back() = t_to;
            else ts.push_back(t_to);
        } else {
            ts.push_back(t_to);
        }
        return ts;
    }

    void run_backward(FlatField<T>& f, const std::vector<T>& cot, const BackwardOptions& opt, std::vector<T>& gy,
                      std::vector<T>& gp, std::vector<double>& gt, BackwardStats& bst) override {
        adjoint(f, cot, opt, gy, gp, gt, bst);
    }

    // Both adjoint methods, output interval by output interval from the last to the first.
    void adjoint(FlatField<T>& f, const std::vector<T>& cot, const BackwardOptions& opt, std::vector<T>& a_out,
                 std::vector<T>& gp, std::vector<double>& gt, BackwardStats& bst) {
        const bool interp = interpolated();
        const int64_t n = f.size(), P = f.params();
        const int64_t nt = (int64_t)setup_.times.size();
        // Augmented state: [z (adjoint only) | a | a_theta].
        const int64_t zoff = 0, aoff = interp ? 0 : n, poff = aoff + n, m = poff + P;
        std::vector<T> u((size_t)m, T(0)), u_out;
        CurvatureObserver* observer = opt.curvature;
        std::vector<T> zbuf(observer && interp ? (size_t)n : 0);
        const T* last = outputs_.data() + (nt - 1) * n;
        if (!interp) std::copy(last, last + n, u.begin() + zoff);
        for (int64_t i = 0; i < n; ++i) u[(size_t)(aoff + i)] = cot[(size_t)((nt - 1) * n + i)];

        // The error norm is the largest RMS over the blocks z, a_z and each parameter tensor's adjoint
        // (torchdiffeq's mixed norm over its augmented tuple, the "full norm" of Kidger et al.); the
        // seminorm drops the parameter adjoints and the integral loss's parts.
        // Dropping a block from a maximum can only lengthen the steps, so the seminorm never costs more.
        std::vector<double> mask((size_t)m, 0.0);
        if (!interp) std::fill(mask.begin() + zoff, mask.begin() + zoff + n, 1.0);
        std::fill(mask.begin() + aoff, mask.begin() + aoff + n, 2.0);
        if (!opt.seminorm) {
            // One group per parameter tensor (up to the engine's 64 groups; the rest share the last).
            double group = 3;
            for (const auto& b : f.param_blocks()) {
                std::fill(mask.begin() + poff + b.first, mask.begin() + poff + b.first + b.second, group);
                group = std::min(group + 1, 64.0);
            }
        }
        if (opt.seminorm && f.has_integral()) {
            if (!interp) mask[(size_t)(zoff + n - 1)] = 0.0;
            mask[(size_t)(aoff + n - 1)] = 0.0;
        }
        AdjointSystem sys{&f, this, interp, n, P, aoff, poff, std::vector<T>((size_t)n), std::vector<T>((size_t)n)};
        std::vector<T> ft((size_t)n);
        for (int64_t k = nt - 1; k >= 1; --k) {
            // dL/dt_k = a(t_k) . f(t_k, y_k) for the output's own cotangent (t_k moves only y_k).
            const T* yk = outputs_.data() + k * n;
            f.forward(setup_.times[(size_t)k], yk, ft.data());
            bst.nfe++;
            gt[(size_t)k] += dot(cot.data() + k * n, ft.data(), n);

            const std::vector<double> ts = observer ? sample_times(setup_.times[(size_t)k], setup_.times[(size_t)(k - 1)],
                                                                   opt.sample_step)
                                                    : std::vector<double>{setup_.times[(size_t)k],
                                                                          setup_.times[(size_t)(k - 1)]};
            u_out.resize(ts.size() * (size_t)m);
            jdyn_solve_config c = setup_.config(m, ts, mask, {}, {});
            if (opt.rtol > 0) c.rtol = opt.rtol;
            if (opt.atol > 0) c.atol = opt.atol;
            if (!setup_.rtol_vec.empty())
                c.rtol = opt.rtol > 0 ? opt.rtol : *std::min_element(setup_.rtol_vec.begin(), setup_.rtol_vec.end());
            if (!setup_.atol_vec.empty())
                c.atol = opt.atol > 0 ? opt.atol : *std::min_element(setup_.atol_vec.begin(), setup_.atol_vec.end());
            if (opt.max_steps > 0) c.max_steps = opt.max_steps;
            std::vector<double> grid;
            if (!setup_.grid.empty()) {
                // A fixed-step forward pass on a grid: the same grid points, backward.
                for (double g : setup_.grid) {
                    if ((g - ts[1]) * (g - ts[0]) <= 0) grid.push_back(g);
                }
                std::reverse(grid.begin(), grid.end());
                if (grid.front() != ts[0]) grid.insert(grid.begin(), ts[0]);
                if (grid.back() != ts[1]) grid.push_back(ts[1]);
                c.grid = grid.data();
                c.n_grid = (int64_t)grid.size();
            }
            c.field = adjoint_fn;
            c.field_ctx = &sys;
            jdyn_solve_stats st;
            auto count = [&] {
                bst.nfe += st.nfe;
                bst.accepted += st.accepted;
                bst.rejected += st.rejected;
            };
            try {
                solve(c, u.data(), u_out.data(), nullptr, st, nullptr);
            } catch (...) {
                count();
                throw;
            }
            count();
            if (observer) {
                // The original invokes its collector at every output of the backsolve but the first.
                for (size_t j = 1; j < ts.size(); ++j) {
                    const T* uj = u_out.data() + j * (size_t)m;
                    const T* zj = uj + zoff;
                    if (interp) {
                        double tj = ts[j];
                        dense_->eval(&tj, 1, zbuf.data());
                        zj = zbuf.data();
                    }
                    observer->observe(ts[j], zj, uj + aoff, setup_.batch);
                }
            }
            std::copy(u_out.end() - m, u_out.end(), u.begin());
            // Restart z from the forward pass (as torchdiffeq does) and add output k-1's cotangent.
            if (!interp) {
                const T* yprev = outputs_.data() + (k - 1) * n;
                std::copy(yprev, yprev + n, u.begin() + zoff);
            }
            for (int64_t i = 0; i < n; ++i)
                u[(size_t)(aoff + i)] = (T)((double)u[(size_t)(aoff + i)] + (double)cot[(size_t)((k - 1) * n + i)]);
        }
        // dL/dt0 = -a(t0)^- . f(t0, y0), with a(t0)^- the adjoint before output 0's own cotangent.
        const T* y0 = outputs_.data();
        f.forward(setup_.times[0], y0, ft.data());
        bst.nfe++;
        double s = 0;
        for (int64_t i = 0; i < n; ++i)
            s += ((double)u[(size_t)(aoff + i)] - (double)cot[(size_t)i]) * (double)ft[(size_t)i];
        gt[0] += -s;
        std::copy(u.begin() + aoff, u.begin() + aoff + n, a_out.begin());
        for (int64_t i = 0; i < P; ++i) gp[(size_t)i] = u[(size_t)(poff + i)];
    }

    struct AdjointSystem {
        FlatField<T>* f;
        AdjointTape* tape;
        bool interp;
        int64_t n, P, aoff, poff;
        std::vector<T> z, gz;
    };

    // d/dt [z, a, a_theta] = [f(t, z), -a^T df/dz, -a^T df/dtheta]; z from the interpolant when interp.
    static int32_t adjoint_fn(void* ctx, double t, const void* u_raw, void* du_raw, int64_t, int64_t) {
        AdjointSystem& s = *static_cast<AdjointSystem*>(ctx);
        const T* u = static_cast<const T*>(u_raw);
        T* du = static_cast<T*>(du_raw);
        const T* z;
        if (s.interp) {
            s.tape->dense_->eval(&t, 1, s.z.data());
            z = s.z.data();
        } else {
            z = u;
        }
        T* gp = du + s.poff;
        std::fill(gp, gp + s.P, T(0));
        s.f->vjp(t, z, u + s.aoff, s.gz.data(), gp, nullptr, s.interp ? nullptr : du);
        for (int64_t i = 0; i < s.n; ++i) du[s.aoff + i] = (T)(-(double)s.gz[(size_t)i]);
        for (int64_t i = 0; i < s.P; ++i) gp[i] = (T)(-(double)gp[i]);
        return 0;
    }
};

// "interpolated_adjoint": the backsolve of [a_z, a_theta] only, z(t) read from the forward interpolant.
template <class T>
class InterpolatedAdjointTape final : public AdjointTape<T> {
public:
    using AdjointTape<T>::AdjointTape;

protected:
    bool interpolated() const override { return true; }
    bool wants_dense() const override { return true; }
};

}  // namespace

template <class T>
std::unique_ptr<TapeBase> forward_with_tape(const jdyn_solve_config& config, int64_t sensitivity, DiffField<T>* field,
                                            const T* y0, T* ys, jdyn_solve_stats& stats, IntegralLoss* integral,
                                            double* integral_value) {
    std::unique_ptr<Tape<T>> tape;
    switch (sensitivity) {
        case JDYN_SENS_AUTOGRAD: tape = std::make_unique<BackpropTape<T>>(config, field, integral); break;
        case JDYN_SENS_ADJOINT: tape = std::make_unique<AdjointTape<T>>(config, field, integral); break;
        case JDYN_SENS_INTERPOLATED_ADJOINT:
            tape = std::make_unique<InterpolatedAdjointTape<T>>(config, field, integral);
            break;
        default:
            fail(JDYN_ERR_ARGUMENT, "unknown sensitivity " + std::to_string(sensitivity) +
                                        " (0 autograd, 1 adjoint, 2 interpolated adjoint)");
    }
    tape->forward(y0, ys, stats, integral_value);
    return tape;
}

template std::unique_ptr<TapeBase> forward_with_tape<float>(const jdyn_solve_config&, int64_t, DiffField<float>*,
                                                            const float*, float*, jdyn_solve_stats&, IntegralLoss*,
                                                            double*);
template std::unique_ptr<TapeBase> forward_with_tape<double>(const jdyn_solve_config&, int64_t, DiffField<double>*,
                                                             const double*, double*, jdyn_solve_stats&,
                                                             IntegralLoss*, double*);

}  // namespace jdyn
