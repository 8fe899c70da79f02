# Checks of jdyn.optim.SNOpt, the original's spelling (precond.train_itr_setup(); loss.backward();
# precond.step(); optim.step()), each run by SNOptShimTest. A check raises when it fails.
import jdyn
from jdyn import NeuralODE, nn


def trains_moons_with_the_seed_loop():
    X, y = jdyn.datasets.ToyDataset().generate(n_samples=128, noise=1e-1, dataset_type="moons")
    f = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    model = NeuralODE(f, sensitivity="adjoint", solver="dopri5", seed=0)
    precond = jdyn.optim.SNOpt(model, eps=0.05, update_freq=10)
    optim = jdyn.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    stores = []
    for _ in range(20):
        stores.append(precond.store_this_itr)
        precond.train_itr_setup()
        optim.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        precond.step()
        optim.step()
        first = first if first is not None else float(loss)
    # Statistics are collected on iterations 0 and 10 only.
    assert [i for i, s in enumerate(stores) if s] == [0, 10], stores
    # Full batch at lr 0.5: the Java SNOptTest's moons run reaches 0.97 accuracy in 19 iterations; here
    # (half the points, half the width) 20 iterations must at least halve the loss.
    assert float(loss) < 0.5 * first, (first, float(loss))


def full_precond_trains_an_encoder_ode_decoder():
    X, y = jdyn.datasets.ToyDataset().generate(n_samples=128, noise=1e-1, dataset_type="moons")
    f = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 4))
    model = nn.Sequential(nn.Linear(2, 4), NeuralODE(f, sensitivity="adjoint", solver="dopri5", seed=0),
                          nn.Linear(4, 2))
    precond = jdyn.optim.SNOpt(model, eps=0.05, update_freq=10, full_precond=True)
    # the encoder, the ODE and the decoder are all preconditioned
    assert int(precond.java().numTargets()) == 3, int(precond.java().numTargets())
    optim = jdyn.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(20):
        precond.train_itr_setup()
        optim.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        precond.step()
        optim.step()
        first = first if first is not None else float(loss)
    # as trains_moons_with_the_seed_loop: 20 full-batch iterations must at least halve the loss
    assert float(loss) < 0.5 * first, (first, float(loss))


def refusals():
    auto = NeuralODE(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2)), sensitivity="autograd")
    expect_raises(ValueError, lambda: jdyn.optim.SNOpt(auto), "adjoint")
    expect_raises(TypeError, lambda: jdyn.optim.SNOpt(42), "NeuralODE")


# ---- jdyn.optim.IntegrationTimeOptimizer: t1 co-optimisation (the seed's adaptive_t1, t1_lr, t1_reg,
# t1_update_freq) on a problem where a shorter horizon suffices: the target is the input itself (y = x),
# so any flow only moves the state away and dL/dt1 > 0 from the start.
def _t1_problem():
    import random
    r = random.Random(3)
    X = jdyn.tensor([[r.uniform(-1, 1) for _ in range(2)] for _ in range(16)], dtype="float64")
    f = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    model = NeuralODE(f, sensitivity="adjoint", solver="dopri5", atol=1e-8, rtol=1e-8, atol_adjoint=1e-8,
                      rtol_adjoint=1e-8, dtype="float64", seed=5)
    return X, model


def t1_baseline_step_is_minus_lr_times_dl_dt1():
    X, model = _t1_problem()
    loss_fn = nn.MSELoss()
    lr, h = 0.1, 1e-3

    def loss_at(t1):
        model.java.setSSpan(0.0, t1)
        with jdyn.no_grad():
            return float(loss_fn(model(X), X))
    # dL/dt1 by central differences (t1_reg = 0: the baseline step is -t1_lr * dL/dt1 / batch). At tolerance
    # 1e-8 the truncation (h^2 L''' / 6 ~ 1e-7) and the solves' error over 2h (~5e-6) times t1_lr / batch
    # stay far below the 1e-6 asserted on t1.
    dl = (loss_at(1.0 + h) - loss_at(1.0 - h)) / (2 * h)
    model.java.setSSpan(0.0, 1.0)
    assert dl > 0, dl
    t1opt = jdyn.optim.IntegrationTimeOptimizer(model, adaptive_t1="baseline", t1_lr=lr, t1_reg=0.0,
                                                t1_update_freq=1)
    # the baseline's step does not depend on the parameters' update: no optimizer needed here
    t1opt.t1_train_itr_setup(0)
    loss_fn(model(X), X).backward()
    t1 = t1opt.update_t1()
    expected = 1.0 - lr * dl / 16
    assert abs(t1 - expected) < 1e-6, (t1, expected)
    assert model.s_span[1] == t1 and t1opt.t1 == t1, (model.s_span, t1opt.t1, t1)


def t1_moves_on_update_iterations_and_shortens_the_horizon():
    for policy in ("baseline", "feedback"):
        X, model = _t1_problem()
        loss_fn = nn.MSELoss()
        precond = jdyn.optim.SNOpt(model, eps=0.05, update_freq=10)
        optim = jdyn.optim.SGD(model.parameters(), lr=0.05)
        t1opt = jdyn.optim.IntegrationTimeOptimizer(model, adaptive_t1=policy, t1_lr=0.1, t1_reg=1e-3,
                                                    t1_update_freq=5)
        previous, first = 1.0, None
        for it in range(20):
            t1opt.t1_train_itr_setup(it)
            precond.train_itr_setup()
            optim.zero_grad()
            loss = loss_fn(model(X), X)
            first = float(loss) if first is None else first
            loss.backward()
            precond.step()
            optim.step()
            t1 = t1opt.update_t1()
            if (it + 1) % 5 == 0:
                # dL/dt1 > 0 and the penalty push the same way: every update shortens t1 (floor 0.1).
                assert t1 < previous or t1 == 0.1, (policy, it, previous, t1)
            else:
                assert t1 == previous, (policy, it, previous, t1)
            previous = t1
        assert previous < 1.0 - 1e-3, (policy, previous)
        with jdyn.no_grad():
            last = float(loss_fn(model(X), X))
        assert last < first, (policy, first, last)


def t1_refusals():
    X, model = _t1_problem()
    expect_raises(ValueError, lambda: jdyn.optim.IntegrationTimeOptimizer(model, adaptive_t1="newton"), "baseline")
    expect_raises(TypeError, lambda: jdyn.optim.IntegrationTimeOptimizer(42), "NeuralODE")
