// Argument checks of a solve, before any step: each failure names the argument and its value.
#pragma once

#include "jdyn.h"
#include "tableau.h"

namespace jdyn {

// Returns the method's tableau; throws Failure(JDYN_ERR_ARGUMENT) on the first defect found.
const ButcherTableau& validate_config(const jdyn_solve_config& config, const void* y0);

}  // namespace jdyn
