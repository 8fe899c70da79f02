// Explicit midpoint rule (Runge 1895; Hairer, Norsett & Wanner, Solving ODEs I, Sec. II.1):
// order 2, fixed step, cubic Hermite dense output.
#include "../tableau.h"

namespace jdyn {
namespace {

ButcherTableau make() {
    ButcherTableau t;
    t.name = "midpoint";
    t.order = 2;
    t.c = {0.0, 1.0 / 2};
    t.a = {{}, {1.0 / 2}};
    t.b = {0.0, 1.0};
    add_hermite_dense(t);
    return t;
}

}  // namespace

const ButcherTableau& midpoint() {
    static const ButcherTableau t = finalize(make());
    return t;
}

}  // namespace jdyn
