"""jdyn.nn.functional (torch.nn.functional's names) and the tensor functions of jdyn (jdyn.tanh(x),
jdyn.cat, jdyn.where, ...). Each works on a traced tensor inside a vector field being traced (see
jdyn._trace), on a concrete jdyn.Tensor (eagerly, natively, with autograd: see jdyn._tensor), and on a
Python number where math has it."""
import builtins
import math

from . import _trace
from ._trace import TracingError  # noqa: F401  (re-exported)
from . import _tensor
from ._tensor import Tensor


def _traced(*xs):
    return _trace.involves_sym(*xs)


def _unary(name, number_fn=None):
    def fn(x, *args, **kwargs):
        if _traced(x):
            return getattr(_trace.as_sym(x, name), name)(*args, **kwargs)
        if isinstance(x, Tensor):
            return getattr(x, name)(*args, **kwargs)
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


exp = _unary("exp", math.exp)
log = _unary("log", math.log)
sqrt = _unary("sqrt", math.sqrt)
abs = _unary("abs", builtins.abs)
tanh = _unary("tanh", math.tanh)
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
            return getattr(x, name)(*args, **kwargs)
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


def _either(name, traced, eager, *operands):
    """A function of tensors: the tracer's when an operand is traced, else the eager tensor's."""
    def fn(*args, **kwargs):
        flat = []
        for a in args:
            if isinstance(a, (list, tuple)):
                flat.extend(a)
            else:
                flat.append(a)
        if _traced(*flat):
            return traced(*args, **kwargs)
        return eager(*args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = (eager.__doc__ or traced.__doc__ or "torch.%s" % name)
    return fn


def _sym(name, method):
    return lambda x, *a, **k: getattr(_trace.as_sym(x, name), method)(*a, **k)


def _ten(method):
    return lambda x, *a, **k: getattr(x if isinstance(x, Tensor) else _tensor.tensor(x), method)(*a, **k)


amax = _either("amax", _sym("amax", "amax"), _ten("amax"))
amin = _either("amin", _sym("amin", "amin"), _ten("amin"))
cat = _either("cat", _trace.cat, _tensor.cat)
concat = cat
concatenate = cat
stack = _either("stack", _trace.stack, _tensor.stack)
where = _either("where", _trace.where, _tensor.where)
maximum = _either("maximum", _trace.maximum, _tensor.maximum)
minimum = _either("minimum", _trace.minimum, _tensor.minimum)
matmul = _either("matmul", _trace.matmul, _tensor.matmul)
mm = matmul
bmm = _either("bmm", _trace.matmul, _tensor.bmm)
zeros_like = _either("zeros_like", lambda x, **k: _trace.full_like(x, 0.0), _tensor.zeros_like)
ones_like = _either("ones_like", lambda x, **k: _trace.full_like(x, 1.0), _tensor.ones_like)
full_like = _either("full_like", lambda x, v, **k: _trace.full_like(x, v), _tensor.full_like)
reshape = _either("reshape", lambda x, shape: _trace.as_sym(x, "reshape").reshape(*shape),
                  lambda x, shape: x.reshape(*shape))
transpose = _either("transpose", _sym("transpose", "transpose"), _ten("transpose"))
flatten = _either("flatten", _sym("flatten", "flatten"), _ten("flatten"))
unsqueeze = _either("unsqueeze", _sym("unsqueeze", "unsqueeze"), _ten("unsqueeze"))
squeeze = _either("squeeze", _sym("squeeze", "squeeze"), _ten("squeeze"))
norm = _either("norm", _sym("norm", "norm"), _ten("norm"))
logsumexp = _either("logsumexp", _sym("logsumexp", "logsumexp"), _ten("logsumexp"))


def _traced_linear(input, weight, bias=None):
    x, w = _trace.as_sym(input, "linear"), _trace.as_sym(weight, "linear")
    b = None if bias is None else _trace.as_sym(bias, "linear")._s
    return _trace.SymTensor(_trace._jop("linear of shapes %s and %s" % (x.shape, w.shape), x._s.linear, w._s, b))


linear = _either("linear", _traced_linear, _tensor.linear)
linear.__doc__ = "torch.nn.functional.linear: input W^T + b."


def pow(input, exponent, *mod):
    """torch.pow on tensors (traced or eager); Python's pow for numbers."""
    if _traced(input, exponent):
        return _trace.as_sym(input, "pow") ** exponent
    if isinstance(input, Tensor):
        return input ** exponent
    if isinstance(exponent, Tensor):
        return input ** exponent
    return builtins.pow(input, exponent, *mod)


def cross_entropy(input, target, reduction="mean"):
    """torch.nn.functional.cross_entropy of logits [batch, classes] and integer labels."""
    from .nn import CrossEntropyLoss
    return CrossEntropyLoss(reduction=reduction)(input, target)


def mse_loss(input, target, reduction="mean"):
    d = (input - target).square()
    return d.mean() if reduction == "mean" else d.sum() if reduction == "sum" else d
