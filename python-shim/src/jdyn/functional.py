"""jdyn.nn.functional (torch.nn.functional's names) and the tensor functions of jdyn (jdyn.tanh(x),
jdyn.cat, jdyn.where, ...). Each works on a traced tensor inside a vector field being traced (see
jdyn._trace); on a concrete jdyn.Tensor where the eager tensor has the operation (exp, log, tanh, sqrt, abs,
sum, mean); on a Python number where math has it."""
import builtins
import math

from . import _trace
from ._trace import TracingError  # noqa: F401  (re-exported)
from ._tensor import Tensor


def _traced(*xs):
    return _trace.involves_sym(*xs)


def _unary(name, number_fn=None, eager=False):
    def fn(x, *args, **kwargs):
        if _traced(x):
            return getattr(_trace.as_sym(x, name), name)(*args, **kwargs)
        if isinstance(x, Tensor):
            if eager and not args and not kwargs:
                return getattr(x, name)()
            raise NotImplementedError("jdyn.%s of a concrete tensor is not implemented: it is one of the operations of "
                                      "a traced vector field (NeuralODE(f), jdyn.trace(f))" % name)
        if number_fn is not None and isinstance(x, (int, float)):
            return number_fn(x, *args, **kwargs)
        raise TypeError("jdyn.%s takes a tensor, got %r" % (name, x))
    fn.__name__ = name
    fn.__doc__ = "torch.%s, element-wise" % name
    return fn


def _sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def _softplus(v, beta=1.0, threshold=20.0):
    return v if beta * v > threshold else math.log1p(math.exp(beta * v)) / beta


exp = _unary("exp", math.exp, True)
log = _unary("log", math.log, True)
sqrt = _unary("sqrt", math.sqrt, True)
abs = _unary("abs", builtins.abs, True)
tanh = _unary("tanh", math.tanh, True)
sin = _unary("sin", math.sin)
cos = _unary("cos", math.cos)
tan = _unary("tan", math.tan)
sinh = _unary("sinh", math.sinh)
cosh = _unary("cosh", math.cosh)
square = _unary("square", lambda v: v * v)
sigmoid = _unary("sigmoid", _sigmoid)
relu = _unary("relu", lambda v: v if v > 0 else 0.0)
silu = _unary("silu", lambda v: v * _sigmoid(v))
sign = _unary("sign", lambda v: (v > 0) - (v < 0))
softplus = _unary("softplus", _softplus)
elu = _unary("elu", lambda v, alpha=1.0: v if v > 0 else alpha * math.expm1(v))
leaky_relu = _unary("leaky_relu", lambda v, negative_slope=0.01: v if v > 0 else negative_slope * v)
log1p = _unary("log1p", math.log1p)
expm1 = _unary("expm1", math.expm1)
reciprocal = _unary("reciprocal", lambda v: 1.0 / v)
rsqrt = _unary("rsqrt", lambda v: 1.0 / math.sqrt(v))
neg = _unary("neg", lambda v: -v)
softmax = _unary("softmax")
log_softmax = _unary("log_softmax")
clamp = _unary("clamp", lambda v, min=None, max=None: v if (min is None or v >= min) and (max is None or v <= max)
               else (min if min is not None and v < min else max))
clip = clamp
t = _unary("t")


def _reduction(name):
    def fn(x, *args, **kwargs):
        if _traced(x):
            return getattr(_trace.as_sym(x, name), name)(*args, **kwargs)
        if isinstance(x, Tensor):
            if not args and not kwargs and name in ("sum", "mean"):
                return getattr(x, name)()
            raise NotImplementedError("jdyn.%s(dim=...) of a concrete tensor is not implemented: it is an operation "
                                      "of a traced vector field" % name)
        if name == "mean":
            raise TypeError("jdyn.mean takes a tensor, got %r" % (x,))
        return getattr(builtins, name)(x, *args, **kwargs)   # sum([1, 2]), max(a, b): Python's own
    fn.__name__ = name
    fn.__doc__ = "torch.%s(x, dim=None, keepdim=False); Python's %s for anything else" % (name, name)
    return fn


sum = _reduction("sum")
mean = _reduction("mean")
max = _reduction("max")
min = _reduction("min")


def amax(x, dim, keepdim=False):
    return _trace.as_sym(x, "amax").amax(dim, keepdim)


def amin(x, dim, keepdim=False):
    return _trace.as_sym(x, "amin").amin(dim, keepdim)


def _traced_only(name):
    def wrap(f):
        def fn(*args, **kwargs):
            if _trace.current() is None:
                raise NotImplementedError("jdyn.%s is an operation of a traced vector field (NeuralODE(f), "
                                          "jdyn.trace(f))" % name)
            return f(*args, **kwargs)
        fn.__name__ = name
        fn.__doc__ = f.__doc__
        return fn
    return wrap


@_traced_only("cat")
def cat(tensors, dim=0):
    """torch.cat: joins tensors along dim (the other dimensions must agree)."""
    return _trace.cat(tensors, dim)


concat = cat
concatenate = cat


@_traced_only("stack")
def stack(tensors, dim=0):
    """torch.stack: tensors of one shape along a new dimension dim (the batch stays first)."""
    return _trace.stack(tensors, dim)


@_traced_only("where")
def where(condition, input, other):
    """torch.where: input where condition is non-zero, else other (what `if` on a tensor must become)."""
    return _trace.where(condition, input, other)


@_traced_only("maximum")
def maximum(input, other):
    return _trace.maximum(input, other)


@_traced_only("minimum")
def minimum(input, other):
    return _trace.minimum(input, other)


@_traced_only("matmul")
def matmul(input, other):
    return _trace.matmul(input, other)


mm = matmul


@_traced_only("bmm")
def bmm(input, other):
    return _trace.matmul(input, other)


@_traced_only("zeros_like")
def zeros_like(input):
    return _trace.full_like(input, 0.0)


@_traced_only("ones_like")
def ones_like(input):
    return _trace.full_like(input, 1.0)


@_traced_only("full_like")
def full_like(input, fill_value):
    return _trace.full_like(input, fill_value)


@_traced_only("linear")
def linear(input, weight, bias=None):
    """torch.nn.functional.linear: input W^T + b."""
    x, w = _trace.as_sym(input, "linear"), _trace.as_sym(weight, "linear")
    b = None if bias is None else _trace.as_sym(bias, "linear")._s
    return _trace.SymTensor(_trace._jop("linear of shapes %s and %s" % (x.shape, w.shape), x._s.linear, w._s, b))


@_traced_only("reshape")
def reshape(input, shape):
    return _trace.as_sym(input, "reshape").reshape(*shape)


@_traced_only("transpose")
def transpose(input, dim0, dim1):
    return _trace.as_sym(input, "transpose").transpose(dim0, dim1)


def pow(input, exponent, *mod):
    """torch.pow inside a traced field; Python's pow for numbers."""
    if _traced(input, exponent):
        return _trace.as_sym(input, "pow") ** exponent
    return builtins.pow(input, exponent, *mod)


@_traced_only("flatten")
def flatten(input, start_dim=0, end_dim=-1):
    return _trace.as_sym(input, "flatten").flatten(start_dim, end_dim)


@_traced_only("unsqueeze")
def unsqueeze(input, dim):
    return _trace.as_sym(input, "unsqueeze").unsqueeze(dim)


@_traced_only("squeeze")
def squeeze(input, dim=None):
    return _trace.as_sym(input, "squeeze").squeeze(dim)


@_traced_only("norm")
def norm(input, p=2, dim=None, keepdim=False):
    return _trace.as_sym(input, "norm").norm(p, dim, keepdim)


def mse_loss(input, target, reduction="mean"):
    d = (input - target).square()
    return d.mean() if reduction == "mean" else d.sum() if reduction == "sum" else d
