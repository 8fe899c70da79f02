"""jdyn.Tensor: an eager tensor in native memory (a Java io.jdyn.Tensor) with PyTorch's operations and autograd.

Every operation runs natively through io.jdyn.fn.Eager: one cached one-operation program of jdyn's graph
executor per (operation, attributes, dtype, shapes), the same native operations a traced vector field runs.
Its backward is the program of the native reverse mode (Graph.vjp) on the same one-operation graph, so no
value and no derivative rule is computed element by element in Java or Python.

Autograd is PyTorch's: a result remembers how it was made when an input requires a gradient (a leaf made
with requires_grad=True / requires_grad_(), an nn.Parameter, or a model call's output, whose tape leads into
the model's parameters); ``loss.backward()`` walks that graph once in reverse topological order, adding the
cotangents of a tensor used twice, runs each model's backward pass once (dL/dtheta accumulates into the
model's gradient) and accumulates leaf gradients into ``.grad``. The graph is freed as it is walked
(retain_graph=False) unless backward(retain_graph=True).

A 0-d tensor (a loss, x.sum(), x[0] of a vector) is held as a one-element native tensor with shape ().
int64 tensors (labels, argmax results) are held as Python ints: ==, indexing, tolist(), float().
"""
import array
import math
import weakref

from ._java import jcall, jtype

_JTensor = "io.jdyn.Tensor"
_Values = "io.jdyn.polyglot.Values"

_grad_enabled = [True]

# dtype names (jdyn.float32, ...; torch's spellings are accepted too: "torch.float64", "double", "long")
float32 = "float32"
float64 = "float64"
int64 = "int64"

_DTYPE_NAMES = {
    "float32": "float32", "float": "float32", "f4": "float32", "single": "float32", "torch.float32": "float32",
    "float64": "float64", "double": "float64", "f8": "float64", "torch.float64": "float64",
    "int64": "int64", "long": "int64", "int": "int64", "int32": "int64", "torch.int64": "int64",
    "torch.long": "int64",
}


def _dtype_name(dtype, default="float32"):
    if dtype is None:
        return default
    n = _DTYPE_NAMES.get(str(dtype))
    if n is None:
        raise ValueError("unknown dtype '%s': use float32, float64 (or int64 for labels)" % (dtype,))
    return n


_JDT = {}


def _jdtype(name):
    d = _JDT.get(name)
    if d is None:
        d = _JDT[name] = getattr(jtype("io.jdyn.DType"), "FLOAT32" if name == "float32" else "FLOAT64")
    return d


_E = [None]


def _eager():
    e = _E[0]
    if e is None:
        e = _E[0] = jtype("io.jdyn.fn.Eager")
    return e


class no_grad:
    """Context manager (and decorator) under which operations and model calls record nothing, as
    torch.no_grad()."""

    def __enter__(self):
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = False
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self._prev
        return False

    def __call__(self, fn):
        def wrapped(*a, **k):
            with no_grad():
                return fn(*a, **k)
        return wrapped


def is_grad_enabled():
    return _grad_enabled[0]


class set_grad_enabled(no_grad):
    """torch.set_grad_enabled(mode): as no_grad when mode is False; a no-op inside a traced field (a traced
    program is always differentiable)."""

    def __init__(self, mode=True):
        self._mode = bool(mode)
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = self._mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self._prev
        return False


class enable_grad(no_grad):
    """torch.enable_grad()."""

    def __enter__(self):
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = True
        return self


def _num(v):
    """A Python number (bools count as 0 and 1, as in torch)."""
    return isinstance(v, (int, float))


def _broadcast(a, b, op="combine"):
    """numpy's broadcast of two shapes (ValueError naming both when they do not fit)."""
    if a == b:
        return a
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError("cannot %s tensors of shapes %s and %s: the shapes do not broadcast (each dimension, "
                             "aligned from the right, must be equal or 1)" % (op, tuple(a), tuple(b)))
    return tuple(out)


def _prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _dims_arg(shape):
    """A shape given as f(2, 3) or f((2, 3)) or f([2, 3])."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(d) for d in shape)


def _jshape(shape):
    """The Java shape of a Python shape (a 0-d tensor is one element, [1])."""
    return list(shape) if shape else [1]


class Tensor:
    """An n-dimensional float32/float64 array in native memory (a Java io.jdyn.Tensor, rank <= 4), or an int64
    tensor held as Python ints. Its memory is freed (or, for a result of an operation, given back to Eager's
    pool of buffers) when the collector finds it unreachable, or at once by close()."""

    __slots__ = ("_j", "_ints", "_grad_fn", "_owned", "_keep", "_shape", "_req", "_grad", "_dt", "__weakref__")

    def __init__(self, j=None, grad_fn=None, owned=True, keep=None, ints=None, value=None, shape=None, dtype=None):
        self._grad_fn = grad_fn
        self._owned = owned
        self._keep = keep
        self._req = False
        self._grad = None
        self._dt = None
        self._ints = None
        if value is not None:                       # a 0-d tensor of a Python number
            dt = _dtype_name(dtype, "float64")
            j = jtype(_Values).scalarTensor(float(value), dt)
            shape, self._dt = (), dt
        elif j is not None and isinstance(j, (list, tuple, range, int, float, bytes, bytearray, memoryview)):
            # torch.Tensor(data) builds from data; this class wraps a Java tensor
            raise TypeError("jdyn.Tensor(data) got a %s: build a tensor from Python data with jdyn.tensor(data) "
                            "(torch.tensor's spelling)" % type(j).__name__)
        elif ints is not None:
            # a Python list of ints, or a Java int[] kept as it is (labels from Java: no copy per call)
            self._ints = ints if isinstance(ints, list) or not isinstance(ints, (tuple, range)) else list(ints)
            if shape is None:
                shape = (len(self._ints),)
        self._j = j
        self._shape = None if shape is None else tuple(shape)

    # ------------------------------------------------------------------ facts
    @property
    @jcall
    def shape(self):
        s = self._shape
        if s is None:
            s = self._shape = tuple(int(v) for v in self._j.shape())
        return s

    def size(self, dim=None):
        s = self.shape
        return s if dim is None else s[dim]

    def dim(self):
        return len(self.shape)

    ndim = property(dim)

    def numel(self):
        return _prod(self.shape)

    nelement = numel

    @property
    @jcall
    def dtype(self):
        d = self._dt
        if d is None:
            if self._j is None and self._ints is None:
                raise _closed()
            if self._ints is not None:
                d = "int64"
            else:
                d = "float32" if str(self._j.dtype().name()) == "FLOAT32" else "float64"
            self._dt = d
        return d

    device = "cpu"
    is_cuda = False

    @property
    def requires_grad(self):
        return self._req or self._grad_fn is not None

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Makes this tensor a leaf that accumulates its gradient in .grad (torch's requires_grad_)."""
        if self._grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a tensor computed from others: use detach()")
        if self._ints is not None and requires_grad:
            raise RuntimeError("only float tensors can require gradients (this one is int64)")
        self._req = bool(requires_grad) and self._grad_fn is None
        return self

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def grad(self):
        """The gradient accumulated by backward() into this leaf (None before)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    def __len__(self):
        s = self.shape
        if not s:
            raise TypeError("len() of a 0-d tensor")
        return s[0]

    def __iter__(self):
        s = self.shape
        if not s:
            raise TypeError("iteration over a 0-d tensor")
        return iter([self[i] for i in range(s[0])])

    # ------------------------------------------------------------------ data out
    @jcall
    def tolist(self):
        """The values as (nested) Python lists of floats (ints for int64 tensors); a number for a 0-d tensor."""
        shape = self.shape
        flat = list(self._ints) if self._ints is not None else list(self._j.toDoubleArray())
        if not shape:
            return flat[0]
        return _nest(flat, shape)

    @jcall
    def numpy(self):
        """The values exported to a buffer: a memoryview of this tensor's shape over a new array.array ('f' for
        float32, 'd' for float64, 'q' for int64), a copy (torch.Tensor.numpy() shares memory; this does not).
        Index it as m[i, j], read m.shape, m.format, m.tolist(), bytes(m); the array.array is m.obj; numpy's
        np.asarray(m) takes it as it is where numpy is installed."""
        shape = self.shape
        if self._ints is not None:
            a = array.array("q", self._ints)
        elif self.dtype == "float32":
            a = array.array("f", self._j.toFloatArray())
        else:
            a = array.array("d", self._j.toDoubleArray())
        m = memoryview(a)
        return m if len(shape) == 1 else m.cast("B").cast(m.format, list(shape))

    def item(self):
        if self.numel() != 1:
            raise ValueError("item() needs a tensor of one element, this one has shape %s" % (self.shape,))
        if self._ints is not None:
            return self._ints[0]
        return _item(self._j)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._ints is None or self.numel() != 1:
            raise TypeError("only a one-element int64 tensor can be used as an index")
        return self._ints[0]

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("the truth value of a tensor of %d elements is ambiguous: use .any() / .all() or "
                               "reduce it" % self.numel())
        return self.item() != 0

    # ------------------------------------------------------------------ conversions
    @jcall
    def to(self, *args, **kwargs):
        """x.to(dtype) (float32, float64); a device ('cpu') or other arguments are ignored."""
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, str) and a in _DTYPE_NAMES:
                dtype = a
        return self if dtype is None else self.type(dtype)

    @jcall
    def type(self, dtype=None):
        if dtype is None:
            return "jdyn." + self.dtype
        want = _dtype_name(dtype)
        if want == "int64":
            return self.long()
        if self._ints is not None:
            return tensor(_nest(self._ints, self.shape) if self.shape else self._ints[0], want)
        if want == self.dtype:
            return self
        out = Tensor(_eager().cast(self._j, _jdtype(want)), shape=self.shape)
        if self.requires_grad and _grad_enabled[0]:
            out._grad_fn = CastFn(self)
        return out

    def float(self):
        return self.type("float32")

    def double(self):
        return self.type("float64")

    def long(self):
        if self._ints is not None:
            return self
        return Tensor(ints=[int(v) for v in self._j.toDoubleArray()], shape=self.shape)

    int = long

    def bool(self):
        return self.ne(0.0) if self._ints is None else self

    def type_as(self, other):
        return self.type(other.dtype)

    def cpu(self):
        return self

    def contiguous(self):
        return self

    # ------------------------------------------------------------------ making results
    def _result(self, j, op, ia, fa, s, inputs, shape=None):
        """A new tensor from Eager's output j, recording op for autograd when an input needs a gradient."""
        out = Tensor(j, shape=shape)
        if _grad_enabled[0]:
            mask = 0
            for i, t in enumerate(inputs):
                if t._req or t._grad_fn is not None:
                    mask |= 1 << i
            if mask:
                out._grad_fn = EagerFn(op, ia, fa, s, inputs, mask)
        return out

    def _floats(self, what):
        if self._ints is not None:
            raise TypeError("%s of an int64 tensor: convert it first (.float() or .double())" % what)
        if self._j is None:
            raise _closed()

    def _op1(self, op, ia=None, fa=None, shape=None):
        """A one-input operation with attributes."""
        self._floats(op)
        j = _eager().apply(op, ia, fa, 0.0, self._j)
        return self._result(j, op, ia, fa, 0.0, (self,), shape)

    def _unary(self, op):
        self._floats(op)
        j = _eager().unary(op, self._j)
        out = Tensor(j, shape=self._shape)
        if _grad_enabled[0] and (self._req or self._grad_fn is not None):
            out._grad_fn = EagerFn(op, None, None, 0.0, (self,), 1)
        return out

    def _scalar(self, op, s, shape=None):
        self._floats(op)
        j = _eager().scalar(op, self._j, s)
        out = Tensor(j, shape=self._shape)
        if _grad_enabled[0] and (self._req or self._grad_fn is not None):
            out._grad_fn = EagerFn(op, None, None, s, (self,), 1)
        return out

    def _binary(self, other, op, sop, reverse=False):
        if isinstance(other, Tensor):
            pass
        elif _num(other):
            if sop is None:
                other = _like(self, other)
            else:
                return self._scalar(sop, float(other))
        elif isinstance(other, (list, tuple)):
            other = tensor(other, self.dtype)
        else:
            return NotImplemented
        a, b = (other, self) if reverse else (self, other)
        if a._ints is not None or b._ints is not None:
            raise TypeError("%s of %s and %s tensors: convert the int64 tensor first (.float())"
                            % (op, a.dtype, b.dtype))
        if a._j is None or b._j is None:
            raise _closed()
        shape = _broadcast(a.shape, b.shape, op)
        j = _eager().binary(op, a._j, b._j)
        out = Tensor(j, shape=shape)
        if _grad_enabled[0]:
            mask = (1 if a._req or a._grad_fn is not None else 0) | (2 if b._req or b._grad_fn is not None else 0)
            if mask:
                out._grad_fn = EagerFn(op, None, None, 0.0, (a, b), mask)
        return out

    # ------------------------------------------------------------------ arithmetic
    @jcall
    def __add__(self, other):
        return self._binary(other, "add", "add_s")

    @jcall
    def __radd__(self, other):
        return self._binary(other, "add", "add_s", True)

    @jcall
    def __sub__(self, other):
        return self._binary(other, "sub", "sub_s")

    @jcall
    def __rsub__(self, other):
        if _num(other):
            return self._scalar("rsub_s", float(other))
        return self._binary(other, "sub", None, True)

    @jcall
    def __mul__(self, other):
        return self._binary(other, "mul", "mul_s")

    @jcall
    def __rmul__(self, other):
        return self._binary(other, "mul", "mul_s", True)

    @jcall
    def __truediv__(self, other):
        return self._binary(other, "div", "div_s")

    @jcall
    def __rtruediv__(self, other):
        if _num(other):
            return self._scalar("rdiv_s", float(other))
        return self._binary(other, "div", None, True)

    @jcall
    def __pow__(self, exponent):
        if _num(exponent):
            e = float(exponent)
            if e == 1.0:
                return self._unary("copy")
            if e == 2.0:
                return self._unary("square")
            if e == 0.5:
                return self._unary("sqrt")
            if e == -1.0:
                return self._unary("reciprocal")
            return self._op1("pow_f", None, [e], self._shape)
        return self._binary(exponent, "pow", None)

    @jcall
    def __rpow__(self, base):
        if _num(base):
            if base <= 0:
                raise ValueError("%r ** x: the base must be > 0 (computed as exp(x log base))" % (base,))
            return self._scalar("rpow_s", float(base))
        return self._binary(base, "pow", None, True)

    @jcall
    def __matmul__(self, other):
        return matmul(self, other)

    @jcall
    def __rmatmul__(self, other):
        return matmul(as_tensor(other, self.dtype), self)

    @jcall
    def __neg__(self):
        return self._unary("neg")

    def __pos__(self):
        return self

    @jcall
    def __abs__(self):
        return self._unary("abs")

    add = __add__
    sub = __sub__
    subtract = __sub__
    mul = __mul__
    multiply = __mul__
    div = __truediv__
    divide = __truediv__
    true_divide = __truediv__
    pow = __pow__
    matmul = __matmul__
    neg = __neg__
    negative = __neg__
    abs = __abs__
    absolute = __abs__

    def rsub(self, other):
        return self.__rsub__(other)

    # comparisons: 1.0 where true, else 0.0, in the tensor's dtype (no derivative); int64 tensors compare in
    # Python (labels == predictions)
    def _cmp(self, other, op):
        if self._ints is not None:
            return _int_compare(self, other, op)
        r = self._binary(other, op, op + "_s")
        if r is NotImplemented:
            return r
        r._grad_fn = None
        return r

    @jcall
    def __gt__(self, o):
        return self._cmp(o, "gt")

    @jcall
    def __lt__(self, o):
        return self._cmp(o, "lt")

    @jcall
    def __ge__(self, o):
        return self._cmp(o, "ge")

    @jcall
    def __le__(self, o):
        return self._cmp(o, "le")

    @jcall
    def __eq__(self, o):
        if self._ints is None and not isinstance(o, (Tensor, int, float, list, tuple)):
            return NotImplemented
        return self._cmp(o, "eq")

    @jcall
    def __ne__(self, o):
        if self._ints is None and not isinstance(o, (Tensor, int, float, list, tuple)):
            return NotImplemented
        return self._cmp(o, "ne")

    __hash__ = object.__hash__

    gt = __gt__
    lt = __lt__
    ge = __ge__
    le = __le__
    eq = __eq__
    ne = __ne__
    greater = __gt__
    less = __lt__

    def __and__(self, o):
        return self * o

    __rand__ = __and__

    def __or__(self, o):
        return maximum(self, o)

    __ror__ = __or__

    def __invert__(self):
        return 1.0 - self

    def logical_not(self):
        return 1.0 - self

    def equal(self, other):
        """Whether both have one shape and equal values (a Python bool)."""
        return self.shape == other.shape and bool(self.eq(other).amin().item() != 0) if self.numel() else True

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        other = as_tensor(other, self.dtype)
        return bool(((self - other).abs() - (other.abs() * rtol + atol)).amax().item() <= 0)

    def any(self):
        return self.ne(0.0).amax().item() != 0

    def all(self):
        return self.ne(0.0).amin().item() != 0

    # ------------------------------------------------------------------ element-wise functions
    @jcall
    def exp(self):
        return self._unary("exp")

    @jcall
    def log(self):
        return self._unary("log")

    @jcall
    def sqrt(self):
        return self._unary("sqrt")

    @jcall
    def square(self):
        return self._unary("square")

    @jcall
    def sin(self):
        return self._unary("sin")

    @jcall
    def cos(self):
        return self._unary("cos")

    @jcall
    def tan(self):
        return self._unary("tan")

    @jcall
    def tanh(self):
        return self._unary("tanh")

    @jcall
    def sinh(self):
        return self._unary("sinh")

    @jcall
    def cosh(self):
        return self._unary("cosh")

    @jcall
    def sigmoid(self):
        return self._unary("sigmoid")

    @jcall
    def relu(self):
        return self._unary("relu")

    @jcall
    def silu(self):
        return self._unary("silu")

    @jcall
    def sign(self):
        return self._unary("sign")

    @jcall
    def log1p(self):
        return self._unary("log1p")

    @jcall
    def expm1(self):
        return self._unary("expm1")

    @jcall
    def reciprocal(self):
        return self._unary("reciprocal")

    @jcall
    def rsqrt(self):
        return self._unary("rsqrt")

    @jcall
    def softplus(self, beta=1.0, threshold=20.0):
        return self._op1("softplus", None, [float(beta), float(threshold)], self._shape)

    @jcall
    def elu(self, alpha=1.0):
        return self._op1("elu", None, [float(alpha)], self._shape)

    @jcall
    def leaky_relu(self, negative_slope=0.01):
        return self._op1("leaky_relu", None, [float(negative_slope)], self._shape)

    @jcall
    def clamp(self, min=None, max=None):
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = maximum(out, min)
            if max is not None:
                out = minimum(out, max)
            return out
        lo = float("nan") if min is None else float(min)
        hi = float("nan") if max is None else float(max)
        return self._op1("clamp", None, [lo, hi], self._shape)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    # ------------------------------------------------------------------ reductions
    def _reduce_args(self, dim, keepdim, what):
        shape = self.shape
        r = len(shape)
        keep = 1 if keepdim else 0
        if dim is None or r == 0:
            if r == 0 and dim not in (None, 0, -1, (), []):
                raise IndexError("%s: dim %r is out of range for a 0-d tensor" % (what, dim))
            return [keep], ((1,) * r if keepdim else ())
        dims = list(dim) if isinstance(dim, (tuple, list)) else [dim]
        ds = []
        for d in dims:
            d = int(d)
            if not -r <= d < r:
                raise IndexError("%s: dim %d is out of range for a tensor of shape %s (expected [%d, %d])"
                                 % (what, d, shape, -r, r - 1))
            ds.append(d % r)
        if keepdim:
            out = tuple(1 if i in ds else s for i, s in enumerate(shape))
        else:
            out = tuple(s for i, s in enumerate(shape) if i not in ds)
        return [keep] + ds, out

    @jcall
    def sum(self, dim=None, keepdim=False, dtype=None):
        """The sum over dim (an int or a tuple of ints; None: every element, a 0-d tensor)."""
        if self._ints is not None:
            if dim is not None:
                raise NotImplementedError("sum(dim) of an int64 tensor: convert it first (.float())")
            return Tensor(value=builtin_sum(self._ints), dtype="float64")
        ia, shape = self._reduce_args(dim, keepdim, "sum")
        out = self._op1("sum", ia, None, shape)
        return out if dtype is None else out.type(dtype)

    @jcall
    def mean(self, dim=None, keepdim=False, dtype=None):
        if self._ints is not None:
            if dim is not None:
                raise NotImplementedError("mean(dim) of an int64 tensor: convert it first (.float())")
            return Tensor(value=builtin_sum(self._ints) / len(self._ints), dtype="float64")
        ia, shape = self._reduce_args(dim, keepdim, "mean")
        out = self._op1("mean", ia, None, shape)
        return out if dtype is None else out.type(dtype)

    @jcall
    def amax(self, dim=None, keepdim=False):
        ia, shape = self._reduce_args(dim, keepdim, "amax")
        return self._op1("amax", ia, None, shape)

    @jcall
    def amin(self, dim=None, keepdim=False):
        ia, shape = self._reduce_args(dim, keepdim, "amin")
        return self._op1("amin", ia, None, shape)

    @jcall
    def max(self, dim=None, keepdim=False):
        """torch.max: the largest element (dim None, a 0-d tensor), (values, indices) along dim, or the
        element-wise maximum with another tensor."""
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        if dim is None:
            return self.amax()
        return MaxResult(self.amax(dim, keepdim), self.argmax(dim, keepdim))

    @jcall
    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return minimum(self, dim)
        if dim is None:
            return self.amin()
        return MaxResult(self.amin(dim, keepdim), self.argmin(dim, keepdim))

    def _arg(self, op, dim, keepdim):
        self._floats(op)
        if dim is None:
            ia, shape = [-99, 0], ()
        else:
            r = len(self.shape)
            _, shape = self._reduce_args(dim, keepdim, op)
            ia = [int(dim) % r if r else 0, 1 if keepdim else 0]
        j = _eager().apply(op, ia, None, 0.0, self._j)
        return Tensor(ints=[int(v) for v in j.toDoubleArray()], shape=shape)

    @jcall
    def argmax(self, dim=None, keepdim=False):
        """The index of the (first) largest element along dim (of the flattened tensor when dim is None), as an
        int64 tensor."""
        return self._arg("argmax", dim, keepdim)

    @jcall
    def argmin(self, dim=None, keepdim=False):
        return self._arg("argmin", dim, keepdim)

    def _dim1(self, dim, what):
        r = len(self.shape)
        if dim is None:
            dim = -1
        d = int(dim)
        if not -r <= d < max(r, 1):
            raise IndexError("%s: dim %d is out of range for a tensor of shape %s" % (what, d, self.shape))
        return d % r if r else 0

    @jcall
    def softmax(self, dim=None):
        return self._op1("softmax", [self._dim1(dim, "softmax")], None, self._shape)

    @jcall
    def log_softmax(self, dim=None):
        return self._op1("log_softmax", [self._dim1(dim, "log_softmax")], None, self._shape)

    @jcall
    def logsumexp(self, dim, keepdim=False):
        d = self._dim1(dim, "logsumexp")
        _, shape = self._reduce_args(d, keepdim, "logsumexp")
        return self._op1("logsumexp", [1 if keepdim else 0, d], None, shape)

    def norm(self, p=2, dim=None, keepdim=False):
        if p in (2, 2.0, "fro"):
            return self.square().sum(dim, keepdim).sqrt()
        if p in (1, 1.0):
            return self.abs().sum(dim, keepdim)
        if p in (float("inf"), "inf"):
            return self.abs().amax(dim, keepdim)
        return (self.abs() ** float(p)).sum(dim, keepdim) ** (1.0 / float(p))

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        c = (1 if unbiased else 0) if correction is None else correction
        n = self.numel() if dim is None else _prod(
            self.shape[d] for d in (dim if isinstance(dim, (tuple, list)) else [dim]))
        if n - c <= 0:
            raise ValueError("var of %d values with correction %d: no degrees of freedom" % (n, c))
        d = self - self.mean(dim, keepdim=True)
        return d.square().sum(dim, keepdim) / float(n - c)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return self.var(dim, unbiased, keepdim, correction).sqrt()

    # ------------------------------------------------------------------ shapes
    def _resolve(self, shape):
        shape = list(_dims_arg(shape))
        n = self.numel()
        free = [i for i, d in enumerate(shape) if d == -1]
        if len(free) > 1:
            raise ValueError("reshape to %s: at most one dimension may be -1" % (tuple(shape),))
        known = _prod(d for d in shape if d != -1)
        if free:
            if known == 0 or n % known:
                raise ValueError("cannot reshape a tensor of shape %s (%d elements) to %s"
                                 % (self.shape, n, tuple(shape)))
            shape[free[0]] = n // known
        elif known != n:
            raise ValueError("cannot reshape a tensor of shape %s (%d elements) to %s" % (self.shape, n, tuple(shape)))
        if any(d < 1 for d in shape):
            raise ValueError("reshape to %s: every dimension must be >= 1 (empty tensors are not supported)"
                             % (tuple(shape),))
        if len(shape) > 4:
            raise ValueError("reshape to %s: jdyn tensors have at most 4 dimensions" % (tuple(shape),))
        return tuple(shape)

    def _view(self, shape):
        """The same values in another shape: no copy (a view of the same native buffer)."""
        if self._ints is not None:
            return Tensor(ints=self._ints, shape=shape)
        if self._j is None:
            raise _closed()
        if _jshape(shape) == _jshape(self.shape):
            j = self._j
        else:
            j = _eager().view(self._j, _jshape(shape))
        out = Tensor(j, owned=False, keep=self, shape=shape)
        if _grad_enabled[0] and (self._req or self._grad_fn is not None):
            out._grad_fn = EagerFn("reshape", list(shape), None, 0.0, (self,), 1)
        return out

    @jcall
    def reshape(self, *shape):
        new = self._resolve(shape)
        return self if new == self.shape else self._view(new)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    @jcall
    def flatten(self, start_dim=0, end_dim=-1):
        shape = self.shape
        r = len(shape)
        if r == 0:
            return self.reshape(1)
        s, e = start_dim % r, end_dim % r
        return self.reshape(shape[:s] + (_prod(shape[s:e + 1]),) + shape[e + 1:])

    def ravel(self):
        return self.flatten()

    @jcall
    def unsqueeze(self, dim):
        shape = self.shape
        r = len(shape) + 1
        if not -r <= dim < r:
            raise IndexError("unsqueeze: dim %d is out of range for a result of rank %d" % (dim, r))
        d = dim % r
        return self.reshape(shape[:d] + (1,) + shape[d:])

    @jcall
    def squeeze(self, dim=None):
        shape = self.shape
        if dim is None:
            new = tuple(d for d in shape if d != 1)
        else:
            dims = [d % len(shape) for d in (dim if isinstance(dim, (tuple, list)) else [dim])] if shape else []
            new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
        return self.reshape(new)

    @jcall
    def expand(self, *shape):
        shape = _dims_arg(shape)
        cur = self.shape
        if len(shape) < len(cur):
            raise ValueError("expand of %s to %s: the new shape needs at least as many dimensions" % (cur, shape))
        pad = (1,) * (len(shape) - len(cur)) + cur
        new = tuple(p if s == -1 else s for s, p in zip(shape, pad))
        _broadcast(new, cur, "expand")
        if _broadcast(new, cur) != new:
            raise ValueError("cannot expand a tensor of shape %s to %s" % (cur, new))
        if new == cur:
            return self
        return self._op1("expand", list(new), None, new)

    broadcast_to = expand

    def expand_as(self, other):
        return self.expand(other.shape)

    @jcall
    def transpose(self, dim0=-2, dim1=-1):
        r = len(self.shape)
        if r < 2:
            return self
        a, b = sorted((dim0 % r, dim1 % r))
        if a == b:
            return self
        if (a, b) != (r - 2, r - 1):
            raise NotImplementedError("transpose(%s, %s) of shape %s: jdyn swaps the last two dimensions only"
                                      % (dim0, dim1, self.shape))
        shape = self.shape[:-2] + (self.shape[-1], self.shape[-2])
        return self._op1("transpose", None, None, shape)

    swapaxes = transpose
    swapdims = transpose

    def t(self):
        if self.dim() > 2:
            raise ValueError("t() expects a tensor of at most 2 dimensions, this one has shape %s" % (self.shape,))
        return self.transpose()

    @property
    def T(self):
        """The transpose (of a tensor of rank <= 2)."""
        return self.t()

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def permute(self, *dims):
        dims = _dims_arg(dims)
        r = len(self.shape)
        dims = tuple(d % r for d in dims)
        if dims == tuple(range(r)):
            return self
        if dims == tuple(range(r - 2)) + (r - 1, r - 2):
            return self.transpose()
        raise NotImplementedError("permute%s of shape %s: jdyn swaps the last two dimensions only" % (dims, self.shape))

    def repeat(self, *sizes):
        sizes = _dims_arg(sizes)
        out = self.reshape((1,) * (len(sizes) - self.dim()) + self.shape) if len(sizes) > self.dim() else self
        for d, k in enumerate(sizes):
            if k != 1:
                out = cat([out] * k, d)
        return out

    # ------------------------------------------------------------------ indexing
    @jcall
    def __getitem__(self, index):
        if self._ints is not None:
            return _int_index(self, index)
        from ._trace import index_plan
        slices, out = index_plan(index, self.shape, _eager_fail)
        out = tuple(out)
        if not slices:
            return self if out == self.shape else self._view(out)
        if self._j is None:
            raise _closed()
        ia = [len(slices)]
        for d, a, b in slices:
            ia.extend((d, a, b))
        ia.append(len(out))
        ia.extend(out)
        return self._op1("index", ia, None, out)

    def __setitem__(self, index, value):
        raise NotImplementedError("assignment into a tensor (x[...] = v) is not supported: jdyn tensors are "
                                  "immutable; build the result with jdyn.cat / jdyn.stack / jdyn.where")

    def select(self, dim, index):
        idx = [slice(None)] * (dim % self.dim()) + [index]
        return self[tuple(idx)]

    def narrow(self, dim, start, length):
        idx = [slice(None)] * (dim % self.dim()) + [slice(start, start + length)]
        return self[tuple(idx)]

    def split(self, split_size, dim=0):
        n = self.shape[dim]
        sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else []) \
            if isinstance(split_size, int) else list(split_size)
        out, at = [], 0
        for s in sizes:
            out.append(self.narrow(dim, at, s))
            at += s
        return tuple(out)

    def chunk(self, chunks, dim=0):
        n = self.shape[dim]
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim=0):
        return tuple(self.select(dim, i) for i in range(self.shape[dim]))

    # ------------------------------------------------------------------ making tensors like this one
    def new_full(self, size, fill_value, dtype=None):
        return full(_dims_arg((size,)) if isinstance(size, (tuple, list)) else (int(size),), fill_value,
                    dtype=dtype or self.dtype)

    def new_zeros(self, *size, dtype=None):
        return zeros(*size, dtype=dtype or self.dtype)

    def new_ones(self, *size, dtype=None):
        return ones(*size, dtype=dtype or self.dtype)

    def new_tensor(self, data, dtype=None):
        return tensor(data, dtype or self.dtype)

    def clone(self):
        self._floats("clone")
        return self._unary("copy")

    def copy_(self, src):
        raise NotImplementedError("in-place copy_: jdyn tensors are immutable")

    # ------------------------------------------------------------------ autograd
    @jcall
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Backpropagates from this tensor (a scalar loss, or any tensor given its cotangent) into the leaves'
        .grad and the parameter gradients of every model call it depends on; frees the graph unless
        retain_graph."""
        if create_graph:
            raise NotImplementedError("backward(create_graph=True): eager higher derivatives are not supported; "
                                      "write the quantity in a traced field (jdyn.autograd.grad)")
        if not self.requires_grad:
            raise RuntimeError("this tensor has no tape to go back through: it does not require a gradient (no "
                               "input required one: requires_grad_(), nn.Parameter, or a model call with gradients "
                               "on: model.train(), outside jdyn.no_grad()), or backward already ran through it")
        if gradient is not None:
            g = as_tensor(gradient, self.dtype)
            if g.shape != self.shape and g.numel() != self.numel():
                raise ValueError("backward: the gradient has shape %s but the tensor %s" % (g.shape, self.shape))
            seed = g._j if g.dtype == self.dtype else g.type(self.dtype)._j
        elif self.numel() == 1:
            seed = _eager().full(self._j.dtype(), 1.0, _jshape(self.shape))
        else:
            raise RuntimeError("backward() without a gradient needs a scalar (one element); this tensor has "
                               "shape %s: give backward(gradient) or reduce it first (.sum(), .mean(), a loss)"
                               % (self.shape,))
        order = _topological(self)
        grads = {id(self): seed}
        keep = bool(retain_graph)
        for t in order:
            g = grads.pop(id(t), None)
            fn = t._grad_fn
            if not keep:
                t._grad_fn = None
            if g is None:
                continue
            if fn is None:
                if t._req:
                    t._grad = Tensor(g, shape=t._shape) if t._grad is None else \
                        Tensor(_accumulate(t._grad._j, g), shape=t._shape)
                continue
            for inp, gi in zip(fn.inputs, fn.vjp(g)):
                if gi is None or not isinstance(inp, Tensor) or not (inp._req or inp._grad_fn is not None):
                    continue
                k = id(inp)
                grads[k] = gi if k not in grads else _accumulate(grads[k], gi)

    def retain_grad(self):
        raise NotImplementedError("retain_grad: only leaves (requires_grad_()) keep .grad in jdyn")

    def detach(self):
        """The same values with no tape (shares memory with this tensor)."""
        if self._ints is not None:
            return Tensor(ints=self._ints, shape=self._shape)
        return Tensor(self._j, owned=False, keep=self, shape=self._shape)

    def detach_(self):
        self._grad_fn = None
        self._req = False
        return self

    def zero_(self):
        raise NotImplementedError("in-place zero_: jdyn tensors are immutable (set x.grad = None instead)")

    # ------------------------------------------------------------------ lifetime
    def close(self):
        """Frees the native memory now (Python's collector would do it later)."""
        if self._owned and self._j is not None:
            self._j.close()
        self._j = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def java(self):
        """The underlying io.jdyn.Tensor (for calling jdyn's Java API directly; a 0-d tensor is shape [1])."""
        return self._j

    @property
    def data(self):
        return self.detach()

    def __repr__(self):
        if self._j is None and self._ints is None:
            return "tensor(<closed>)"
        body = repr(self.tolist())
        if len(body) > 400:
            body = body[:400] + " ..."
        extra = "" if self.dtype == "float32" else ", dtype=%s" % self.dtype
        if self._grad_fn is not None:
            extra += ", grad_fn=<%s>" % type(self._grad_fn).__name__
        elif self._req:
            extra += ", requires_grad=True"
        return "tensor(%s%s)" % (body, extra)

    __str__ = __repr__


builtin_sum = sum
builtin_max = max


def _item(j):
    return float(j.toDoubleArray()[0])


def _closed():
    from ._java import TensorClosedError
    return TensorClosedError("the tensor is closed: close() (or its with block) freed its memory; use it before "
                             "closing it, or keep a copy (x.clone())")


def _eager_fail(message, kind="refuse"):
    if kind in ("range", "index", "empty"):
        return IndexError(message)
    if kind == "type":
        return TypeError(message)
    return NotImplementedError(message)


def _like(t, v):
    """A 0-d tensor of the number v in t's dtype."""
    return Tensor(value=float(v), dtype=t.dtype)


class MaxResult(tuple):
    """torch.max(x, dim)'s (values, indices)."""

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


class EagerFn:
    """How a tensor was computed by one Eager operation: its inputs and the mask of those needing a cotangent;
    vjp(g) runs the operation's cached native VJP program."""
    __slots__ = ("op", "ia", "fa", "s", "inputs", "mask")

    def __init__(self, op, ia, fa, s, inputs, mask):
        self.op, self.ia, self.fa, self.s, self.inputs, self.mask = op, ia, fa, s, inputs, mask

    def vjp(self, g):
        js = [t._j for t in self.inputs]
        return list(_eager().vjp(self.op, self.ia, self.fa, self.s, js, g, self.mask))


class CastFn:
    """A dtype conversion: the cotangent converted back."""
    __slots__ = ("inputs",)

    def __init__(self, source):
        self.inputs = (source,)

    def vjp(self, g):
        return [_eager().cast(g, self.inputs[0]._j.dtype())]


class Fn:
    """How a tensor was computed outside Eager (a loss): its inputs and the map from its cotangent (a Java
    tensor) to theirs (one per input, None where an input needs none)."""
    __slots__ = ("inputs", "vjp")

    def __init__(self, inputs, vjp):
        self.inputs = inputs
        self.vjp = vjp


class TapeFn:
    """A model call's output: its cotangent goes into the model's backward pass (once), which gives the
    cotangent of the model's input when that input requires a gradient (inputs holds it then)."""
    __slots__ = ("tape", "inputs")

    def __init__(self, tape, inputs=()):
        self.tape = tape
        self.inputs = inputs

    def vjp(self, g):
        return self.tape.backward(g)


def _topological(root):
    """Tensors of root's graph, root first, every tensor before its inputs."""
    seen, post = set(), []
    stack = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            post.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        fn = t._grad_fn
        if fn is not None:
            for inp in fn.inputs:
                if isinstance(inp, Tensor) and (inp._grad_fn is not None or inp._req) and id(inp) not in seen:
                    stack.append((inp, False))
    post.reverse()
    return post


def _accumulate(a, b):
    return _eager().binary("add", a, b)


def _int_compare(a, other, op):
    """Comparisons of an int64 tensor: == and != give _Matches (element-wise, counted in Java)."""
    V = jtype(_Values)
    if isinstance(other, Tensor):
        b = other._ints if other._ints is not None else [int(v) for v in other._j.toDoubleArray()]
    elif _num(other):
        b = [int(other)] * len(a._ints)
    else:
        b = list(V.labels(list(other)))
    if len(b) != len(a._ints):
        raise ValueError("cannot compare %d labels with %d" % (len(a._ints), len(b)))
    if op == "eq":
        return _Matches(a._ints, b, int(V.countEqual(a._ints, b)), a.shape)
    if op == "ne":
        m = _Matches(a._ints, b, int(V.countEqual(a._ints, b)), a.shape)
        return _Matches(a._ints, b, len(a._ints) - m._equal, a.shape, negate=True)
    fn = {"gt": lambda x, y: x > y, "lt": lambda x, y: x < y, "ge": lambda x, y: x >= y,
          "le": lambda x, y: x <= y}[op]
    return tensor(_nest([1.0 if fn(x, y) else 0.0 for x, y in zip(a._ints, b)], a.shape) if a.shape else
                  (1.0 if fn(a._ints[0], b[0]) else 0.0))


def _int_index(t, index):
    shape = t.shape
    if len(shape) != 1:
        if isinstance(index, int):
            n = _prod(shape[1:])
            k = index + shape[0] if index < 0 else index
            return Tensor(ints=t._ints[k * n:(k + 1) * n], shape=shape[1:])
        raise NotImplementedError("indexing an int64 tensor of rank %d: only x[i] is supported" % len(shape))
    if isinstance(index, int):
        return t._ints[index]
    if isinstance(index, slice):
        return Tensor(ints=[t._ints[i] for i in range(len(t._ints))[index]])
    raise TypeError("int64 tensors index by an int or a slice, got %r" % (index,))


class _Matches:
    """The result of comparing int64 (label) tensors: .float().mean() and .sum() as in PyTorch, tolist() for
    the element-wise booleans."""

    def __init__(self, a, b, equal, shape=None, negate=False):
        self._a, self._b, self._equal, self._negate = a, b, equal, negate
        self.shape = shape if shape is not None else (len(a),)

    def float(self):
        return self

    double = float

    def sum(self):
        return _Scalar(float(self._equal))

    def mean(self):
        n = len(self._a)
        return _Scalar(self._equal / n) if n else _Scalar(float("nan"))

    def item(self):
        if len(self._a) != 1:
            raise ValueError("item() needs one element")
        return self._equal == 1

    def __bool__(self):
        return bool(self.item())

    def tolist(self):
        return [(x != y) if self._negate else (x == y) for x, y in zip(self._a, self._b)]

    def all(self):
        return self._equal == len(self._a)

    def any(self):
        return self._equal > 0

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return iter(self.tolist())

    def __repr__(self):
        return "tensor(%r, dtype=bool)" % (self.tolist(),)


class _Scalar(float):
    def item(self):
        return float(self)


def _nest(flat, shape):
    if len(shape) <= 1:
        return list(flat)
    step = _prod(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


# ---------------------------------------------------------------------------------------- making tensors
@jcall
def tensor(data, dtype=None, requires_grad=False, device=None):
    """A tensor from a number, nested lists/tuples of numbers (or 0-d tensors), an array.array, a memoryview
    or bytes-like buffer (read in one bulk copy, with its own format and shape), or another Tensor (copied).
    dtype: float32 (default), float64, or int64 for labels (ints)."""
    from . import _trace
    if isinstance(data, _trace.SymTensor):
        raise _trace.refuse("jdyn.tensor(x) of a traced tensor: x has no values while the field is traced; use it "
                            "directly")
    if isinstance(data, Tensor):
        if data._ints is not None and (dtype is None or _dtype_name(dtype) == "int64"):
            return Tensor(ints=list(data._ints), shape=data.shape)
        dt = _dtype_name(dtype, data.dtype if data._ints is None else "float32")
        if data._ints is not None:
            return tensor(data.tolist(), dt, requires_grad)
        out = Tensor(_eager().cast(data._j, _jdtype(dt)), shape=data.shape)
        return out.requires_grad_() if requires_grad else out
    dt = _dtype_name(dtype)
    if dt == "int64":
        return _int_tensor(data)
    if isinstance(data, (array.array, memoryview, bytes, bytearray)):
        mv = memoryview(data)
        shape = tuple(mv.shape)
        out = Tensor(jtype(_Values).fromBuffer(data, mv.format, _jshape(shape), dt), shape=shape)
    elif _num(data):
        out = Tensor(value=float(data), dtype=dt)
    else:
        data = _plain(data)
        out = Tensor(jtype(_Values).tensor(data, dt))
    return out.requires_grad_() if requires_grad else out


def _plain(data):
    """Nested lists with 0-d tensors replaced by their numbers (torch.tensor([t0, t1]) works)."""
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (Tensor, list, tuple)):
        return [_plain(v) for v in data]
    return data


def _int_tensor(data):
    if isinstance(data, (list, tuple)):
        shape = []
        d = data
        while isinstance(d, (list, tuple)):
            shape.append(len(d))
            d = d[0] if d else None
        flat = []

        def walk(v):
            if isinstance(v, (list, tuple)):
                for w in v:
                    walk(w)
            else:
                flat.append(int(v))
        walk(data)
        return Tensor(ints=flat, shape=tuple(shape))
    if isinstance(data, (array.array, memoryview)):
        return Tensor(ints=[int(v) for v in data])
    return Tensor(ints=[int(data)], shape=())


def as_tensor(data, dtype=None):
    """data if it already is a Tensor (converted to dtype when one is given), else tensor(data, dtype)."""
    if isinstance(data, Tensor):
        if data._j is None and data._ints is None:
            raise _closed()
        if dtype is not None and data._ints is None and _dtype_name(dtype) != data.dtype:
            return data.type(dtype)
        return data
    from . import _trace
    if isinstance(data, _trace.SymTensor):
        raise _trace.refuse("a traced tensor is given to an operation that needs values (a model call, a loss, "
                            "jdyn.tensor): inside a traced field use jdyn's tensor operations and jdyn.nn layers only")
    return tensor(data, dtype)


from_numpy = as_tensor


def _shape_args(size):
    return _dims_arg(size)


@jcall
def zeros(*size, dtype=None, requires_grad=False, device=None):
    shape = _shape_args(size)
    out = Tensor(_eager().zeros(_jdtype(_dtype_name(dtype)), _jshape(shape)), shape=shape)
    return out.requires_grad_() if requires_grad else out


@jcall
def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    shape = _dims_arg((size,)) if isinstance(size, (tuple, list)) else (int(size),)
    out = Tensor(_eager().full(_jdtype(_dtype_name(dtype)), float(fill_value), _jshape(shape)), shape=shape)
    return out.requires_grad_() if requires_grad else out


def ones(*size, dtype=None, requires_grad=False, device=None):
    return full(_shape_args(size), 1.0, dtype=dtype, requires_grad=requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def zeros_like(x, dtype=None, requires_grad=False):
    return zeros(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return ones(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    return full(x.shape, fill_value, dtype=dtype or x.dtype, requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------- random numbers
_seed = [0, 0]          # the seed given to manual_seed, draws since


def manual_seed(seed):
    """Seeds jdyn's random tensors (rand, randn, ...): the same seed gives the same sequence of draws. The
    default seed is 0 (so a script is reproducible unless it reseeds)."""
    _seed[0], _seed[1] = int(seed), 0
    return None


seed = manual_seed


def initial_seed():
    return _seed[0]


def _next_seed():
    """A 63-bit stream seed per draw, from (seed, draw count) by splitmix64."""
    _seed[1] += 1
    z = (_seed[0] * 0x9E3779B97F4A7C15 + _seed[1] * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF


@jcall
def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform values in [0, 1), drawn natively (reproducible from jdyn.manual_seed)."""
    shape = _shape_args(size)
    out = Tensor(_eager().rand(_jdtype(_dtype_name(dtype)), _next_seed(), _jshape(shape)), shape=shape)
    return out.requires_grad_() if requires_grad else out


@jcall
def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal values, drawn natively (reproducible from jdyn.manual_seed)."""
    shape = _shape_args(size)
    out = Tensor(_eager().randn(_jdtype(_dtype_name(dtype)), _next_seed(), _jshape(shape)), shape=shape)
    return out.requires_grad_() if requires_grad else out


def rand_like(x, dtype=None):
    return rand(x.shape, dtype=dtype or x.dtype)


def randn_like(x, dtype=None):
    return randn(x.shape, dtype=dtype or x.dtype)


def randint(low, high=None, size=(1,)):
    """Integers in [low, high) (int64), from rand."""
    if high is None:
        low, high = 0, low
    u = rand(size, dtype="float64").tolist()
    flat = _flatten(u)
    return Tensor(ints=[builtin_min(high - 1, low + int(v * (high - low))) for v in flat], shape=tuple(size))


builtin_min = min


def _flatten(v):
    if isinstance(v, list):
        out = []
        for w in v:
            out.extend(_flatten(w))
        return out
    return [v]


def randperm(n):
    keys = rand(n, dtype="float64").tolist()
    return Tensor(ints=sorted(range(n), key=lambda i: keys[i]))


@jcall
def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """start, start + step, ... below end (torch.arange; float32 unless dtype)."""
    if end is None:
        start, end = 0, start
    n = int(math.ceil((end - start) / float(step)))
    if n < 1:
        raise ValueError("arange(%r, %r, %r) is empty (empty tensors are not supported)" % (start, end, step))
    dt = _dtype_name(dtype)
    if dt == "int64":
        return Tensor(ints=[int(start + i * step) for i in range(n)])
    out = Tensor(_eager().arange(_jdtype(dt), float(start), float(step), n), shape=(n,))
    return out.requires_grad_() if requires_grad else out


@jcall
def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """steps evenly spaced values from start to end, a tensor (torch.linspace; float32 unless dtype). A
    NeuralODE takes it as its time grid (so does a list of floats)."""
    steps = int(steps)
    if steps < 1:
        raise ValueError("linspace needs steps >= 1, got %d" % steps)
    dt = _dtype_name(dtype)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    out = Tensor(_eager().arange(_jdtype(dt), float(start), float(step), steps), shape=(steps,))
    return out.requires_grad_() if requires_grad else out


def eye(n, m=None, dtype=None):
    m = n if m is None else m
    return tensor([[1.0 if i == j else 0.0 for j in range(m)] for i in range(n)], dtype)


# ---------------------------------------------------------------------------------------- functions of tensors
def _tensors(ts, what):
    ts = list(ts)
    if not ts:
        raise ValueError("%s needs at least one tensor" % what)
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in ts]
    for t in ts:
        t._floats(what)
    return ts


def _variadic(op, ts, ia, shape):
    j = _eager().apply(op, ia, None, 0.0, [t._j for t in ts])
    return ts[0]._result(j, op, ia, None, 0.0, tuple(ts), shape)


@jcall
def cat(tensors, dim=0):
    """torch.cat: joins tensors along dim (the other dimensions must agree)."""
    ts = _tensors(tensors, "cat")
    if len(ts) == 1:
        return ts[0]
    r = len(ts[0].shape)
    if r == 0:
        raise ValueError("cat of 0-d tensors: use stack")
    d = dim % r
    for t in ts[1:]:
        if len(t.shape) != r or any(t.shape[i] != ts[0].shape[i] for i in range(r) if i != d):
            raise ValueError("cat(dim=%d) of shapes %s: the shapes must agree except along dim"
                             % (dim, ", ".join(str(x.shape) for x in ts)))
    shape = ts[0].shape[:d] + (builtin_sum(t.shape[d] for t in ts),) + ts[0].shape[d + 1:]
    return _variadic("cat", ts, [d], shape)


concat = cat
concatenate = cat


@jcall
def stack(tensors, dim=0):
    """torch.stack: tensors of one shape along a new dimension dim."""
    ts = _tensors(tensors, "stack")
    s = ts[0].shape
    for t in ts[1:]:
        if t.shape != s:
            raise ValueError("stack of shapes %s: every tensor must have one shape" % ", ".join(str(x.shape) for x in ts))
    r = len(s) + 1
    d = dim % r
    parts = [t.unsqueeze(d) for t in ts]
    if len(parts) == 1:
        return parts[0]
    return cat(parts, d)


def hstack(tensors):
    ts = _tensors(tensors, "hstack")
    return cat(ts, 0 if ts[0].dim() == 1 else 1)


def vstack(tensors):
    ts = [t if t.dim() > 1 else t.unsqueeze(0) for t in _tensors(tensors, "vstack")]
    return cat(ts, 0)


def _pair(a, b, what):
    if not isinstance(a, Tensor):
        if isinstance(b, Tensor):
            a = _like(b, a) if _num(a) else tensor(a, b.dtype)
        else:
            a = tensor(a)
    if not isinstance(b, Tensor):
        b = _like(a, b) if _num(b) else tensor(b, a.dtype)
    a._floats(what)
    b._floats(what)
    return a, b


@jcall
def maximum(a, b):
    a, b = _pair(a, b, "maximum")
    return a._binary(b, "maximum", None)


@jcall
def minimum(a, b):
    a, b = _pair(a, b, "minimum")
    return a._binary(b, "minimum", None)


@jcall
def where(condition, input, other):
    """torch.where(condition, input, other): input where condition is non-zero, else other (all broadcast)."""
    if isinstance(condition, _Matches):
        condition = tensor([1.0 if v else 0.0 for v in condition.tolist()])
    ref = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
    dt = ref.dtype if ref is not None else "float32"
    c = condition if isinstance(condition, Tensor) else tensor(condition, dt)
    if c._ints is not None:
        c = c.type(dt)
    a = input if isinstance(input, Tensor) else (Tensor(value=float(input), dtype=dt) if _num(input)
                                                 else tensor(input, dt))
    b = other if isinstance(other, Tensor) else (Tensor(value=float(other), dtype=dt) if _num(other)
                                                 else tensor(other, dt))
    shape = _broadcast(_broadcast(c.shape, a.shape, "where"), b.shape, "where")
    if c.dtype != a.dtype:
        c = c.type(a.dtype)
    j = _eager().apply("where", None, None, 0.0, [c._j, a._j, b._j])
    out = Tensor(j, shape=shape)
    if _grad_enabled[0]:
        mask = (2 if a.requires_grad else 0) | (4 if b.requires_grad else 0)
        if mask:
            out._grad_fn = EagerFn("where", None, None, 0.0, (c, a, b), mask)
    return out


@jcall
def matmul(a, b):
    """torch.matmul: vectors, matrices, and batches of matrices (leading dimensions broadcast)."""
    a, b = _pair(a, b, "matmul")
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError("matmul of 0-d tensors: use *")
    what = "matmul of shapes %s and %s" % (sa, sb)
    k = sa[-1]
    if (sb[0] if len(sb) == 1 else sb[-2]) != k:
        raise ValueError("%s: the inner dimensions (%d and %d) differ" % (what, k, sb[0] if len(sb) == 1 else sb[-2]))
    if len(sb) <= 2:
        if len(sa) == 1 and len(sb) == 1:
            shape = ()
        elif len(sb) == 1:
            shape = sa[:-1]
        elif len(sa) == 1:
            shape = (sb[1],)
        else:
            shape = sa[:-1] + (sb[1],)
        j = _eager().binary("matmul", a._j, b._j)
        return a._result(j, "matmul", None, None, 0.0, (a, b), shape)
    # a batched right operand: broadcast the batch dimensions, one bmm over them
    a2 = a if len(sa) > 1 else a.unsqueeze(0)
    batch = _broadcast(a2.shape[:-2], sb[:-2], "matmul")
    m, n = a2.shape[-2], sb[-1]
    A = a2.expand(batch + a2.shape[-2:]) if a2.shape[:-2] != batch else a2
    B = b.expand(batch + sb[-2:]) if sb[:-2] != batch else b
    N = _prod(batch)
    C = bmm(A.reshape(N, m, k), B.reshape(N, k, n)).reshape(batch + (m, n))
    return C.squeeze(-2) if len(sa) == 1 else C


mm = matmul


@jcall
def bmm(a, b):
    """torch.bmm: [B, m, k] x [B, k, n]."""
    a, b = _pair(a, b, "bmm")
    if len(a.shape) != 3 or len(b.shape) != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError("bmm takes [B, m, k] and [B, k, n], got %s and %s" % (a.shape, b.shape))
    j = _eager().binary("bmm", a._j, b._j)
    return a._result(j, "bmm", None, None, 0.0, (a, b), (a.shape[0], a.shape[1], b.shape[2]))


@jcall
def linear(input, weight, bias=None):
    """torch.nn.functional.linear: input W^T + b."""
    ts = [input, weight] + ([] if bias is None else [bias])
    ts = _tensors(ts, "linear")
    shape = ts[0].shape[:-1] + (ts[1].shape[0],)
    return _variadic("linear", ts, None, shape)


def as_times(t):
    """A time grid given as a list, tuple, range or 1-D tensor, as a list of floats."""
    if t is None:
        return None
    if isinstance(t, Tensor):
        return [float(v) for v in t.tolist()]
    return [float(v) for v in t]


def weak(obj):
    return weakref.ref(obj)


# the operations nn.Parameter routes (to the program's parameter in a trace, to its values otherwise)
OPS = ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
       "__pow__", "__rpow__", "__neg__", "__abs__", "__matmul__", "__rmatmul__", "__getitem__", "__gt__", "__lt__",
       "__ge__", "__le__", "exp", "log", "sqrt", "square", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid",
       "relu", "silu", "sign", "log1p", "expm1", "reciprocal", "rsqrt", "softplus", "elu", "leaky_relu", "clamp",
       "clip", "sum", "mean", "amax", "amin", "max", "min", "softmax", "log_softmax", "logsumexp", "norm",
       "reshape", "view", "flatten", "unsqueeze", "squeeze", "expand", "transpose", "t", "permute", "abs", "neg",
       "add", "sub", "mul", "div", "pow", "matmul", "maximum", "minimum")
