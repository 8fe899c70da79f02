#include "sensitivity/per_sample.h"

#include <cstring>
#include <string>
#include <vector>

#include "engine.h"
#include "status.h"

namespace jdyn {

namespace {

// Row b's solve: the caller's config at batch 1 (tolerance vectors and norm weights are per component
// of one row already), with nothing per-sample left in it.
jdyn_solve_config row_config(const jdyn_solve_config& c) {
    jdyn_solve_config r = c;
    r.batch = 1;
    r.per_sample = 0;
    r.sample_stats = nullptr;
    return r;
}

void check_shape(const jdyn_solve_config& c) {
    if (c.batch < 1) fail(JDYN_ERR_ARGUMENT, "batch must be >= 1, got " + std::to_string(c.batch));
    if (c.dim < 1) fail(JDYN_ERR_ARGUMENT, "dim must be >= 1, got " + std::to_string(c.dim));
    if (!c.times || c.n_times < 2) fail(JDYN_ERR_ARGUMENT, "at least two times are needed");
    if (c.event)
        fail(JDYN_ERR_ARGUMENT, "a terminal event stops the whole batch at one time: a per-sample solve refuses it "
                                "(solve with per_sample = 0)");
}

// The totals of a per-sample solve in the caller's stats: nfe, accepted and rejected summed over the
// rows (each evaluation is one row's, at batch 1); n_out, t_reached, last_dt and the error ratios are
// the last row's solved (on a failure, the failing row's); bad_index is a flat index into [batch, dim].
// Per-row counts go to sample_stats [batch, 3] (nfe, accepted, rejected), zero for rows not reached.
class RowStats {
public:
    RowStats(const jdyn_solve_config& c, jdyn_solve_stats& total) : c_(c), total_(total) {
        std::memset(&total_, 0, sizeof total_);
        total_.bad_index = -1;
        if (c_.sample_stats) std::memset(c_.sample_stats, 0, sizeof(int64_t) * 3 * (size_t)c_.batch);
    }

    void add(int64_t b, const jdyn_solve_stats& row) {
        total_.nfe += row.nfe;
        total_.accepted += row.accepted;
        total_.rejected += row.rejected;
        total_.n_out = row.n_out;
        total_.t_reached = row.t_reached;
        total_.last_dt = row.last_dt;
        std::memcpy(total_.err_history, row.err_history, sizeof row.err_history);
        if (row.bad_index >= 0) total_.bad_index = b * c_.dim + row.bad_index;
        if (c_.sample_stats) {
            int64_t* s = c_.sample_stats + 3 * b;
            s[0] = row.nfe;
            s[1] = row.accepted;
            s[2] = row.rejected;
        }
    }

private:
    const jdyn_solve_config& c_;
    jdyn_solve_stats& total_;
};

[[noreturn]] void fail_in_row(const Failure& f, int64_t b) {
    throw Failure(f.status(), "batch row " + std::to_string(b) + ": " + f.what());
}

template <class T>
int32_t field_fn(void* ctx, double t, const void* z, void* dz, int64_t batch, int64_t) {
    static_cast<DiffField<T>*>(ctx)->forward(t, static_cast<const T*>(z), static_cast<T*>(dz), batch);
    return 0;
}

// Row b's outputs [T, 1, D] into the batch's [T, B, D].
template <class T>
void scatter_row(const std::vector<T>& row, int64_t b, int64_t batch, int64_t dim, int64_t nt, T* ys) {
    for (int64_t k = 0; k < nt; ++k)
        std::copy(row.begin() + k * dim, row.begin() + (k + 1) * dim, ys + (k * batch + b) * dim);
}

// One sub-tape per row; the backward pass splits the cotangent by row and sums dL/dtheta and dL/dt
// over the rows in row order, so the result does not depend on how rows are scheduled.
template <class T>
class PerSampleTape final : public TapeBase {
public:
    PerSampleTape(int64_t batch, int64_t dim, int64_t n_times) : batch_(batch), dim_(dim), nt_(n_times) {
        rows_.reserve((size_t)batch);
    }

    void add_row(std::unique_ptr<TapeBase> row) { rows_.push_back(std::move(row)); }

    // No one sequence of steps for the batch (each row's accepted steps are in sample_stats).
    int64_t steps() const override { return 0; }

    int64_t bytes() const override {
        int64_t s = (int64_t)(rows_.capacity() * sizeof(rows_[0]));
        for (const auto& r : rows_) s += r->bytes();
        return s;
    }

    void step_times(double*) const override {
        fail(JDYN_ERR_ARGUMENT, "a per-sample tape has one sequence of steps per row, not one for the batch");
    }

    // jdyn_backward_stats receives the totals over the rows (each evaluation is one row's, at batch 1).
    void backward(const void* ys_cot_raw, const BackwardOptions& opt, IntegralLoss* integral, void* g_y0_raw,
                  void* g_params, double* g_times, BackwardStats& stats) override {
        if (integral) fail(JDYN_ERR_ARGUMENT, "a per-sample solve has no integral loss callback");
        if (opt.curvature)
            fail(JDYN_ERR_ARGUMENT, "second-order statistics (SNOpt) are not collected by a per-sample solve: their "
                                    "factors average over the batch at shared times (solve with per_sample = 0)");
        const T* ys_cot = static_cast<const T*>(ys_cot_raw);
        T* g_y0 = static_cast<T*>(g_y0_raw);
        stats = BackwardStats{};
        std::vector<T> cot(ys_cot ? (size_t)(nt_ * dim_) : 0);
        std::vector<double> gt_row((size_t)nt_), gt_sum((size_t)nt_, 0.0);
        for (int64_t b = 0; b < batch_; ++b) {
            if (ys_cot)
                for (int64_t k = 0; k < nt_; ++k)
                    std::copy(ys_cot + (k * batch_ + b) * dim_, ys_cot + (k * batch_ + b + 1) * dim_,
                              cot.begin() + k * dim_);
            BackwardStats rs;
            try {
                // g_params accumulates row by row, in row order: the sub-tape adds its row's gradient.
                rows_[(size_t)b]->backward(ys_cot ? cot.data() : nullptr, opt, nullptr, g_y0 ? g_y0 + b * dim_ : nullptr,
                                           g_params, g_times ? gt_row.data() : nullptr, rs);
            } catch (const Failure& f) {
                add(stats, rs);
                fail_in_row(f, b);
            }
            add(stats, rs);
            if (g_times)
                for (int64_t k = 0; k < nt_; ++k) gt_sum[(size_t)k] += gt_row[(size_t)k];
        }
        if (g_times) std::copy(gt_sum.begin(), gt_sum.end(), g_times);
    }

private:
    static void add(BackwardStats& total, const BackwardStats& row) {
        total.nfe += row.nfe;
        total.accepted += row.accepted;
        total.rejected += row.rejected;
    }

    int64_t batch_, dim_, nt_;
    std::vector<std::unique_ptr<TapeBase>> rows_;
};

// Whether node n of g reads the batch axis of a batched input as an axis of its own (a reduction,
// softmax, concatenation, slice or padding along axis 0), or turns batched values into unbatched ones.
bool mixes_rows(const graph::Graph& g, const graph::Node& n) {
    bool batched_in = false;
    for (int32_t i : n.in) batched_in = batched_in || g.shape(i).batched();
    if (!batched_in) return false;
    if (!n.shape.batched()) return true;
    switch (n.op) {
        case JDYN_OP_SUM:
        case JDYN_OP_MEAN:
        case JDYN_OP_MAX:
        case JDYN_OP_SOFTMAX:
        case JDYN_OP_LOG_SOFTMAX:
        case JDYN_OP_CONCAT:
        case JDYN_OP_SLICE:
        case JDYN_OP_PAD: {
            const graph::Shape& s = g.shape(n.in[0]);
            const int64_t axis = n.ia[0] < 0 ? n.ia[0] + s.rank : n.ia[0];
            return s.batched() && axis == 0;
        }
        default: return false;
    }
}

}  // namespace

bool steps_per_sample(const jdyn_solve_config& config) {
    if (config.per_sample != 0 && config.per_sample != 1)
        fail(JDYN_ERR_ARGUMENT, "per_sample must be 0 or 1, got " + std::to_string(config.per_sample));
    return config.per_sample == 1 && config.adaptive != 0;
}

void require_rows_independent(const graph::Graph& g) {
    for (size_t i = 0; i < g.nodes().size(); ++i) {
        const graph::Node& n = g.nodes()[i];
        if (mixes_rows(g, n))
            fail(JDYN_ERR_ARGUMENT, "the program mixes batch rows (node " + std::to_string(i) + ", " +
                                        graph::op_name(n.op) + " across the batch axis): a per-sample solve "
                                        "evaluates every row alone, so its rows must not interact "
                                        "(solve with per_sample = 0)");
    }
}

template <class T>
void solve_per_sample(const jdyn_solve_config& config, DiffField<T>* field, const T* y0, T* ys,
                      jdyn_solve_stats& stats) {
    check_shape(config);
    const int64_t B = config.batch, D = config.dim, nt = config.n_times;
    RowStats totals(config, stats);
    jdyn_solve_config c = row_config(config);
    c.field = field_fn<T>;
    c.field_ctx = field;
    std::vector<T> row((size_t)(nt * D));
    for (int64_t b = 0; b < B; ++b) {
        jdyn_solve_stats rs;
        std::memset(&rs, 0, sizeof rs);
        try {
            solve(c, y0 + b * D, row.data(), nullptr, rs, nullptr);
        } catch (const Failure& f) {
            totals.add(b, rs);
            fail_in_row(f, b);
        }
        totals.add(b, rs);
        scatter_row(row, b, B, D, nt, ys);
    }
}

template <class T>
std::unique_ptr<TapeBase> per_sample_forward_with_tape(const jdyn_solve_config& config, int64_t sensitivity,
                                                       DiffField<T>* field, const T* y0, T* ys,
                                                       jdyn_solve_stats& stats) {
    check_shape(config);
    const int64_t B = config.batch, D = config.dim, nt = config.n_times;
    RowStats totals(config, stats);
    const jdyn_solve_config c = row_config(config);
    auto tape = std::make_unique<PerSampleTape<T>>(B, D, nt);
    std::vector<T> row((size_t)(nt * D));
    for (int64_t b = 0; b < B; ++b) {
        jdyn_solve_stats rs;
        std::memset(&rs, 0, sizeof rs);
        try {
            tape->add_row(forward_with_tape<T>(c, sensitivity, field, y0 + b * D, row.data(), rs, nullptr, nullptr));
        } catch (const Failure& f) {
            totals.add(b, rs);
            fail_in_row(f, b);
        }
        totals.add(b, rs);
        scatter_row(row, b, B, D, nt, ys);
    }
    return tape;
}

template void solve_per_sample<float>(const jdyn_solve_config&, DiffField<float>*, const float*, float*,
                                      jdyn_solve_stats&);
template void solve_per_sample<double>(const jdyn_solve_config&, DiffField<double>*, const double*, double*,
                                       jdyn_solve_stats&);
template std::unique_ptr<TapeBase> per_sample_forward_with_tape<float>(const jdyn_solve_config&, int64_t,
                                                                       DiffField<float>*, const float*, float*,
                                                                       jdyn_solve_stats&);
template std::unique_ptr<TapeBase> per_sample_forward_with_tape<double>(const jdyn_solve_config&, int64_t,
                                                                        DiffField<double>*, const double*, double*,
                                                                        jdyn_solve_stats&);

}  // namespace jdyn
