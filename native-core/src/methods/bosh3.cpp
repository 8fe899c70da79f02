// Bogacki & Shampine, "A 3(2) pair of Runge-Kutta formulas", Appl. Math. Lett. 2 (1989) 321-325:
// order 3(2), 4 stages, FSAL; cubic Hermite dense output (free, since the method is FSAL).
#include "../tableau.h"

namespace jdyn {
namespace {

ButcherTableau make() {
    ButcherTableau t;
    t.name = "bosh3";
    t.order = 3;
    t.error_order = 2;
    t.c = {0.0, 1.0 / 2, 3.0 / 4, 1.0};
    t.a = {{},
           {1.0 / 2},
           {0.0, 3.0 / 4},
           {2.0 / 9, 1.0 / 3, 4.0 / 9}};
    t.b = {2.0 / 9, 1.0 / 3, 4.0 / 9, 0.0};
    // b - b_hat with b_hat = (7/24, 1/4, 1/3, 1/8).
    t.b_error = {-5.0 / 72, 1.0 / 12, 1.0 / 9, -1.0 / 8};
    add_hermite_dense(t);
    return t;
}

}  // namespace

const ButcherTableau& bosh3() {
    static const ButcherTableau t = finalize(make());
    return t;
}

}  // namespace jdyn
