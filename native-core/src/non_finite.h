// The first non-finite value of a vector, for the engines' failure messages (which name the component).
#pragma once

#include <cmath>
#include <cstdint>

namespace jdyn {

// The index of the first NaN or infinity in v[0, n), or -1.
template <class T>
int64_t first_non_finite(const T* v, int64_t n) {
    // x * 0 is 0 for every finite x and NaN for NaN and infinities: a vectorisable scan first, the
    // element-wise search only when something is wrong.
    double probe = 0.0;
    for (int64_t i = 0; i < n; ++i) probe += (double)v[i] * 0.0;
    if (probe == 0.0) return -1;
    for (int64_t i = 0; i < n; ++i) {
        if (!std::isfinite((double)v[i])) return i;
    }
    return -1;
}

}  // namespace jdyn
