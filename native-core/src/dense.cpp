#include "dense.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "kernels/rk_kernels.h"
#include "status.h"

namespace jdyn {

template <class T>
T* DenseStore<T>::add_step(double t, double h) {
    t_.push_back(t);
    h_.push_back(h);
    data_.emplace_back((size_t)(degree_ + 1) * (size_t)n_);
    return data_.back().data();
}

template <class T>
void DenseStore<T>::eval(const double* ts, int64_t count, void* out_raw) const {
    T* out = static_cast<T*>(out_raw);
    if (t_.empty()) fail(JDYN_ERR_ARGUMENT, "the interpolant holds no step");
    const bool forward = h_.front() > 0;
    const double lo = std::min(t_first(), t_last()), hi = std::max(t_first(), t_last());
    for (int64_t q = 0; q < count; ++q) {
        const double t = ts[q];
        if (!(t >= lo && t <= hi)) {
            char msg[160];
            std::snprintf(msg, sizeof msg, "interpolation time %.17g is outside the solved span [%.17g, %.17g]", t,
                          lo, hi);
            fail(JDYN_ERR_ARGUMENT, msg);
        }
        // The step whose start is the last one not past t, in the direction of integration.
        size_t s;
        if (forward) {
            s = (size_t)(std::upper_bound(t_.begin(), t_.end(), t) - t_.begin());
        } else {
            s = (size_t)(std::upper_bound(t_.begin(), t_.end(), t, [](double a, double b) { return a > b; }) -
                         t_.begin());
        }
        s = s == 0 ? 0 : s - 1;
        const double theta = (t - t_[s]) / h_[s];
        const T* y0 = data_[s].data();
        const T* coef = y0 + n_;
        T* dst = out + q * n_;
        for (int64_t i = 0; i < n_; ++i) kernels::dense_horner(i, n_, y0, coef, degree_, theta, dst);
    }
}

template class DenseStore<float>;
template class DenseStore<double>;

}  // namespace jdyn
