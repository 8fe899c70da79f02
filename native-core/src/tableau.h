// A Runge-Kutta method as validated data (diffrax's ButcherTableau is the model): the engine in
// engine.cpp steps every method from this description alone.
#pragma once

#include <string>
#include <vector>

namespace jdyn {

struct ButcherTableau {
    std::string name;
    int order = 0;          // order of the propagated solution
    int error_order = 0;    // order of the embedded solution; 0 = no embedded pair (fixed step only)
    std::vector<double> c;                   // s nodes
    std::vector<std::vector<double>> a;      // s rows; row i holds the i entries a[i][0..i-1]
    std::vector<double> b;                   // s weights of the propagated solution
    std::vector<double> b_error;             // s weights b - b_hat (empty when error_order == 0)
    std::vector<double> b_error3;            // DOP853 only: weights of its third-order estimate, else empty

    // Dense output. Extra stages are evaluated after an accepted step when an interpolant is needed:
    // extra row j has (s + j) entries over the main stages and the previous extra stages.
    std::vector<double> dense_c;
    std::vector<std::vector<double>> dense_a;
    // The interpolant y(t0 + theta h) = y0 + h * sum_i k_i * sum_{p=1..degree} dense_p[i][p-1] theta^p,
    // over all s + extra stages; at theta = 1 it reproduces y1, so each row sums to b_i (0 for extras).
    std::vector<std::vector<double>> dense_p;

    // Derived by finalize(): never set by hand.
    int stages = 0;
    int degree = 0;         // degree of the interpolant polynomial
    bool fsal = false;      // last stage is f(t1, y1): reused as the next step's first stage
    bool extra_is_f1 = false;  // the first extra stage is f(t1, y1): reused as the next first stage
};

// Checks the tableau (shapes, rows of a sum to c, b sums to 1, error weights sum to 0, interpolant
// reproduces y1) and fills the derived fields. Throws std::invalid_argument naming the defect.
ButcherTableau finalize(ButcherTableau t);

// Cubic Hermite interpolant on (y0, f0, y1, f1) for a tableau without its own: adds f(t1, y1) as an
// extra stage unless the method is FSAL. Call before finalize().
void add_hermite_dense(ButcherTableau& t);

// Converts Hairer's continuous-extension form used by DOPRI5 and DOP853,
//   y(theta) = r1 + theta (r2 + (1-theta) (r3 + theta (r4 + (1-theta) (r5 + theta (r6 + ...))))),
// with r1 = y0 and r_j = h * sum_i rcoef[j-2][i] k_i for j >= 2, into dense_p. Call before finalize().
void set_nested_dense(ButcherTableau& t, const std::vector<std::vector<double>>& rcoef);

// The methods, by the names torchdyn and torchdiffeq use.
const ButcherTableau& euler();
const ButcherTableau& midpoint();
const ButcherTableau& heun();      // Heun's 2nd-order method with Euler embedded (adaptive)
const ButcherTableau& rk4();       // the classic rule (torchdyn's rk4)
const ButcherTableau& rk4_38();    // the 3/8 rule (what torchdiffeq calls rk4)
const ButcherTableau& bosh3();
const ButcherTableau& dopri5();
const ButcherTableau& tsit5();
const ButcherTableau& dopri8();    // Hairer's DOP853 with its 5th- and 3rd-order error estimates

}  // namespace jdyn
