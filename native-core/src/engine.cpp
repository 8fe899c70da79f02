#include "engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/rk_kernels.h"
#include "kernels/step_pow.h"
#include "engine_variants.h"
#include "method_registry.h"
#include "parallel.h"
#include "non_finite.h"
#include "norm_settings.h"
#include "status.h"

// Compiled twice (see engine_avx2.cpp): JDYN_ISA names the namespace of each instruction-set
// variant, and engine_dispatch.cpp picks one at run time.
#ifndef JDYN_ISA
#define JDYN_ISA isa_base
#endif

namespace jdyn {
namespace JDYN_ISA {

namespace {

template <class T>
class Engine {
public:
    Engine(const jdyn_solve_config& cfg, const ButcherTableau& tab, jdyn_solve_stats& st, StepObserver* observer)
        : observer_(observer), cfg_(cfg), tab_(tab), st_(st), B_(cfg.batch), D_(cfg.dim), n_(cfg.batch * cfg.dim), S_(tab.stages),
          X_((int)tab.dense_c.size()) {
        k_.assign((size_t)(S_ + X_), std::vector<T>((size_t)n_));
        kptr_.resize((size_t)(S_ + X_));
        refresh_kptr();
        y_.resize((size_t)n_);
        ynew_.resize((size_t)n_);
        ytmp_.resize((size_t)n_);
        weights_.resize((size_t)(S_ + X_));
        norm_ = NormSettings(cfg);
        group_e5_.assign((size_t)norm_.groups + 1, 0.0);
        group_e3_.assign((size_t)norm_.groups + 1, 0.0);
        eblock_ = element_block(n_, kBlock);
        enb_ = (n_ + eblock_ - 1) / eblock_;
        part_e5_.assign((size_t)enb_, 0.0);
        part_e3_.assign((size_t)enb_, 0.0);
        if (norm_.groups > 1) {
            part_group_e5_.assign((size_t)(enb_ * (norm_.groups + 1)), 0.0);
            part_group_e3_.assign((size_t)(enb_ * (norm_.groups + 1)), 0.0);
        }
        t0_ = cfg.times[0];
        t1_ = cfg.times[cfg.n_times - 1];
        dir_ = t1_ > t0_ ? 1.0 : -1.0;
    }

    void run(const T* y0, T* ys, T* event_state, DenseStore<T>* dense) {
        dense_ = dense;
        ys_ = ys;
        event_state_ = event_state;
        std::memcpy(y_.data(), y0, sizeof(T) * (size_t)n_);
        std::memcpy(ys_, y0, sizeof(T) * (size_t)n_);
        next_out_ = 1;
        st_.n_out = 1;
        t_ = t0_;
        st_.t_reached = t_;
        eval(t_, y_.data(), k_[0].data());
        // Every explicit step starts from f(t0, y0): if it is not finite, no step size helps (and at t0 = 0
        // the relative step floor is 0, so rejections alone would only end at max_steps).
        if (const int64_t bad = first_non_finite(k_[0].data(), n_); bad >= 0) {
            st_.bad_index = bad;
            fail(JDYN_ERR_NON_FINITE,
                 format_message("the vector field is non-finite (%g) at the initial point t=%.17g in component %lld (batch %lld, "
                     "dim %lld): f(t0, y0) must be finite",
                     (double)k_[0][(size_t)bad], t_, (long long)bad, (long long)(bad / D_), (long long)(bad % D_)));
        }
        if (cfg_.event) g_prev_ = event_value(t_, y_.data());
        if (cfg_.adaptive)
            run_adaptive();
        else
            run_fixed();
    }

private:
    StepObserver* observer_;
    const jdyn_solve_config& cfg_;
    const ButcherTableau& tab_;
    jdyn_solve_stats& st_;
    const int64_t B_, D_, n_;
    const int S_, X_;
    std::vector<std::vector<T>> k_;
    std::vector<const T*> kptr_;
    std::vector<T> y_, ynew_, ytmp_;
    std::vector<double> weights_;
    NormSettings norm_;
    std::vector<double> group_e5_, group_e3_;  // per norm group: the squared sums of a step's error
    // The per-step arithmetic runs in element blocks (parallel.h): eblock_ values each (a multiple of
    // kBlock, so the kernels see the same chunks as in one pass), enb_ of them, set by n_ alone. Sums
    // are formed per block (part_*) and added in block order, whatever the thread count.
    int64_t eblock_ = 1, enb_ = 1;
    std::vector<double> part_e5_, part_e3_, part_group_e5_, part_group_e3_;
    double t0_, t1_, dir_, t_ = 0;
    bool extras_done_ = false;
    int64_t next_out_ = 1;
    T* ys_ = nullptr;
    T* event_state_ = nullptr;
    DenseStore<T>* dense_ = nullptr;
    double g_prev_ = 0;
    bool done_ = false;
    double prev_inv_err_ = 1.0, prev_prev_inv_err_ = 1.0;

    void refresh_kptr() {
        for (size_t j = 0; j < k_.size(); ++j) kptr_[j] = k_[j].data();
    }

    void eval(double t, const T* z, T* dz) {
        st_.nfe++;
        int32_t rc = cfg_.field(cfg_.field_ctx, t, z, dz, B_, D_);
        if (rc != 0) fail(JDYN_ERR_CALLBACK, format_message("the vector field reported failure (code %d) at t=%.17g", rc, t));
    }

    double event_value(double t, const T* z) {
        double g = 0;
        int32_t rc = cfg_.event(cfg_.event_ctx, t, z, B_, D_, &g);
        if (rc != 0) fail(JDYN_ERR_CALLBACK, format_message("the event function reported failure (code %d) at t=%.17g", rc, t));
        if (!std::isfinite(g)) fail(JDYN_ERR_NON_FINITE, format_message("the event function returned %g at t=%.17g", g, t));
        return g;
    }

    static constexpr int kBlock = 256;

    // f(block, begin, end) for every element block, on the worker pool when there are several. The
    // field is never called from here: a callback field runs on the calling thread only.
    template <class F>
    void for_blocks(F&& f) {
        if (enb_ == 1) {
            f(int64_t(0), int64_t(0), n_);
            return;
        }
        parallel_for(enb_, [&](int64_t b) { f(b, b * eblock_, std::min(n_, (b + 1) * eblock_)); });
    }

    void combine(const T* base, double h, const double* w, int nk, T* out) {
        for_blocks([&](int64_t, int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; i += kBlock) {
                kernels::stage_combine<T, kBlock>(i, (int)std::min<int64_t>(kBlock, end - i), base, h, w,
                                                  kptr_.data(), nk, out);
            }
        });
    }

    // Computes the stages of a step of size h from (t_, y_) with k_[0] = f(t_, y_); ynew_ receives
    // the propagated solution.
    void stages(double h) {
        extras_done_ = false;
        for (int s = 1; s < S_; ++s) {
            const bool last_is_new_state = tab_.fsal && s == S_ - 1;
            T* input = last_is_new_state ? ynew_.data() : ytmp_.data();
            combine(y_.data(), h, tab_.a[(size_t)s].data(), s, input);
            eval(t_ + tab_.c[(size_t)s] * h, input, k_[(size_t)s].data());
        }
        if (!tab_.fsal) combine(y_.data(), h, tab_.b.data(), S_, ynew_.data());
    }

    // The dense-output stages of the current step (DOP853's three, or f(t1, y1) for Hermite).
    void extras(double h) {
        if (extras_done_) return;
        for (int x = 0; x < X_; ++x) {
            const T* input;
            if (x == 0 && tab_.extra_is_f1) {
                input = ynew_.data();
            } else {
                combine(y_.data(), h, tab_.dense_a[(size_t)x].data(), S_ + x, ytmp_.data());
                input = ytmp_.data();
            }
            eval(t_ + tab_.dense_c[(size_t)x] * h, input, k_[(size_t)(S_ + x)].data());
        }
        extras_done_ = true;
    }

    void interpolate(double h, double theta, T* out) {
        extras(h);
        const int nk = S_ + X_;
        for (int i = 0; i < nk; ++i) {
            double w = 0, pw = 1;
            for (int p = 0; p < tab_.degree; ++p) {
                pw *= theta;
                w += tab_.dense_p[(size_t)i][(size_t)p] * pw;
            }
            weights_[(size_t)i] = w;
        }
        combine(y_.data(), h, weights_.data(), nk, out);
    }

    // Hairer's error ratio (RMS of the scaled error over the batch and the components that count);
    // DOP853 combines its 5th- and 3rd-order estimates as Hairer does. With several norm groups,
    // the ratio is the largest of the groups' own ratios (torchdiffeq's mixed norm).
    double error_ratio(double h) {
        if (norm_.groups > 1) return grouped_error_ratio(h);
        const bool two = !tab_.b_error3.empty();
        for_blocks([&](int64_t b, int64_t begin, int64_t end) {
            double e5 = 0, e3 = 0;
            for (int64_t i = begin; i < end; i += kBlock) {
                const int len = (int)std::min<int64_t>(kBlock, end - i);
                e5 += error_block(i, len, tab_.b_error.data(), h);
                if (two) e3 += error_block(i, len, tab_.b_error3.data(), h);
            }
            part_e5_[(size_t)b] = e5;
            part_e3_[(size_t)b] = e3;
        });
        double e5 = 0, e3 = 0;
        for (int64_t b = 0; b < enb_; ++b) {
            e5 += part_e5_[(size_t)b];
            e3 += part_e3_[(size_t)b];
        }
        return combine_error(e5, e3, (double)B_ * (double)norm_.count, two);
    }

    static double combine_error(double e5, double e3, double count, bool two) {
        if (!two) return std::sqrt(e5 / count);
        const double deno = e5 + 0.01 * e3;
        if (deno <= 0) return 0.0;
        return e5 / std::sqrt(count * deno);
    }

    double grouped_error_ratio(double h) {
        const bool two = !tab_.b_error3.empty();
        const size_t stride = (size_t)norm_.groups + 1;
        for_blocks([&](int64_t b, int64_t begin, int64_t end) {
            double* ge5 = part_group_e5_.data() + (size_t)b * stride;
            double* ge3 = part_group_e3_.data() + (size_t)b * stride;
            std::fill(ge5, ge5 + stride, 0.0);
            std::fill(ge3, ge3 + stride, 0.0);
            double acc5[kBlock], acc3[kBlock];
            for (int64_t i = begin; i < end; i += kBlock) {
                const int len = (int)std::min<int64_t>(kBlock, end - i);
                kernels::accumulate<T, kBlock>(i, len, tab_.b_error.data(), kptr_.data(), S_, acc5);
                if (two) kernels::accumulate<T, kBlock>(i, len, tab_.b_error3.data(), kptr_.data(), S_, acc3);
                int64_t d = i % D_;
                for (int q = 0; q < len; ++q, d = (d + 1 == D_ ? 0 : d + 1)) {
                    const int g = (int)norm_.group[(size_t)d];
                    if (g == 0) continue;
                    const double sc = kernels::tolerance_scale((double)y_[(size_t)(i + q)],
                                                               (double)ynew_[(size_t)(i + q)], norm_.rtol[(size_t)d],
                                                               norm_.atol[(size_t)d]);
                    const double r5 = h * acc5[q] / sc;
                    ge5[g] += r5 * r5;
                    if (two) {
                        const double r3 = h * acc3[q] / sc;
                        ge3[g] += r3 * r3;
                    }
                }
            }
        });
        std::fill(group_e5_.begin(), group_e5_.end(), 0.0);
        std::fill(group_e3_.begin(), group_e3_.end(), 0.0);
        for (int64_t b = 0; b < enb_; ++b)
            for (size_t g = 0; g < stride; ++g) {
                group_e5_[g] += part_group_e5_[(size_t)b * stride + g];
                group_e3_[g] += part_group_e3_[(size_t)b * stride + g];
            }
        double worst = 0;
        for (int g = 1; g <= norm_.groups; ++g) {
            if (norm_.group_count[(size_t)g] == 0) continue;
            const double r = combine_error(group_e5_[(size_t)g], group_e3_[(size_t)g],
                                           (double)B_ * (double)norm_.group_count[(size_t)g], two);
            if (!(r <= worst)) worst = r;  // a NaN ratio wins: the step is rejected
        }
        return worst;
    }

    double error_block(int64_t i, int len, const double* weights, double h) {
        if (norm_.uniform)
            return kernels::scaled_error_sq<T, kBlock, true>(i, len, D_, h, weights, kptr_.data(), S_, y_.data(),
                                                             ynew_.data(), norm_.rtol.data(), norm_.atol.data(), norm_.group.data());
        return kernels::scaled_error_sq<T, kBlock, false>(i, len, D_, h, weights, kptr_.data(), S_, y_.data(),
                                                          ynew_.data(), norm_.rtol.data(), norm_.atol.data(), norm_.group.data());
    }

    double rms_scaled(const T* v, const T* scale_ref) const {
        double acc = 0;
        for (int64_t i = 0; i < n_; ++i) {
            const int64_t d = i % D_;
            if (norm_.group[(size_t)d] == 0.0) continue;
            const double sc = norm_.atol[(size_t)d] + norm_.rtol[(size_t)d] * std::fabs((double)scale_ref[i]);
            const double r = (double)v[i] / sc;
            acc += r * r;
        }
        return std::sqrt(acc / ((double)B_ * (double)norm_.count));
    }

    // Hairer's starting step (Solving ODEs I, II.4), as Hipparchus and torchdiffeq choose it.
    double initial_step() {
        const double span = std::fabs(t1_ - t0_);
        const double d0 = rms_scaled(y_.data(), y_.data());
        const double d1 = rms_scaled(k_[0].data(), y_.data());
        double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
        h0 = std::min(h0, span);
        for (int64_t i = 0; i < n_; ++i) kernels::axpy(i, dir_ * h0, k_[0].data(), y_.data(), ytmp_.data());
        T* f1 = k_[1].data();
        eval(t_ + dir_ * h0, ytmp_.data(), f1);
        double acc = 0;
        for (int64_t i = 0; i < n_; ++i) {
            const int64_t d = i % D_;
            if (norm_.group[(size_t)d] == 0.0) continue;
            const double sc = norm_.atol[(size_t)d] + norm_.rtol[(size_t)d] * std::fabs((double)y_[i]);
            const double r = ((double)f1[i] - (double)k_[0][(size_t)i]) / sc;
            acc += r * r;
        }
        const double d2 = std::sqrt(acc / ((double)B_ * (double)norm_.count)) / h0;
        const double dmax = std::max(d1, d2);
        const double h1 = dmax <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / dmax, 1.0 / tab_.order);
        double h = std::min(100 * h0, h1);
        h = std::min(h, span);
        if (cfg_.max_step > 0) h = std::min(h, cfg_.max_step);
        return h;
    }

    // Writes every output time inside (t_, t_ + h], then checks the terminal event.
    void finish_step(double h, double tn) {
        double stop_t = tn;
        bool event = false;
        double event_theta = 1;
        if (cfg_.event) {
            // g is sampled at the step's end and, with a check interval, at evenly spaced points
            // inside it on the interpolant, so that two crossings within one step are not missed.
            int64_t samples = 1;
            if (cfg_.event_max_check > 0) {
                samples = (int64_t)std::ceil(std::fabs(h) / cfg_.event_max_check);
                samples = std::max<int64_t>(1, std::min<int64_t>(samples, 1 << 20));
            }
            double g_a = g_prev_, theta_a = 0;
            for (int64_t j = 1; j <= samples; ++j) {
                const double theta_b = (double)j / (double)samples;
                double g_b;
                if (j == samples) {
                    g_b = event_value(tn, ynew_.data());
                } else {
                    interpolate(h, theta_b, ytmp_.data());
                    g_b = event_value(t_ + theta_b * h, ytmp_.data());
                }
                const int64_t dirn = cfg_.event_direction;
                const bool rising = g_a < 0 && g_b >= 0;
                const bool falling = g_a > 0 && g_b <= 0;
                if ((rising && dirn >= 0) || (falling && dirn <= 0)) {
                    event = true;
                    event_theta = locate_event(h, theta_a, theta_b, g_a, g_b);
                    stop_t = event_theta >= 1 ? tn : t_ + event_theta * h;
                    break;
                }
                g_a = g_b;
                theta_a = theta_b;
            }
            g_prev_ = g_a;
        }
        if (dense_) store_dense(h);
        while (next_out_ < cfg_.n_times && (cfg_.times[next_out_] - stop_t) * dir_ <= 0) {
            const double to = cfg_.times[next_out_];
            T* dst = ys_ + next_out_ * n_;
            if (to == tn) {
                std::memcpy(dst, ynew_.data(), sizeof(T) * (size_t)n_);
            } else {
                interpolate(h, (to - t_) / h, dst);
            }
            ++next_out_;
        }
        st_.n_out = next_out_;
        if (event) {
            st_.event_found = 1;
            st_.event_t = stop_t;
            if (event_state_) {
                if (event_theta >= 1)
                    std::memcpy(event_state_, ynew_.data(), sizeof(T) * (size_t)n_);
                else
                    interpolate(h, event_theta, event_state_);
            }
            st_.t_reached = stop_t;
            done_ = true;
        }
    }

    // Illinois false position on the interpolant over [theta_a, theta_b], to within event_tol in t.
    double locate_event(double h, double theta_a, double theta_b, double g_a, double g_b) {
        double a = theta_a, b = theta_b, fa = g_a, fb = g_b;
        int side = 0;
        const double tol = cfg_.event_tol / std::fabs(h);
        for (int it = 0; it < 200 && (b - a) > tol; ++it) {
            double m = (a * fb - b * fa) / (fb - fa);
            if (!(m > a && m < b)) m = 0.5 * (a + b);
            interpolate(h, m, ytmp_.data());
            const double fm = event_value(t_ + m * h, ytmp_.data());
            if (fm == 0) return m;
            if ((fm < 0) == (fa < 0)) {
                a = m;
                fa = fm;
                if (side == -1) fb *= 0.5;
                side = -1;
            } else {
                b = m;
                fb = fm;
                if (side == 1) fa *= 0.5;
                side = 1;
            }
            // Fall back on bisection when false position stalls on one side.
            if (it % 8 == 7) {
                const double mid = 0.5 * (a + b);
                interpolate(h, mid, ytmp_.data());
                const double fmid = event_value(t_ + mid * h, ytmp_.data());
                if (fmid == 0) return mid;
                if ((fmid < 0) == (fa < 0)) {
                    a = mid;
                    fa = fmid;
                } else {
                    b = mid;
                    fb = fmid;
                }
            }
        }
        // The end of the bracket past the crossing: the event has happened there.
        return b;
    }

    void store_dense(double h) {
        extras(h);
        T* slot = dense_->add_step(t_, h);
        std::memcpy(slot, y_.data(), sizeof(T) * (size_t)n_);
        const int nk = S_ + X_;
        for (int p = 0; p < tab_.degree; ++p) {
            for (int i = 0; i < nk; ++i) weights_[(size_t)i] = tab_.dense_p[(size_t)i][(size_t)p];
            T* out = slot + (int64_t)(p + 1) * n_;
            for_blocks([&](int64_t, int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; i += kBlock)
                    kernels::weighted_sum<T, kBlock>(i, (int)std::min<int64_t>(kBlock, end - i), h, weights_.data(),
                                                     kptr_.data(), nk, out);
            });
        }
    }

    // Accepts the step ending at t_next: the new state becomes current and k_[0] becomes f there.
    void advance(double h, double t_next) {
        if (observer_) observer_->on_step(t_, t_next, y_.data());
        t_ = t_next;
        std::swap(y_, ynew_);
        if (tab_.fsal) {
            std::swap(k_[0], k_[(size_t)(S_ - 1)]);
            refresh_kptr();
        } else if (extras_done_ && tab_.extra_is_f1) {
            std::swap(k_[0], k_[(size_t)S_]);
            refresh_kptr();
        } else if (!done_ && t_ != t1_) {
            eval(t_, y_.data(), k_[0].data());
        }
        st_.accepted++;
        if (!done_) st_.t_reached = t_;
        st_.last_dt = h;
    }

    void push_error_history(double err) {
        for (int j = 3; j > 0; --j) st_.err_history[j] = st_.err_history[j - 1];
        st_.err_history[0] = err;
    }

    void check_max_steps() {
        if (cfg_.max_steps > 0 && st_.accepted + st_.rejected >= cfg_.max_steps)
            fail(JDYN_ERR_MAX_STEPS,
                 format_message("maximum number of steps (%lld) reached at t=%.17g of [%.17g, %.17g]: %lld accepted, %lld "
                     "rejected, last step %.6g, %lld evaluations",
                     (long long)cfg_.max_steps, t_, t0_, t1_, (long long)st_.accepted, (long long)st_.rejected,
                     st_.last_dt, (long long)st_.nfe));
    }

    void run_fixed() {
        std::vector<double> grid;
        if (cfg_.grid) {
            grid.assign(cfg_.grid, cfg_.grid + cfg_.n_grid);
        } else {
            const double dt = cfg_.dt;
            grid.push_back(t0_);
            for (int64_t j = 1;; ++j) {
                const double tj = t0_ + dir_ * dt * (double)j;
                // A last step shorter than 1e-10 dt is merged into the one before it.
                if ((t1_ - tj) * dir_ <= 1e-10 * dt) break;
                grid.push_back(tj);
                if (cfg_.max_steps > 0 && (int64_t)grid.size() > cfg_.max_steps) break;
            }
            grid.push_back(t1_);
        }
        for (size_t j = 1; j < grid.size() && !done_; ++j) {
            check_max_steps();
            const double h = grid[j] - t_;
            stages(h);
            const int64_t bad = first_non_finite(ynew_.data(), n_);
            if (bad >= 0) {
                st_.bad_index = bad;
                fail(JDYN_ERR_NON_FINITE,
                     format_message("the state became non-finite (%g) in component %lld (batch %lld, dim %lld) in the step "
                         "from t=%.17g to t=%.17g",
                         (double)ynew_[(size_t)bad], (long long)bad, (long long)(bad / D_), (long long)(bad % D_),
                         t_, grid[j]));
            }
            finish_step(h, grid[j]);
            advance(h, grid[j]);
        }
    }

    double next_step_bound() const {
        // The next time a step must land on: the next forced step time, else the end.
        double bound = t1_;
        for (int64_t j = 0; j < cfg_.n_step_ts; ++j) {
            const double s = cfg_.step_ts[j];
            if ((s - t_) * dir_ > 0 && (s - bound) * dir_ < 0) {
                bound = s;
                break;
            }
        }
        return bound;
    }

    void run_adaptive() {
        double h = cfg_.dt > 0 ? cfg_.dt : initial_step();
        const double k = (double)tab_.error_order + 1.0;
        const double beta1 = cfg_.pcoeff + cfg_.icoeff + cfg_.dcoeff;
        const double beta2 = -(cfg_.pcoeff + 2.0 * cfg_.dcoeff);
        const double beta3 = cfg_.dcoeff;
        int64_t nonfinite_streak = 0;
        int64_t bad_index = -1;
        while ((t1_ - t_) * dir_ > 0 && !done_) {
            check_max_steps();
            if (cfg_.max_step > 0) h = std::min(h, cfg_.max_step);
            const double bound = next_step_bound();
            bool clipped = false;
            if ((t_ + dir_ * h - bound) * dir_ >= 0) {
                h = std::fabs(bound - t_);
                clipped = true;
            }
            const double min_step =
                std::max(cfg_.min_step, 16 * std::numeric_limits<double>::epsilon() * std::fabs(t_));
            // Rejections on non-finite values end at a floor relative to the span too: near t = 0 the floor
            // above is 0 and the step would shrink until max_steps.
            const double nonfinite_floor =
                16 * std::numeric_limits<double>::epsilon() * std::max(std::fabs(t_), std::fabs(t1_ - t0_));
            if (h < min_step || (nonfinite_streak > 0 && h < nonfinite_floor)) {
                if (nonfinite_streak > 0) {
                    st_.bad_index = bad_index;
                    fail(JDYN_ERR_NON_FINITE,
                         format_message("the state became non-finite in component %lld (batch %lld, dim %lld) near t=%.17g: "
                             "%lld steps rejected in a row until the step size underflowed (dt=%.3g)",
                             (long long)bad_index, (long long)(bad_index / D_), (long long)(bad_index % D_), t_,
                             (long long)nonfinite_streak, h));
                }
                fail(JDYN_ERR_STEP_UNDERFLOW,
                     format_message("step size underflow at t=%.17g: dt=%.6g is below the minimum %.6g after %lld accepted "
                         "and %lld rejected steps; recent error ratios %.4g, %.4g, %.4g, %.4g (the problem may be "
                         "stiff or singular near this t)",
                         t_, h, min_step, (long long)st_.accepted, (long long)st_.rejected, st_.err_history[0],
                         st_.err_history[1], st_.err_history[2], st_.err_history[3]));
            }
            const double hs = dir_ * h;
            stages(hs);
            const double err = error_ratio(hs);
            push_error_history(err);
            if (!std::isfinite(err)) {
                // A NaN or infinite estimate is a rejected step (the state may be fine with a smaller dt).
                st_.rejected++;
                bad_index = first_non_finite(ynew_.data(), n_);
                if (bad_index < 0) {
                    for (int s = 0; s < S_ && bad_index < 0; ++s) bad_index = first_non_finite(k_[(size_t)s].data(), n_);
                }
                nonfinite_streak++;
                h *= cfg_.dfactor;
                st_.last_dt = hs;
                continue;
            }
            nonfinite_streak = 0;
            if (err <= 1.0) {
                const double t_next = clipped ? bound : t_ + hs;
                finish_step(hs, t_next);
                advance(hs, t_next);
                const double inv = 1.0 / std::max(err, 1e-10);
                // step_pow: the per-sample loop's power, so that a row alone gets its bits; x^0 is 1, so
                // the factors of zero PID coefficients are left out (as the per-sample loop does)
                double factor = cfg_.safety * step_pow::pow1(inv, beta1 / k);
                if (beta2 != 0.0) factor *= step_pow::pow1(prev_inv_err_, beta2 / k);
                if (beta3 != 0.0) factor *= step_pow::pow1(prev_prev_inv_err_, beta3 / k);
                factor = std::min(cfg_.ifactor, std::max(cfg_.dfactor, factor));
                prev_prev_inv_err_ = prev_inv_err_;
                prev_inv_err_ = inv;
                h = h * factor;
            } else {
                st_.rejected++;
                st_.last_dt = hs;
                double factor = cfg_.safety * step_pow::pow1(err, -1.0 / k);
                factor = std::min(1.0, std::max(cfg_.dfactor, factor));
                h = h * factor;
            }
        }
    }
};

template <class T>
void run_typed(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys, void* ev,
               jdyn_solve_stats& st, std::unique_ptr<DenseOutput>* dense, StepObserver* observer) {
    std::unique_ptr<DenseStore<T>> store;
    if (cfg.dense && dense) store = std::make_unique<DenseStore<T>>(cfg.batch * cfg.dim, tab.degree, cfg.times[0]);
    Engine<T> engine(cfg, tab, st, observer);
    try {
        engine.run(static_cast<const T*>(y0), static_cast<T*>(ys), static_cast<T*>(ev), store.get());
    } catch (...) {
        if (store && store->steps() > 0) *dense = std::move(store);
        throw;
    }
    if (store) *dense = std::move(store);
}

}  // namespace

void run_engine(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys,
                void* event_state, jdyn_solve_stats& st, std::unique_ptr<DenseOutput>* dense, StepObserver* observer) {
    if (cfg.dtype == JDYN_FLOAT32)
        run_typed<float>(cfg, tab, y0, ys, event_state, st, dense, observer);
    else
        run_typed<double>(cfg, tab, y0, ys, event_state, st, dense, observer);
}

}  // namespace JDYN_ISA
}  // namespace jdyn
