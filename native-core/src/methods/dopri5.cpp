// Dormand & Prince, "A family of embedded Runge-Kutta formulae", J. Comput. Appl. Math. 6 (1980)
// 19-26: order 5(4), 7 stages, FSAL. Dense output: the 4th-order continuous extension of Hairer's
// dopri5.f (CONTD5; Hairer, Norsett & Wanner, Solving ODEs I, Sec. II.6), in nested form.
#include "../tableau.h"

namespace jdyn {
namespace {

ButcherTableau make() {
    ButcherTableau t;
    t.name = "dopri5";
    t.order = 5;
    t.error_order = 4;
    t.c = {0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0};
    t.a = {{},
           {1.0 / 5},
           {3.0 / 40, 9.0 / 40},
           {44.0 / 45, -56.0 / 15, 32.0 / 9},
           {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
           {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
           {35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
    t.b = {35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0.0};
    // b - b_hat, b_hat = (5179/57600, 0, 7571/16695, 393/640, -92097/339200, 187/2100, 1/40).
    t.b_error = {71.0 / 57600, 0.0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40};

    // Hairer's r2 = y1 - y0, r3 = h f0 - r2, r4 = r2 - h f1 - r3, r5 = h sum d_i k_i.
    const std::vector<double> d = {-12715105075.0 / 11282082432.0, 0.0,
                                   87487479700.0 / 32700410799.0,  -10690763975.0 / 1880347072.0,
                                   701980252875.0 / 199316789632.0, -1453857185.0 / 822651844.0,
                                   69997945.0 / 29380423.0};
    const std::size_t s = t.b.size();
    std::vector<double> r2 = t.b, r3(s), r4(s);
    for (std::size_t i = 0; i < s; ++i) {
        r3[i] = (i == 0 ? 1.0 : 0.0) - r2[i];
        r4[i] = r2[i] - (i == s - 1 ? 1.0 : 0.0) - r3[i];
    }
    set_nested_dense(t, {r2, r3, r4, d});
    return t;
}

}  // namespace

const ButcherTableau& dopri5() {
    static const ButcherTableau t = finalize(make());
    return t;
}

}  // namespace jdyn
