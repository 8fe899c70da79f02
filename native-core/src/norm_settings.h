// The error norm's settings of a solve, read once from its config: per-component tolerances and norm
// groups (jdyn_solve_config.norm_weights). The shared engine and the per-sample loop both read them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "jdyn.h"

namespace jdyn {

struct NormSettings {
    std::vector<double> rtol, atol;  // per component
    std::vector<double> group;       // per component: its norm group, 0 = left out of the norm
    int64_t count = 0;               // components in the norm
    bool uniform = false;            // scalar rtol and atol, no component left out: the loops vectorise
    int groups = 1;                  // the largest group number; 1: one RMS over all that count
    std::vector<int64_t> group_count;  // per group 0..groups: its components

    NormSettings() = default;
    explicit NormSettings(const jdyn_solve_config& cfg) {
        const int64_t D = cfg.dim;
        rtol.resize((size_t)D);
        atol.resize((size_t)D);
        group.resize((size_t)D);
        for (int64_t d = 0; d < D; ++d) {
            rtol[(size_t)d] = cfg.rtol_vec ? cfg.rtol_vec[d] : cfg.rtol;
            atol[(size_t)d] = cfg.atol_vec ? cfg.atol_vec[d] : cfg.atol;
            group[(size_t)d] = cfg.norm_weights ? cfg.norm_weights[d] : 1.0;
            if (group[(size_t)d] != 0.0) ++count;
        }
        uniform = !cfg.rtol_vec && !cfg.atol_vec && count == D;
        groups = 0;
        for (int64_t d = 0; d < D; ++d) groups = std::max(groups, (int)group[(size_t)d]);
        group_count.assign((size_t)groups + 1, 0);
        for (int64_t d = 0; d < D; ++d) group_count[(size_t)group[(size_t)d]]++;
    }
};

}  // namespace jdyn
