# Messages and spellings a newcomer meets (issue 13), in one GraalPy context with files allowed.
import math

import jdyn
from jdyn import nn, NeuralODE
from jdyn.numerics import odeint


def decay(t, z):
    return [-v for v in z]


def closed_tensor_is_named():
    m = NeuralODE(nn.Sequential(nn.Linear(2, 2)), solver="dopri5")
    x = jdyn.tensor([[0.1, 0.2]])
    x.close()
    expect_raises(jdyn.TensorClosedError, lambda: m(x), "closed", "clone()")
    expect_raises(jdyn.TensorClosedError, lambda: odeint(decay, x, [0.0, 1.0]), "closed")


def odeint_argument_errors_name_the_fix():
    y = jdyn.tensor([1.0])
    # solver=None is the default (dopri5), as torchdiffeq's method=None: y(1) = exp(-1) to the tolerance
    ts, ys = odeint(decay, y, [0.0, 1.0], solver=None, rtol=1e-9, atol=1e-9)
    assert abs(ys.tolist()[1][0] - math.exp(-1)) < 1e-7, ys
    expect_raises(TypeError, lambda: odeint(decay, y, [0.0, 1.0], "dopri5", 1e-6, 1e-6, [0.5]),
                  "by position", "by name")
    expect_raises(TypeError, lambda: odeint(decay, y, [0.0, 1.0], 3), "string such as 'dopri5'")
    expect_raises(TypeError, lambda: odeint(decay, y, [0.0, 1.0], "rk4", method="rk4"), "not both")
    expect_raises(ValueError, lambda: odeint(decay, y, [0.0, 1.0], method="rk4", options={"foo": 1}), "foo",
                  "step_size")


def nan_from_t0_is_a_non_finite_value():
    y = jdyn.tensor([1.0])
    for solver in ("dopri5", "tsit5"):
        expect_raises(jdyn.NonFiniteValueError, lambda: odeint(lambda t, z: [float("nan")], y, [0.0, 1.0], solver),
                      "non-finite", "t=0")
    # finite only at t = 0: the rejected steps end on the non-finite value, not after max_steps
    expect_raises(jdyn.NonFiniteValueError,
                  lambda: odeint(lambda t, z: [float("nan") if t > 0 else 1.0], y, [0.0, 1.0], "dopri5"),
                  "non-finite")


def missing_checkpoint_is_file_not_found(folder):
    e = expect_raises(FileNotFoundError, lambda: jdyn.load(folder + "/no-such-model"), "no checkpoint at",
                      "jdyn.save")
    assert isinstance(e, OSError)


def tensor_of_python_data_names_jdyn_tensor():
    expect_raises(TypeError, lambda: jdyn.Tensor((1.0, 2.0)), "jdyn.tensor(data)", "tuple")
    expect_raises(TypeError, lambda: jdyn.Tensor([[1.0]]), "jdyn.tensor(data)", "list")


def torchdiffeq_spelling_returns_the_solution():
    y0 = jdyn.tensor([[1.0], [2.0]], dtype="float64")
    # torchdiffeq: func(t, y) on tensors, method=, the solution tensor only; exp(-t) scaled per row
    sol = odeint(lambda t, y: -y, y0, [0.0, 0.5, 1.0], method="dopri5", rtol=1e-10, atol=1e-10)
    assert isinstance(sol, jdyn.Tensor) and sol.shape == (3, 2, 1), sol
    for i, t in enumerate((0.0, 0.5, 1.0)):
        for b, c in enumerate((1.0, 2.0)):
            assert abs(sol.tolist()[i][b][0] - c * math.exp(-t)) < 1e-8, (i, b, sol)
    # a fixed step through options: rk4 with h = 0.01 has global error ~h^4 = 1e-8 (times a constant < 1)
    fixed = odeint(lambda t, y: -y, y0, [0.0, 1.0], method="rk4", options=dict(step_size=0.01))
    assert abs(fixed.tolist()[1][0][0] - math.exp(-1)) < 1e-8, fixed
    # torchdyn: (t_eval, sol)
    t_eval, traj = odeint(decay, [1.0], [0.0, 1.0], "dopri5")
    assert t_eval == [0.0, 1.0] and traj.shape == (2, 1), (t_eval, traj)
    # a fixed-step method without a step takes one step per output interval, as torchdyn's do:
    # one rk4 step of y' = -y, h = 1, is 1 - 1 + 1/2 - 1/6 + 1/24 = 0.375 exactly
    t_eval, one = odeint(decay, [1.0], [0.0, 1.0], "rk4")
    assert abs(one.tolist()[1][0] - 0.375) < 1e-15, one


def fixed_steps_are_not_capped_by_max_steps():
    # 20,000 euler steps (twice the adaptive default cap); euler's global error ~ h/2 * t e^-t = 1e-5 at t = 1
    _, ys = odeint(decay, [1.0], [0.0, 1.0], "euler", dt=1.0 / 20000)
    assert abs(ys.tolist()[1][0] - math.exp(-1)) < 2e-5, ys
    # an explicit cap still applies
    expect_raises(jdyn.MaxStepsExceededError,
                  lambda: odeint(decay, [1.0], [0.0, 1.0], "euler", dt=1.0 / 20000, max_steps=100), "100")
