// Kutta's 3/8 rule (Kutta 1901): order 4, fixed step, cubic Hermite dense output.
#include "../tableau.h"

namespace jdyn {
namespace {

ButcherTableau make() {
    ButcherTableau t;
    t.name = "rk4_38";
    t.order = 4;
    t.c = {0.0, 1.0 / 3, 2.0 / 3, 1.0};
    t.a = {{},
           {1.0 / 3},
           {-1.0 / 3, 1.0},
           {1.0, -1.0, 1.0}};
    t.b = {1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8};
    add_hermite_dense(t);
    return t;
}

}  // namespace

const ButcherTableau& rk4_38() {
    static const ButcherTableau t = finalize(make());
    return t;
}

}  // namespace jdyn
