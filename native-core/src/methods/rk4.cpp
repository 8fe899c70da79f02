// The classic fourth-order Runge-Kutta method (Kutta 1901): order 4, fixed step, cubic Hermite
// dense output.
#include "../tableau.h"

namespace jdyn {
namespace {

ButcherTableau make() {
    ButcherTableau t;
    t.name = "rk4";
    t.order = 4;
    t.c = {0.0, 1.0 / 2, 1.0 / 2, 1.0};
    t.a = {{},
           {1.0 / 2},
           {0.0, 1.0 / 2},
           {0.0, 0.0, 1.0}};
    t.b = {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6};
    add_hermite_dense(t);
    return t;
}

}  // namespace

const ButcherTableau& rk4() {
    static const ButcherTableau t = finalize(make());
    return t;
}

}  // namespace jdyn
