// Maps the ABI's method numbers to tableaus.
#pragma once

#include <cstdint>

#include "tableau.h"

namespace jdyn {

// The tableau of a jdyn_method value, or nullptr when the value names no method.
const ButcherTableau* tableau_for(int64_t method);

}  // namespace jdyn
