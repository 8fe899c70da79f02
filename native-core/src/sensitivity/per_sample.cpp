#include "sensitivity/per_sample.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cstring>
#include <string>
#include <vector>

#include "engine.h"
#include "parallel.h"
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

// The row blocks of a per-sample solve: boundaries from the batch size only (never the thread count),
// so every block's sums, and their sum in block order, are the same on any number of threads. A row is
// a whole solve at batch 1, so blocks are small (8 rows, or more to keep at most 64 of them): enough of
// them to balance rows of very different cost, few enough to bound the per-block fields and gradient
// buffers. A field that cannot be copied (callbacks into Java, which run on the calling thread only)
// gets one block: every row on the calling thread, as a plain serial loop.
struct RowBlocks {
    int64_t rows = 1, n = 1;
    RowBlocks(int64_t batch, bool split) {
        rows = batch;
        if (split) rows = std::max<int64_t>(8, (batch + 63) / 64);
        n = (batch + rows - 1) / rows;
    }
    int64_t begin(int64_t k) const { return k * rows; }
    int64_t end(int64_t k, int64_t batch) const { return std::min(batch, (k + 1) * rows); }
};

// The lowest failing row of a block loop: blocks record their first failure and stop; the caller
// reports the lowest, as a serial row loop would. Blocks above a known failure stop early (their work
// would be discarded anyway).
class FirstFailure {
public:
    explicit FirstFailure(int64_t batch) : row_(batch), batch_(batch) {}
    bool before(int64_t b) const { return row_.load(std::memory_order_relaxed) < b; }
    void record(int64_t b, const Failure& f) {
        std::lock_guard<std::mutex> lock(m_);
        if (b < row_.load(std::memory_order_relaxed)) {
            row_.store(b, std::memory_order_relaxed);
            status_ = f.status();
            message_ = f.what();
        }
    }
    int64_t row() const { return row_.load(); }  // batch_ when none failed
    bool any() const { return row() < batch_; }
    [[noreturn]] void raise() const { fail_in_row(Failure(status_, message_), row()); }

private:
    std::atomic<int64_t> row_;
    int64_t batch_;
    std::mutex m_;
    jdyn_status status_ = JDYN_OK;
    std::string message_;
};

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

// One sub-tape per row, and the fields they differentiate: one per row block (a sub-tape refers to its
// block's field, so a block's rows run on one thread at a time). The backward pass runs the blocks on
// the pool, each block's rows in row order summing dL/dtheta and dL/dt into the block's own buffers;
// the caller then adds the blocks' sums in block order. With one block (a small batch, or a field
// that cannot be copied) rows add straight into the caller's sums, in row order, as a serial loop does.
template <class T>
class PerSampleTape final : public TapeBase {
public:
    PerSampleTape(int64_t batch, int64_t dim, int64_t n_times, RowBlocks blocks)
        : batch_(batch), dim_(dim), nt_(n_times), blocks_(blocks) {
        fields_.resize((size_t)blocks.n);
        rows_.resize((size_t)batch);
    }

    // Block k's own field (none for a block running on the caller's field).
    void set_field(int64_t k, std::unique_ptr<DiffField<T>> f) { fields_[(size_t)k] = std::move(f); }
    void set_row(int64_t b, std::unique_ptr<TapeBase> row) { rows_[(size_t)b] = std::move(row); }

    // No one sequence of steps for the batch (each row's accepted steps are in sample_stats).
    int64_t steps() const override { return 0; }

    int64_t bytes() const override {
        int64_t s = (int64_t)(rows_.capacity() * sizeof(rows_[0]));
        for (const auto& r : rows_)
            if (r) s += r->bytes();
        return s;
    }

    void step_times(double*) const override {
        fail(JDYN_ERR_ARGUMENT, "a per-sample tape has one sequence of steps per row, not one for the batch");
    }

    // jdyn_backward_stats receives the totals over the rows (each evaluation is one row's, at batch 1).
    void backward(const void* ys_cot_raw, const BackwardOptions& opt, IntegralLoss* integral, void* g_y0_raw,
                  void* g_params_raw, double* g_times, BackwardStats& stats) override {
        if (integral) fail(JDYN_ERR_ARGUMENT, "a per-sample solve has no integral loss callback");
        if (opt.curvature)
            fail(JDYN_ERR_ARGUMENT, "second-order statistics (SNOpt) are not collected by a per-sample solve: their "
                                    "factors average over the batch at shared times (solve with per_sample = 0)");
        const T* ys_cot = static_cast<const T*>(ys_cot_raw);
        T* g_y0 = static_cast<T*>(g_y0_raw);
        T* g_params = static_cast<T*>(g_params_raw);
        stats = BackwardStats{};
        const int64_t nb = blocks_.n;
        const size_t P = g_params && nb > 1 ? (size_t)fields_param_count() : 0;
        std::vector<std::vector<T>> gp((size_t)nb);
        std::vector<std::vector<double>> gt((size_t)nb);
        std::vector<BackwardStats> bst((size_t)nb);
        FirstFailure failure(batch_);
        parallel_for(nb, [&](int64_t k) {
            // With one block, dL/dtheta accumulates in the caller's buffer (the sub-tape adds its row's).
            T* gpk = g_params;
            if (g_params && nb > 1) {
                gp[(size_t)k].assign(P, T(0));
                gpk = gp[(size_t)k].data();
            }
            std::vector<double>& gtk = gt[(size_t)k];
            gtk.assign((size_t)nt_, 0.0);
            std::vector<T> cot(ys_cot ? (size_t)(nt_ * dim_) : 0);
            std::vector<double> gt_row((size_t)nt_);
            for (int64_t b = blocks_.begin(k); b < blocks_.end(k, batch_); ++b) {
                if (failure.before(b)) return;
                if (ys_cot)
                    for (int64_t i = 0; i < nt_; ++i)
                        std::copy(ys_cot + (i * batch_ + b) * dim_, ys_cot + (i * batch_ + b + 1) * dim_,
                                  cot.begin() + i * dim_);
                BackwardStats rs;
                try {
                    rows_[(size_t)b]->backward(ys_cot ? cot.data() : nullptr, opt, nullptr,
                                               g_y0 ? g_y0 + b * dim_ : nullptr, gpk,
                                               g_times ? gt_row.data() : nullptr, rs);
                } catch (const Failure& f) {
                    add(bst[(size_t)k], rs);
                    failure.record(b, f);
                    return;
                }
                add(bst[(size_t)k], rs);
                if (g_times)
                    for (int64_t i = 0; i < nt_; ++i) gtk[(size_t)i] += gt_row[(size_t)i];
            }
        });
        // Totals as a serial loop reports them: every row up to the failing one, if any.
        const int64_t last = failure.any() ? failure.row() / blocks_.rows : nb - 1;
        for (int64_t k = 0; k <= last; ++k) add(stats, bst[(size_t)k]);
        if (failure.any()) failure.raise();
        if (g_params && nb > 1)
            for (int64_t k = 0; k < nb; ++k)
                for (size_t i = 0; i < P; ++i)
                    g_params[i] = (T)((double)g_params[i] + (double)gp[(size_t)k][i]);
        if (g_times) {
            std::fill(g_times, g_times + nt_, 0.0);
            for (int64_t k = 0; k < nb; ++k)
                for (int64_t i = 0; i < nt_; ++i) g_times[i] += gt[(size_t)k][(size_t)i];
        }
    }

    void set_param_count(int64_t p) { params_ = p; }

private:
    int64_t fields_param_count() const { return params_; }

    static void add(BackwardStats& total, const BackwardStats& row) {
        total.nfe += row.nfe;
        total.accepted += row.accepted;
        total.rejected += row.rejected;
    }

    int64_t batch_, dim_, nt_;
    RowBlocks blocks_;
    int64_t params_ = 0;
    // Declared before rows_ so that the sub-tapes, which refer to these fields, are destroyed first.
    std::vector<std::unique_ptr<DiffField<T>>> fields_;
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

// Runs solve_row(field, b, row_buffer, stats) for every row over the row blocks: block 0 on the
// caller's field, block k > 0 on its own field from make_field (made on the thread that runs it). Row
// stats are gathered per row and reported in row order, up to the lowest failing row, whose failure is
// raised naming it: the same totals, per-row counts and message as a serial loop over the rows.
template <class T, class SolveRow>
void for_row_blocks(const jdyn_solve_config& config, const RowBlocks& blocks, DiffField<T>* field,
                    const FieldMaker<T>& make_field, std::vector<std::unique_ptr<DiffField<T>>>* keep_fields,
                    T* ys, jdyn_solve_stats& stats, SolveRow&& solve_row) {
    const int64_t B = config.batch, D = config.dim, nt = config.n_times;
    RowStats totals(config, stats);
    std::vector<jdyn_solve_stats> row_stats((size_t)B);
    FirstFailure failure(B);
    parallel_for(blocks.n, [&](int64_t k) {
        DiffField<T>* f = field;
        std::unique_ptr<DiffField<T>> own;
        if (k > 0) {
            own = make_field();
            f = own.get();
        }
        std::vector<T> row((size_t)(nt * D));
        for (int64_t b = blocks.begin(k); b < blocks.end(k, B); ++b) {
            if (failure.before(b)) break;
            jdyn_solve_stats& rs = row_stats[(size_t)b];
            std::memset(&rs, 0, sizeof rs);
            try {
                solve_row(f, b, row.data(), rs);
            } catch (const Failure& e) {
                failure.record(b, e);
                break;
            }
            scatter_row(row, b, B, D, nt, ys);
        }
        if (keep_fields && own) (*keep_fields)[(size_t)k] = std::move(own);
    });
    const int64_t last = failure.any() ? failure.row() : B - 1;
    for (int64_t b = 0; b <= last; ++b) totals.add(b, row_stats[(size_t)b]);
    if (failure.any()) failure.raise();
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
void solve_per_sample(const jdyn_solve_config& config, DiffField<T>* field, const FieldMaker<T>& make_field,
                      const T* y0, T* ys, jdyn_solve_stats& stats) {
    check_shape(config);
    const RowBlocks blocks(config.batch, (bool)make_field);
    const jdyn_solve_config c = row_config(config);
    for_row_blocks<T>(config, blocks, field, make_field, nullptr, ys, stats,
                      [&](DiffField<T>* f, int64_t b, T* row, jdyn_solve_stats& rs) {
                          jdyn_solve_config cf = c;
                          cf.field = field_fn<T>;
                          cf.field_ctx = f;
                          solve(cf, y0 + b * config.dim, row, nullptr, rs, nullptr);
                      });
}

template <class T>
std::unique_ptr<TapeBase> per_sample_forward_with_tape(const jdyn_solve_config& config, int64_t sensitivity,
                                                       DiffField<T>* field, const FieldMaker<T>& make_field,
                                                       const T* y0, T* ys, jdyn_solve_stats& stats) {
    check_shape(config);
    const RowBlocks blocks(config.batch, (bool)make_field);
    const jdyn_solve_config c = row_config(config);
    // Before the tape: on a failure the sub-tapes go first, then the fields they refer to.
    std::vector<std::unique_ptr<DiffField<T>>> fields((size_t)blocks.n);
    auto tape = std::make_unique<PerSampleTape<T>>(config.batch, config.dim, config.n_times, blocks);
    tape->set_param_count(field->num_params());
    PerSampleTape<T>* t = tape.get();
    for_row_blocks<T>(config, blocks, field, make_field, &fields, ys, stats,
                      [&](DiffField<T>* f, int64_t b, T* row, jdyn_solve_stats& rs) {
                          t->set_row(b, forward_with_tape<T>(c, sensitivity, f, y0 + b * config.dim, row, rs,
                                                             nullptr, nullptr));
                      });
    for (int64_t k = 0; k < blocks.n; ++k) tape->set_field(k, std::move(fields[(size_t)k]));
    return tape;
}

template void solve_per_sample<float>(const jdyn_solve_config&, DiffField<float>*, const FieldMaker<float>&,
                                      const float*, float*, jdyn_solve_stats&);
template void solve_per_sample<double>(const jdyn_solve_config&, DiffField<double>*, const FieldMaker<double>&,
                                       const double*, double*, jdyn_solve_stats&);
template std::unique_ptr<TapeBase> per_sample_forward_with_tape<float>(const jdyn_solve_config&, int64_t,
                                                                       DiffField<float>*, const FieldMaker<float>&,
                                                                       const float*, float*, jdyn_solve_stats&);
template std::unique_ptr<TapeBase> per_sample_forward_with_tape<double>(const jdyn_solve_config&, int64_t,
                                                                        DiffField<double>*, const FieldMaker<double>&,
                                                                        const double*, double*, jdyn_solve_stats&);

}  // namespace jdyn
