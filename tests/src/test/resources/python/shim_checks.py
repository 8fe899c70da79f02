# Checks of the python-shim, each a function run by PythonShimTest in one GraalPy context. A check raises
# (AssertionError or the shim's own exception) when it fails.
import array
import math

import jdyn
from jdyn import NeuralODE, nn
from jdyn.datasets import ToyDataset


# expect_raises comes from check_helpers.py, loaded first into the same context.


def check_tensor_from_lists_and_buffers():
    t = jdyn.tensor([[1, 2.5], [3, 4]], dtype="float64")
    assert t.shape == (2, 2) and t.dtype == "float64", (t.shape, t.dtype)
    assert t.tolist() == [[1.0, 2.5], [3.0, 4.0]], t.tolist()
    # array.array('d') must arrive as its values, not its raw bytes spread into doubles
    a = jdyn.tensor(array.array("d", [0.1, -2.0, 3.5]), dtype="float64")
    assert a.tolist() == [0.1, -2.0, 3.5], a.tolist()
    f = jdyn.tensor(memoryview(array.array("f", [1.5, 2.5])), dtype="float32")
    assert f.tolist() == [1.5, 2.5], f.tolist()
    assert jdyn.tensor(t, dtype="float32").dtype == "float32"
    assert t[1].tolist() == [3.0, 4.0] and t[-2].tolist() == [1.0, 2.5]


def check_bad_input_names_the_problem():
    expect_raises(ValueError, lambda: jdyn.tensor([[1, 2], [3]]), "ragged", "[1]")
    expect_raises(ValueError, lambda: jdyn.tensor([[1, "x"]]), "[0][1]", "not a number")
    expect_raises(ValueError, lambda: jdyn.tensor([1.0], dtype="float16"), "float16")
    expect_raises(IndexError, lambda: jdyn.tensor([1.0, 2.0])[5], "out of range")
    f = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    expect_raises(ValueError, lambda: NeuralODE(f, solver="nope"), "nope")
    m = NeuralODE(f, solver="dopri5")
    expect_raises(ValueError, lambda: m(jdyn.tensor([[1.0, 2.0, 3.0]])), "3")
    expect_raises(ValueError, lambda: m(jdyn.tensor([[float("nan"), 0.0]])), "non-finite")
    expect_raises(ValueError, lambda: NeuralODE(lambda t, x: x), "dim=")      # traced: the width must be given


def check_torchdyn_calls():
    X, yn = ToyDataset().generate(n_samples=64, noise=1e-1, dataset_type="moons")
    assert X.shape == (64, 2) and len(yn) == 64 and set(yn.tolist()) == {0, 1}
    f = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    model = NeuralODE(f, sensitivity="adjoint", solver="dopri5")
    text = repr(model)
    assert "dopri5" in text and "adjoint" in text and "Linear(in_features=2, out_features=16" in text, text
    with jdyn.no_grad():
        y = model(X)
        t_eval, traj = model(X, jdyn.linspace(0, 1, 5))
    assert y.shape == (64, 2) and traj.shape == (5, 64, 2) and t_eval == [0.0, 0.25, 0.5, 0.75, 1.0]
    # the end of the trajectory is model(x)
    assert max(abs(a - b) for a, b in zip(traj[-1].tolist()[0], y.tolist()[0])) < 1e-5
    s = model.trajectory(X, jdyn.linspace(0, 1, 10))
    assert s.shape == (10, 64, 2)
    assert model.nfe > 0
    model.nfe = 0
    assert model.nfe == 0


def _fd_gradient(model, x, target, t_span, index, h):
    jm = model.java
    p0 = jm.param(index)
    vals = []
    for sign in (1, -1):
        jm.setParam(index, p0 + sign * h)
        with jdyn.no_grad():
            _, traj = model(x, t_span)
            vals.append(nn.MSELoss()(traj[-1], target).item())
    jm.setParam(index, p0)
    return (vals[0] - vals[1]) / (2 * h)


def check_backward_through_trajectory_index_matches_finite_differences():
    # loss on traj[-1] of model(x, t_span): the chain index -> trajectory tape -> parameters, in float64
    for sensitivity in ("autograd", "adjoint", "interpolated_adjoint"):
        f = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 2))
        model = NeuralODE(f, solver="dopri5", sensitivity=sensitivity, atol=1e-10, rtol=1e-10,
                          atol_adjoint=1e-10, rtol_adjoint=1e-10, dtype="float64", seed=3)
        x = jdyn.tensor([[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]], dtype="float64")
        target = jdyn.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], dtype="float64")
        t_span = [0.0, 0.5, 1.0]
        model.zero_grad()
        _, traj = model(x, t_span)
        loss = nn.MSELoss()(traj[-1], target)
        loss.backward()
        grad = list(model.java.grad())
        for i in (0, 5, 13, len(grad) - 1):
            fd = _fd_gradient(model, x, target, t_span, i, 1e-5)
            # central differences: O(h^2) ~ 1e-10 truncation, solver error ~1e-10 / h ~ 1e-5 relative
            assert abs(grad[i] - fd) <= 1e-5 * max(1.0, abs(fd)), (sensitivity, i, grad[i], fd)


def check_backward_twice_is_refused():
    f = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    model = NeuralODE(f, solver="rk4", dt=0.25)
    y = model(jdyn.tensor([[0.1, 0.2]]))
    loss = nn.MSELoss()(y, [[0.0, 0.0]])
    loss.backward()
    assert y.tolist()[0][0] == y.tolist()[0][0]      # the output stays readable after backward
    expect_raises(RuntimeError, loss.backward, "no tape")


def check_sequential_model_with_augmenter_trains():
    X, yn = ToyDataset().generate(n_samples=128, noise=1e-1, dataset_type="moons")
    f = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 4))
    model = nn.Sequential(nn.Augmenter(1, 2), NeuralODE(f, solver="rk4", dt=0.1), nn.Linear(4, 2))
    opt = jdyn.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = loss_fn(model(X), yn)
        first = first if first is not None else loss.item()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first, (first, loss.item())


def check_trainer_fits_moons():
    X, yn = ToyDataset().generate(n_samples=256, noise=1e-1, dataset_type="moons")
    f = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    model = NeuralODE(f, sensitivity="adjoint", solver="dopri5")
    trainer = jdyn.Trainer(max_epochs=300, callbacks=[
        jdyn.train.EarlyStopping("train_acc", mode="max", stopping_threshold=0.95, patience=1000)])
    r = trainer.fit(model, (X, yn), optimizer=jdyn.optim.Adam(model.parameters(), lr=0.01))
    assert r["metrics"]["train_acc"] >= 0.95, r["metrics"]
    assert r["epochs"] == len(r["history"]) and r["stop_reason"] is not None, r


def check_python_vector_field_matches_cosine():
    # x'' = -x from (1, 0): x(t) = cos t, v(t) = -sin t
    t_eval, ys = jdyn.numerics.odeint(lambda t, z: [z[1], -z[0]], [1.0, 0.0], [0.0, 1.0, 2.0], solver="dopri5",
                                      atol=1e-10, rtol=1e-10)
    assert ys.shape == (3, 2), ys.shape
    for t, (x, v) in zip(t_eval, ys.tolist()):
        assert abs(x - math.cos(t)) < 1e-8 and abs(v + math.sin(t)) < 1e-8, (t, x, v)
    expect_raises(jdyn.MaxStepsExceededError, lambda: jdyn.numerics.odeint(
        lambda t, z: [z[1], -z[0]], [1.0, 0.0], [0.0, 100.0], atol=1e-12, rtol=1e-12, max_steps=5))


def check_files_are_refused_in_the_sandbox():
    f = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    model = NeuralODE(f)
    expect_raises(PermissionError, lambda: jdyn.save(model, "/tmp/jdyn-should-not-exist"), "file access is off")
    expect_raises(PermissionError, lambda: open("/etc/hostname").read())
    try:
        import java
        java.type("java.lang.Runtime")
    except BaseException as e:
        assert "denied" in str(e) or "not defined" in str(e), str(e)
    else:
        raise AssertionError("java.lang.Runtime was reachable")


def _grad_matches_fd(make_loss, sensitivity="autograd", indices=(0, 4, 11, -1)):
    f = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 2))
    model = NeuralODE(f, solver="dopri5", sensitivity=sensitivity, atol=1e-10, rtol=1e-10, atol_adjoint=1e-10,
                      rtol_adjoint=1e-10, dtype="float64", seed=11)
    x = jdyn.tensor([[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]], dtype="float64")
    model.zero_grad()
    make_loss(model, x).backward()
    grad = list(model.java.grad())
    jm = model.java
    for i in indices:
        i = i % len(grad)
        p0, h, vals = jm.param(i), 1e-5, []
        for sign in (1, -1):
            jm.setParam(i, p0 + sign * h)
            with jdyn.no_grad():
                vals.append(make_loss(model, x).item())
        jm.setParam(i, p0)
        fd = (vals[0] - vals[1]) / (2 * h)
        assert abs(grad[i] - fd) <= 1e-5 * max(1.0, abs(fd)), (i, grad[i], fd)


def check_tensor_arithmetic_gradients_match_finite_differences():
    target = jdyn.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], dtype="float64")

    def custom_mse(model, x):                       # ((y - t) ** 2).mean() == nn.MSELoss
        return ((model(x) - target) ** 2).mean()

    def reuse(model, x):                            # a tensor used twice: its cotangents add up
        y = model(x)
        return (y * y + y).sum() + (y.tanh().exp() / 3.0 - 1.0).abs().mean() * 2.0

    def two_calls_and_scalars(model, x):            # two model calls, scalar arithmetic on losses
        _, traj = model(x, [0.0, 0.5, 1.0])
        a = nn.MSELoss()(traj[-1], target)
        b = (model(x * 0.5) ** 2).sum()
        return 0.5 * a + b / 4.0 - 1.0

    _grad_matches_fd(custom_mse)
    _grad_matches_fd(reuse, sensitivity="adjoint")
    _grad_matches_fd(two_calls_and_scalars, sensitivity="interpolated_adjoint")
    # the custom MSE and nn.MSELoss agree in value
    f = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    m = NeuralODE(f, dtype="float64")
    x = jdyn.tensor([[0.1, 0.2], [0.3, -0.4]], dtype="float64")
    with jdyn.no_grad():
        y = m(x)
        t = jdyn.tensor([[0.0, 1.0], [1.0, 0.0]], dtype="float64")
        assert abs(((y - t) ** 2).mean().item() - nn.MSELoss()(y, t).item()) < 1e-12
    expect_raises(ValueError, lambda: y + jdyn.tensor([1.0, 2.0, 3.0], dtype="float64"), "shapes")
    expect_raises(RuntimeError, lambda: m(x).backward(), "scalar")


def check_sequential_models_gradients_match_finite_differences():
    x = jdyn.tensor([[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]], dtype="float64")
    y = jdyn.tensor([[1.0], [0.0], [0.5]], dtype="float64")
    f = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))
    ode = NeuralODE(f, solver="dopri5", sensitivity="adjoint", atol=1e-10, rtol=1e-10, atol_adjoint=1e-10,
                    rtol_adjoint=1e-10, dtype="float64", seed=2)
    models = [
        nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), dtype="float64", seed=4),   # a plain MLP
        nn.Sequential(nn.Augmenter(1, 1), ode, nn.Linear(3, 1)),                             # encoder-ODE-decoder
    ]
    for model in models:
        jm = model._java_model()
        model.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        assert len(model.parameters()) == sum(1 for b in jm.blocks() if int(b.numParams()) > 0)
        for b in range(len(jm.blocks())):
            block = jm.get(b)
            n = int(block.numParams())
            if n == 0:
                continue
            grad = list(block.grad())
            for i in (0, n // 2, n - 1):
                p0, h, vals = block.param(i), 1e-5, []
                for sign in (1, -1):
                    block.setParam(i, p0 + sign * h)
                    with jdyn.no_grad():
                        vals.append(((model(x) - y) ** 2).mean().item())
                block.setParam(i, p0)
                fd = (vals[0] - vals[1]) / (2 * h)
                assert abs(grad[i] - fd) <= 1e-5 * max(1.0, abs(fd)), (b, i, grad[i], fd)
    # and the plain MLP trains
    mlp = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1), dtype="float64")
    opt = jdyn.optim.Adam(mlp.parameters(), lr=0.05)
    first = None
    for _ in range(100):
        opt.zero_grad()
        loss = nn.MSELoss()(mlp(x), y)
        first = loss.item() if first is None else first
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first, (first, loss.item())
