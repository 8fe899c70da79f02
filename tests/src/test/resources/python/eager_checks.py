# Checks of the python-shim's eager tensors (every operation natively through io.jdyn.fn.Eager), each a
# function run by EagerTensorTest in one GraalPy context: each idiom against its definition on small arrays
# (computed here in plain Python), and autograd through each operation against central finite differences in
# float64. A check raises (AssertionError or the shim's own exception) when it fails.
import array
import math

import jdyn
from jdyn import NeuralODE, nn


# expect_raises comes from check_helpers.py, loaded first into the same context.


# ---------------------------------------------------------------------------------------- helpers
def flat(v):
    if isinstance(v, (list, tuple)):
        out = []
        for w in v:
            out.extend(flat(w))
        return out
    return [v]


def shape_of(v):
    s = []
    while isinstance(v, list):
        s.append(len(v))
        v = v[0]
    return tuple(s)


def close(got, want, tol=1e-12, what=""):
    """got (a tensor or nested lists) equals want (nested lists / a number) to tol, with the same shape."""
    if isinstance(got, jdyn.Tensor):
        got_shape = got.shape
        got = got.tolist()
        assert got_shape == shape_of(want), "%s: shape %s, expected %s" % (what, got_shape, shape_of(want))
    a, b = flat(got), flat(want)
    assert len(a) == len(b), "%s: %d values, expected %d" % (what, len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        assert abs(x - y) <= tol * max(1.0, abs(y)), "%s: element %d is %r, expected %r (%s vs %s)" % (what, i, x, y,
                                                                                                   got, want)


def nest(values, shape):
    if not shape:
        return values[0]
    if len(shape) == 1:
        return list(values)
    step = 1
    for d in shape[1:]:
        step *= d
    return [nest(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def elementwise(f, *vs):
    """f applied element by element to nested lists of one shape (numbers broadcast)."""
    if any(isinstance(v, list) for v in vs):
        n = max(len(v) for v in vs if isinstance(v, list))
        return [elementwise(f, *[v[i] if isinstance(v, list) else v for v in vs]) for i in range(n)]
    return f(*vs)


def t64(v, grad=False):
    return jdyn.tensor(v, dtype="float64", requires_grad=grad)


A = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.3]]          # [2, 3]
B = [[0.2, 0.4, -0.6], [-1.0, 0.9, 0.35]]           # [2, 3]
V3 = [0.3, -0.7, 1.1]                               # [3]
C = [[0.1], [-0.4]]                                  # [2, 1]
P = [[0.7, 1.3, 0.2], [2.1, 0.45, 1.05]]            # positive [2, 3]


def weights(shape):
    n = 1
    for d in shape:
        n *= d
    return nest([0.3 + 0.17 * i - 0.05 * i * i for i in range(n)], shape)


def grad_check(f, *values, h=1e-6, tol=1e-7, what=""):
    """The gradient of sum(f(*inputs) * w) (w fixed, shaped as the output) by backward() against central
    differences, for every element of every input (float64)."""
    xs = [t64(v, True) for v in values]
    out = f(*xs)
    w = t64(weights(out.shape))
    (out * w).sum().backward()
    wl = flat(weights(out.shape)) if out.shape else [weights(())]

    def value(vals):
        with jdyn.no_grad():
            o = f(*[t64(v) for v in vals])
        return sum(a * b for a, b in zip(flat(o.tolist()), wl))

    for k, v in enumerate(values):
        g = xs[k].grad
        assert g is not None, "%s: input %d got no gradient" % (what, k)
        assert g.shape == xs[k].shape, "%s: grad shape %s, input %s" % (what, g.shape, xs[k].shape)
        gl = flat(g.tolist())
        base = flat(v)
        shape = shape_of(v)
        for e in range(len(base)):
            plus, minus = list(base), list(base)
            plus[e] += h
            minus[e] -= h
            vp = list(values)
            vm = list(values)
            vp[k] = nest(plus, shape)
            vm[k] = nest(minus, shape)
            fd = (value(vp) - value(vm)) / (2 * h)
            assert abs(gl[e] - fd) <= tol * max(1.0, abs(fd)), "%s: d/d input %d [%d] is %r, finite differences %r" \
                % (what, k, e, gl[e], fd)


# ---------------------------------------------------------------------------------------- element-wise
def check_elementwise_and_broadcasting():
    a, b, v, c = t64(A), t64(B), t64(V3), t64(C)
    close(a + b, elementwise(lambda x, y: x + y, A, B), what="a + b")
    close(a - v, [[x - y for x, y in zip(r, V3)] for r in A], what="a - v (broadcast over rows)")
    close(c * v, [[ci[0] * y for y in V3] for ci in C], what="[2,1] * [3]")
    close(v / a, [[y / x for x, y in zip(r, V3)] for r in A], what="v / a")
    close(2.0 - a, elementwise(lambda x: 2.0 - x, A), what="2 - a")
    close(a * 3, elementwise(lambda x: 3 * x, A), what="a * 3")
    close(1.0 / t64(P), elementwise(lambda x: 1.0 / x, P), what="1 / p")
    close(t64(P) ** 1.5, elementwise(lambda x: x ** 1.5, P), what="p ** 1.5")
    close(a ** 2, elementwise(lambda x: x * x, A), what="a ** 2")
    close(2.0 ** a, elementwise(lambda x: 2.0 ** x, A), what="2 ** a")
    close(t64(P) ** b, elementwise(lambda x, y: x ** y, P, B), tol=1e-12, what="p ** b")
    close(-a, elementwise(lambda x: -x, A), what="-a")
    close(abs(a), elementwise(abs, A), what="abs(a)")
    close(jdyn.maximum(a, b), elementwise(max, A, B), what="maximum")
    close(jdyn.minimum(a, 0.0), elementwise(lambda x: min(x, 0.0), A), what="minimum with a number")
    close(a.clamp(-1.0, 1.0), elementwise(lambda x: min(max(x, -1.0), 1.0), A), what="clamp")
    close(a.clamp(min=0.0), elementwise(lambda x: max(x, 0.0), A), what="clamp(min)")
    close(a > b, elementwise(lambda x, y: 1.0 if x > y else 0.0, A, B), what="a > b")
    close(a <= 0.5, elementwise(lambda x: 1.0 if x <= 0.5 else 0.0, A), what="a <= 0.5")
    close(a == 2.0, elementwise(lambda x: 1.0 if x == 2.0 else 0.0, A), what="a == 2")
    close(jdyn.where(a > 0, a, b * 10), elementwise(lambda x, y: x if x > 0 else 10 * y, A, B), what="where")
    close(jdyn.where(a > 0, a, 0.0), elementwise(lambda x: x if x > 0 else 0.0, A), what="where with a number")
    for name, f in [("exp", math.exp), ("tanh", math.tanh), ("sin", math.sin), ("cos", math.cos),
                    ("sigmoid", lambda x: 1 / (1 + math.exp(-x))), ("relu", lambda x: max(x, 0.0)),
                    ("square", lambda x: x * x), ("sign", lambda x: (x > 0) - (x < 0)), ("expm1", math.expm1),
                    ("silu", lambda x: x / (1 + math.exp(-x))), ("sinh", math.sinh), ("cosh", math.cosh),
                    ("softplus", lambda x: math.log1p(math.exp(x))), ("elu", lambda x: x if x > 0 else math.expm1(x))]:
        close(getattr(a, name)(), elementwise(f, A), what=name)
        close(getattr(jdyn, name)(a), elementwise(f, A), what="jdyn." + name)
    for name, f in [("log", math.log), ("sqrt", math.sqrt), ("log1p", math.log1p), ("rsqrt", lambda x: x ** -0.5),
                    ("reciprocal", lambda x: 1 / x)]:
        close(getattr(t64(P), name)(), elementwise(f, P), what=name)
    close(nn.functional.leaky_relu(a, 0.1), elementwise(lambda x: x if x > 0 else 0.1 * x, A), what="leaky_relu")
    # the dtype: float32 unless asked; a float32 and a float64 operand give float64; numbers keep it
    x32 = jdyn.tensor(A)
    assert x32.dtype == "float32" and (x32 * 2.5).dtype == "float32" and (x32 + a).dtype == "float64"
    close(x32 + 1, elementwise(lambda x: x + 1, A), tol=1e-6, what="float32")
    # shapes that do not broadcast name both
    expect_raises(ValueError, lambda: a + t64([1.0, 2.0]), "(2, 3)", "(2,)")


def check_elementwise_gradients():
    grad_check(lambda x, y: x * y + x / (y * y + 1.0) - y, A, B, what="* / + -")
    grad_check(lambda x, y: x * y, A, V3, what="broadcast [2,3] * [3]")
    grad_check(lambda x, y: x - y, C, V3, what="broadcast [2,1] - [3]")
    grad_check(lambda x: 3.0 - 2.0 / (x * x + 1.0) + x ** 3 + 2.0 ** x, A, what="numbers with a tensor")
    grad_check(lambda x, y: x ** y, P, B, what="p ** b")
    grad_check(lambda x: x.tanh().exp().sin() + x.sigmoid() * x.cos() + x.softplus() + x.elu() + x.silu(), A,
               what="activations")
    grad_check(lambda x: x.log() + x.sqrt() + x.rsqrt() + x.log1p() + x.reciprocal(), P, what="log sqrt ...")
    grad_check(lambda x: x.abs() + x.relu() * 2 + x.clamp(-1.0, 1.0) + x.square(), A, what="abs relu clamp")
    grad_check(lambda x, y: jdyn.maximum(x, y) + jdyn.minimum(x, 0.1), A, B, what="maximum minimum")
    grad_check(lambda x, y: jdyn.where(x > 0, x * y, y.exp()), A, B, what="where")
    grad_check(lambda x: x * x + x, A, what="a tensor used twice")


# ---------------------------------------------------------------------------------------- indexing
def check_slicing():
    x = t64([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]])
    L = x.tolist()
    close(x[:, 0], [r[0] for r in L], what="x[:, 0]")
    close(x[1:3], L[1:3], what="x[1:3]")
    close(x[..., 1:], [r[1:] for r in L], what="x[..., 1:]")
    close(x[-1], L[-1], what="x[-1]")
    close(x[0, -2:], L[0][-2:], what="x[0, -2:]")
    close(x[:, 1:3][1], L[1][1:3], what="chained")
    close(x[:, None, 2], [[r[2]] for r in L], what="x[:, None, 2]")
    assert x[None].shape == (1, 3, 4) and x[:, None].shape == (3, 1, 4)
    s = x[1, 2]
    assert s.shape == () and s.item() == 7.0 and float(s) == 7.0
    close(x[:, 0] * 2 + x[:, 1], [2 * r[0] + r[1] for r in L], what="x[:, 0] * 2 + x[:, 1]")
    assert [r.tolist() for r in x] == L                      # iterating gives the rows
    expect_raises(IndexError, lambda: x[3], "out of range")
    expect_raises(IndexError, lambda: x[0, 0, 0], "too many indices")
    expect_raises(NotImplementedError, lambda: x[::2], "step")
    grad_check(lambda t: t[:, 0] * 2 + t[:, 1] * t[:, 2], A, what="x[:, 0] * 2 + x[:, 1] * x[:, 2]")
    grad_check(lambda t: t[1:, None, -2:].exp() + t[0, 1:], A, what="x[1:, None, -2:] + x[0, 1:]")
    grad_check(lambda t: t[1, 2] * t, A, what="a 0-d element times the tensor")


def check_cat_and_stack():
    a, b, v = t64(A), t64(B), t64(V3)
    close(jdyn.cat([a, b]), A + B, what="cat dim 0")
    close(jdyn.cat([a, b], dim=1), [r + s for r, s in zip(A, B)], what="cat dim 1")
    close(jdyn.cat([a, t64(C)], -1), [r + s for r, s in zip(A, C)], what="cat dim -1, other widths")
    close(jdyn.stack([a, b]), [A, B], what="stack dim 0")
    close(jdyn.stack([a, b], 1), [[r, s] for r, s in zip(A, B)], what="stack dim 1")
    close(jdyn.stack([v, v * 2], -1), [[y, 2 * y] for y in V3], what="stack dim -1")
    expect_raises(ValueError, lambda: jdyn.cat([a, v]), "cat")
    grad_check(lambda x, y: jdyn.cat([x, y * 2, x], 0), A, B, what="cat")
    grad_check(lambda x, y: jdyn.stack([x, y.tanh()], -1), A, B, what="stack")


# ---------------------------------------------------------------------------------------- products
def mm(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


def check_matmul():
    W = [[0.1, -0.2], [0.3, 0.5], [-0.7, 0.4]]         # [3, 2]
    a, w = t64(A), t64(W)
    close(a @ w, mm(A, W), what="[2,3] @ [3,2]")
    close(jdyn.matmul(a, w), mm(A, W), what="jdyn.matmul")
    close(t64(V3) @ w, mm([V3], W)[0], what="[3] @ [3,2]")
    close(a @ t64(V3), [r[0] for r in mm(A, [[y] for y in V3])], what="[2,3] @ [3]")
    close(t64(V3) @ t64(V3), sum(y * y for y in V3), what="[3] @ [3]")
    close(a @ a.T, mm(A, [list(c) for c in zip(*A)]), what="a @ a.T")
    x3 = t64([A, B])                                        # [2, 2, 3]
    close(x3 @ w, [mm(A, W), mm(B, W)], what="[2,2,3] @ [3,2]")
    y3 = t64([W, [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])      # [2, 3, 2]
    close(x3 @ y3, [mm(A, W), mm(B, [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])], what="batched [2,2,3] @ [2,3,2]")
    close(jdyn.bmm(x3, y3), (x3 @ y3).tolist(), what="bmm")
    close(a @ y3, [mm(A, W), mm(A, [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])], what="[2,3] @ [2,3,2] broadcast")
    close(nn.functional.linear(a, w.T, t64([0.5, -0.5])), [[v + b for v, b in zip(r, [0.5, -0.5])] for r in mm(A, W)],
          what="linear")
    expect_raises(ValueError, lambda: a @ a, "inner")
    grad_check(lambda x, y: x @ y, A, W, what="matmul")
    grad_check(lambda x, y: x @ y, V3, W, what="vector @ matrix")
    grad_check(lambda x, y: x @ y, A, V3, what="matrix @ vector")
    grad_check(lambda x, y: (x @ y.T).tanh(), A, B, what="x @ y.T")
    grad_check(lambda x, y: x @ y, [A, B], [W, W], what="batched matmul")
    grad_check(lambda x, y: x @ y, A, [W, W], what="broadcast batched matmul")
    grad_check(lambda x, w, b: nn.functional.linear(x, w, b), A, [[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6]], [0.5, -0.5],
               what="linear")


# ---------------------------------------------------------------------------------------- reductions
def check_reductions():
    a = t64(A)
    cols = [list(c) for c in zip(*A)]
    close(a.sum(), sum(flat(A)), what="sum()")
    assert a.sum().shape == () and a.mean().shape == ()
    close(a.sum(0), [sum(c) for c in cols], what="sum(0)")
    close(a.sum(-1), [sum(r) for r in A], what="sum(-1)")
    close(a.sum(1, keepdim=True), [[sum(r)] for r in A], what="sum(1, keepdim)")
    close(a.sum((0, 1)), sum(flat(A)), what="sum((0, 1))")
    close(a.mean(), sum(flat(A)) / 6, what="mean()")
    close(a.mean(0), [sum(c) / 2 for c in cols], what="mean(0)")
    close(a.mean(-1, keepdim=True), [[sum(r) / 3] for r in A], what="mean(-1, keepdim)")
    close(a.max(), max(flat(A)), what="max()")
    close(a.amax(1), [max(r) for r in A], what="amax(1)")
    close(a.amin(0), [min(c) for c in cols], what="amin(0)")
    values, indices = a.max(dim=1)
    close(values, [max(r) for r in A], what="max(1).values")
    assert indices.tolist() == [r.index(max(r)) for r in A] and indices.dtype == "int64", indices.tolist()
    m = a.min(0, keepdim=True)
    close(m.values, [[min(c) for c in cols]], what="min(0, keepdim).values")
    assert m.indices.tolist() == [[c.index(min(c)) for c in cols]]
    assert a.argmax().item() == flat(A).index(max(flat(A)))
    assert a.argmax(dim=-1).tolist() == [r.index(max(r)) for r in A]
    assert a.argmin(0).tolist() == [c.index(min(c)) for c in cols]
    close(jdyn.sum(a, 0), [sum(c) for c in cols], what="jdyn.sum(a, 0)")
    close(a.norm(), math.sqrt(sum(v * v for v in flat(A))), what="norm()")
    close(a.var(1), [sum((v - sum(r) / 3) ** 2 for v in r) / 2 for r in A], what="var(1)")
    expect_raises(IndexError, lambda: a.sum(2), "out of range")
    grad_check(lambda x: x.sum() * x.mean(0).sum() + x.sum(-1, keepdim=True) * x, A, what="sum mean")
    grad_check(lambda x: x.amax(1) + x.amin(0).sum() + x.max(), A, what="amax amin max")
    grad_check(lambda x: x.max(dim=0).values * 2, A, what="max(dim).values")
    grad_check(lambda x: x.norm(dim=1) + x.std(), A, what="norm std")


def softmax_rows(rows):
    out = []
    for r in rows:
        m = max(r)
        e = [math.exp(v - m) for v in r]
        s = sum(e)
        out.append([v / s for v in e])
    return out


def check_softmax():
    a = t64(A)
    close(a.softmax(-1), softmax_rows(A), what="softmax(-1)")
    close(jdyn.softmax(a, dim=1), softmax_rows(A), what="jdyn.softmax")
    cols = [list(c) for c in zip(*A)]
    close(a.softmax(0), [list(r) for r in zip(*softmax_rows(cols))], what="softmax(0)")
    close(a.log_softmax(1), elementwise(math.log, softmax_rows(A)), what="log_softmax(1)")
    close(nn.functional.log_softmax(a, dim=0), [list(r) for r in zip(*elementwise(math.log, softmax_rows(cols)))],
          what="log_softmax(0)")
    close(a.logsumexp(1), [math.log(sum(math.exp(v) for v in r)) for r in A], what="logsumexp(1)")
    grad_check(lambda x: x.softmax(-1), A, what="softmax")
    grad_check(lambda x: x.log_softmax(0) * 2, A, what="log_softmax")
    grad_check(lambda x: x.logsumexp(-1), A, what="logsumexp")


# ---------------------------------------------------------------------------------------- shapes
def check_shapes():
    x = t64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    close(x.reshape(3, 2), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], what="reshape")
    close(x.view(-1), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], what="view(-1)")
    close(x.reshape((1, -1)), [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], what="reshape((1, -1))")
    close(x.T, [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]], what="T")
    close(x.t(), x.T.tolist(), what="t()")
    close(x.transpose(0, 1), x.T.tolist(), what="transpose(0, 1)")
    assert x.unsqueeze(0).shape == (1, 2, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.unsqueeze(1).squeeze().shape == (2, 3) and x[None].squeeze(0).shape == (2, 3)
    assert x.flatten().shape == (6,) and t64([[[1.0], [2.0]]]).flatten(1).shape == (1, 2)
    close(t64([[1.0], [2.0]]).expand(2, 3), [[1.0] * 3, [2.0] * 3], what="expand")
    close(t64(V3).expand(2, -1), [V3, V3], what="expand(2, -1)")
    expect_raises(ValueError, lambda: x.reshape(4, 2), "reshape")
    grad_check(lambda t: t.reshape(3, 2) * t64([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), A, what="reshape")
    grad_check(lambda t: t.T @ t, A, what="T")
    grad_check(lambda t: t.view(-1).unsqueeze(0).exp().flatten(), A, what="view unsqueeze flatten")
    grad_check(lambda t: t.expand(2, 3) * t64(A), [[0.5], [-1.0]], what="expand")


# ---------------------------------------------------------------------------------------- creation
def check_creation_and_random():
    close(jdyn.zeros(2, 3), [[0.0] * 3] * 2, what="zeros")
    close(jdyn.ones((2,)), [1.0, 1.0], what="ones")
    close(jdyn.full((2, 2), 3.5), [[3.5, 3.5]] * 2, what="full")
    close(jdyn.linspace(0, 1, 5), [0.0, 0.25, 0.5, 0.75, 1.0], what="linspace")
    close(jdyn.linspace(-1, 1, 4, dtype="float64"), [-1.0, -1.0 / 3, 1.0 / 3, 1.0], what="linspace float64")
    close(jdyn.arange(5), [0.0, 1.0, 2.0, 3.0, 4.0], what="arange(5)")
    close(jdyn.arange(1, 2, 0.25, dtype=jdyn.float64), [1.0, 1.25, 1.5, 1.75], what="arange(1, 2, 0.25)")
    assert jdyn.zeros(2, dtype="float64").dtype == "float64" and jdyn.ones(1).dtype == "float32"
    assert jdyn.zeros_like(t64(A)).shape == (2, 3) and jdyn.ones_like(t64(A)).dtype == "float64"
    jdyn.manual_seed(7)
    r1, n1 = jdyn.rand(3, 4), jdyn.randn(2, 5, dtype="float64")
    jdyn.manual_seed(7)
    r2, n2 = jdyn.rand(3, 4), jdyn.randn(2, 5, dtype="float64")
    assert r1.tolist() == r2.tolist() and n1.tolist() == n2.tolist(), "the same seed gives the same draws"
    assert jdyn.rand(3, 4).tolist() != r1.tolist(), "later draws differ"
    assert r1.shape == (3, 4) and r1.dtype == "float32" and n1.dtype == "float64"
    u = flat(jdyn.rand(20000, dtype="float64").tolist())
    assert min(u) >= 0.0 and max(u) < 1.0
    assert abs(sum(u) / len(u) - 0.5) < 0.02, sum(u) / len(u)
    g = flat(jdyn.randn(20000, dtype="float64").tolist())
    mean = sum(g) / len(g)
    std = math.sqrt(sum((v - mean) ** 2 for v in g) / len(g))
    assert abs(mean) < 0.03 and abs(std - 1.0) < 0.03, (mean, std)
    assert jdyn.rand_like(t64(A)).shape == (2, 3)


# ---------------------------------------------------------------------------------------- export
def check_export_to_lists_and_buffers():
    x = jdyn.tensor(A)
    y = t64(A)
    assert y.tolist() == A and y[0, 1].tolist() == -1.25 and y.sum().item() == sum(flat(A))
    m = y.numpy()
    assert m.shape == (2, 3) and m.format == "d" and m[1, 2] == -0.3 and m.tolist() == A
    m32 = x.numpy()
    assert m32.format == "f" and m32.shape == (2, 3)
    close(m32.tolist(), A, tol=1e-6, what="float32 buffer")
    assert jdyn.tensor(m, dtype="float64").tolist() == A                   # a buffer of any shape back in
    assert jdyn.tensor(y.numpy().obj, dtype="float64").tolist() == flat(A)  # the flat array.array
    assert jdyn.tensor(array.array("d", [1.0, 2.0])).tolist() == [1.0, 2.0]
    assert jdyn.tensor([jdyn.tensor(1.0), jdyn.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert t64(V3).numpy().tolist() == V3
    assert bytes(t64([1.5]).numpy()) == array.array("d", [1.5]).tobytes()


# ---------------------------------------------------------------------------------------- autograd mechanics
def check_autograd_mechanics():
    x = t64(A, True)
    assert x.requires_grad and x.is_leaf and x.grad is None
    y = (x * 2).sum()
    assert y.requires_grad and not y.is_leaf
    y.backward()
    close(x.grad, elementwise(lambda v: 2.0, A), what="d sum(2x)")
    (x * x).sum().backward()                                   # .grad accumulates
    close(x.grad, elementwise(lambda v: 2.0 + 2 * v, A), what="accumulated")
    x.grad = None
    with jdyn.no_grad():
        z = x * 3
    assert not z.requires_grad
    d = x.detach()
    assert not d.requires_grad and d.tolist() == A
    c = t64(A)                                                 # no gradient asked: nothing recorded
    assert not (c * 2).requires_grad
    expect_raises(RuntimeError, lambda: (c * 2).sum().backward(), "no tape")
    expect_raises(RuntimeError, lambda: (x * 2).backward(), "scalar")
    (x * 2).backward(jdyn.ones_like(x))                        # a non-scalar with its cotangent
    close(x.grad, elementwise(lambda v: 2.0, A), what="backward(gradient)")
    w = t64([1.0, 2.0, 3.0], True)
    loss = (x * w).tanh().sum()
    loss.backward(retain_graph=True)
    g1 = w.grad.tolist()
    loss.backward()
    close(w.grad, [2 * v for v in g1], what="retain_graph")
    # float32 leaves get float32 gradients
    p = jdyn.tensor(V3, requires_grad=True)
    (p * t64(V3)).sum().backward()
    assert p.grad.dtype == "float32"
    close(p.grad, V3, tol=1e-6, what="float32 leaf in a float64 product")
    # nn.Parameter outside a trace is a leaf too
    q = nn.Parameter(t64(V3))
    (q * q).sum().backward()
    close(q.grad, [2 * v for v in V3], what="Parameter.grad")


# ---------------------------------------------------------------------------------------- models
def check_torch_idioms_with_model_calls():
    # losses written with eager operations around a NeuralODE call, gradients against finite differences in
    # the model's parameters (the tape's backward pass, seeded by the eager operations' native VJPs)
    f = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 2))
    model = NeuralODE(f, solver="dopri5", sensitivity="adjoint", atol=1e-10, rtol=1e-10, atol_adjoint=1e-10,
                      rtol_adjoint=1e-10, dtype="float64", seed=5)
    x = t64([[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]])
    y = t64([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    labels = jdyn.tensor([0, 1, 1], dtype="int64")

    def losses(m):
        out = m(x)
        a = ((out - y) ** 2).mean()
        b = (out[:, 0] * 2 + out[:, 1]).square().sum()
        c = -(out.log_softmax(-1) * t64([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])).sum(1).mean()
        d = (jdyn.cat([out, out @ t64([[0.5], [-0.5]])], 1).tanh() * jdyn.linspace(0, 1, 3, dtype="float64")).sum()
        e = nn.CrossEntropyLoss()(out * 2.0, labels) + out.softmax(1)[:, 1].mean()
        return a + 0.1 * b + c + d + e

    model.zero_grad()
    losses(model).backward()
    grad = list(model.java.grad())
    jm = model.java
    for i in (0, 3, 9, len(grad) - 1):
        p0, h, vals = jm.param(i), 1e-5, []
        for sign in (1, -1):
            jm.setParam(i, p0 + sign * h)
            with jdyn.no_grad():
                vals.append(losses(model).item())
        jm.setParam(i, p0)
        fd = (vals[0] - vals[1]) / (2 * h)
        assert abs(grad[i] - fd) <= 1e-5 * max(1.0, abs(fd)), (i, grad[i], fd)
    # the gradient reaches an input that requires one, through the model call (its tape gives dL/dx)
    x0 = t64([[0.5, -1.0], [1.5, 0.25]], True)
    scale = t64([2.0, 0.5], True)
    ((model(x0 * scale) - y[:2]) ** 2).mean().backward()
    gx = x0.grad.tolist()
    base = x0.detach().tolist()
    for r in range(2):
        for c in range(2):
            vals = []
            for sign in (1, -1):
                b2 = [list(row) for row in base]
                b2[r][c] += sign * 1e-6
                with jdyn.no_grad():
                    vals.append(((model(t64(b2) * t64([2.0, 0.5])) - y[:2]) ** 2).mean().item())
            fd = (vals[0] - vals[1]) / 2e-6
            assert abs(gx[r][c] - fd) <= 1e-5 * max(1.0, abs(fd)), (r, c, gx[r][c], fd)
    assert scale.grad is not None and scale.grad.shape == (2,)
    # accuracy the torch way
    with jdyn.no_grad():
        acc = (model(x).argmax(dim=-1) == labels).float().mean().item()
    assert 0.0 <= acc <= 1.0


def check_state_dict_round_trip():
    # a NeuralODE, a model Sequential (layers, an Augmenter, a NeuralODE) and a user Module holding both
    f = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    m1 = NeuralODE(f, dtype="float64", seed=1)
    m2 = NeuralODE(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)), dtype="float64", seed=2)
    sd = m1.state_dict()
    assert list(sd) == ["vf.0.weight", "vf.0.bias", "vf.2.weight", "vf.2.bias"], list(sd)
    assert sd["vf.0.weight"].shape == (4, 2) and sd["vf.2.bias"].shape == (2,)
    assert [n for n, _ in f.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = t64([[0.3, -0.2], [1.0, 0.5]])
    with jdyn.no_grad():
        assert m1(x).tolist() != m2(x).tolist()
        m2.load_state_dict(sd)
        assert m1(x).tolist() == m2(x).tolist()
    expect_raises(KeyError, lambda: m2.load_state_dict({"vf.0.weight": sd["vf.0.weight"]}), "vf.0.bias")
    expect_raises(ValueError, lambda: m2.load_state_dict({**sd, "vf.0.bias": [1.0]}), "vf.0.bias")

    def model(seed):
        ode = NeuralODE(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)), dtype="float64", seed=seed)
        return nn.Sequential(nn.Linear(2, 2), nn.Augmenter(1, 1), ode, nn.Linear(3, 1), seed=seed)
    a, b = model(3), model(4)
    sa = a.state_dict()
    assert list(sa) == ["0.weight", "0.bias", "2.vf.0.weight", "2.vf.0.bias", "2.vf.2.weight", "2.vf.2.bias",
                        "3.weight", "3.bias"], list(sa)
    with jdyn.no_grad():
        assert a(x).tolist() != b(x).tolist()
        b.load_state_dict(sa)
        assert a(x).tolist() == b(x).tolist()

    class Holder(nn.Module):
        def __init__(self, seed):
            super().__init__()
            self.body = model(seed)
            self.gain = nn.Parameter(t64([1.5]))

        def forward(self, x):
            return self.body(x) * self.gain

    h1, h2 = Holder(5), Holder(6)
    s1 = h1.state_dict()
    assert "body.2.vf.0.weight" in s1 and "gain" in s1 and "body.0.weight" in s1, list(s1)
    h2.load_state_dict(s1)
    with jdyn.no_grad():
        assert h1(x).tolist() == h2(x).tolist()


def check_errors_name_the_problem():
    a = t64(A)
    expect_raises(ValueError, lambda: a @ t64(V3[:2]), "matmul")
    expect_raises(ValueError, lambda: jdyn.stack([a, t64(V3)]), "stack")
    expect_raises(RuntimeError, lambda: bool(a), "ambiguous")
    expect_raises(NotImplementedError, lambda: a.__setitem__(0, 1.0), "immutable")
    expect_raises(ValueError, lambda: a.item(), "one element")
    expect_raises(TypeError, lambda: a + jdyn.tensor([1, 2, 3], dtype="int64"), "int64")
    # a non-finite result is reported with the operation that made it (jdyn's programs check their outputs;
    # torch would return -inf)
    expect_raises(ArithmeticError, lambda: t64([0.0]).log(), "LOG", "infinity")
