# Hypersolvers from Python with torchdyn's names (jdyn.numerics.HyperEuler, ...): run by HypersolverShimTest.
import jdyn
from jdyn import NeuralODE, nn
from jdyn.numerics import HyperEuler, HyperMidpoint, HyperRK4, HyperRungeKutta4, odeint


def _model(solver="dopri5", seed=1):
    # dopri5 at 1e-10: the reference the fitted hypersolver is measured against must be far more accurate than it
    f = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    return NeuralODE(f, solver=solver, sensitivity="adjoint", dtype="float64", seed=seed, rtol=1e-10, atol=1e-10)


def _points():
    jdyn.manual_seed(3)
    return jdyn.randn(16, 2, dtype="float64")


def _max_diff(a, b):
    return (a - b).abs().max().item()


def check_names_are_torchdyns():
    assert jdyn.numerics.HyperEuler is HyperEuler
    assert HyperRK4 is HyperRungeKutta4
    assert HyperEuler(nn.Linear(5, 2)).base == "euler"
    assert HyperMidpoint(nn.Linear(5, 2)).base == "midpoint"
    assert HyperRungeKutta4(nn.Sequential(nn.Linear(5, 2))).base == "rk4"


def check_zero_hypernet_is_the_base_method():
    model = _model()
    x = _points()
    t_span = jdyn.linspace(0, 1, 11, dtype="float64")
    for cls, stages in ((HyperEuler, 1), (HyperMidpoint, 2), (HyperRungeKutta4, 4)):
        hs = cls(nn.Linear(5, 2))
        hs.set_hypernet_parameters([0.0] * 12)
        t_eval, traj = odeint(model, x, t_span, solver=hs)
        assert len(t_eval) == 11 and list(traj.shape) == [11, 16, 2], (t_eval, traj.shape)
        base = _model(solver=hs.base)
        base.load_state_dict(model.state_dict())
        base.eval()
        _, want = base(x, t_span)
        # one Euler step of the increment program is one step of the base method: rounding only
        assert _max_diff(traj, want) < 1e-12, (cls.__name__, _max_diff(traj, want))
        assert hs.nfe == 10 * stages, (cls.__name__, hs.nfe)


def check_fitted_hypereuler_beats_euler_through_odeint_and_neuralode():
    model = _model()
    x = _points()
    t_span = jdyn.linspace(0, 1, 6, dtype="float64")
    model.eval()
    _, ref = model(x, t_span)
    # a hypernet with a hidden layer: on this random field Euler's residual is not linear in [eps, z, f(z)]
    hs = HyperEuler(nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 2)))
    r = hs.fit(model, x, t_span, epochs=400, lr=2e-2)
    assert r["final_loss"] < r["initial_loss"] / 10, r
    assert len(hs.hypernet_parameters()) == 5 * 16 + 16 + 16 * 2 + 2
    _, traj = odeint(model, x, t_span, solver=hs)
    euler = _model(solver="euler")
    euler.load_state_dict(model.state_dict())
    euler.eval()
    _, plain = euler(x, t_span)
    e_hyper = _max_diff(traj[-1], ref[-1])
    e_euler = _max_diff(plain[-1], ref[-1])
    print("hyper_checks: HyperEuler %.3e, Euler %.3e at 5 steps" % (e_hyper, e_euler))
    # the same 5 evaluations: the fitted correction must remove most of Euler's error on the points it saw
    # (measured: 1.3e-3 against 7.1e-3, 5.5 times smaller; 3 leaves a margin for the fit)
    assert e_hyper < e_euler / 3, (e_hyper, e_euler)
    # torchdyn's NeuralODE(f, solver=HyperEuler(hypernet)): the same solve, counted in the model's nfe
    hm = NeuralODE(nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)), solver=hs, dtype="float64")
    hm.load_state_dict(model.state_dict())
    hm.nfe = 0
    t_eval, traj2 = hm(x, t_span)
    assert _max_diff(traj2, traj) < 1e-12
    assert hm.nfe == 5, hm.nfe
    assert _max_diff(hm.trajectory(x, t_span), traj) < 1e-12
    # model(x): over s_span in steps of dt
    hd = NeuralODE(nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)), solver=hs, dtype="float64", dt=0.2)
    hd.load_state_dict(model.state_dict())
    assert _max_diff(hd(x), traj[-1]) < 1e-12


def check_refusals_say_why():
    model = _model()
    x = _points()
    hs = HyperEuler(nn.Linear(5, 2))
    expect_raises(ValueError, lambda: odeint(model, x, [0.0, 0.1, 0.3], solver=hs), "evenly spaced")
    expect_raises(TypeError, lambda: HyperEuler(lambda t, x: x), "jdyn.nn layer")
    expect_raises(TypeError, lambda: odeint(lambda t, x: x, x, [0.0, 0.5, 1.0], solver=hs), "compiled vector field")
