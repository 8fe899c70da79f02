// The C ABI of differentiable programs (jdyn.h, "Differentiable programs"): graph building,
// differentiation, finishing into a jdyn_program, and running a program.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "graph/executor.h"
#include "graph/graph.h"
#include "jdyn.h"
#include "nn/program_handle.h"
#include "status.h"

struct jdyn_graph {
    jdyn::graph::Graph g;
};

namespace {

using jdyn::graph::Graph;
using jdyn::graph::Shape;

Graph& checked(jdyn_graph* graph) {
    if (!graph) jdyn::fail(JDYN_ERR_ARGUMENT, "graph must not be NULL");
    return graph->g;
}
const Graph& checked(const jdyn_graph* graph) {
    if (!graph) jdyn::fail(JDYN_ERR_ARGUMENT, "graph must not be NULL");
    return graph->g;
}

void out_id(int64_t* id, int32_t v) {
    if (!id) jdyn::fail(JDYN_ERR_ARGUMENT, "id must not be NULL");
    *id = v;
}

std::vector<int32_t> ids(const int64_t* p, int64_t n, const char* what) {
    if (n < 0 || n > jdyn::graph::kMaxNodes)
        jdyn::fail(JDYN_ERR_ARGUMENT, std::string(what) + ": count " + std::to_string(n) + " is out of range");
    if (n > 0 && !p) jdyn::fail(JDYN_ERR_ARGUMENT, std::string(what) + " must not be NULL");
    std::vector<int32_t> v((size_t)n);
    for (int64_t i = 0; i < n; ++i) {
        if (p[i] < 0 || p[i] > INT32_MAX)
            jdyn::fail(JDYN_ERR_ARGUMENT, std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(p[i]) +
                                              " is not a node id");
        v[(size_t)i] = (int32_t)p[i];
    }
    return v;
}

void write_shape(const Shape& s, int64_t* rank, int64_t* shape) {
    if (rank) *rank = s.rank;
    if (shape)
        for (int i = 0; i < jdyn::graph::kMaxRank; ++i) shape[i] = i < s.rank ? s.d[i] : 0;
}

template <class T>
void run_program(const jdyn_program* program, const void* params, double t, const void* const* args, int64_t batch,
                 void* const* outs) {
    const Graph& g = program->compiled->graph();
    // The executors (their plans and workspaces) of the last few programs run on this thread, so
    // that alternating between programs does not re-plan every call.
    struct Cached {
        uint64_t id;
        std::unique_ptr<jdyn::graph::Executor<T>> ex;
    };
    thread_local std::vector<Cached> cache;
    auto it = std::find_if(cache.begin(), cache.end(), [&](const Cached& c) { return c.id == program->id; });
    if (it == cache.end()) {
        if (cache.size() >= 8) cache.erase(cache.begin());
        cache.push_back({program->id, std::make_unique<jdyn::graph::Executor<T>>(program->compiled->graph_ptr())});
        it = cache.end() - 1;
    } else if (it != cache.end() - 1) {
        std::rotate(it, it + 1, cache.end());  // most recently used last
        it = cache.end() - 1;
    }
    jdyn::graph::Executor<T>* ex = it->ex.get();
    std::vector<const T*> a(g.args().size());
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<const T*>(args[i]);
    std::vector<T*> o(g.outputs.size());
    for (size_t i = 0; i < o.size(); ++i) o[i] = static_cast<T*>(outs[i]);
    ex->run(static_cast<const T*>(params), t, a.data(), batch, o.data());
    // Name the op behind a non-finite output.
    for (size_t k = 0; k < o.size(); ++k) {
        const int64_t n = g.shape(g.outputs[k]).numel(batch);
        for (int64_t e = 0; e < n; ++e)
            if (!std::isfinite((double)o[k][e])) {
                jdyn::graph::Executor<T> diag(program->compiled->graph_ptr());
                diag.run_checked(static_cast<const T*>(params), t, a.data(), batch, o.data());
                jdyn::fail(JDYN_ERR_NON_FINITE, "output " + std::to_string(k) + " is not finite at element " +
                                                    std::to_string(e) + " (its inputs are not finite)");
            }
    }
}

}  // namespace

extern "C" {

int32_t jdyn_graph_new(jdyn_graph** out) {
    if (out) *out = nullptr;
    return jdyn::guarded([&] {
        if (!out) jdyn::fail(JDYN_ERR_ARGUMENT, "out must not be NULL");
        *out = new jdyn_graph();
    });
}

void jdyn_graph_free(jdyn_graph* graph) { delete graph; }

int32_t jdyn_graph_time(jdyn_graph* graph, int64_t* id) {
    return jdyn::guarded([&] { out_id(id, checked(graph).time()); });
}

int32_t jdyn_graph_arg(jdyn_graph* graph, const int64_t* shape, int64_t rank, int64_t* id) {
    return jdyn::guarded([&] { out_id(id, checked(graph).arg(Shape::from(shape, rank, "argument"))); });
}

int32_t jdyn_graph_param(jdyn_graph* graph, const char* name, const int64_t* shape, int64_t rank, int64_t init,
                         double init_arg, int64_t* id) {
    return jdyn::guarded([&] {
        if (!name) jdyn::fail(JDYN_ERR_ARGUMENT, "name must not be NULL");
        const std::string n(name);
        out_id(id, checked(graph).param(n, Shape::from(shape, rank, ("parameter \"" + n + "\"").c_str()), (int32_t)init,
                                        init_arg));
    });
}

int32_t jdyn_graph_const(jdyn_graph* graph, const double* data, const int64_t* shape, int64_t rank, int64_t* id) {
    return jdyn::guarded([&] {
        Graph& g = checked(graph);
        const Shape s = Shape::from(shape, rank, "constant");
        if (!data) jdyn::fail(JDYN_ERR_ARGUMENT, "constant data must not be NULL");
        if (s.batched()) jdyn::fail(JDYN_ERR_ARGUMENT, "a constant cannot be batched: " + s.str());
        if (s.numel() > (int64_t(1) << 26)) jdyn::fail(JDYN_ERR_ARGUMENT, "constant too large: " + s.str());
        std::vector<double> d(data, data + s.numel());
        for (size_t i = 0; i < d.size(); ++i)
            if (!std::isfinite(d[i]))
                jdyn::fail(JDYN_ERR_NON_FINITE, "constant element " + std::to_string(i) + " is not finite");
        out_id(id, g.constant(d, s));
    });
}

int32_t jdyn_graph_op(jdyn_graph* graph, int64_t op, const int64_t* inputs, int64_t n_inputs, const int64_t* iattr,
                      int64_t n_iattr, const double* fattr, int64_t n_fattr, int64_t* id) {
    return jdyn::guarded([&] {
        Graph& g = checked(graph);
        if (op < 0 || op >= JDYN_OP_COUNT)
            jdyn::fail(JDYN_ERR_ARGUMENT, "unknown op " + std::to_string(op) + " (0 to " +
                                              std::to_string(JDYN_OP_COUNT - 1) + ")");
        const std::vector<int32_t> in = ids(inputs, n_inputs, (std::string(jdyn::graph::op_name((int)op)) + " inputs").c_str());
        if (n_iattr < 0 || n_iattr > 6 || (n_iattr > 0 && !iattr))
            jdyn::fail(JDYN_ERR_ARGUMENT, "iattr: at most 6, and not NULL when given");
        if (n_fattr < 0 || n_fattr > 2 || (n_fattr > 0 && !fattr))
            jdyn::fail(JDYN_ERR_ARGUMENT, "fattr: at most 2, and not NULL when given");
        out_id(id, g.op((int32_t)op, in, iattr, (int)n_iattr, fattr, (int)n_fattr));
    });
}

int32_t jdyn_graph_shape(const jdyn_graph* graph, int64_t id, int64_t* rank, int64_t* shape) {
    return jdyn::guarded([&] {
        const Graph& g = checked(graph);
        if (id < 0 || id >= g.size())
            jdyn::fail(JDYN_ERR_ARGUMENT, "node " + std::to_string(id) + " does not exist");
        write_shape(g.shape((int32_t)id), rank, shape);
    });
}

int32_t jdyn_graph_vjp(jdyn_graph* graph, const int64_t* outputs, const int64_t* cotangents, int64_t n_outputs,
                       const int64_t* wrt, int64_t n_wrt, int64_t* grads) {
    return jdyn::guarded([&] {
        Graph& g = checked(graph);
        if (n_wrt > 0 && !grads) jdyn::fail(JDYN_ERR_ARGUMENT, "grads must not be NULL");
        if (n_outputs < 1) jdyn::fail(JDYN_ERR_ARGUMENT, "vjp needs at least one output");
        const std::vector<int32_t> r = jdyn::graph::vjp(g, ids(outputs, n_outputs, "outputs"),
                                                        ids(cotangents, n_outputs, "cotangents"), ids(wrt, n_wrt, "wrt"));
        for (size_t i = 0; i < r.size(); ++i) grads[i] = r[i];
    });
}

int32_t jdyn_graph_jvp(jdyn_graph* graph, const int64_t* wrt, const int64_t* tangents, int64_t n_wrt,
                       const int64_t* outputs, int64_t n_outputs, int64_t* results) {
    return jdyn::guarded([&] {
        Graph& g = checked(graph);
        if (n_outputs > 0 && !results) jdyn::fail(JDYN_ERR_ARGUMENT, "results must not be NULL");
        const std::vector<int32_t> r = jdyn::graph::jvp(g, ids(wrt, n_wrt, "wrt"), ids(tangents, n_wrt, "tangents"),
                                                        ids(outputs, n_outputs, "outputs"));
        for (size_t i = 0; i < r.size(); ++i) results[i] = r[i];
    });
}

int32_t jdyn_graph_size(const jdyn_graph* graph, int64_t* nodes) {
    return jdyn::guarded([&] {
        const Graph& g = checked(graph);
        if (!nodes) jdyn::fail(JDYN_ERR_ARGUMENT, "nodes must not be NULL");
        *nodes = g.size();
    });
}

int32_t jdyn_graph_finish(const jdyn_graph* graph, const int64_t* outputs, int64_t n_outputs, int64_t dtype,
                          jdyn_program** out) {
    if (out) *out = nullptr;
    return jdyn::guarded([&] {
        const Graph& g = checked(graph);
        if (!out) jdyn::fail(JDYN_ERR_ARGUMENT, "out must not be NULL");
        if (dtype != JDYN_FLOAT32 && dtype != JDYN_FLOAT64)
            jdyn::fail(JDYN_ERR_ARGUMENT, "dtype must be 0 (float32) or 1 (float64), got " + std::to_string(dtype));
        if (n_outputs < 1) jdyn::fail(JDYN_ERR_ARGUMENT, "a program needs at least one output");
        std::vector<int32_t> outs = ids(outputs, n_outputs, "outputs");
        *out = jdyn_program_new(g.pruned(outs), dtype);
    });
}

int32_t jdyn_program_signature(const jdyn_program* program, int64_t* n_args, int64_t* n_outputs,
                               int64_t* n_param_tensors, int64_t* n_nodes) {
    return jdyn::guarded([&] {
        const Graph& g = jdyn_program_get(program).graph();
        if (n_args) *n_args = (int64_t)g.args().size();
        if (n_outputs) *n_outputs = (int64_t)g.outputs.size();
        if (n_param_tensors) *n_param_tensors = (int64_t)g.params().size();
        if (n_nodes) *n_nodes = g.size();
    });
}

int32_t jdyn_program_arg_shape(const jdyn_program* program, int64_t index, int64_t* rank, int64_t* shape) {
    return jdyn::guarded([&] {
        const Graph& g = jdyn_program_get(program).graph();
        if (index < 0 || index >= (int64_t)g.args().size())
            jdyn::fail(JDYN_ERR_ARGUMENT, "argument " + std::to_string(index) + " is out of range");
        write_shape(g.shape(g.args()[(size_t)index]), rank, shape);
    });
}

int32_t jdyn_program_output_shape(const jdyn_program* program, int64_t index, int64_t* rank, int64_t* shape) {
    return jdyn::guarded([&] {
        const Graph& g = jdyn_program_get(program).graph();
        if (index < 0 || index >= (int64_t)g.outputs.size())
            jdyn::fail(JDYN_ERR_ARGUMENT, "output " + std::to_string(index) + " is out of range");
        write_shape(g.shape(g.outputs[(size_t)index]), rank, shape);
    });
}

int32_t jdyn_program_param(const jdyn_program* program, int64_t index, const char** name, int64_t* rank,
                           int64_t* shape, int64_t* offset, int64_t* count) {
    return jdyn::guarded([&] {
        const Graph& g = jdyn_program_get(program).graph();
        if (index < 0 || index >= (int64_t)g.params().size())
            jdyn::fail(JDYN_ERR_ARGUMENT, "parameter " + std::to_string(index) + " is out of range");
        const jdyn::graph::Param& p = g.params()[(size_t)index];
        if (name) *name = p.name.c_str();
        write_shape(p.shape, rank, shape);
        if (offset) *offset = p.offset;
        if (count) *count = p.count;
    });
}

int32_t jdyn_program_run(const jdyn_program* program, const void* params, double t, const void* const* args,
                         int64_t batch, void* const* outs) {
    return jdyn::guarded([&] {
        const Graph& g = jdyn_program_get(program).graph();
        if (batch < 1 || batch > INT32_MAX)
            jdyn::fail(JDYN_ERR_ARGUMENT, "batch must be in [1, 2^31), got " + std::to_string(batch));
        if (!params && g.num_param_elems() > 0)
            jdyn::fail(JDYN_ERR_ARGUMENT, "params must not be NULL: the program has parameters");
        if (!g.args().empty() && !args) jdyn::fail(JDYN_ERR_ARGUMENT, "args must not be NULL");
        for (size_t i = 0; i < g.args().size(); ++i)
            if (!args[i]) jdyn::fail(JDYN_ERR_ARGUMENT, "args[" + std::to_string(i) + "] must not be NULL");
        if (!outs) jdyn::fail(JDYN_ERR_ARGUMENT, "outs must not be NULL");
        for (size_t i = 0; i < g.outputs.size(); ++i)
            if (!outs[i]) jdyn::fail(JDYN_ERR_ARGUMENT, "outs[" + std::to_string(i) + "] must not be NULL");
        if (program->dtype == JDYN_FLOAT32)
            run_program<float>(program, params, t, args, batch, outs);
        else
            run_program<double>(program, params, t, args, batch, outs);
    });
}

}  // extern "C"
