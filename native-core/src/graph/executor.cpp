// The executor: liveness-based buffer planning per batch size, then one pass over the nodes.
#include "graph/executor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "graph/kernels.h"
#include "status.h"

namespace jdyn {
namespace graph {

namespace {

constexpr int64_t kAlign = 16;  // elements: 64 bytes in float32
constexpr int64_t kTile = 512;  // elements per tile of a fused chain (2 KiB in float32)

int64_t round_up(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool is_leaf(int op) {
    return op == JDYN_OP_TIME || op == JDYN_OP_ARG || op == JDYN_OP_PARAM || op == JDYN_OP_CONST;
}

// First-fit allocation of [offset, offset + size) ranges in one arena.
class Arena {
public:
    int64_t alloc(int64_t size) {
        for (auto it = free_.begin(); it != free_.end(); ++it) {
            if (it->second >= size) {
                const int64_t off = it->first, rest = it->second - size;
                free_.erase(it);
                if (rest > 0) free_[off + size] = rest;
                return off;
            }
        }
        // Grow: extend a free block that ends at the top, if any.
        if (!free_.empty()) {
            auto last = std::prev(free_.end());
            if (last->first + last->second == top_) {
                const int64_t off = last->first;
                free_.erase(last);
                top_ = off + size;
                return off;
            }
        }
        const int64_t off = top_;
        top_ += size;
        return off;
    }
    void release(int64_t off, int64_t size) {
        auto it = free_.emplace(off, size).first;
        // Merge with the next and the previous block.
        auto next = std::next(it);
        if (next != free_.end() && it->first + it->second == next->first) {
            it->second += next->second;
            free_.erase(next);
        }
        if (it != free_.begin()) {
            auto prev = std::prev(it);
            if (prev->first + prev->second == it->first) {
                prev->second += it->second;
                free_.erase(it);
            }
        }
    }
    int64_t top() const { return top_; }

private:
    std::map<int64_t, int64_t> free_;
    int64_t top_ = 0;
};

}  // namespace

template <class T>
Executor<T>::Executor(std::shared_ptr<const Graph> g, std::vector<bool> accumulate)
    : g_(std::move(g)), accumulate_(std::move(accumulate)) {
    const Graph& G = *g_;
    accumulate_.resize(G.outputs.size(), false);
    const_off_.assign((size_t)G.size(), -1);
    for (int32_t i = 0; i < (int32_t)G.size(); ++i) {
        const Node& n = G.node(i);
        if (n.op != JDYN_OP_CONST) continue;
        const std::vector<double>& d = G.const_data(n.index);
        const_off_[(size_t)i] = (int64_t)consts_.size();
        for (double v : d) consts_.push_back((T)v);
    }
    // An output computed by an op, asked for once and not accumulated, is written straight into the
    // caller's buffer.
    direct_.assign((size_t)G.size(), -1);
    std::vector<int> uses((size_t)G.size(), 0);
    for (int32_t o : G.outputs) uses[(size_t)o]++;
    for (size_t k = 0; k < G.outputs.size(); ++k) {
        const int32_t o = G.outputs[k];
        if (uses[(size_t)o] == 1 && !accumulate_[k] && !is_leaf(G.node(o).op)) direct_[(size_t)o] = (int32_t)k;
    }
    ptr_.assign((size_t)G.size(), nullptr);
    // Each node's input shapes, side by side, and whether it reads the time: what run_op needs besides
    // the pointers, computed once rather than per evaluation.
    shape_off_.assign((size_t)G.size(), 0);
    time_input_.assign((size_t)G.size(), 0);
    for (int32_t i = 0; i < (int32_t)G.size(); ++i) {
        shape_off_[(size_t)i] = (int64_t)in_shapes_.size();
        for (int32_t j : G.node(i).in) {
            in_shapes_.push_back(G.node(j).shape);
            time_input_[(size_t)i] |= G.node(j).op == JDYN_OP_TIME;
        }
    }
    // Fused chains: node i joins the chain of an input p when i and p are element-wise of one shape, p
    // is read by i alone and is no output, and i's other inputs have its shape or one element.
    std::vector<int> readers((size_t)G.size(), 0);
    for (int32_t i = 0; i < (int32_t)G.size(); ++i)
        for (int32_t j : G.node(i).in) readers[(size_t)j]++;
    tail_.resize((size_t)G.size());
    chain_.assign((size_t)G.size(), {});
    size_t longest = 0;
    // Whether a node runs as a flat loop: a fusible op whose operands have its shape or one element.
    std::vector<char> flat((size_t)G.size(), 0);
    for (int32_t i = 0; i < (int32_t)G.size(); ++i) {
        tail_[(size_t)i] = i;
        const Node& nd = G.node(i);
        if (!fusible_op(nd.op)) continue;
        bool operands_ok = true;
        int32_t link = -1;
        for (int32_t j : nd.in) {
            const Node& x = G.node(j);
            if (x.shape == nd.shape) {
                if (link < 0 && flat[(size_t)j] && readers[(size_t)j] == 1 && uses[(size_t)j] == 0 &&
                    tail_[(size_t)j] == j)
                    link = j;
            } else if (x.shape.batched() || x.shape.numel() != 1) {
                operands_ok = false;
            }
        }
        flat[(size_t)i] = operands_ok;
        if (!operands_ok || link < 0) continue;
        std::vector<int32_t>& c = chain_[(size_t)link];
        if (c.empty()) c.push_back(link);
        c.push_back(i);
        chain_[(size_t)i] = std::move(c);
        chain_[(size_t)link].clear();
        for (int32_t m : chain_[(size_t)i]) tail_[(size_t)m] = i;
        longest = std::max(longest, chain_[(size_t)i].size());
    }
    tiles_.resize(longest * (size_t)kTile);
}

template <class T>
void Executor<T>::run_chain(int32_t tail, T* out, int64_t batch) {
    const Graph& G = *g_;
    const std::vector<int32_t>& c = chain_[(size_t)tail];
    const int64_t cnt = G.node(tail).shape.numel(batch);
    const T* in[2];
    bool scalar[2];
    for (int64_t at = 0; at < cnt; at += kTile) {
        const int64_t len = std::min(kTile, cnt - at);
        for (size_t k = 0; k < c.size(); ++k) {
            const Node& nd = G.node(c[k]);
            for (size_t q = 0; q < nd.in.size(); ++q) {
                const int32_t j = nd.in[q];
                if (k > 0 && j == c[k - 1]) {
                    in[q] = tiles_.data() + (k - 1) * kTile;
                    scalar[q] = false;
                } else if (G.node(j).shape == nd.shape) {
                    in[q] = ptr_[(size_t)j] + at;
                    scalar[q] = false;
                } else {
                    in[q] = ptr_[(size_t)j];
                    scalar[q] = true;
                }
            }
            T* o = k + 1 == c.size() ? out + at : tiles_.data() + k * kTile;
            run_flat<T>(nd, in, scalar, o, len);
        }
    }
}

template <class T>
void Executor<T>::plan(int64_t batch, bool separate) {
    const Graph& G = *g_;
    const int32_t n = (int32_t)G.size();
    // The last node that reads each node (outputs live to the end).
    // A fused chain's links run when its last node does: that is when their inputs are read.
    const auto pos = [&](int32_t i) { return separate ? i : tail_[(size_t)i]; };
    std::vector<int32_t> last_use((size_t)n, -1);
    for (int32_t i = 0; i < n; ++i)
        for (int32_t j : G.node(i).in) last_use[(size_t)j] = std::max(last_use[(size_t)j], pos(i));
    for (int32_t o : G.outputs) last_use[(size_t)o] = n;
    off_.assign((size_t)n, -1);
    Arena arena;
    std::vector<std::vector<int32_t>> dies((size_t)n + 1);
    // Every node's size for this batch, checked against overflow (a batch of 2^31 rows of a wide
    // tensor does not fit in memory, let alone in an int64 count).
    std::vector<int64_t> sizes((size_t)n, 1);
    for (int32_t i = 0; i < n; ++i) {
        const Node& nd = G.node(i);
        if (is_leaf(nd.op)) continue;  // the caller's memory (and the time: one element)
        int64_t e = 1;
        for (int k = 0; k < nd.shape.rank; ++k) {
            const int64_t d = nd.shape.d[k] == -1 ? batch : nd.shape.d[k];
            if (__builtin_mul_overflow(e, d, &e) || e > (int64_t(1) << 40))
                fail(JDYN_ERR_OUT_OF_MEMORY, std::string(op_name(nd.op)) + " (node " + std::to_string(i) + ", shape " +
                                                 nd.shape.str() + ") is too large at batch " + std::to_string(batch));
        }
        sizes[(size_t)i] = round_up(std::max<int64_t>(e, 1));
    }
    const auto size_of = [&](int32_t i) { return sizes[(size_t)i]; };
    for (int32_t i = 0; i < n; ++i) {
        const Node& nd = G.node(i);
        const bool in_chain = !separate && tail_[(size_t)i] != i;
        const bool in_arena =
            !(is_leaf(nd.op) && nd.op != JDYN_OP_TIME) && (direct_[(size_t)i] < 0 || separate) && !in_chain;
        if (in_arena) {
            off_[(size_t)i] = arena.alloc(size_of(i));
            if (!separate) dies[(size_t)std::max(last_use[(size_t)i], i)].push_back(i);
        }
        // Buffers whose last reader is this node are free from the next node on.
        for (int32_t d : dies[(size_t)i]) arena.release(off_[(size_t)d], size_of(d));
    }
    if ((int64_t)arena_.size() < arena.top()) arena_.resize((size_t)arena.top());
    planned_batch_ = batch;
    planned_separate_ = separate;
}

template <class T>
void Executor<T>::run(const T* params, double t, const T* const* args, int64_t batch, T* const* outs) {
    execute(params, t, args, batch, outs, false);
}

template <class T>
void Executor<T>::run_checked(const T* params, double t, const T* const* args, int64_t batch, T* const* outs) {
    execute(params, t, args, batch, outs, true);
}

template <class T>
void Executor<T>::execute(const T* params, double t, const T* const* args, int64_t batch, T* const* outs, bool check) {
    const Graph& G = *g_;
    if (batch < 1) fail(JDYN_ERR_ARGUMENT, "batch must be >= 1, got " + std::to_string(batch));
    if (planned_batch_ != batch || planned_separate_ != check) plan(batch, check);
    const int32_t n = (int32_t)G.size();
    const Node* N = G.nodes().data();
    T* arena = arena_.data();
    for (int32_t i = 0; i < n; ++i) {
        const Node& nd = N[i];
        switch (nd.op) {
            case JDYN_OP_TIME:
                arena[off_[(size_t)i]] = (T)t;
                ptr_[(size_t)i] = arena + off_[(size_t)i];
                continue;
            case JDYN_OP_ARG: ptr_[(size_t)i] = args[nd.index]; continue;
            case JDYN_OP_PARAM: ptr_[(size_t)i] = params + G.params()[(size_t)nd.index].offset; continue;
            case JDYN_OP_CONST: ptr_[(size_t)i] = consts_.data() + const_off_[(size_t)i]; continue;
            default: break;
        }
        if (!check && tail_[(size_t)i] != i) continue;  // a link of a fused chain: runs with its last node
        T* out = direct_[(size_t)i] >= 0 && !check ? outs[direct_[(size_t)i]] : arena + off_[(size_t)i];
        const size_t nin = nd.in.size();
        if (in_ptrs_.size() < nin) in_ptrs_.resize(nin);
        for (size_t k = 0; k < nin; ++k) in_ptrs_[k] = ptr_[(size_t)nd.in[k]];
        if (!check && !chain_[(size_t)i].empty())
            run_chain(i, out, batch);
        else if (nd.op != JDYN_OP_SOLVE)
            run_op<T>(nd, in_shapes_.data() + shape_off_[(size_t)i], in_ptrs_.data(), out, batch, t,
                      time_input_[(size_t)i] != 0);
        else
            try {  // the kernel names the matrix; the node is known here
                run_op<T>(nd, in_shapes_.data() + shape_off_[(size_t)i], in_ptrs_.data(), out, batch, t, false);
            } catch (const Failure& f) {
                fail(f.status(), std::string(f.what()) + " (node " + std::to_string(i) + ", A " +
                                     G.node(nd.in[0]).shape.str() + ", B " + G.node(nd.in[1]).shape.str() + ")");
            }
        ptr_[(size_t)i] = out;
        if (check) {
            const int64_t cnt = nd.shape.numel(batch);
            int64_t bad = -1;
            for (int64_t e = 0; e < cnt && bad < 0; ++e)
                if (!std::isfinite((double)out[e])) bad = e;
            if (bad >= 0) {
                bool inputs_finite = true;
                for (size_t k = 0; k < nin && inputs_finite; ++k) {
                    const Node& x = G.node(nd.in[k]);
                    const int64_t xc = x.op == JDYN_OP_TIME ? 1 : x.shape.numel(batch);
                    for (int64_t e = 0; e < xc; ++e)
                        if (!std::isfinite((double)in_ptrs_[k][e])) {
                            inputs_finite = false;
                            break;
                        }
                }
                if (inputs_finite) {
                    std::string ins;
                    for (size_t k = 0; k < nin; ++k)
                        ins += (k ? ", " : "") + std::string(op_name(G.node(nd.in[k]).op)) + " " + G.node(nd.in[k]).shape.str();
                    fail(JDYN_ERR_NON_FINITE, std::string(op_name(nd.op)) + " (node " + std::to_string(i) + ", shape " +
                                                  nd.shape.str() + ") produced " +
                                                  (std::isnan((double)out[bad]) ? "NaN" : "an infinity") + " at element " +
                                                  std::to_string(bad) + " from finite inputs (" + ins + ")");
                }
            }
        }
    }
    // Outputs not written in place: copied or accumulated.
    for (size_t k = 0; k < G.outputs.size(); ++k) {
        const int32_t o = G.outputs[k];
        if (direct_[(size_t)o] == (int32_t)k && !check) continue;
        const Node& nd = G.node(o);
        const int64_t cnt = nd.op == JDYN_OP_TIME ? 1 : nd.shape.numel(batch);
        const T* src = ptr_[(size_t)o];
        T* dst = outs[k];
        if (!dst) continue;
        if (accumulate_[k])
            for (int64_t e = 0; e < cnt; ++e) dst[e] += src[e];
        else if (dst != src)
            std::memmove(dst, src, sizeof(T) * (size_t)cnt);
    }
}

template class Executor<float>;
template class Executor<double>;

}  // namespace graph
}  // namespace jdyn
