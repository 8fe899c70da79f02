# Checks of NeuralODE(..., per_sample=True) in the shim (every sample steps on its own), run by
# PerSampleShimTest. A check raises when it fails.
import jdyn
from jdyn import NeuralODE, nn

# Rows of very different scale: a shared step is set by the large row, so sharing changes the small row.
X0 = [[0.01, -0.02], [3.0, -2.5]]


def _model(per_sample, sensitivity):
    f = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    return NeuralODE(f, sensitivity=sensitivity, solver="dopri5", dtype="float64", seed=4, atol=1e-6, rtol=1e-6,
                     atol_adjoint=1e-6, rtol_adjoint=1e-6, per_sample=per_sample)


def _pass(model, rows):
    x = jdyn.tensor(rows, dtype="float64", requires_grad=True)
    out = model(x)
    (out * jdyn.tensor([[0.7, -0.3]] * len(rows), dtype="float64")).sum().backward()
    return out.tolist(), x.grad.tolist()


def rows_as_if_alone(sensitivity):
    per = _model(True, sensitivity)
    out, grad = _pass(per, X0)
    shared_out, _ = _pass(_model(False, sensitivity), X0)
    for b, row in enumerate(X0):
        alone_out, alone_grad = _pass(_model(False, sensitivity), [row])
        # the same row solve: equal to rounding (1e-12 relative; another step sequence moves it by ~1e-6)
        for u, v in zip(out[b] + grad[b], alone_out[0] + alone_grad[0]):
            assert abs(u - v) <= 1e-12 * max(abs(v), 1e-300), (b, u, v)
    # the check can tell: the shared solve of the small row is another one
    assert any(abs(u - v) > 1e-12 * abs(v) for u, v in zip(shared_out[0], out[0])), (shared_out[0], out[0])
