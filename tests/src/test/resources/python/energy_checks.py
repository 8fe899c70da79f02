# Checks of torchdyn's energy models in the shim (jdyn.models.HNN, jdyn.models.LNN), run by EnergyShimTest
# in one GraalPy context. A check raises when it fails.
import math

import jdyn
from jdyn import NeuralODE, nn
from jdyn.models import HNN, LNN


# expect_raises comes from check_helpers.py, loaded first into the same context.


class Pendulum(nn.Module):
    """H = p^2 / 2 + (1 - cos q), per row [batch, 1]."""

    def forward(self, x):
        q, p = x[:, 0:1], x[:, 1:2]
        return 0.5 * p ** 2 + (1 - jdyn.cos(q))


class Coupled(nn.Module):
    """L = qdot^T M qdot / 2 - |q|^2 / 2 with M = [[2, 0.5], [0.5, 1]]: qddot = -M^-1 q."""

    def forward(self, x):
        q1, q2, v1, v2 = x[:, 0:1], x[:, 1:2], x[:, 2:3], x[:, 3:4]
        kinetic = 0.5 * (2 * v1 ** 2 + v1 * v2 + v2 ** 2)
        return kinetic - 0.5 * (q1 ** 2 + q2 ** 2)


def check_hnn_field_is_j_grad_h():
    assert_pendulum_hnn(lambda: HNN(Pendulum()))   # the field and its conserved energy (check_helpers.py)


def check_lnn_field_solves_euler_lagrange():
    field = jdyn.trace(LNN(Coupled()), dim=4, dtype="float64")
    pts = [[0.3, -0.7, 0.1, 0.2], [1.2, 0.4, -1.0, 0.5], [-2.0, 1.5, 0.0, 0.0]]
    out = field(jdyn.tensor(pts, dtype="float64")).tolist()
    det = 2 * 1 - 0.25                              # M^-1 = [[1, -0.5], [-0.5, 2]] / det
    for (q1, q2, v1, v2), f in zip(pts, out):
        a1 = -(1 * q1 - 0.5 * q2) / det
        a2 = -(-0.5 * q1 + 2 * q2) / det
        want = [v1, v2, a1, a2]
        assert all(abs(g - w) < 1e-12 for g, w in zip(f, want)), (f, want)


def check_energy_models_train_with_the_adjoint():
    x = jdyn.tensor([[1.0, 0.0], [0.0, 0.8], [-0.5, 0.5]], dtype="float64")
    # the mass-spring flow over t = 1: a rotation of the phase plane by one radian
    c, s = math.cos(1.0), math.sin(1.0)
    y = jdyn.tensor([[q * c + p * s, -q * s + p * c] for q, p in x.tolist()], dtype="float64")
    for make in (lambda: HNN(nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))),
                 lambda: LNN(nn.Sequential(nn.Linear(2, 16), nn.Softplus(), nn.Linear(16, 1)))):
        f = make()
        model = NeuralODE(f, sensitivity="adjoint", solver="dopri5", dtype="float64", seed=3)
        opt = jdyn.optim.Adam(model.parameters(), lr=0.01)
        first = None
        for _ in range(30):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            first = loss.item() if first is None else first
        with jdyn.no_grad():
            last = ((model(x) - y) ** 2).mean().item()
        assert last < 0.7 * first, (type(f).__name__, first, last)
        assert [n for n, _ in f.named_parameters()] == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]


def check_messages():
    expect_raises(NotImplementedError, lambda: HNN(Pendulum())(jdyn.tensor([[0.1, 0.2]], dtype="float64")),
                  "NeuralODE")
    # a state of odd width: the Java message names HNN and the width rule
    expect_raises(jdyn.TracingError, lambda: jdyn.trace(HNN(nn.Sequential(nn.Linear(3, 1))), dim=3), "even width")


def check_linalg_solve():
    # eager: [[3, 1], [1, 2]] x = [1, 2] gives (0, 1); [[0, 1], [2, 5]] x = [3, 4] gives (-5.5, 3) (pivoting)
    A = jdyn.tensor([[[3.0, 1.0], [1.0, 2.0]], [[0.0, 1.0], [2.0, 5.0]]], dtype="float64", requires_grad=True)
    b = jdyn.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", requires_grad=True)
    x = jdyn.linalg.solve(A, b)
    assert x.shape == (2, 2), x.shape
    want = [[0.0, 1.0], [-5.5, 3.0]]
    assert all(abs(g - w) < 1e-14 for r, s in zip(x.tolist(), want) for g, w in zip(r, s)), x.tolist()
    # d sum(x) / d b = A^-T 1; d sum(x) / d A = -(A^-T 1) x^T
    x.sum().backward()
    gb = [[0.2, 0.4], [-1.5, 0.5]]
    assert all(abs(g - w) < 1e-14 for r, s in zip(b.grad.tolist(), gb) for g, w in zip(r, s)), b.grad.tolist()
    ga = [[[-gb[m][i] * want[m][j] for j in range(2)] for i in range(2)] for m in range(2)]
    got = A.grad.tolist()
    assert all(abs(got[m][i][j] - ga[m][i][j]) < 1e-14 for m in range(2) for i in range(2) for j in range(2)), got
    # a singular matrix says so
    expect_raises(BaseException, lambda: jdyn.linalg.solve(jdyn.tensor([[1.0, 2.0], [2.0, 4.0]], dtype="float64"),
                                                            jdyn.tensor([[1.0], [1.0]], dtype="float64")),
                  "singular")

    # traced: a field x' = -M^-1 x with M = [[2, 0.5], [0.5, 1]], against M^-1 written out
    M = jdyn.tensor([[2.0, 0.5], [0.5, 1.0]], dtype="float64")

    def f(t, x):
        return -jdyn.linalg.solve(M, x.unsqueeze(-1)).squeeze(-1)

    field = jdyn.trace(f, dim=2, dtype="float64")
    pts = [[1.0, 0.0], [0.3, -0.7]]
    out = field(jdyn.tensor(pts, dtype="float64")).tolist()
    det = 1.75
    for (u, v), (du, dv) in zip(pts, out):
        assert abs(du + (u - 0.5 * v) / det) < 1e-14 and abs(dv + (-0.5 * u + 2 * v) / det) < 1e-14, (du, dv)
