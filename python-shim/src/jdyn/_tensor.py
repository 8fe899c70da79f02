"""jdyn.Tensor: a Java io.jdyn.Tensor (native memory) seen from Python, with just enough autograd for
PyTorch-style training loops: the output of a model call remembers the model's tape, indexing it along the
first dimension and applying a loss keep the chain, and ``loss.backward()`` runs the model's backward pass
(dL/dtheta accumulates into the model's gradient, as in PyTorch)."""
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
        # element-wise for label tensors, enough for (pred == y).float().mean()-style accuracy
        if self._ints is not None:
            a = self.tolist()
            b = other.tolist() if isinstance(other, Tensor) else list(other)
            if len(a) != len(b):
                raise ValueError("cannot compare tensors of %d and %d elements" % (len(a), len(b)))
            return _Bools([x == y for x, y in zip(a, b)])
        return self is other

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ indexing
    @jcall
    def __getitem__(self, index):
        if self._ints is not None:
            r = self._ints[index] if isinstance(index, int) else [self._ints[i] for i in range(len(self._ints))[index]]
            return int(r) if isinstance(index, int) else Tensor(ints=r)
        if not isinstance(index, int):
            raise TypeError("jdyn tensors index by an int along the first dimension (got %r)" % (index,))
        n = self.shape[0]
        part = jtype(_Values).select(self._j, index)
        fn = None
        if self._grad_fn is not None:
            parent, full = self._grad_fn, self.shape
            i = index + n if index < 0 else index

            def fn(cot):
                return parent(jtype(_Values).embed(cot, list(full), i))
        return Tensor(part, grad_fn=fn)

    # ------------------------------------------------------------------ autograd
    @jcall
    def backward(self, gradient=None):
        """Runs the backward pass from this (scalar loss) tensor into the model's parameter gradients."""
        if self._grad_fn is None:
            raise RuntimeError("this tensor has no tape to go back through: it was not computed by a model "
                               "call with gradients on (model.train(), outside jdyn.no_grad())")
        fn, self._grad_fn = self._grad_fn, None
        fn(gradient._j if isinstance(gradient, Tensor) else None)

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


class _Bools(list):
    """The result of comparing label tensors: .float().mean() and .sum() as in PyTorch."""

    def float(self):
        return self

    def sum(self):
        return _Scalar(sum(1.0 for b in self if b))

    def mean(self):
        return _Scalar(sum(1.0 for b in self if b) / len(self)) if self else _Scalar(float("nan"))


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
    return data if isinstance(data, Tensor) else tensor(data, dtype)


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


def keep_alive_output(trace_holder, out_java):
    """The Tensor for a trace's output: not owned (the trace owns it); keeps the holder alive."""
    return Tensor(out_java, owned=False, keep=trace_holder)


def weak(obj):
    return weakref.ref(obj)
