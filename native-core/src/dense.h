// The interpolant of a whole solve: for every accepted step, y0 and the polynomial coefficients of
// the method's own continuous extension, y(t0 + theta h) = y0 + theta c1 + ... + theta^deg c_deg.
#pragma once

#include <cstdint>
#include <vector>

namespace jdyn {

class DenseOutput {
public:
    virtual ~DenseOutput() = default;
    // Evaluates at n times inside [t_first, t_last] (either order) into out [n, batch, dim].
    virtual void eval(const double* ts, int64_t n, void* out) const = 0;
    virtual int64_t steps() const = 0;
    virtual double t_first() const = 0;
    virtual double t_last() const = 0;
};

template <class T>
class DenseStore final : public DenseOutput {
public:
    DenseStore(int64_t n, int degree, double t0) : n_(n), degree_(degree), t0_(t0) {}

    // Appends a step [t, t + h]; returns the storage for y0 (n values) and the degree coefficient
    // vectors (degree * n values) for the caller to fill.
    T* add_step(double t, double h);

    void eval(const double* ts, int64_t n, void* out) const override;
    int64_t steps() const override { return (int64_t)t_.size(); }
    double t_first() const override { return t0_; }
    double t_last() const override { return t_.empty() ? t0_ : t_.back() + h_.back(); }

private:
    int64_t n_;
    int degree_;
    double t0_;
    std::vector<double> t_, h_;
    std::vector<std::vector<T>> data_;  // per step: y0 then c1..c_deg
};

}  // namespace jdyn
