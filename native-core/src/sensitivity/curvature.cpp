// SNOpt's Kronecker factors along the adjoint backward pass (curvature.h).
#include "sensitivity/curvature.h"

#include <cblas.h>

#include <string>

#include "status.h"

namespace jdyn {

std::vector<LinearLayer> linear_layers(const graph::Graph& g) {
    const auto& nodes = g.nodes();
    // How many LINEAR ops read each parameter node as weight or bias: a shared weight has no single
    // input/output pair to factor, so it is left to the plain gradient.
    std::vector<int> uses(nodes.size(), 0);
    for (const graph::Node& n : nodes) {
        if (n.op != JDYN_OP_LINEAR) continue;
        for (size_t i = 1; i < n.in.size(); ++i) uses[(size_t)n.in[i]]++;
    }
    std::vector<LinearLayer> layers;
    for (size_t id = 0; id < nodes.size(); ++id) {
        const graph::Node& n = nodes[id];
        if (n.op != JDYN_OP_LINEAR) continue;
        const graph::Node& x = nodes[(size_t)n.in[0]];
        const graph::Node& w = nodes[(size_t)n.in[1]];
        if (w.op != JDYN_OP_PARAM || uses[(size_t)n.in[1]] != 1) continue;
        if (x.shape.rank != 2 || !x.shape.batched()) continue;
        LinearLayer l;
        l.node = (int32_t)id;
        l.in = w.shape.d[1];
        l.out = w.shape.d[0];
        l.weight = w.index;
        l.weight_offset = g.params()[(size_t)w.index].offset;
        if (n.in.size() == 3) {
            const graph::Node& b = nodes[(size_t)n.in[2]];
            if (b.op != JDYN_OP_PARAM || uses[(size_t)n.in[2]] != 1) continue;
            l.bias = b.index;
            l.bias_offset = g.params()[(size_t)b.index].offset;
        }
        layers.push_back(l);
    }
    return layers;
}

namespace {

// Arguments (z, v); outputs, per layer: its input and v^T df/d(its output).
std::shared_ptr<const graph::Graph> factor_program(const graph::Graph& field, const std::vector<LinearLayer>& layers) {
    graph::Graph g = field;
    const int32_t out = g.outputs[0];
    const int32_t v = g.arg(g.shape(out));
    std::vector<int32_t> wrt;
    for (const LinearLayer& l : layers) wrt.push_back(l.node);
    const std::vector<int32_t> cts = graph::vjp(g, {out}, {v}, wrt);
    std::vector<int32_t> outs;
    for (size_t i = 0; i < layers.size(); ++i) {
        outs.push_back(g.node(layers[i].node).in[0]);
        outs.push_back(cts[i]);
    }
    return std::make_shared<const graph::Graph>(g.pruned(outs));
}

}  // namespace

template <class T>
KfacCollector<T>::KfacCollector(std::shared_ptr<const graph::CompiledProgram> program, const T* params,
                                double gy_scale, double* factors)
    : layers_(linear_layers(program->graph())), params_(params), gy_scale_(gy_scale), factors_(factors) {
    if (!program->is_map()) fail(JDYN_ERR_ARGUMENT, "curvature needs a vector field program");
    if (layers_.empty()) fail(JDYN_ERR_ARGUMENT, "the program has no Linear layer to precondition");
    exec_ = std::make_unique<graph::Executor<T>>(factor_program(program->graph(), layers_));
    int64_t total = 0;
    for (const LinearLayer& l : layers_) total += l.factor_size();
    std::fill(factors_, factors_ + total, 0.0);
    outs_.resize(2 * layers_.size());
}

template <class T>
void KfacCollector<T>::observe(double t, const void* z, const void* a, int64_t batch) {
    if (batch <= 0) return;
    const size_t L = layers_.size();
    std::vector<T*> outs(2 * L);
    for (size_t i = 0; i < L; ++i) {
        outs_[2 * i].resize((size_t)(batch * layers_[i].in));
        outs_[2 * i + 1].resize((size_t)(batch * layers_[i].out));
        outs[2 * i] = outs_[2 * i].data();
        outs[2 * i + 1] = outs_[2 * i + 1].data();
    }
    const T* args[2] = {static_cast<const T*>(z), static_cast<const T*>(a)};
    exec_->run(params_, t, args, batch, outs.data());
    double* f = factors_;
    const double B = (double)batch;
    for (size_t i = 0; i < L; ++i) {
        const LinearLayer& l = layers_[i];
        const int64_t ad = l.a_dim();
        // A += [x, 1]^T [x, 1] / batch.
        work_.resize((size_t)(batch * std::max(ad, l.out)));
        for (int64_t b = 0; b < batch; ++b) {
            for (int64_t j = 0; j < l.in; ++j) work_[(size_t)(b * ad + j)] = (double)outs_[2 * i][(size_t)(b * l.in + j)];
            if (ad > l.in) work_[(size_t)(b * ad + l.in)] = 1.0;
        }
        // Symmetric: the upper triangle only (half the flops of a GEMM); finish() mirrors it.
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)ad, (int)batch, 1.0 / B, work_.data(), (int)ad, 1.0, f,
                    (int)ad);
        f += ad * ad;
        // G += gy^T gy / batch with gy = g * batch * gy_scale.
        for (int64_t q = 0; q < batch * l.out; ++q) work_[(size_t)q] = (double)outs_[2 * i + 1][(size_t)q];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)l.out, (int)batch, B * gy_scale_ * gy_scale_,
                    work_.data(), (int)l.out, 1.0, f, (int)l.out);
        f += l.out * l.out;
    }
    samples_++;
}

template <class T>
int64_t KfacCollector<T>::finish() {
    int64_t total = 0;
    for (const LinearLayer& l : layers_) total += l.factor_size();
    if (samples_ > 0)
        for (int64_t i = 0; i < total; ++i) factors_[i] /= (double)samples_;
    // The lower triangles from the upper ones.
    double* f = factors_;
    for (const LinearLayer& l : layers_) {
        for (int64_t n : {l.a_dim(), l.out}) {
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < i; ++j) f[i * n + j] = f[j * n + i];
            f += n * n;
        }
    }
    return samples_;
}

template <class T>
int64_t KfacCollector<T>::bytes() const {
    int64_t b = (int64_t)(work_.capacity() * sizeof(double));
    for (const auto& o : outs_) b += (int64_t)(o.capacity() * sizeof(T));
    return b;
}

template class KfacCollector<float>;
template class KfacCollector<double>;

}  // namespace jdyn
