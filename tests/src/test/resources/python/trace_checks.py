# Checks of vector fields written the torch way and traced into native programs (jdyn._trace), each a
# function run by TracedFieldTest in one GraalPy context. A check raises when it fails. make_twin_model()
# is called from Java, which builds the same field with the Java Fn API and compares the two.
import math

import jdyn
from jdyn import NeuralODE, nn


# expect_raises comes from check_helpers.py, loaded first into the same context.


# ---------------------------------------------------------------------------------------- the twin
class TwinField(nn.Module):
    """The field Java rebuilds with Fn (TracedFieldTest): an MLP, a parameter of its own, slices, t."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
        self.scale = nn.Parameter(jdyn.tensor([0.5, -0.25], dtype="float64"))

    def forward(self, t, x):
        h = self.net(x)
        gate = jdyn.sigmoid(x[:, 0:1])                 # [-1, 1], broadcast over the features
        return h * gate + self.scale * jdyn.sin(t) - 0.1 * x ** 3


def make_twin_model():
    return NeuralODE(TwinField(), sensitivity="adjoint", solver="dopri5", dtype="float64", seed=7,
                     atol=1e-6, rtol=1e-6).java


# ---------------------------------------------------------------------------------------- training
class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return x * jdyn.sigmoid(self.lin(x))


def _loss(model, x, y):
    with jdyn.no_grad():
        return ((model(x) - y) ** 2).mean().item()


def check_module_field_trains_with_adjoint():
    f = Gated()
    model = NeuralODE(f, sensitivity="adjoint", solver="dopri5", dtype="float64", atol=1e-9, rtol=1e-9,
                      atol_adjoint=1e-9, rtol_adjoint=1e-9, seed=3)
    names = [n for n, _ in f.named_parameters()]
    assert names == ["lin.weight", "lin.bias"], names
    x = jdyn.tensor([[0.5, -1.0], [1.5, 0.25], [-0.75, 0.5]], dtype="float64")
    y = jdyn.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], dtype="float64")
    # the gradient of one parameter against central differences
    model.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    params = model.java.parameters()
    g = list(params.grad("lin.weight"))
    w = list(params.get("lin.weight"))
    h = 1e-5
    for i in (0, 3):
        wp = list(w)
        wp[i] = w[i] + h
        params.set("lin.weight", wp)
        lp = _loss(model, x, y)
        wp[i] = w[i] - h
        params.set("lin.weight", wp)
        lm = _loss(model, x, y)
        params.set("lin.weight", w)
        fd = (lp - lm) / (2 * h)
        assert abs(fd - g[i]) < 1e-6 * max(1.0, abs(fd)), ("d loss / d lin.weight[%d]" % i, g[i], fd)
    # and it trains: Adam lowers the loss
    opt = jdyn.optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    last = _loss(model, x, y)
    assert last < 0.8 * first, (first, last)
    # the module sees the trained values
    sd = f.state_dict()
    assert list(sd) == ["lin.weight", "lin.bias"], list(sd)
    assert sd["lin.weight"].tolist()[0][0] == list(params.get("lin.weight"))[0]
    # f.parameters() is the compiled field's, for an optimizer of its own
    assert f.parameters().numel() == 6


def check_state_dict_round_trip_and_parameters():
    f = TwinField()
    assert [n for n, _ in f.named_parameters()] == ["scale"]       # before compiling: its own Parameters
    model = NeuralODE(f, dtype="float64", seed=1)
    names = [n for n, _ in f.named_parameters()]
    assert names == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "scale"], names
    sd = f.state_dict()
    assert sd["scale"].tolist() == [0.5, -0.25], sd["scale"].tolist()
    assert sd["net.0.weight"].shape == (16, 2), sd["net.0.weight"].shape
    g = TwinField()
    model2 = NeuralODE(g, dtype="float64", seed=2)
    x = jdyn.tensor([[0.3, -0.2]], dtype="float64")
    with jdyn.no_grad():
        assert model(x).tolist() != model2(x).tolist()
        g.load_state_dict(sd)
        assert model(x).tolist() == model2(x).tolist()
    expect_raises(KeyError, lambda: g.load_state_dict({"scale": sd["scale"]}), "net.0.weight")
    # the submodule's view: names relative to it
    assert [n for n, _ in f.net.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    # a compiled module evaluates natively
    out = f(0.0, x).tolist()
    assert len(out) == 1 and len(out[0]) == 2
    f.train()
    f.eval()
    assert not f.training and not f.net.training


# ---------------------------------------------------------------------------------------- HNN
class HNN(nn.Module):
    """torchdyn's Hamiltonian network: the field is the symplectic gradient of the learned H."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        with jdyn.set_grad_enabled(True):
            n = x.shape[1] // 2
            x = x.requires_grad_(True)
            gradH = jdyn.autograd.grad(self.net(x).sum(), x, create_graph=True)[0]
        return jdyn.cat([gradH[:, n:], -gradH[:, :n]], 1).to(x)


class Pendulum(nn.Module):
    """H = p^2 / 2 + (1 - cos q), written as a module."""

    def forward(self, z):
        q, p = z[:, 0], z[:, 1]
        return 0.5 * p ** 2 + (1 - jdyn.cos(q))


def check_hnn_with_autograd_grad_matches_the_analytic_field():
    assert_pendulum_hnn(lambda: HNN(Pendulum()))   # the field and its conserved energy (check_helpers.py)
    # a learned H (an MLP) trains through the adjoint: gradients of a gradient
    hnn = HNN(nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)))
    model = NeuralODE(hnn, sensitivity="adjoint", solver="dopri5", dtype="float64", seed=5)
    x = jdyn.tensor([[1.0, 0.0], [0.5, 0.5]], dtype="float64")
    loss = (model(x) ** 2).mean()
    loss.backward()
    g = list(model.java.parameters().grad("net.0.weight"))
    assert any(v != 0.0 for v in g), g


# ---------------------------------------------------------------------------------------- functions
def check_function_fields_and_operations():
    # a plain function of (t, x), no parameters: a damped rotation; dim given
    A = jdyn.tensor([[-0.1, 1.0], [-1.0, -0.1]], dtype="float64")    # x' = A x, rows: x @ A^T

    def rot(t, x):
        return x @ A.T

    model = NeuralODE(rot, dim=2, solver="dopri5", dtype="float64", atol=1e-10, rtol=1e-10)
    with jdyn.no_grad():
        end = model(jdyn.tensor([[1.0, 0.0]], dtype="float64")).tolist()[0]
    r = math.exp(-0.1)
    assert abs(end[0] - r * math.cos(1.0)) < 1e-8 and abs(end[1] + r * math.sin(1.0)) < 1e-8, end

    # f(x) with a global Sequential: parameters named after the global
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3))
    globals()["_net"] = net
    f = jdyn.trace(_uses_global_net, dtype="float64")
    assert [str(n) for n in f.java.parameters().names()] == ["_net.0.weight", "_net.0.bias", "_net.2.weight",
                                                             "_net.2.bias"]

    # the operations against their definitions, at a few points
    def ops(t, x):
        a, b, c = x[:, 0], x[:, 1], x[..., 2:]
        s = jdyn.stack([a * b, jdyn.where(a > b, a, b), (x.sum(dim=1) + t)], dim=1)     # [-1, 3]
        m = x.max(dim=1, keepdim=True).values + x.mean(-1, keepdim=True)                # [-1, 1]
        sm = jdyn.softmax(x, dim=1) + x.log_softmax(-1).exp()                            # 2 softmax
        r = x.reshape(-1, 3, 1).view(-1, 3)
        cc = jdyn.cat([c, c.abs().sqrt(), jdyn.tanh(c)], dim=1)                         # [-1, 3]
        return s + m + sm + r * 0.5 - cc / 2 + 2 ** x[:, :1] + jdyn.clamp(x, -0.5, 0.5) * x ** 2 @ I3.T

    I3 = jdyn.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype="float64")
    g = jdyn.trace(ops, dim=3, dtype="float64")
    pts = [[0.3, -0.7, 0.2], [1.2, 0.4, -2.0]]
    t = 0.25
    out = g(t, jdyn.tensor(pts, dtype="float64")).tolist()
    for (a, b, c), row in zip(pts, out):
        xs = [a, b, c]
        s = [a * b, a if a > b else b, a + b + c + t]
        m = max(xs) + (a + b + c) / 3
        e = [math.exp(v) for v in xs]
        sm = [2 * v / sum(e) for v in e]
        cc = [c, math.sqrt(abs(c)), math.tanh(c)]
        want = [s[i] + m + sm[i] + xs[i] * 0.5 - cc[i] / 2 + 2 ** a + min(max(xs[i], -0.5), 0.5) * xs[i] ** 2
                for i in range(3)]
        for w, v in zip(want, row):
            assert abs(w - v) < 1e-12, ("at", (a, b, c), "want", want, "got", row)


def _uses_global_net(x):
    return _net(x) - x  # noqa: F821 (set by the check)


# ---------------------------------------------------------------------------------------- refusals
class BranchOnValue(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        h = self.lin(x)
        if h.sum() > 0:   # REFUSED-BRANCH
            return h
        return -h


class ReadsNumber(nn.Module):
    def forward(self, t, x):
        return x * math.sin(t)   # REFUSED-MATH


class ItemCall(nn.Module):
    def forward(self, x):
        k = x[:, 0].sum().item()   # REFUSED-ITEM
        return x * k


class FloatCall(nn.Module):
    def forward(self, x):
        return x * float(x[:, :1].mean())   # REFUSED-FLOAT


class MixesObjects(nn.Module):
    def forward(self, x):
        return x + [1.0, 2.0] * 1   # REFUSED-MIX


class WrongShape(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 3)

    def forward(self, x):
        return self.lin(x)


class BadShapes(nn.Module):
    def forward(self, x):
        return x + x[:, :1].reshape(-1, 1, 1)   # REFUSED-SHAPES


def _line(cls, marker):
    """The line of the class's source holding '# marker' (found through the code of its forward)."""
    code = cls.forward.__code__
    return code.co_firstlineno + _MARKS[marker]


_MARKS = {"REFUSED-BRANCH": 2, "REFUSED-MATH": 1, "REFUSED-ITEM": 1, "REFUSED-FLOAT": 1, "REFUSED-MIX": 1,
          "REFUSED-SHAPES": 1}


def _refused(cls, marker, *fragments):
    e = expect_raises(jdyn.TracingError, lambda: NeuralODE(cls(), dim=2, dtype="float64"), *fragments)
    assert isinstance(e, RuntimeError)
    want = _line(cls, marker)
    assert e.lineno == want and "line %d" % want in str(e), (want, str(e))
    assert e.filename is not None and e.filename.endswith("trace_checks.py") and "trace_checks.py" in str(e), str(e)
    return e


def check_refusals_name_the_line():
    _refused(BranchOnValue, "REFUSED-BRANCH", "control flow on a tensor value", "jdyn.where(cond, a, b)")
    _refused(ReadsNumber, "REFUSED-MATH", "reads a Python number", "jdyn.sin")
    _refused(ItemCall, "REFUSED-ITEM", "x.item()")
    _refused(FloatCall, "REFUSED-FLOAT", "float(x)")
    _refused(MixesObjects, "REFUSED-MIX", "list")
    _refused(BadShapes, "REFUSED-SHAPES", "(-1, 2)", "(-1, 1, 1)")
    e = expect_raises(jdyn.TracingError, lambda: NeuralODE(WrongShape(), dtype="float64"), "(-1, 3)", "(-1, 2)",
                      "WrongShape.forward", "trace_checks.py")
    # a function with no width to read
    expect_raises(ValueError, lambda: NeuralODE(lambda t, x: -x), "dim=")
    # outside a trace the tensor functions run eagerly; autograd.grad says where it belongs
    assert jdyn.cat([jdyn.tensor([1.0]), jdyn.tensor([2.0])], 0).tolist() == [1.0, 2.0]
    expect_raises(NotImplementedError, lambda: jdyn.autograd.grad(None, None), "traced")
    # an uncompiled module says how to compile it
    expect_raises(RuntimeError, lambda: Gated()(jdyn.tensor([[1.0, 2.0]])), "NeuralODE(f)")


# ---------------------------------------------------------------------------------------- checkpoints
def check_save_and_load_a_traced_field(path):
    """Run with file access (TracedFieldTest gives a temporary folder): the checkpoint holds the values, the
    code comes from the caller."""
    f = TwinField()
    model = NeuralODE(f, solver="dopri5", sensitivity="adjoint", dtype="float64", seed=11)
    model.java.parameters().set("scale", [1.5, 2.5])
    jdyn.save(model, path)
    expect_raises(ValueError, lambda: jdyn.load(path), "traced vector field", "TwinField.forward",
                  "jdyn.load(path, f)")
    g = TwinField()
    loaded = jdyn.load(path, g)
    assert loaded.solver == "dopri5" and loaded.sensitivity == "adjoint" and loaded.dtype == "float64"
    x = jdyn.tensor([[0.3, -0.2], [1.0, 0.5]], dtype="float64")
    with jdyn.no_grad():
        assert loaded(x).tolist() == model(x).tolist()
    assert g.scale.tolist() == [1.5, 2.5], g.scale.tolist()
