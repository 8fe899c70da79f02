// Optimizer steps and gradient clipping on flat caller-owned buffers (the jdyn_sgd_step /
// jdyn_adam_step / jdyn_clip_grad_* section of jdyn.h), with PyTorch's update rules
// (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.nn.utils.clip_grad_norm_ and
// clip_grad_value_). Arithmetic is done in the buffers' dtype, as PyTorch does for float32 and float64.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "jdyn.h"
#include "status.h"

namespace {

using jdyn::fail;

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

void check_dtype(int64_t dtype) {
    if (dtype != JDYN_FLOAT32 && dtype != JDYN_FLOAT64)
        fail(JDYN_ERR_ARGUMENT, "dtype must be 0 (float32) or 1 (float64), got " + std::to_string(dtype));
}

void check_block(int64_t offset, int64_t count) {
    if (offset < 0) fail(JDYN_ERR_ARGUMENT, "offset must be >= 0, got " + std::to_string(offset));
    if (count < 0) fail(JDYN_ERR_ARGUMENT, "count must be >= 0, got " + std::to_string(count));
}

void check_finite_hyper(const char* name, double v) {
    if (!std::isfinite(v)) fail(JDYN_ERR_ARGUMENT, std::string(name) + " must be finite, got " + num(v));
}

// The first non-finite gradient in [offset, offset + count) fails the call before anything changes.
template <class T>
void check_grad(const T* g, int64_t offset, int64_t count, int64_t* bad_index) {
    for (int64_t i = offset; i < offset + count; i++) {
        if (!std::isfinite(g[i])) {
            if (bad_index) *bad_index = i;
            fail(JDYN_ERR_NON_FINITE, "gradient element " + std::to_string(i) + " is " +
                                          (std::isnan(g[i]) ? std::string("NaN") : std::string("infinite")));
        }
    }
}

template <class T>
void sgd(T* p, const T* g, T* buf, int64_t offset, int64_t count, int64_t step, double lr_, double momentum_,
         double dampening_, double wd_, bool nesterov) {
    const T lr = (T)lr_, momentum = (T)momentum_, damp1 = (T)(1.0 - dampening_), wd = (T)wd_;
    for (int64_t i = offset; i < offset + count; i++) {
        T d = g[i];
        if (wd_ != 0) d = d + wd * p[i];
        if (momentum_ != 0) {
            T b = step == 1 ? d : buf[i] * momentum + damp1 * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        p[i] = p[i] - lr * d;
    }
}

template <class T>
void adam(T* p, const T* g, T* m, T* v, int64_t offset, int64_t count, int64_t step, double lr_, double beta1_,
          double beta2_, double eps_, double wd_, bool decoupled) {
    const double bc1 = 1.0 - std::pow(beta1_, (double)step);
    const double bc2 = 1.0 - std::pow(beta2_, (double)step);
    const T step_size = (T)(lr_ / bc1);
    const T bc2_sqrt = (T)std::sqrt(bc2);
    const T w1 = (T)(1.0 - beta1_), beta2 = (T)beta2_, w2 = (T)(1.0 - beta2_), eps = (T)eps_;
    const T wd = (T)wd_, decay = (T)(1.0 - lr_ * wd_);
    for (int64_t i = offset; i < offset + count; i++) {
        T d = g[i];
        if (wd_ != 0) {
            if (decoupled) {
                p[i] = p[i] * decay;
            } else {
                d = d + wd * p[i];
            }
        }
        // exp_avg.lerp_(grad, 1 - beta1), as ATen's lerp computes it for weights below 0.5 and above.
        m[i] = w1 < (T)0.5 ? m[i] + w1 * (d - m[i]) : d - (d - m[i]) * ((T)1 - w1);
        v[i] = v[i] * beta2 + w2 * (d * d);
        const T denom = std::sqrt(v[i]) / bc2_sqrt + eps;
        p[i] = p[i] - step_size * (m[i] / denom);
    }
}

void check_ranges(const int64_t* ranges, int64_t n_ranges) {
    if (n_ranges < 0) fail(JDYN_ERR_ARGUMENT, "n_ranges must be >= 0, got " + std::to_string(n_ranges));
    if (n_ranges > 0 && !ranges) fail(JDYN_ERR_ARGUMENT, "ranges must not be NULL when n_ranges > 0");
    int64_t end = 0;
    for (int64_t r = 0; r < n_ranges; r++) {
        const int64_t off = ranges[2 * r], cnt = ranges[2 * r + 1];
        if (off < 0 || cnt < 0)
            fail(JDYN_ERR_ARGUMENT, "range " + std::to_string(r) + " (offset " + std::to_string(off) + ", count " +
                                        std::to_string(cnt) + ") has a negative offset or count");
        if (off < end)
            fail(JDYN_ERR_ARGUMENT, "range " + std::to_string(r) + " starts at " + std::to_string(off) +
                                        ", inside the previous range (ranges must be sorted and disjoint)");
        end = off + cnt;
    }
}

template <class T>
double clip_norm(T* g, const int64_t* ranges, int64_t n_ranges, double max_norm, double norm_type,
                 int64_t* bad_index) {
    for (int64_t r = 0; r < n_ranges; r++) check_grad(g, ranges[2 * r], ranges[2 * r + 1], bad_index);
    const bool inf = std::isinf(norm_type);
    double acc = 0;
    for (int64_t r = 0; r < n_ranges; r++) {
        for (int64_t i = ranges[2 * r]; i < ranges[2 * r] + ranges[2 * r + 1]; i++) {
            const double a = std::fabs((double)g[i]);
            if (inf) {
                if (a > acc) acc = a;
            } else if (norm_type == 2.0) {
                acc += a * a;
            } else if (norm_type == 1.0) {
                acc += a;
            } else {
                acc += std::pow(a, norm_type);
            }
        }
    }
    const double total = inf ? acc : norm_type == 2.0 ? std::sqrt(acc) : norm_type == 1.0 ? acc
                                                                                             : std::pow(acc, 1.0 / norm_type);
    // clip_grad_norm_: coef = max_norm / (total + 1e-6), clamped to 1, multiplied in always.
    double coef = max_norm / (total + 1e-6);
    if (coef > 1.0) coef = 1.0;
    const T c = (T)coef;
    for (int64_t r = 0; r < n_ranges; r++)
        for (int64_t i = ranges[2 * r]; i < ranges[2 * r] + ranges[2 * r + 1]; i++) g[i] = g[i] * c;
    return total;
}

template <class T>
void clip_values(T* g, const int64_t* ranges, int64_t n_ranges, double clip, int64_t* bad_index) {
    for (int64_t r = 0; r < n_ranges; r++) check_grad(g, ranges[2 * r], ranges[2 * r + 1], bad_index);
    const T hi = (T)clip, lo = (T)-clip;
    for (int64_t r = 0; r < n_ranges; r++)
        for (int64_t i = ranges[2 * r]; i < ranges[2 * r] + ranges[2 * r + 1]; i++)
            g[i] = g[i] < lo ? lo : g[i] > hi ? hi : g[i];
}

}  // namespace

extern "C" {

int32_t jdyn_sgd_step(int64_t dtype, void* params, const void* grad, void* momentum_buf, int64_t offset,
                      int64_t count, int64_t step, double lr, double momentum, double dampening,
                      double weight_decay, int64_t nesterov, int64_t* bad_index) {
    if (bad_index) *bad_index = -1;
    return jdyn::guarded([&] {
        check_dtype(dtype);
        check_block(offset, count);
        if (step < 1) fail(JDYN_ERR_ARGUMENT, "step must be >= 1 (the 1-based count of steps), got " + std::to_string(step));
        check_finite_hyper("lr", lr);
        check_finite_hyper("momentum", momentum);
        check_finite_hyper("dampening", dampening);
        check_finite_hyper("weight_decay", weight_decay);
        if (lr < 0) fail(JDYN_ERR_ARGUMENT, "lr must be >= 0, got " + num(lr));
        if (momentum < 0) fail(JDYN_ERR_ARGUMENT, "momentum must be >= 0, got " + num(momentum));
        if (weight_decay < 0) fail(JDYN_ERR_ARGUMENT, "weight_decay must be >= 0, got " + num(weight_decay));
        if (nesterov && (momentum <= 0 || dampening != 0))
            fail(JDYN_ERR_ARGUMENT, "nesterov momentum requires momentum > 0 and dampening = 0, got momentum " +
                                        num(momentum) + " and dampening " + num(dampening));
        if (count == 0) return;
        if (!params || !grad) fail(JDYN_ERR_ARGUMENT, "params and grad must not be NULL");
        if (momentum != 0 && !momentum_buf)
            fail(JDYN_ERR_ARGUMENT, "momentum_buf must not be NULL when momentum is " + num(momentum));
        if (dtype == JDYN_FLOAT32) {
            check_grad((const float*)grad, offset, count, bad_index);
            sgd((float*)params, (const float*)grad, (float*)momentum_buf, offset, count, step, lr, momentum,
                dampening, weight_decay, nesterov != 0);
        } else {
            check_grad((const double*)grad, offset, count, bad_index);
            sgd((double*)params, (const double*)grad, (double*)momentum_buf, offset, count, step, lr, momentum,
                dampening, weight_decay, nesterov != 0);
        }
    });
}

int32_t jdyn_adam_step(int64_t dtype, void* params, const void* grad, void* exp_avg, void* exp_avg_sq,
                       int64_t offset, int64_t count, int64_t step, double lr, double beta1, double beta2,
                       double eps, double weight_decay, int64_t decoupled, int64_t* bad_index) {
    if (bad_index) *bad_index = -1;
    return jdyn::guarded([&] {
        check_dtype(dtype);
        check_block(offset, count);
        if (step < 1) fail(JDYN_ERR_ARGUMENT, "step must be >= 1 (the 1-based count of steps), got " + std::to_string(step));
        check_finite_hyper("lr", lr);
        check_finite_hyper("eps", eps);
        check_finite_hyper("weight_decay", weight_decay);
        if (lr < 0) fail(JDYN_ERR_ARGUMENT, "lr must be >= 0, got " + num(lr));
        if (!(beta1 >= 0 && beta1 < 1)) fail(JDYN_ERR_ARGUMENT, "beta1 must be in [0, 1), got " + num(beta1));
        if (!(beta2 >= 0 && beta2 < 1)) fail(JDYN_ERR_ARGUMENT, "beta2 must be in [0, 1), got " + num(beta2));
        if (eps < 0) fail(JDYN_ERR_ARGUMENT, "eps must be >= 0, got " + num(eps));
        if (weight_decay < 0) fail(JDYN_ERR_ARGUMENT, "weight_decay must be >= 0, got " + num(weight_decay));
        if (count == 0) return;
        if (!params || !grad || !exp_avg || !exp_avg_sq)
            fail(JDYN_ERR_ARGUMENT, "params, grad, exp_avg and exp_avg_sq must not be NULL");
        if (dtype == JDYN_FLOAT32) {
            check_grad((const float*)grad, offset, count, bad_index);
            adam((float*)params, (const float*)grad, (float*)exp_avg, (float*)exp_avg_sq, offset, count, step, lr,
                 beta1, beta2, eps, weight_decay, decoupled != 0);
        } else {
            check_grad((const double*)grad, offset, count, bad_index);
            adam((double*)params, (const double*)grad, (double*)exp_avg, (double*)exp_avg_sq, offset, count, step,
                 lr, beta1, beta2, eps, weight_decay, decoupled != 0);
        }
    });
}

int32_t jdyn_clip_grad_norm(int64_t dtype, void* grad, const int64_t* ranges, int64_t n_ranges, double max_norm,
                            double norm_type, double* total_norm, int64_t* bad_index) {
    if (bad_index) *bad_index = -1;
    return jdyn::guarded([&] {
        check_dtype(dtype);
        check_ranges(ranges, n_ranges);
        if (!(max_norm >= 0) || std::isinf(max_norm))
            fail(JDYN_ERR_ARGUMENT, "max_norm must be finite and >= 0, got " + num(max_norm));
        if (!(norm_type > 0)) fail(JDYN_ERR_ARGUMENT, "norm_type must be > 0 (or infinity), got " + num(norm_type));
        if (n_ranges > 0 && !grad) fail(JDYN_ERR_ARGUMENT, "grad must not be NULL");
        double total = dtype == JDYN_FLOAT32
                               ? clip_norm((float*)grad, ranges, n_ranges, max_norm, norm_type, bad_index)
                               : clip_norm((double*)grad, ranges, n_ranges, max_norm, norm_type, bad_index);
        if (total_norm) *total_norm = total;
    });
}

int32_t jdyn_clip_grad_value(int64_t dtype, void* grad, const int64_t* ranges, int64_t n_ranges, double clip_value,
                             int64_t* bad_index) {
    if (bad_index) *bad_index = -1;
    return jdyn::guarded([&] {
        check_dtype(dtype);
        check_ranges(ranges, n_ranges);
        if (!(clip_value >= 0) || std::isinf(clip_value))
            fail(JDYN_ERR_ARGUMENT, "clip_value must be finite and >= 0, got " + num(clip_value));
        if (n_ranges > 0 && !grad) fail(JDYN_ERR_ARGUMENT, "grad must not be NULL");
        if (dtype == JDYN_FLOAT32) {
            clip_values((float*)grad, ranges, n_ranges, clip_value, bad_index);
        } else {
            clip_values((double*)grad, ranges, n_ranges, clip_value, bad_index);
        }
    });
}

}  // extern "C"
