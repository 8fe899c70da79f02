// Heun's second-order method (Heun 1900; the explicit trapezoidal rule) with forward Euler
// embedded: order 2(1), adaptive, cubic Hermite dense output.
#include "../tableau.h"

namespace jdyn {
namespace {

ButcherTableau make() {
    ButcherTableau t;
    t.name = "heun";
    t.order = 2;
    t.error_order = 1;
    t.c = {0.0, 1.0};
    t.a = {{}, {1.0}};
    t.b = {1.0 / 2, 1.0 / 2};
    t.b_error = {1.0 / 2 - 1.0, 1.0 / 2 - 0.0};  // b - b_hat, b_hat = Euler (1, 0)
    add_hermite_dense(t);
    return t;
}

}  // namespace

const ButcherTableau& heun() {
    static const ButcherTableau t = finalize(make());
    return t;
}

}  // namespace jdyn
