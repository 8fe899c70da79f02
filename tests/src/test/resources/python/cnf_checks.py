# Checks of torchdyn's CNF spelled as its tutorial writes it (jdyn.models.CNF, autograd_trace, hutch_trace,
# Augmenter(augment_idx=1, augment_dims=1), MultivariateNormal's log_prob and sample), each a function run by
# CNFShimTest in one GraalPy context; a check raises when it fails. make_cnf_model() is called from Java,
# which builds the same flow with the Java API and compares the two.
import math

import jdyn
from jdyn import NeuralODE, nn
from jdyn.datasets import ToyDataset
from jdyn.distributions import MultivariateNormal
from jdyn.models import CNF, autograd_trace, hutch_trace


def make_cnf_model():
    f = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    cnf = CNF(f, trace_estimator=autograd_trace)
    return NeuralODE(cnf, solver="dopri5", sensitivity="adjoint", atol=1e-8, rtol=1e-8, dtype="float64",
                     seed=7).java


def make_hutch_field(kind):
    """A traced CNF field with Hutchinson's estimator (noise_dist a standard MultivariateNormal or
    'rademacher'), compiled by jdyn.trace: Java compares it with its own CNF."""
    f = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    noise = MultivariateNormal(jdyn.zeros(2), jdyn.eye(2)) if kind == "gaussian" else "rademacher"
    cnf = CNF(f, trace_estimator=hutch_trace, noise_dist=noise)
    return jdyn.trace(cnf, dtype="float64", seed=7).java


def _train_tutorial(cnf, steps, **ode):
    """torchdyn's CNF tutorial at a reduced size: Augmenter then the NeuralODE (dopri5, the adjoint, 1e-4),
    Adam lr 1e-2 on batches of 256 from 8 gaussians; the held-out NLL of 1024 points before and after
    (through the model's own trace estimator: for Hutchinson a mean of 1024 independent per-point
    estimates, whose noise is a few hundredths of a nat). Returns (nde, prior, first, last)."""
    nde = NeuralODE(cnf, solver="dopri5", sensitivity="adjoint", atol=1e-4, rtol=1e-4, **ode)
    model = nn.Sequential(nn.Augmenter(augment_idx=1, augment_dims=1), nde)
    prior = MultivariateNormal(jdyn.zeros(2), jdyn.eye(2))
    opt = jdyn.optim.Adam(model.parameters(), lr=1e-2)
    test, _ = ToyDataset().generate(1024, dataset_type="8gaussians", seed=99)

    def test_nll():
        with jdyn.no_grad():
            xtrJ = model(test)
            return -(prior.log_prob(xtrJ[:, 1:]) - xtrJ[:, 0]).mean().item()

    first = test_nll()
    for it in range(steps):
        x, _ = ToyDataset().generate(256, dataset_type="8gaussians", seed=it)
        opt.zero_grad()
        xtrJ = model(x)
        loss = -jdyn.mean(prior.log_prob(xtrJ[:, 1:]) - xtrJ[:, 0])
        loss.backward()
        opt.step()
    return nde, prior, first, test_nll()


def _mlp():
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))


def check_hutchinson_tutorial_trains():
    # The tutorial's own estimator: hutch_trace with MultivariateNormal noise.
    cnf = CNF(_mlp(), trace_estimator=hutch_trace, noise_dist=MultivariateNormal(jdyn.zeros(2), jdyn.eye(2)))
    _, _, first, last = _train_tutorial(cnf, 30)
    # As the exact-trace check: an unbiased estimate trains the same flow, with noisier gradients.
    assert last < first - 0.5, (first, last)


def check_prior_log_prob_and_sample():
    prior = MultivariateNormal(jdyn.zeros(2), jdyn.eye(2))
    x = jdyn.tensor([[0.0, 0.0], [1.0, -2.0]])
    lp = prior.log_prob(x).tolist()
    assert abs(lp[0] + math.log(2 * math.pi)) < 1e-6, lp
    assert abs(lp[1] + math.log(2 * math.pi) + 2.5) < 1e-5, lp
    # A correlated one against the closed form: Sigma = [[2, 0.6], [0.6, 1]], det 1.64.
    g = MultivariateNormal(jdyn.tensor([1.0, -1.0]), covariance_matrix=jdyn.tensor([[2.0, 0.6], [0.6, 1.0]]))
    v = g.log_prob(jdyn.tensor([[0.5, 0.5]], dtype="float64")).tolist()[0]
    dx, dy = -0.5, 1.5
    q = (1.0 * dx * dx - 2 * 0.6 * dx * dy + 2.0 * dy * dy) / 1.64
    # loc and the covariance are float32 (0.6 is stored as 0.6 + 2e-8): 1e-6 covers that rounding
    assert abs(v - (-0.5 * q - math.log(2 * math.pi) - 0.5 * math.log(1.64))) < 1e-6, v
    jdyn.manual_seed(3)
    s = prior.sample((4000,))
    assert tuple(s.shape) == (4000, 2), s.shape
    m = s.mean(0).tolist()
    # mean of 4000 standard normals: standard error 1/sqrt(4000) = 0.016; 5 of them is 0.08
    assert abs(m[0]) < 0.08 and abs(m[1]) < 0.08, m


def check_tutorial_trains_and_samples():
    # The exact trace, s_span given as the tutorial gives it.
    jdyn.manual_seed(0)
    cnf = CNF(_mlp(), trace_estimator=autograd_trace)
    nde, prior, first, last = _train_tutorial(cnf, 40, s_span=jdyn.linspace(0, 1, 2))
    # From ~5.7 nats (the untrained flow is near the identity: the base's NLL of the data, 1.84 + 4.1) the
    # first 40 steps at lr 1e-2 take off well over half a nat in every run seen (the Java CI run of the
    # same size falls by more than 1); a broken trace sign or cotangent makes it rise instead.
    assert last < first - 0.5, (first, last)
    # Sampling: prior draws integrated from s = 1 back to 0 land near the data's ring (radius 2.83).
    with jdyn.no_grad():
        z = prior.sample((512,))
        zt = jdyn.cat([jdyn.zeros(512, 1), z], 1)
        xs = nde.trajectory(zt, [1.0, 0.0])[-1][:, 1:]
    r = (xs * xs).sum(1).sqrt().mean().item()
    assert 1.5 < r < 4.0, r


def check_bad_arguments_are_named():
    f = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    expect_raises(ValueError, lambda: CNF(f, trace_estimator=hutch_trace), "needs noise_dist")
    expect_raises(NotImplementedError, lambda: CNF(f, order=2), "order=2")
