"""jdyn.Tensor: a Java io.jdyn.Tensor (native memory) seen from Python, with the autograd of PyTorch-style
training loops. A model call's output remembers the model's tape; indexing along the first dimension,
element-wise arithmetic (+ - * / **, neg, exp, log, tanh, sqrt, abs), sum() and mean() and the built-in
losses record how to go back; ``loss.backward()`` walks that graph once in reverse topological order,
adding the cotangents of a tensor used twice, and runs each model's backward pass once (dL/dtheta
accumulates into the model's gradient, as in PyTorch). The graph is freed as it is walked
(PyTorch's retain_graph=False)."""
import array
import weakref

from ._java import jcall, jtype

_JTensor = "io.jdyn.Tensor"
_Values = "io.jdyn.polyglot.Values"

_grad_enabled = [True]


class no_grad:
    """Context manager (and decorator) under which model calls keep no tape, as torch.no_grad()."""

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


class Tensor:
    """An n-dimensional float32/float64 array in native memory (a Java io.jdyn.Tensor), or an int64 label
    vector. Freed when closed or when Python collects it."""

    __slots__ = ("_j", "_ints", "_grad_fn", "_owned", "_keep", "_value", "__weakref__")

    def __init__(self, j=None, grad_fn=None, owned=True, keep=None, ints=None, value=None):
        self._j = j
        self._ints = ints
        self._grad_fn = grad_fn
        self._owned = owned
        self._keep = keep
        self._value = value

    # ------------------------------------------------------------------ facts
    @property
    @jcall
    def shape(self):
        if self._value is not None:
            return ()
        if self._ints is not None:
            return (len(self._ints),)
        return tuple(int(s) for s in self._j.shape())

    def size(self, dim=None):
        s = self.shape
        return s if dim is None else s[dim]

    def dim(self):
        return len(self.shape)

    ndim = property(dim)

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    @jcall
    def dtype(self):
        if self._value is not None:
            return "float64"
        if self._ints is not None:
            return "int64"
        return "float32" if str(self._j.dtype().name()) == "FLOAT32" else "float64"

    @property
    def requires_grad(self):
        return self._grad_fn is not None

    def __len__(self):
        s = self.shape
        if not s:
            raise TypeError("len() of a 0-d tensor")
        return s[0]

    # ------------------------------------------------------------------ data out
    @jcall
    def tolist(self):
        """The values as nested Python lists (floats; ints for labels)."""
        if self._value is not None:
            return self._value
        if self._ints is not None:
            return [int(v) for v in self._ints]
        flat = list(self._j.toDoubleArray())
        shape = self.shape
        return _nest(flat, shape) if shape else flat[0]

    def item(self):
        if self._value is not None:
            return self._value
        if self.numel() != 1:
            raise ValueError("item() needs a tensor of one element, this one has shape %s" % (self.shape,))
        v = self.tolist()
        while isinstance(v, list):
            v = v[0]
        return v

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    @jcall
    def argmax(self, dim=-1):
        """Index of the largest entry of each row of a [batch, classes] tensor (a label tensor)."""
        if self.dim() != 2 or dim not in (-1, 1):
            raise ValueError("argmax is implemented for dim=-1 of a 2-D tensor, got shape %s, dim %s" % (self.shape, dim))
        return Tensor(ints=jtype("io.jdyn.train.loss.Metrics").argmax(self._j))

    def __eq__(self, other):
        # element-wise for label tensors, enough for (pred == y).float().mean()-style accuracy; counted in Java
        if self._ints is not None:
            V = jtype(_Values)
            b = other._ints if isinstance(other, Tensor) and other._ints is not None else \
                V.labels(other.tolist() if isinstance(other, Tensor) else list(other))
            return _Matches(self._ints, b, int(V.countEqual(self._ints, b)))
        return self is other

    __hash__ = object.__hash__

    @property
    @jcall
    def T(self):
        """The transpose of a 2-D tensor (a copy, no tape): a constant for a traced field, e.g. x @ A.T."""
        if self._value is not None or self._ints is not None or self.dim() < 2:
            return self
        if self.dim() != 2 or self._grad_fn is not None:
            raise NotImplementedError("T of a concrete tensor is implemented for 2-D tensors without a tape")
        return tensor([list(c) for c in zip(*self.tolist())], self.dtype)

    def t(self):
        return self.T

    # ------------------------------------------------------------------ indexing
    @jcall
    def __getitem__(self, index):
        if self._ints is not None:
            r = self._ints[index] if isinstance(index, int) else [self._ints[i] for i in range(len(self._ints))[index]]
            return int(r) if isinstance(index, int) else Tensor(ints=r)
        if not isinstance(index, int):
            raise TypeError("jdyn tensors index by an int along the first dimension (got %r)" % (index,))
        part = self._j.select(index)
        fn = None
        if self._grad_fn is not None:
            full = list(self.shape)
            i = index + full[0] if index < 0 else index
            if len(full) == 1:   # select gave [1]: back to [n]
                fn = Fn([self], lambda g: [jtype(_JTensor).embed(g, full[0], i).reshape(full)])
            else:
                fn = Fn([self], lambda g: [jtype(_JTensor).embed(g, full[0], i)])
        return Tensor(part, grad_fn=fn)

    # ------------------------------------------------------------------ arithmetic
    def _binary(self, other, op, rop):
        V = jtype(_Values)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            s = float(other)
            if self._value is not None:
                return _scalar_op(self, s, rop if rop else op)
            out = V.scalar(op, self._j, s)
            return Tensor(out, grad_fn=_scalar_rule(op, self, s, out) if self._grad_fn else None)
        if not isinstance(other, Tensor):
            return NotImplemented
        if self._value is not None and other._value is not None:
            return _scalar_pair(self, other, op)
        if self._value is not None or other._value is not None or self._ints is not None or other._ints is not None:
            raise TypeError("%s of %s and %s: combine float tensors of one shape, or a tensor and a number"
                            % (op, self.dtype, other.dtype))
        out = V.binary(op, self._j, other._j)
        fn = None
        if self._grad_fn is not None or other._grad_fn is not None:
            a, b = self, other
            if op == "add":
                rule = lambda g: [g, g]
            elif op == "sub":
                rule = lambda g: [g, V.unary("neg", g)]
            elif op == "mul":
                rule = lambda g: [V.binary("mul", g, b._j), V.binary("mul", g, a._j)]
            else:
                rule = lambda g: [V.binary("div", g, b._j),
                                  V.unary("neg", V.binary("div", V.binary("mul", g, out), b._j))]
            fn = Fn([a, b], rule)
        return Tensor(out, grad_fn=fn)

    @jcall
    def __add__(self, other):
        return self._binary(other, "add", "add")

    __radd__ = __add__

    @jcall
    def __sub__(self, other):
        return self._binary(other, "sub", "sub")

    @jcall
    def __rsub__(self, other):
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return self._binary(other, "rsub", "rsub")
        return NotImplemented

    @jcall
    def __mul__(self, other):
        return self._binary(other, "mul", "mul")

    __rmul__ = __mul__

    @jcall
    def __truediv__(self, other):
        return self._binary(other, "div", "div")

    @jcall
    def __rtruediv__(self, other):
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return self._binary(other, "rdiv", "rdiv")
        return NotImplemented

    @jcall
    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)) or isinstance(exponent, bool):
            raise TypeError("jdyn tensors take a number as exponent, got %r" % (exponent,))
        return self._binary(exponent, "pow", "pow")

    @jcall
    def __neg__(self):
        return self._unary("neg")

    def _unary(self, op):
        V = jtype(_Values)
        if self._value is not None:
            return _scalar_unary(self, op)
        out = V.unary(op, self._j)
        fn = None
        if self._grad_fn is not None:
            a = self
            rules = {
                "neg": lambda g: [V.unary("neg", g)],
                "exp": lambda g: [V.binary("mul", g, out)],
                "log": lambda g: [V.binary("div", g, a._j)],
                "tanh": lambda g: [V.binary("mul", g, V.scalar("rsub", V.binary("mul", out, out), 1.0))],
                "sqrt": lambda g: [V.binary("div", g, V.scalar("mul", out, 2.0))],
                "abs": lambda g: [V.binary("mul", g, V.unary("sign", a._j))],
            }
            fn = Fn([a], rules[op])
        return Tensor(out, grad_fn=fn)

    @jcall
    def exp(self):
        return self._unary("exp")

    @jcall
    def log(self):
        return self._unary("log")

    @jcall
    def tanh(self):
        return self._unary("tanh")

    @jcall
    def sqrt(self):
        return self._unary("sqrt")

    @jcall
    def abs(self):
        return self._unary("abs")

    __abs__ = abs

    @jcall
    def sum(self):
        """The sum of all entries, a 0-d tensor (keeps the graph)."""
        if self._value is not None:
            return self
        if self._ints is not None:
            return Tensor(value=float(sum(self._ints)))
        V = jtype(_Values)
        fn = None
        if self._grad_fn is not None:
            shape, dt = list(self.shape), self.dtype
            fn = Fn([self], lambda g: [V.full(shape, float(g), dt)])
        return Tensor(value=float(V.sum(self._j)), grad_fn=fn)

    @jcall
    def mean(self):
        """The mean of all entries, a 0-d tensor (keeps the graph)."""
        if self._value is not None:
            return self
        if self._ints is not None:
            return Tensor(value=float(sum(self._ints)) / len(self._ints))
        V = jtype(_Values)
        n = self.numel()
        fn = None
        if self._grad_fn is not None:
            shape, dt = list(self.shape), self.dtype
            fn = Fn([self], lambda g: [V.full(shape, float(g) / n, dt)])
        return Tensor(value=float(V.sum(self._j)) / n, grad_fn=fn)

    # ------------------------------------------------------------------ autograd
    @jcall
    def backward(self, gradient=None):
        """Backpropagates from this tensor (a scalar loss, or any tensor given its cotangent) into the
        parameter gradients of every model call it depends on; frees the graph."""
        if self._grad_fn is None:
            raise RuntimeError("this tensor has no tape to go back through: it was not computed by a model "
                               "call with gradients on (model.train(), outside jdyn.no_grad()), or backward "
                               "already ran through it")
        if gradient is not None:
            seed = gradient._j if isinstance(gradient, Tensor) and gradient._j is not None else \
                (float(gradient.item()) if isinstance(gradient, Tensor) else gradient)
            if not isinstance(seed, float) and self._value is None:
                seed = as_tensor(gradient, self.dtype)._j
        elif self._value is not None:
            seed = 1.0
        elif self.numel() == 1:
            seed = jtype(_Values).full(list(self.shape), 1.0, self.dtype)
        else:
            raise RuntimeError("backward() without a gradient needs a scalar (one element); this tensor has "
                               "shape %s: give backward(gradient) or reduce it first (.sum(), .mean(), a loss)"
                               % (self.shape,))
        order = _topological(self)
        grads = {id(self): seed}
        for t in order:
            g = grads.pop(id(t), None)
            fn, t._grad_fn = t._grad_fn, None
            if g is None or fn is None:
                continue
            if isinstance(fn, TapeFn):
                fn.tape.backward(g)
                continue
            for inp, gi in zip(fn.inputs, fn.vjp(g)):
                if gi is None or not isinstance(inp, Tensor) or inp._grad_fn is None:
                    continue
                k = id(inp)
                grads[k] = gi if k not in grads else _accumulate(grads[k], gi)

    def detach(self):
        """The same values with no tape (shares memory with this tensor)."""
        if self._value is not None:
            return Tensor(value=self._value)
        return Tensor(self._j, owned=False, keep=self, ints=self._ints)

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

    def __del__(self):
        try:
            if self._owned and self._j is not None:
                self._j.close()
        except BaseException:
            pass

    @property
    def java(self):
        """The underlying io.jdyn.Tensor (for calling jdyn's Java API directly)."""
        return self._j

    def __repr__(self):
        if self._j is None and self._ints is None and self._value is None:
            return "tensor(<closed>)"
        body = repr(self.tolist())
        if len(body) > 400:
            body = body[:400] + " ..."
        return "tensor(%s, dtype=%s%s)" % (body, self.dtype, ", grad_fn" if self._grad_fn else "")


class Fn:
    """How a tensor was computed: its inputs and the map from its cotangent to theirs (one per input,
    None where an input needs none)."""
    __slots__ = ("inputs", "vjp")

    def __init__(self, inputs, vjp):
        self.inputs = inputs
        self.vjp = vjp


class TapeFn:
    """A model call's output: its cotangent goes into the model's backward pass (once)."""
    __slots__ = ("tape",)
    inputs = ()

    def __init__(self, tape):
        self.tape = tape


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
        if isinstance(fn, Fn):
            for inp in fn.inputs:
                if isinstance(inp, Tensor) and inp._grad_fn is not None and id(inp) not in seen:
                    stack.append((inp, False))
    post.reverse()
    return post


def _accumulate(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return float(a) + float(b)
    return jtype(_Values).binary("add", a, b)


def _scalar_rule(op, a, s, out):
    V = jtype(_Values)
    if op in ("add", "sub"):
        rule = lambda g: [g]
    elif op == "rsub":
        rule = lambda g: [V.unary("neg", g)]
    elif op == "mul":
        rule = lambda g: [V.scalar("mul", g, s)]
    elif op == "div":
        rule = lambda g: [V.scalar("div", g, s)]
    elif op == "rdiv":       # d(s / a) = -s / a^2 = -out / a
        rule = lambda g: [V.unary("neg", V.binary("mul", g, V.binary("div", out, a._j)))]
    else:                    # pow: d(a^s) = s a^(s-1)
        rule = lambda g: [V.binary("mul", g, V.scalar("mul", V.scalar("pow", a._j, s - 1.0), s))]
    return Fn([a], rule)


def _scalar_op(a, s, op):
    """A 0-d tensor (a loss value) with a number."""
    v = a._value
    value, d = {
        "add": (v + s, 1.0), "sub": (v - s, 1.0), "rsub": (s - v, -1.0), "mul": (v * s, s),
        "div": (v / s, 1.0 / s), "rdiv": (s / v, -s / (v * v)), "pow": (v ** s, s * v ** (s - 1.0)),
    }[op]
    fn = Fn([a], lambda g: [g * d]) if a._grad_fn is not None else None
    return Tensor(value=value, grad_fn=fn)


def _scalar_pair(a, b, op):
    x, y = a._value, b._value
    value, da, db = {
        "add": (x + y, 1.0, 1.0), "sub": (x - y, 1.0, -1.0), "mul": (x * y, y, x), "div": (x / y, 1.0 / y, -x / (y * y)),
    }[op]
    fn = Fn([a, b], lambda g: [g * da, g * db]) if a._grad_fn is not None or b._grad_fn is not None else None
    return Tensor(value=value, grad_fn=fn)


def _scalar_unary(a, op):
    import math
    v = a._value
    value, d = {
        "neg": (-v, -1.0), "exp": (math.exp(v), math.exp(v)), "log": (math.log(v), 1.0 / v),
        "tanh": (math.tanh(v), 1.0 - math.tanh(v) ** 2), "sqrt": (math.sqrt(v), 0.5 / math.sqrt(v)),
        "abs": (abs(v), 1.0 if v >= 0 else -1.0),
    }[op]
    fn = Fn([a], lambda g: [g * d]) if a._grad_fn is not None else None
    return Tensor(value=value, grad_fn=fn)


class _Matches:
    """The result of comparing label tensors: .float().mean() and .sum() as in PyTorch, tolist() for the
    element-wise booleans."""

    def __init__(self, a, b, equal):
        self._a, self._b, self._equal = a, b, equal

    def float(self):
        return self

    def sum(self):
        return _Scalar(float(self._equal))

    def mean(self):
        n = len(self._a)
        return _Scalar(self._equal / n) if n else _Scalar(float("nan"))

    def tolist(self):
        return [bool(x == y) for x, y in zip(self._a, self._b)]

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return iter(self.tolist())


class _Scalar(float):
    def item(self):
        return float(self)


def _nest(flat, shape):
    if len(shape) == 1:
        return flat
    step = 1
    for s in shape[1:]:
        step *= s
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


@jcall
def tensor(data, dtype="float32"):
    """A tensor from a number, nested lists/tuples of numbers, an array.array, a memoryview or bytes-like
    buffer (read in one bulk copy, with its own format), or another Tensor (copied). Labels: ints with
    dtype='int64' (or 'long')."""
    from . import _trace
    if isinstance(data, _trace.SymTensor):
        raise _trace.refuse("jdyn.tensor(x) of a traced tensor: x has no values while the field is traced; use it "
                            "directly")
    if isinstance(data, Tensor):
        if data._ints is not None:
            return Tensor(ints=list(data._ints))
        return Tensor(jtype(_Values).tensor(data._j, dtype))
    if dtype in ("int64", "long", "int", "int32"):
        return Tensor(ints=[int(v) for v in data])
    if isinstance(data, (array.array, memoryview, bytes, bytearray)):
        mv = memoryview(data)
        shape = list(mv.shape) if mv.ndim else [1]
        fmt = mv.format
        return Tensor(jtype(_Values).fromBuffer(data, fmt, shape, dtype))
    return Tensor(jtype(_Values).tensor(data, dtype))


def as_tensor(data, dtype="float32"):
    """data if it already is a Tensor, else tensor(data, dtype)."""
    if isinstance(data, Tensor):
        return data
    from . import _trace
    if isinstance(data, _trace.SymTensor):
        raise _trace.refuse("a traced tensor is given to an operation that needs values (a model call, a loss, "
                            "jdyn.tensor): inside a traced field use jdyn's tensor operations and jdyn.nn layers only")
    return tensor(data, dtype)


def linspace(start, end, steps):
    """steps evenly spaced floats from start to end (a Python list: time grids are host data)."""
    steps = int(steps)
    if steps < 1:
        raise ValueError("linspace needs steps >= 1, got %d" % steps)
    if steps == 1:
        return [float(start)]
    return [start + (end - start) * i / (steps - 1) for i in range(steps)]


def as_times(t):
    """A time grid given as a list, tuple, range or 1-D tensor, as a list of floats."""
    if t is None:
        return None
    if isinstance(t, Tensor):
        return [float(v) for v in t.tolist()]
    return [float(v) for v in t]


def weak(obj):
    return weakref.ref(obj)
