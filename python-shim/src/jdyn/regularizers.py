"""The regularisers of Finlay et al., "How to train your neural ODE" (RNODE), for
``NeuralODE(f, integral_loss=...)``: each penalises dynamics that are costly to solve. Per sample,
summed over the batch (multiply by 1/batch in the weight for a mean). Java's io.jdyn.models.Regularizers."""
from ._java import jtype


class _Cost:
    def __init__(self, java, name):
        self.java = java
        self.name = name

    def __add__(self, other):
        return _Cost(self.java.plus(other.java), self.name + " + " + other.name)

    def __repr__(self):
        return self.name


def kinetic_energy(weight=1.0):
    """weight * |f(t, x)|^2 (RNODE's transport cost)."""
    return _Cost(jtype("io.jdyn.models.Regularizers").kineticEnergy().times(float(weight)),
                 "kinetic_energy(%g)" % weight)


def jacobian_frobenius(weight=1.0, exact=False):
    """weight * |df/dx|_F^2, by Hutchinson's estimator with Gaussian noise fixed within each solve (one
    vector-Jacobian product per evaluation), or exactly (one per state dimension) with exact=True."""
    R = jtype("io.jdyn.models.Regularizers")
    j = R.jacobianFrobeniusExact() if exact else R.jacobianFrobenius()
    return _Cost(j.times(float(weight)), "jacobian_frobenius(%g%s)" % (weight, ", exact" if exact else ""))
