// Per-sample adaptive stepping: every batch row is solved as if it were alone (its own initial step,
// step sizes, PID history, error norm over its own components, min/max step, max_steps, forced step
// times and outputs from its own interpolant), in lockstep iterations over the whole batch: one
// iteration is one attempted step of every unfinished row, so the field is still called for the batch,
// with each row at its own time (jdyn_field_rows_fn), or, given only a scalar field, once per run of
// consecutive rows sharing a time (the slow path).
//
// Every arithmetic expression below is the shared engine's (engine.cpp) for batch = 1, written in the
// same form so that the compiler contracts the same products into FMAs; this file is compiled with the
// same flags as each engine variant. A row therefore gives bitwise what the shared engine gives for it
// alone. Reductions (the error norm, Hairer's initial step) run per row in the shared engine's order.
//
// Rows are never moved: a finished row stays in the batch handed to the field (at its final time and
// state, its results discarded), so a field may index per-row data by the row's position. Compacting
// the unfinished rows would save their evaluations but would need the rows' indices in the callback.
#include "engine_per_sample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/rk_kernels.h"
#include "kernels/step_pow.h"
#include "non_finite.h"
#include "norm_settings.h"
#include "status.h"

#ifndef JDYN_ISA
#define JDYN_ISA isa_base
#endif

namespace jdyn {
namespace JDYN_ISA {

namespace {

constexpr int kBlock = 256;

// What the shared engine keeps in its stats and members for one solve, kept per row here.
struct Row {
    double t = 0, h = 0, hs = 0, bound = 0, last_dt = 0;
    double prev_inv = 1.0, prev_prev_inv = 1.0;
    double err[4] = {0, 0, 0, 0};  // newest first
    int64_t accepted = 0, rejected = 0;
    int64_t streak = 0, bad = -1;  // rejections on non-finite estimates in a row, and the culprit
    int64_t next_out = 1, cursor = 0;  // next output time, first step_ts entry not yet passed
    bool active = true, clipped = false, accept = false, extras = false;
};

// The loop's buffers, kept per thread between solves: a batch's buffers are megabytes, and fresh pages
// cost a fault each (a fifth of a 10,000-row solve's time on the VM measured). A solve started from
// inside a field (a nested solve) finds them busy and uses its own; above kKeepBytes they are freed.
template <class T>
struct Workspace {
    std::vector<int64_t> idx, final_nfe, nfe;
    std::vector<T> zfull, dzfull, y, ynew, ytmp, scratch;
    std::vector<double> tfull, hel, r5, r3, tin, rt, hsp, perr, pbase, pexp, ppow;
    std::vector<std::vector<T>> k;
    std::vector<unsigned char> part;
    std::vector<Row> rows;
    bool busy = false;

    size_t bytes() const {
        size_t b = (zfull.capacity() + dzfull.capacity() + y.capacity() + ynew.capacity() + ytmp.capacity() +
                    scratch.capacity()) * sizeof(T) +
                   (tfull.capacity() + hel.capacity() + r5.capacity() + r3.capacity() + tin.capacity() +
                    rt.capacity() + hsp.capacity() + perr.capacity() + pbase.capacity() + pexp.capacity() +
                    ppow.capacity()) * sizeof(double) +
                   rows.capacity() * sizeof(Row);
        for (const auto& v : k) b += v.capacity() * sizeof(T);
        return b;
    }
};
constexpr size_t kKeepBytes = size_t(64) << 20;

template <class T>
class PerSampleEngine {
public:
    PerSampleEngine(const jdyn_solve_config& cfg, const ButcherTableau& tab, jdyn_solve_stats& st, Workspace<T>& w)
        : cfg_(cfg), tab_(tab), st_(st), B_(cfg.batch), D_(cfg.dim), n_(cfg.batch * cfg.dim), idx_(w.idx),
          zfull_(w.zfull), dzfull_(w.dzfull), tfull_(w.tfull), final_nfe_(w.final_nfe), S_(tab.stages),
          X_((int)tab.dense_c.size()), k_(w.k), y_(w.y), ynew_(w.ynew), ytmp_(w.ytmp), scratch_(w.scratch),
          hel_(w.hel), r5_(w.r5), r3_(w.r3), tin_(w.tin), part_(w.part), rt_(w.rt), hsp_(w.hsp), perr_(w.perr), pbase_(w.pbase), pexp_(w.pexp), ppow_(w.ppow), nfe_(w.nfe),
          rows_(w.rows) {
        // resize keeps what a previous solve left in the element buffers: every value is written before
        // it is read for a row that steps (a row not taking part may carry stale values, never used)
        k_.resize((size_t)(S_ + X_));
        for (auto& v : k_) v.resize((size_t)n_);
        kptr_.resize((size_t)(S_ + X_));
        for (size_t j = 0; j < k_.size(); ++j) kptr_[j] = k_[j].data();
        y_.resize((size_t)n_);
        ynew_.resize((size_t)n_);
        ytmp_.resize((size_t)n_);
        scratch_.resize((size_t)n_);
        hel_.assign((size_t)n_, 0.0);
        r5_.resize((size_t)n_);
        r3_.resize((size_t)n_);
        tin_.resize((size_t)B_);
        part_.assign((size_t)B_, 1);
        rt_.assign((size_t)B_, 0.0);
        hsp_.assign((size_t)B_, 0.0);
        perr_.resize((size_t)B_);
        pbase_.resize((size_t)B_);
        pexp_.resize((size_t)B_);
        ppow_.resize((size_t)B_);
        nfe_.assign((size_t)B_, 0);
        rows_.assign((size_t)B_, Row{});
        idx_.resize((size_t)B_);
        for (int64_t b = 0; b < B_; ++b) idx_[(size_t)b] = b;
        final_nfe_.assign((size_t)B_, 0);
        m_ = B_;
        nm_ = n_;
        weights_.resize((size_t)(S_ + X_));
        norm_ = NormSettings(cfg);
        group_e5_.assign((size_t)norm_.groups + 1, 0.0);
        group_e3_.assign((size_t)norm_.groups + 1, 0.0);
        t0_ = cfg.times[0];
        t1_ = cfg.times[cfg.n_times - 1];
        dir_ = t1_ > t0_ ? 1.0 : -1.0;
    }

    void run(const T* y0, T* ys) {
        try {
            solve(y0, ys);
        } catch (...) {
            publish();
            throw;
        }
        publish();
    }

private:
    const jdyn_solve_config& cfg_;
    const ButcherTableau& tab_;
    jdyn_solve_stats& st_;
    const int64_t B_, D_, n_;
    // Rows are compacted as they finish: positions 0..m_-1 of every per-row and per-element array are
    // the unfinished rows in their original order, idx_[i] the batch row at position i. Finished rows
    // keep their Row (rows_ is by batch row: row(i) is position i's) and their evaluation count moves to
    // final_nfe_; the field still sees the whole batch through
    // zfull_/tfull_ (finished rows at their final time and state), once compacted_.
    int64_t m_ = 0, nm_ = 0;
    bool compacted_ = false;
    bool all_part_ = false;  // part_ is set for all m_ rows (the stages of an iteration)
    std::vector<int64_t>& idx_;
    std::vector<T>&zfull_, &dzfull_;
    std::vector<double>& tfull_;
    std::vector<int64_t>& final_nfe_;
    const int S_, X_;
    std::vector<std::vector<T>>& k_;
    std::vector<const T*> kptr_;
    std::vector<T>&y_, &ynew_, &ytmp_, &scratch_;
    std::vector<double>& hel_;      // per element: its row's signed step in the current phase (0: not taking part)
    std::vector<double>&r5_, &r3_;  // per element: the scaled error estimates
    std::vector<double>& tin_;      // per row: the time handed to the field
    std::vector<unsigned char>& part_;  // per row: takes part in the current evaluation
    // Per row, beside Row for the loops that touch every row each evaluation (contiguous, vectorised):
    // its time, its step in the current phase (0 when not taking part) and its evaluations.
    std::vector<double>&rt_, &hsp_;
    // Per row, the controller's error ratio and its power's base, exponent and value (step_pow, a few
    // rows per call).
    std::vector<double>&perr_, &pbase_, &pexp_, &ppow_;
    std::vector<int64_t>& nfe_;
    std::vector<Row>& rows_;
    std::vector<double> weights_;
    NormSettings norm_;
    std::vector<double> group_e5_, group_e3_;  // per norm group: the squared sums of a row's error
    double t0_ = 0, t1_ = 0, dir_ = 1;
    T* ys_ = nullptr;
    int64_t failed_row_ = -1;

    // ---- the field -----------------------------------------------------------------------------

    // dz = f(tin_, z) for the rows with part_ set. The row-time field takes the whole batch in one call
    // (rows not taking part ride along at their own time and state); a scalar field is called once per
    // run of consecutive rows taking part at one time, on that sub-batch.
    void eval(const T* z, T* dz) {
        // all_part_: every unfinished row takes part (the stages), so the loops below skip part_
        // (m local: a store to the int64 counts could alias m_, which would keep the loops scalar)
        const int64_t m = m_;
        int64_t* nfe = nfe_.data();
        if (all_part_) {
            for (int64_t i = 0; i < m; ++i) nfe[i] += 1;
        } else {
            const unsigned char* part = part_.data();
            for (int64_t i = 0; i < m; ++i) nfe[i] += part[i];
        }
        const T* zf = z;
        T* dzf = dz;
        const double* tf = tin_.data();
        if (compacted_) {
            // the unfinished rows that take part go to their batch rows; the rest keep their last input
            const int64_t* ix = idx_.data();
            if (all_part_ && D_ == 2) {
                T* zfl = zfull_.data();
                double* tfl = tfull_.data();
                for (int64_t i = 0; i < m_; ++i) {
                    const int64_t b = ix[i];
                    tfl[b] = tin_[(size_t)i];
                    zfl[2 * b] = z[2 * i];
                    zfl[2 * b + 1] = z[2 * i + 1];
                }
            } else {
                for (int64_t i = 0; i < m_; ++i) {
                    if (!part_[(size_t)i]) continue;
                    const int64_t b = ix[i];
                    tfull_[(size_t)b] = tin_[(size_t)i];
                    move_row(z, i, zfull_.data(), b);
                }
            }
            zf = zfull_.data();
            dzf = dzfull_.data();
            tf = tfull_.data();
        }
        if (cfg_.field_rows) {
            st_.nfe++;
            const int32_t rc = cfg_.field_rows(cfg_.field_rows_ctx, tf, zf, dzf, B_, D_);
            if (rc != 0)
                fail(JDYN_ERR_CALLBACK, format_message("the vector field reported failure (code %d) at per-sample times "
                                            "(row 0 at t=%.17g)", rc, tf[0]));
        } else {
            // runs of rows taking part that are consecutive in the batch and share a time
            for (int64_t i = 0; i < m_;) {
                if (!part_[(size_t)i]) {
                    ++i;
                    continue;
                }
                int64_t e = i + 1;
                while (e < m_ && part_[(size_t)e] && idx_[(size_t)e] == idx_[(size_t)(e - 1)] + 1 &&
                       tin_[(size_t)e] == tin_[(size_t)i])
                    ++e;
                st_.nfe++;
                const int64_t b = idx_[(size_t)i];
                const int32_t rc = cfg_.field(cfg_.field_ctx, tin_[(size_t)i], zf + b * D_, dzf + b * D_, e - i, D_);
                if (rc != 0)
                    fail(JDYN_ERR_CALLBACK, format_message("the vector field reported failure (code %d) at t=%.17g on batch rows "
                                                "%lld to %lld", rc, tin_[(size_t)i], (long long)b,
                                                (long long)(b + e - i - 1)));
                i = e;
            }
        }
        if (compacted_) {
            const int64_t* ix = idx_.data();
            const T* dzfl = dzfull_.data();
            if (all_part_ && D_ == 2) {
                for (int64_t i = 0; i < m_; ++i) {
                    const int64_t b = ix[i];
                    dz[2 * i] = dzfl[2 * b];
                    dz[2 * i + 1] = dzfl[2 * b + 1];
                }
            } else {
                for (int64_t i = 0; i < m_; ++i) {
                    if (!part_[(size_t)i]) continue;
                    move_row(dzfl, ix[i], dz, i);
                }
            }
        }
    }

    // Moves the unfinished rows to the front (in order) after an iteration in which some finished.
    void compact() {
        if (!compacted_) {
            zfull_.assign(y_.begin(), y_.begin() + n_);
            dzfull_.assign((size_t)n_, (T)0);
            tfull_.assign(rt_.begin(), rt_.begin() + B_);
            compacted_ = true;
        }
        int64_t j = 0;
        for (int64_t i = 0; i < m_; ++i) {
            const int64_t b = idx_[(size_t)i];
            const Row& r = rows_[(size_t)b];
            if (!r.active) {
                final_nfe_[(size_t)b] = nfe_[(size_t)i];
                // it rides along at its final time and state from now on
                tfull_[(size_t)b] = r.t;
                for (int64_t d = 0; d < D_; ++d) zfull_[(size_t)(b * D_ + d)] = y_[(size_t)(i * D_ + d)];
                continue;
            }
            if (j != i) {
                nfe_[(size_t)j] = nfe_[(size_t)i];
                idx_[(size_t)j] = b;
                rt_[(size_t)j] = rt_[(size_t)i];
                copy_between(y_.data(), i, j);
                copy_between(k_[0].data(), i, j);
            }
            ++j;
        }
        m_ = j;
        nm_ = m_ * D_;
    }

    // to's row j = from's row i; unrolled for the common two-component rows
    void move_row(const T* from, int64_t i, T* to, int64_t j) const {
        if (D_ == 2) {
            to[2 * j] = from[2 * i];
            to[2 * j + 1] = from[2 * i + 1];
            return;
        }
        for (int64_t d = 0; d < D_; ++d) to[j * D_ + d] = from[i * D_ + d];
    }

    void copy_between(T* v, int64_t from, int64_t to) const {
        if (D_ == 2) {
            v[2 * to] = v[2 * from];
            v[2 * to + 1] = v[2 * from + 1];
            return;
        }
        for (int64_t d = 0; d < D_; ++d) v[to * D_ + d] = v[from * D_ + d];
    }

    // Which rows take part in the next evaluations (part_), with their step (hsp_, hel_; 0 for the rest).
    void set_phase(bool (*takes_part)(const Row&)) {
        for (int64_t b = 0; b < m_; ++b) {
            const Row& r = row(b);
            const bool p = takes_part(r);
            part_[(size_t)b] = p;
            hsp_[(size_t)b] = p ? r.hs : 0.0;
        }
        fill_hel();
    }

    // hel_ (per element) from hsp_ (per row).
    void fill_hel() {
        if (D_ == 1) {
            std::copy(hsp_.begin(), hsp_.begin() + m_, hel_.begin());
        } else if (D_ == 2) {
            for (int64_t b = 0; b < m_; ++b) hel_[(size_t)(2 * b)] = hel_[(size_t)(2 * b + 1)] = hsp_[(size_t)b];
        } else {
            for (int64_t b = 0; b < m_; ++b) std::fill_n(hel_.begin() + b * D_, D_, hsp_[(size_t)b]);
        }
    }

    // Rows taking part at t + c * hs (the shared engine's expression), the others at their own t
    // (t + c * 0 is t).
    void set_times(double c) {
        const double* t = rt_.data();
        const double* h = hsp_.data();
        double* out = tin_.data();
        for (int64_t b = 0; b < m_; ++b) out[b] = t[b] + c * h[b];
    }

    // out = base + h_row * sum_j w_j k_j, element by element (kernels::stage_combine with a per-element h).
    void combine(const T* base, const double* w, int nk, T* out) {
        double acc[kBlock];
        for (int64_t i0 = 0; i0 < nm_; i0 += kBlock) {
            const int len = (int)std::min<int64_t>(kBlock, nm_ - i0);
            kernels::accumulate<T, kBlock>(i0, len, w, kptr_.data(), nk, acc);
            const double* h = hel_.data() + i0;
            for (int e = 0; e < len; ++e) out[i0 + e] = (T)((double)base[i0 + e] + h[e] * acc[e]);
        }
    }

    // ---- the error norm, per row in the shared engine's order -----------------------------------

    static double combine_error(double e5, double e3, double count, bool two) {
        if (!two) return std::sqrt(e5 / count);
        const double deno = e5 + 0.01 * e3;
        if (deno <= 0) return 0.0;
        return e5 / std::sqrt(count * deno);
    }

    // r5_, r3_ = h * (error weights . k) / scale for every element of the rows that step.
    void scaled_errors(bool two) {
        double acc5[kBlock], acc3[kBlock];
        for (int64_t i0 = 0; i0 < nm_; i0 += kBlock) {
            const int len = (int)std::min<int64_t>(kBlock, nm_ - i0);
            kernels::accumulate<T, kBlock>(i0, len, tab_.b_error.data(), kptr_.data(), S_, acc5);
            if (two) kernels::accumulate<T, kBlock>(i0, len, tab_.b_error3.data(), kptr_.data(), S_, acc3);
            const double* h = hel_.data() + i0;
            if (norm_.uniform) {
                const double rt = norm_.rtol[0], at = norm_.atol[0];
                for (int e = 0; e < len; ++e) {
                    const double sc = kernels::tolerance_scale((double)y_[(size_t)(i0 + e)],
                                                               (double)ynew_[(size_t)(i0 + e)], rt, at);
                    r5_[(size_t)(i0 + e)] = h[e] * acc5[e] / sc;
                    if (two) r3_[(size_t)(i0 + e)] = h[e] * acc3[e] / sc;
                }
            } else {
                int64_t d = i0 % D_;
                for (int e = 0; e < len; ++e) {
                    const double sc = kernels::tolerance_scale((double)y_[(size_t)(i0 + e)],
                                                               (double)ynew_[(size_t)(i0 + e)], norm_.rtol[(size_t)d],
                                                               norm_.atol[(size_t)d]);
                    r5_[(size_t)(i0 + e)] = h[e] * acc5[e] / sc;
                    if (two) r3_[(size_t)(i0 + e)] = h[e] * acc3[e] / sc;
                    if (++d == D_) d = 0;
                }
            }
        }
    }

    // The shared engine's error_ratio for batch = 1: blocks of kBlock components, each summed from 0.
    double row_sum(const double* r) const {
        double total = 0;
        for (int64_t j0 = 0; j0 < D_; j0 += kBlock) {
            const int64_t len = std::min<int64_t>(kBlock, D_ - j0);
            double sum = 0.0;
            if (norm_.uniform) {
                for (int64_t q = 0; q < len; ++q) sum += r[j0 + q] * r[j0 + q];
            } else {
                for (int64_t q = 0; q < len; ++q) sum += norm_.group[(size_t)(j0 + q)] * r[j0 + q] * r[j0 + q];
            }
            total += sum;
        }
        return total;
    }

    double row_error(int64_t b, bool two) {
        const double* r5 = r5_.data() + b * D_;
        const double* r3 = r3_.data() + b * D_;
        if (norm_.groups > 1) {
            std::fill(group_e5_.begin(), group_e5_.end(), 0.0);
            std::fill(group_e3_.begin(), group_e3_.end(), 0.0);
            for (int64_t d = 0; d < D_; ++d) {
                const int g = (int)norm_.group[(size_t)d];
                if (g == 0) continue;
                group_e5_[(size_t)g] += r5[d] * r5[d];
                if (two) group_e3_[(size_t)g] += r3[d] * r3[d];
            }
            double worst = 0;
            for (int g = 1; g <= norm_.groups; ++g) {
                if (norm_.group_count[(size_t)g] == 0) continue;
                const double r = combine_error(group_e5_[(size_t)g], group_e3_[(size_t)g],
                                               1.0 * (double)norm_.group_count[(size_t)g], two);
                if (!(r <= worst)) worst = r;
            }
            return worst;
        }
        const double e5 = row_sum(r5);
        const double e3 = two ? row_sum(r3) : 0.0;
        return combine_error(e5, e3, 1.0 * (double)norm_.count, two);
    }

    // ---- start ---------------------------------------------------------------------------------

    double rms_scaled(const T* v, const T* ref) const {
        double acc = 0;
        for (int64_t d = 0; d < D_; ++d) {
            if (norm_.group[(size_t)d] == 0.0) continue;
            const double sc = norm_.atol[(size_t)d] + norm_.rtol[(size_t)d] * std::fabs((double)ref[d]);
            const double r = (double)v[d] / sc;
            acc += r * r;
        }
        return std::sqrt(acc / (1.0 * (double)norm_.count));
    }

    // Hairer's starting step for every row (the shared engine's initial_step, row by row), with one
    // evaluation of the batch at the rows' trial points.
    void initial_steps() {
        const double span = std::fabs(t1_ - t0_);
        std::vector<double> h0(B_), d1v(B_);
        for (int64_t b = 0; b < B_; ++b) {
            const T* y = y_.data() + b * D_;
            const double d0 = rms_scaled(y, y);
            const double d1 = rms_scaled(k_[0].data() + b * D_, y);
            double h = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
            h = std::min(h, span);
            h0[(size_t)b] = h;
            d1v[(size_t)b] = d1;
            const double a = dir_ * h;
            for (int64_t i = b * D_; i < (b + 1) * D_; ++i) kernels::axpy(i, a, k_[0].data(), y_.data(), ytmp_.data());
            part_[(size_t)b] = 1;
            tin_[(size_t)b] = row(b).t + dir_ * h;
        }
        T* f1all = k_[1].data();
        eval(ytmp_.data(), f1all);
        for (int64_t b = 0; b < B_; ++b) {
            const T* y = y_.data() + b * D_;
            const T* f0 = k_[0].data() + b * D_;
            const T* f1 = f1all + b * D_;
            double acc = 0;
            for (int64_t d = 0; d < D_; ++d) {
                if (norm_.group[(size_t)d] == 0.0) continue;
                const double sc = norm_.atol[(size_t)d] + norm_.rtol[(size_t)d] * std::fabs((double)y[d]);
                const double r = ((double)f1[d] - (double)f0[d]) / sc;
                acc += r * r;
            }
            const double hh0 = h0[(size_t)b];
            const double d2 = std::sqrt(acc / (1.0 * (double)norm_.count)) / hh0;
            const double dmax = std::max(d1v[(size_t)b], d2);
            const double h1 = dmax <= 1e-15 ? std::max(1e-6, hh0 * 1e-3) : std::pow(0.01 / dmax, 1.0 / tab_.order);
            double h = std::min(100 * hh0, h1);
            h = std::min(h, span);
            if (cfg_.max_step > 0) h = std::min(h, cfg_.max_step);
            row(b).h = h;
        }
    }

    // ---- the lockstep loop ------------------------------------------------------------------------

    void solve(const T* y0, T* ys) {
        ys_ = ys;
        std::memcpy(y_.data(), y0, sizeof(T) * (size_t)n_);
        std::memcpy(ys_, y0, sizeof(T) * (size_t)n_);
        for (auto& r : rows_) r.t = t0_;
        std::fill(rt_.begin(), rt_.end(), t0_);
        for (int64_t b = 0; b < B_; ++b) {
            part_[(size_t)b] = 1;
            tin_[(size_t)b] = t0_;
        }
        eval(y_.data(), k_[0].data());
        if (const int64_t bad = first_non_finite(k_[0].data(), n_); bad >= 0) {
            fail_row(bad / D_, JDYN_ERR_NON_FINITE, bad,
                     format_message("the vector field is non-finite (%g) at the initial point t=%.17g in batch row %lld, "
                         "component %lld: f(t0, y0) must be finite",
                         (double)k_[0][(size_t)bad], t0_, (long long)(bad / D_), (long long)(bad % D_)));
        }
        if (cfg_.dt > 0) {
            for (auto& r : rows_) r.h = cfg_.dt;
        } else {
            initial_steps();
        }
        const double k = (double)tab_.error_order + 1.0;
        const double beta1 = cfg_.pcoeff + cfg_.icoeff + cfg_.dcoeff;
        const double beta2 = -(cfg_.pcoeff + 2.0 * cfg_.dcoeff);
        const double beta3 = cfg_.dcoeff;
        const double e1 = beta1 / k, e2 = beta2 / k, e3 = beta3 / k, erej = -1.0 / k;
        const bool two = !tab_.b_error3.empty();
        while (m_ > 0) {
            // Every row at positions 0..m_-1 is unfinished (compacted after each iteration), so all take
            // part in the stages, each with its own step.
            for (int64_t b = 0; b < m_; ++b) {
                prepare(b);
                part_[(size_t)b] = 1;
                hsp_[(size_t)b] = row(b).hs;
            }
            fill_hel();
            all_part_ = true;
            for (int s = 1; s < S_; ++s) {
                const bool last_is_new_state = tab_.fsal && s == S_ - 1;
                T* input = last_is_new_state ? ynew_.data() : ytmp_.data();
                combine(y_.data(), tab_.a[(size_t)s].data(), s, input);
                set_times(tab_.c[(size_t)s]);
                eval(input, k_[(size_t)s].data());
            }
            all_part_ = false;
            if (!tab_.fsal) combine(y_.data(), tab_.b.data(), S_, ynew_.data());
            scaled_errors(two);
            // The rows' error ratios, then their controller powers a vector at a time: err^erej for a
            // rejection, (1 / max(err, 1e-10))^e1 for an acceptance (1^1 for the others, unused).
            if (D_ == 2 && norm_.uniform && norm_.groups <= 1 && !two) {
                // row_error for two components, one vectorisable loop over the rows (all unfinished, so
                // all active): the same sum in the same order, sqrt(e5 / count)
                const double count = 1.0 * (double)norm_.count;
                const double* r5 = r5_.data();
                double *perr = perr_.data(), *pbase = pbase_.data(), *pexp = pexp_.data();
                const int64_t m = m_;
                for (int64_t b = 0; b < m; ++b) {
                    double sum = 0.0;
                    sum += r5[2 * b] * r5[2 * b];
                    sum += r5[2 * b + 1] * r5[2 * b + 1];
                    const double err = std::sqrt(sum / count);
                    perr[b] = err;
                    const bool ok = std::isfinite(err);
                    const bool acc = err <= 1.0;
                    pbase[b] = !ok ? 1.0 : acc ? 1.0 / std::max(err, 1e-10) : err;
                    pexp[b] = !ok ? 1.0 : acc ? e1 : erej;
                }
            } else {
                for (int64_t b = 0; b < m_; ++b) {
                    const double err = row(b).active ? row_error(b, two) : 1.0;
                    perr_[(size_t)b] = err;
                    const bool ok = std::isfinite(err);
                    const bool acc = err <= 1.0;
                    pbase_[(size_t)b] = !ok ? 1.0 : acc ? 1.0 / std::max(err, 1e-10) : err;
                    pexp_[(size_t)b] = !ok ? 1.0 : acc ? e1 : erej;
                }
            }
            step_pow::pow_n(pbase_.data(), pexp_.data(), ppow_.data(), m_);
            bool any_extras = false;
            for (int64_t b = 0; b < m_; ++b) {
                Row& r = row(b);
                r.accept = false;
                r.extras = false;
                if (!r.active) continue;
                const double err = perr_[(size_t)b];
                for (int j = 3; j > 0; --j) r.err[j] = r.err[j - 1];
                r.err[0] = err;
                if (!std::isfinite(err)) {
                    r.rejected++;
                    r.bad = first_non_finite(ynew_.data() + b * D_, D_);
                    for (int s = 0; s < S_ && r.bad < 0; ++s) r.bad = first_non_finite(k_[(size_t)s].data() + b * D_, D_);
                    r.streak++;
                    r.h *= cfg_.dfactor;
                    r.last_dt = r.hs;
                    continue;
                }
                r.streak = 0;
                if (err <= 1.0) {
                    r.accept = true;
                    const double inv = pbase_[(size_t)b];
                    // the shared engine leaves out the factors with a zero exponent (x^0 is 1)
                    double factor = cfg_.safety * ppow_[(size_t)b];
                    if (e2 != 0.0) factor *= step_pow::pow1(r.prev_inv, e2);
                    if (e3 != 0.0) factor *= step_pow::pow1(r.prev_prev_inv, e3);
                    factor = std::min(cfg_.ifactor, std::max(cfg_.dfactor, factor));
                    r.prev_prev_inv = r.prev_inv;
                    r.prev_inv = inv;
                    r.h = r.h * factor;
                    if (X_ > 0 && r.next_out < cfg_.n_times) {
                        const double tn = r.clipped ? r.bound : r.t + r.hs;
                        const double to = cfg_.times[r.next_out];
                        r.extras = (to - tn) * dir_ <= 0 && to != tn;
                        any_extras |= r.extras;
                    }
                } else {
                    r.rejected++;
                    r.last_dt = r.hs;
                    double factor = cfg_.safety * ppow_[(size_t)b];
                    factor = std::min(1.0, std::max(cfg_.dfactor, factor));
                    r.h = r.h * factor;
                }
            }
            if (any_extras) extras();
            bool any_f0 = false;
            bool any_done = false;
            for (int64_t b = 0; b < m_; ++b) {
                Row& r = row(b);
                if (!r.accept) continue;
                const double tn = r.clipped ? r.bound : r.t + r.hs;
                outputs(b, tn);
                // advance: the new state becomes current, k_0 becomes f there.
                const int64_t o = b * D_;
                copy_row(ynew_.data(), y_.data(), o);
                r.t = tn;
                rt_[(size_t)b] = tn;
                if (tab_.fsal) {
                    copy_row(k_[(size_t)(S_ - 1)].data(), k_[0].data(), o);
                    r.extras = false;
                } else if (r.extras && tab_.extra_is_f1) {
                    copy_row(k_[(size_t)S_].data(), k_[0].data(), o);
                    r.extras = false;
                } else if (r.t != t1_) {
                    r.extras = true;  // reused below as "needs f(t, y)"
                    any_f0 = true;
                } else {
                    r.extras = false;
                }
                r.accepted++;
                r.last_dt = r.hs;
                if ((t1_ - r.t) * dir_ <= 0) {
                    r.active = false;
                    any_done = true;
                }
            }
            if (any_f0) {
                for (int64_t b = 0; b < m_; ++b) {
                    const Row& r = row(b);
                    part_[(size_t)b] = r.accept && r.extras;
                    tin_[(size_t)b] = r.t;
                }
                eval(y_.data(), scratch_.data());
                for (int64_t b = 0; b < m_; ++b) {
                    if (!part_[(size_t)b]) continue;
                    copy_row(scratch_.data(), k_[0].data(), b * D_);
                }
            }
            if (any_done) compact();
        }
    }

    // The shared engine's checks and step bound at the start of a row's attempt.
    void prepare(int64_t i) {
        Row& r = row(i);
        const int64_t b = idx_[(size_t)i];  // the batch row, for messages
        if (cfg_.max_steps > 0 && r.accepted + r.rejected >= cfg_.max_steps)
            fail_row(b, JDYN_ERR_MAX_STEPS, -1,
                     format_message("maximum number of steps (%lld) reached by batch row %lld at t=%.17g of [%.17g, %.17g]: "
                         "%lld accepted, %lld rejected, last step %.6g, %lld evaluations (per-sample stepping)",
                         (long long)cfg_.max_steps, (long long)b, r.t, t0_, t1_, (long long)r.accepted,
                         (long long)r.rejected, r.last_dt, (long long)nfe_[(size_t)i]));
        double h = r.h;
        if (cfg_.max_step > 0) h = std::min(h, cfg_.max_step);
        // The next time a step must land on: the next forced step time, else the end.
        while (r.cursor < cfg_.n_step_ts && (cfg_.step_ts[r.cursor] - r.t) * dir_ <= 0) ++r.cursor;
        double bound = t1_;
        if (r.cursor < cfg_.n_step_ts && (cfg_.step_ts[r.cursor] - bound) * dir_ < 0) bound = cfg_.step_ts[r.cursor];
        r.clipped = false;
        if ((r.t + dir_ * h - bound) * dir_ >= 0) {
            h = std::fabs(bound - r.t);
            r.clipped = true;
        }
        r.bound = bound;
        const double min_step = std::max(cfg_.min_step, 16 * std::numeric_limits<double>::epsilon() * std::fabs(r.t));
        const double nonfinite_floor =
            16 * std::numeric_limits<double>::epsilon() * std::max(std::fabs(r.t), std::fabs(t1_ - t0_));
        if (h < min_step || (r.streak > 0 && h < nonfinite_floor)) {
            if (r.streak > 0)
                fail_row(b, JDYN_ERR_NON_FINITE, r.bad < 0 ? -1 : b * D_ + r.bad,
                         format_message("the state became non-finite in batch row %lld, component %lld near t=%.17g: %lld steps "
                             "rejected in a row until the step size underflowed (dt=%.3g)",
                             (long long)b, (long long)r.bad, r.t, (long long)r.streak, h));
            fail_row(b, JDYN_ERR_STEP_UNDERFLOW, -1,
                     format_message("step size underflow in batch row %lld at t=%.17g: dt=%.6g is below the minimum %.6g after "
                         "%lld accepted and %lld rejected steps; recent error ratios %.4g, %.4g, %.4g, %.4g (the "
                         "problem may be stiff or singular near this t)",
                         (long long)b, r.t, h, min_step, (long long)r.accepted, (long long)r.rejected, r.err[0],
                         r.err[1], r.err[2], r.err[3]));
        }
        r.h = h;
        r.hs = dir_ * h;
    }

    // The dense-output stages of the accepted rows that have an output inside their step.
    void extras() {
        set_phase([](const Row& r) { return r.extras; });
        for (int x = 0; x < X_; ++x) {
            const T* input;
            if (x == 0 && tab_.extra_is_f1) {
                input = ynew_.data();
            } else {
                combine(y_.data(), tab_.dense_a[(size_t)x].data(), S_ + x, ytmp_.data());
                input = ytmp_.data();
            }
            set_times(tab_.dense_c[(size_t)x]);
            eval(input, k_[(size_t)(S_ + x)].data());
        }
    }

    // Writes row b's output times inside (t, tn] from its step's interpolant.
    void outputs(int64_t b, double tn) {
        Row& r = row(b);
        const int nk = S_ + X_;
        const int64_t o = b * D_;
        while (r.next_out < cfg_.n_times && (cfg_.times[r.next_out] - tn) * dir_ <= 0) {
            const double to = cfg_.times[r.next_out];
            // shifted so that dst[o + d] is the batch row's component d at this output time
            T* dst = ys_ + r.next_out * n_ + (idx_[(size_t)b] - b) * D_;
            if (to == tn) {
                copy_row(ynew_.data(), dst, o);
            } else {
                const double theta = (to - r.t) / r.hs;
                for (int i = 0; i < nk; ++i) {
                    double w = 0, pw = 1;
                    for (int p = 0; p < tab_.degree; ++p) {
                        pw *= theta;
                        w += tab_.dense_p[(size_t)i][(size_t)p] * pw;
                    }
                    weights_[(size_t)i] = w;
                }
                for (int64_t i0 = o; i0 < o + D_; i0 += kBlock)
                    kernels::stage_combine<T, kBlock>(i0, (int)std::min<int64_t>(kBlock, o + D_ - i0), y_.data(),
                                                      r.hs, weights_.data(), kptr_.data(), nk, dst);
            }
            ++r.next_out;
        }
    }

    Row& row(int64_t i) { return rows_[(size_t)idx_[(size_t)i]]; }

    // One row's D values; a plain loop, as rows are mostly short (a memmove call per row costs more).
    void copy_row(const T* from, T* to, int64_t o) const {
        if (D_ == 2) {
            to[o] = from[o];
            to[o + 1] = from[o + 1];
            return;
        }
        for (int64_t d = 0; d < D_; ++d) to[o + d] = from[o + d];
    }

    // b is the row's batch index (messages name it); the row is at position idx_^-1(b).
    [[noreturn]] void fail_row(int64_t b, jdyn_status status, int64_t bad_index, const std::string& message) {
        failed_row_ = b;
        st_.bad_index = bad_index;
        fail(status, message);
    }

    // The batch's statistics (nfe: field calls; accepted and rejected: those of the row that took the
    // most steps, i.e. the lockstep iterations) and the per-row ones.
    void publish() {
        for (int64_t i = 0; i < m_; ++i) final_nfe_[(size_t)idx_[(size_t)i]] = nfe_[(size_t)i];
        const std::vector<Row>& rows = rows_;
        int64_t most = 0;
        double t_min = rows[0].t;
        for (int64_t b = 0; b < B_; ++b) {
            const Row& r = rows[(size_t)b];
            const Row& m = rows[(size_t)most];
            if (r.accepted + r.rejected > m.accepted + m.rejected) most = b;
            if ((r.t - t_min) * dir_ < 0) t_min = r.t;
        }
        const Row& shown = rows[(size_t)(failed_row_ >= 0 ? failed_row_ : most)];
        st_.accepted = rows[(size_t)most].accepted;
        st_.rejected = rows[(size_t)most].rejected;
        st_.t_reached = failed_row_ >= 0 ? shown.t : t_min;
        st_.last_dt = shown.last_dt;
        for (int j = 0; j < 4; ++j) st_.err_history[j] = shown.err[j];
        int64_t n_out = cfg_.n_times;
        for (const Row& r : rows) n_out = std::min(n_out, r.next_out);
        st_.n_out = n_out;
        if (cfg_.sample_stats) {
            for (int64_t b = 0; b < B_; ++b) {
                const Row& r = rows[(size_t)b];
                cfg_.sample_stats[3 * b] = final_nfe_[(size_t)b];
                cfg_.sample_stats[3 * b + 1] = r.accepted;
                cfg_.sample_stats[3 * b + 2] = r.rejected;
            }
        }
    }
};

}  // namespace

namespace {
template <class T>
void run_typed(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys,
               jdyn_solve_stats& st) {
    thread_local Workspace<T> cached;
    Workspace<T> own;
    Workspace<T>& w = cached.busy ? own : cached;
    w.busy = true;
    struct Release {
        Workspace<T>& w;
        ~Release() {
            w.busy = false;
            if (w.bytes() > kKeepBytes) w = Workspace<T>();
        }
    } release{w};
    PerSampleEngine<T> e(cfg, tab, st, w);
    e.run(static_cast<const T*>(y0), static_cast<T*>(ys));
}
}  // namespace

void run_per_sample(const jdyn_solve_config& cfg, const ButcherTableau& tab, const void* y0, void* ys,
                    jdyn_solve_stats& st) {
    if (cfg.dtype == JDYN_FLOAT32)
        run_typed<float>(cfg, tab, y0, ys, st);
    else
        run_typed<double>(cfg, tab, y0, ys, st);
}

}  // namespace JDYN_ISA
}  // namespace jdyn
