# Checks of torchdyn's integral_loss in the shim (jdyn._integral): functions traced into the field's
# program and jdyn.regularizers, each run by IntegralLossShimTest. A check raises when it fails.
import math

import jdyn
from jdyn import NeuralODE, nn


def _decay_model(sensitivity, loss):
    return NeuralODE(lambda t, x: -x, dim=2, sensitivity=sensitivity, solver="dopri5", dtype="float64",
                     atol=1e-12, rtol=1e-11, atol_adjoint=1e-12, rtol_adjoint=1e-11, integral_loss=loss,
                     s_span=(0.0, 1.3))


def closed_form(sensitivity):
    # dx/dt = -x, l = (1 + t) |x|^2 / 2 per sample: I = |x0|^2/2 (3 - e^-2T (2T + 3)) / 4 at T = 1.3,
    # dI/dx0 = x0 (3 - e^-2T (2T + 3)) / 4 (IntegralCostTest derives it).
    model = _decay_model(sensitivity, lambda t, x: 0.5 * (1 + t) * (x * x).sum(1))
    x0 = [[0.3, -1.2], [0.7, 2.0]]
    x = jdyn.tensor(x0, dtype="float64", requires_grad=True)
    out = model(x)
    (out * 0.0).sum().backward()          # the integral loss alone
    T = 1.3
    k = (3 - math.exp(-2 * T) * (2 * T + 3)) / 4
    sq = sum(v * v for row in x0 for v in row)
    assert abs(model.integral_loss_value - 0.5 * sq * k) < 1e-9, model.integral_loss_value
    g = x.grad.tolist()
    for i in range(2):
        for j in range(2):
            assert abs(g[i][j] - x0[i][j] * k) < 1e-7, (i, j, g[i][j], x0[i][j] * k)


def whole_batch_cost_equals_sum_of_per_sample():
    a = _decay_model("adjoint", lambda x: (x * x).sum())            # a scalar: one cost for the batch
    b = _decay_model("adjoint", lambda t, x: (x * x).sum(1, keepdim=True))
    x0 = [[0.3, -1.2], [0.7, 2.0], [-0.1, 0.4]]
    xa = jdyn.tensor(x0, dtype="float64", requires_grad=True)
    xb = jdyn.tensor(x0, dtype="float64", requires_grad=True)
    (a(xa) * 0.0).sum().backward()
    (b(xb) * 0.0).sum().backward()
    assert abs(a.integral_loss_value - b.integral_loss_value) < 1e-10
    for u, v in zip(xa.grad.reshape(-1).tolist(), xb.grad.reshape(-1).tolist()):
        assert abs(u - v) < 1e-9, (u, v)


def dx_argument_is_the_field_value():
    # l(t, x, dx) = |dx|^2 is the kinetic energy: equal to jdyn.regularizers.kinetic_energy().
    f = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    mine = NeuralODE(f, sensitivity="adjoint", dtype="float64", seed=3,
                     integral_loss=lambda t, x, dx: (dx * dx).sum(1))
    theirs = NeuralODE(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2)), sensitivity="adjoint",
                       dtype="float64", seed=3, integral_loss=jdyn.regularizers.kinetic_energy())
    x = jdyn.tensor([[0.5, -0.4], [1.0, 0.2]], dtype="float64")
    mine(x)
    theirs(x)
    assert mine.integral_loss_value > 0
    assert abs(mine.integral_loss_value - theirs.integral_loss_value) < 1e-12, (mine.integral_loss_value,
                                                                                 theirs.integral_loss_value)


def regularised_training_lowers_the_loss():
    X, y = jdyn.datasets.ToyDataset().generate(n_samples=128, noise=1e-1, dataset_type="moons")
    f = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    reg = jdyn.regularizers.kinetic_energy(0.001) + jdyn.regularizers.jacobian_frobenius(0.001)
    model = NeuralODE(f, sensitivity="adjoint", solver="dopri5", integral_loss=reg, seed=1)
    opt = jdyn.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss)
    assert float(loss) < 0.8 * first, (first, float(loss))
    assert model.integral_loss_value > 0


def refusals():
    expect_raises(jdyn.TracingError, lambda: _decay_model("autograd", lambda t, x: 3.0), "integral_loss")
    expect_raises(TypeError, lambda: _decay_model("autograd", 42), "integral_loss")
