"""Tracing: a vector field written the torch way (an nn.Module's forward, or a function f(t, x)) is run ONCE
on symbolic tensors, which record every operation into a jdyn differentiable program (io.jdyn.fn.Graph);
the program then runs natively, with no Python per evaluation (torch.jit.trace's and jax.jit's model).

During the trace, forward receives SymTensors: they have torch's operators and methods, but no values.
What needs a value refuses with a TracingError naming the user's file and line: ``if x > 0:`` (use
jdyn.where), ``float(x)``, ``x.item()``, ``math.sin(x)`` (use jdyn.sin), mixing with objects jdyn does not
know. Submodules (jdyn.nn layers, Sequentials) lower through jdyn's Java layers with their parameters
named as PyTorch's state_dict names them ("net.0.weight"); an nn.Parameter becomes a named parameter of the
program whose values are copied in after it is built.
"""
import operator
import sys

import polyglot

from ._java import jtype

_PKG_DIR = __file__.rsplit("/", 1)[0] + "/"
_FN = "io.jdyn.fn."


class TracingError(RuntimeError):
    """A vector field could not be traced into a native program; the message names the file and line of the
    user's code and what to write instead. filename and lineno say where (None when unknown)."""

    def __init__(self, message, filename=None, lineno=None):
        super().__init__(message)
        self.filename, self.lineno = filename, lineno


# ---------------------------------------------------------------------------------------- locations
def _user_frame():
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    return f


def location():
    """(filename, lineno, 'File "...", line N, in fn' plus the source line when readable) of the innermost
    frame outside jdyn's package: the user's line that is being traced."""
    f = _user_frame()
    if f is None:
        return None, None, "(location unknown)"
    fn, line, name = f.f_code.co_filename, f.f_lineno, f.f_code.co_name
    text = 'File "%s", line %d, in %s' % (fn, line, name)
    try:
        import linecache
        src = linecache.getline(fn, line).strip()
        if src:
            text += "\n    " + src
    except BaseException:
        pass
    return fn, line, text


def refuse(message):
    """A TracingError located at the user's line: 'File "x.py", line 12, in forward: <message>'."""
    fn, line, text = location()
    head, _, src = text.partition("\n")
    return TracingError("%s: %s%s" % (head, message, ("\n" + src) if src else ""), fn, line)


def _java_message(e):
    text = str(e)
    name, sep, message = text.partition(": ")
    return message if sep and " " not in name else text


def _jop(what, fn, *args):
    """A Java Sym operation; a Java failure (shapes that do not fit, a bad dim) becomes a TracingError
    located at the user's line, with the Java message (which names the op and the shapes)."""
    try:
        return fn(*args)
    except polyglot.ForeignException as e:
        raise refuse("%s: %s" % (what, _java_message(e))) from None


# ---------------------------------------------------------------------------------------- the trace
_stack = []


def current():
    """The trace in progress, or None."""
    return _stack[-1] if _stack else None


def is_tracing():
    return bool(_stack)


class _Trace:
    def __init__(self, t, p, dtype, root, function_modules=None):
        self.p = p                     # io.jdyn.fn.Params (root)
        self.graph = p.graph()
        self.t = SymTensor(t)
        self.dtype = dtype
        self.module_names = {}         # id(module) -> qualified name ("" for the root)
        self.param_names = {}          # id(Parameter) -> state_dict name
        self.param_syms = {}           # id(Parameter) -> SymTensor
        self.declared = []             # (name, Parameter) in declaration order
        self.called = set()            # ids of parameterised layers lowered already
        self.auto = 0
        from .nn import Module
        if isinstance(root, Module):
            self._walk(root, "")
        for name, m in (function_modules or {}).items():
            self._walk(m, name)

    def _walk(self, module, prefix):
        if id(module) in self.module_names:
            return
        self.module_names[id(module)] = prefix
        d = module.__dict__
        for n, p in d.get("_parameters", {}).items():
            if p is not None:
                self.param_names.setdefault(id(p), prefix + "." + n if prefix else n)
        for n, c in d.get("_modules", {}).items():
            if c is not None:
                self._walk(c, prefix + "." + n if prefix else n)

    def scope(self, qualname):
        return self.p if not qualname else self.p.scope(qualname)

    def param(self, param, name=None):
        """The program's parameter for an nn.Parameter (declared at its first use, named by its state_dict
        name; its values are copied into the compiled field afterwards)."""
        s = self.param_syms.get(id(param))
        if s is not None:
            return s
        name = name or self.param_names.get(id(param))
        if name is None:
            raise refuse("an nn.Parameter that is no attribute of the traced module (or of a module it holds) is "
                         "used: assign it in __init__ (self.w = nn.Parameter(...)) so that it has a name")
        shape = [int(v) for v in param._j.shape()]
        init = jtype(_FN + "Init").zeros()
        s = SymTensor(_jop("parameter " + name, lambda: self.p.param(name, init, *shape)))
        self.param_syms[id(param)] = s
        self.declared.append((name, param))
        return s

    def constant(self, tensor):
        """A concrete jdyn.Tensor used in the trace: baked in as a constant (as torch.jit.trace does)."""
        if tensor._ints is not None:
            raise refuse("an integer label tensor cannot enter a traced field")
        shape = list(tensor.shape)
        data = tensor._j.toDoubleArray()
        if not shape:
            return SymTensor(self.graph.scalar(float(data[0])))
        return SymTensor(_jop("constant", lambda: self.graph.constant(data, *shape)))

    def call_module(self, module, args, kwargs):
        """module(*args) inside the trace: a jdyn.nn layer or Sequential of layers lowers through its Java Fn,
        its parameters scoped by its attribute name; any other Module runs its forward on the SymTensors."""
        from .nn import Layer, Sequential
        if isinstance(module, Layer) or isinstance(module, Sequential):
            if kwargs or not 1 <= len(args) <= 2 or not isinstance(args[-1], SymTensor):
                raise refuse("%s is called as layer(x) or layer(t, x) with a traced x (the time reaches its DepthCat "
                             "and GalLinear layers by itself), got %d arguments"
                             % (type(module).__name__, len(args) + len(kwargs)))
            return self.lower(module, args[-1])
        return module.forward(*args, **kwargs)

    def name_of(self, module):
        name = self.module_names.get(id(module))
        if name is None:
            raise refuse("%s is called in forward but is no attribute of the traced module: assign it in __init__ "
                         "(self.layer = %s) so that its parameters have a name" % (type(module).__name__, module))
        return name

    def lower(self, module, x):
        from .nn import Layer, Sequential
        name = self.name_of(module)
        if _has_params(module):
            if id(module) in self.called:
                raise refuse("%s (%r) is called twice in one forward: sharing a layer's parameters between two "
                             "calls is not supported yet; use two layers, or nn.Parameter with jdyn.nn.functional."
                             "linear" % (name or "the module", module))
            self.called.add(id(module))
        width = x.shape[-1] if x.shape else None
        if width is None or width == -1:
            raise refuse("%r needs x with a feature dimension, got shape %s" % (module, x.shape))
        p = self.scope(name)
        if isinstance(module, Layer):
            jl = _jop(repr(module), module.to_java, width)
            return SymTensor(_jop(repr(module), jl.apply, self.t._s, x._s, p))
        children = list(module)
        if all(isinstance(c, Layer) for c in children):
            layers, w = [], width
            for c in children:
                layers.append(_jop(repr(c), c.to_java, w))
                w = c.out_features(w)
            seq = jtype("io.jdyn.nn.Sequential").of(layers)
            return SymTensor(_jop("Sequential", seq.apply, self.t._s, x._s, p))
        out = x
        for c in children:      # a Sequential holding modules of the user's: each child in turn
            out = c(out)
        return out


def _has_params(module):
    from .nn import GalLinear, Linear, Sequential
    if isinstance(module, (Linear, GalLinear)):
        return True
    if isinstance(module, Sequential):
        return any(_has_params(c) for c in module)
    return False


def _to_sym(v, what):
    """An operand as a Java Sym of the trace: SymTensors, nn.Parameters (as program parameters), concrete
    tensors (as constants); refuses anything else."""
    if isinstance(v, SymTensor):
        return v._s
    from ._tensor import Tensor
    tr = current()
    if isinstance(v, Tensor):
        from .nn import Parameter
        if isinstance(v, Parameter):
            return tr.param(v)._s
        return tr.constant(v)._s
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return tr.graph.scalar(float(v))
    if isinstance(v, bool):
        return tr.graph.scalar(1.0 if v else 0.0)
    raise refuse("%s: a traced tensor combines with traced tensors, jdyn tensors and Python numbers, not %s (%r); "
                 "make a constant with jdyn.tensor(...)" % (what, type(v).__name__, _short(v)))


def _short(v):
    r = repr(v)
    return r if len(r) < 60 else r[:57] + "..."


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_NUMBER_REFUSAL = ("%s reads a Python number from a traced tensor: its value exists only when the compiled "
                   "program runs (the field is traced once, for every t and x). Keep it a tensor and use jdyn's "
                   "operations (jdyn.sin(x), jdyn.where(...)) instead of math or float()")
_BOOL_REFUSAL = ("control flow on a tensor value cannot be traced (%s): the field is traced once and the branch "
                 "would be frozen; use jdyn.where(cond, a, b)")


class _NoIndices:
    def __getattr__(self, name):
        raise refuse("the indices of max(dim) are not available in a traced field (only the values)")

    def __repr__(self):
        return "<indices: not traced>"


class MaxResult(tuple):
    """torch.max(x, dim)'s (values, indices); only the values are traced."""

    def __new__(cls, values):
        return tuple.__new__(cls, (values, _NoIndices()))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


class SymTensor:
    """A tensor being traced: a node of the program under construction (a Java io.jdyn.fn.Sym), with torch's
    operators and methods. ``.shape`` is known (-1 first for the batch, whose size is given when the program
    runs); values are not: reading one (bool(), float(), item(), if x > 0:) raises a TracingError."""

    __slots__ = ("_s", "_shape", "__weakref__")

    def __init__(self, s):
        self._s = s
        self._shape = tuple(int(v) for v in s.shape())

    # ------------------------------------------------------------------ facts
    @property
    def shape(self):
        return self._shape

    def size(self, dim=None):
        return self._shape if dim is None else self._shape[dim]

    def dim(self):
        return len(self._shape)

    @property
    def ndim(self):
        return len(self._shape)

    def numel(self):
        if self._batched():
            raise refuse("numel() of a batched tensor: the batch size is known only when the program runs")
        n = 1
        for d in self._shape:
            n *= d
        return n

    @property
    def dtype(self):
        tr = current()
        return tr.dtype if tr is not None else None

    device = "cpu"
    requires_grad = True
    is_leaf = False

    def _batched(self):
        return bool(self._shape) and self._shape[0] == -1

    def __repr__(self):
        return "SymTensor(shape=%s, node %d)" % (self._shape, int(self._s.id()))

    # ------------------------------------------------------------------ torch no-ops
    def requires_grad_(self, requires_grad=True):
        return self

    def to(self, *args, **kwargs):
        return self

    def float(self):
        return self

    def double(self):
        return self

    def type_as(self, other):
        return self

    def contiguous(self):
        return self

    def clone(self):
        return self

    def cpu(self):
        return self

    def detach(self):
        raise refuse("detach() inside a traced field: the program has no stop-gradient; compute the quantity "
                     "outside the field, or keep it differentiable")

    # ------------------------------------------------------------------ values: refused
    def __bool__(self):
        raise refuse(_BOOL_REFUSAL % "if/while/and/or/not on a tensor, bool(x)")

    def __float__(self):
        raise refuse(_NUMBER_REFUSAL % "float(x) (or a math function)")

    def __int__(self):
        raise refuse(_NUMBER_REFUSAL % "int(x)")

    def __index__(self):
        raise refuse(_NUMBER_REFUSAL % "using a tensor as an index or count")

    def __complex__(self):
        raise refuse(_NUMBER_REFUSAL % "complex(x)")

    def item(self):
        raise refuse(_NUMBER_REFUSAL % "x.item()")

    def tolist(self):
        raise refuse(_NUMBER_REFUSAL % "x.tolist()")

    def numpy(self):
        raise refuse(_NUMBER_REFUSAL % "x.numpy()")

    def __array__(self, *args, **kwargs):
        raise refuse(_NUMBER_REFUSAL % "converting to an array (numpy)")

    def __len__(self):
        if self._batched() or not self._shape:
            raise refuse("len() of a tensor whose first dimension is the batch (or of a scalar): its size is "
                         "known only when the program runs; use x.shape[1:] for the feature dimensions")
        return self._shape[0]

    def __iter__(self):
        if self._batched() or not self._shape:
            raise refuse("iterating over the batch of a traced tensor: write the field for the whole batch at "
                         "once (x[:, i] selects a feature)")
        return iter([self[i] for i in range(self._shape[0])])

    # ------------------------------------------------------------------ element-wise, two operands
    def _bin(self, other, name, java, reverse=False):
        if isinstance(other, SymTensor):
            o = other._s
        elif _num(other) and not reverse and name in ("add", "sub", "mul", "div"):
            return SymTensor(_jop(name, getattr(self._s, java), float(other)))
        else:
            o = _to_sym(other, name)
        a, b = (o, self._s) if reverse else (self._s, o)
        return SymTensor(_jop("%s of shapes %s" % (name, self._pair_shapes(other, reverse)), getattr(a, java), b))

    def _pair_shapes(self, other, reverse):
        os = getattr(other, "shape", ())
        os = tuple(os) if not callable(os) else ()
        return "%s and %s" % ((os, self._shape) if reverse else (self._shape, os))

    def __add__(self, o):
        return self._bin(o, "add", "add")

    def __radd__(self, o):
        return self._bin(o, "add", "add", True)

    def __sub__(self, o):
        return self._bin(o, "sub", "sub")

    def __rsub__(self, o):
        if _num(o):
            return SymTensor(_jop("rsub", self._s.rsub, float(o)))
        return self._bin(o, "sub", "sub", True)

    def __mul__(self, o):
        return self._bin(o, "mul", "mul")

    def __rmul__(self, o):
        return self._bin(o, "mul", "mul", True)

    def __truediv__(self, o):
        return self._bin(o, "div", "div")

    def __rtruediv__(self, o):
        if _num(o):
            return SymTensor(_jop("rdiv", self._s.rdiv, float(o)))
        return self._bin(o, "div", "div", True)

    def __pow__(self, e):
        if _num(e):
            e = float(e)
            if e == 1.0:
                return self
            if e == 2.0:
                return self.square()
            if e == 0.5:
                return self.sqrt()
            return SymTensor(_jop("pow", self._s.pow, e))
        return (self.log() * e).exp()          # x ** y = exp(y log x) for a tensor exponent

    def __rpow__(self, base):
        import math
        if _num(base):
            if base <= 0:
                raise refuse("%r ** x: the base must be > 0 to be traced as exp(x log base)" % (base,))
            return (self * math.log(base)).exp()
        return (SymTensor(_to_sym(base, "pow")).log() * self).exp()

    def __matmul__(self, o):
        return matmul(self, o)

    def __rmatmul__(self, o):
        return matmul(SymTensor(_to_sym(o, "matmul")), self)

    def __neg__(self):
        return SymTensor(_jop("neg", self._s.neg))

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    # comparisons: 1.0 where true, else 0.0 (masks for jdyn.where; no derivative)
    def __gt__(self, o):
        return self._bin(o, "gt", "gt")

    def __lt__(self, o):
        return self._bin(o, "lt", "lt")

    def __ge__(self, o):
        return 1.0 - self._bin(o, "lt", "lt")

    def __le__(self, o):
        return 1.0 - self._bin(o, "gt", "gt")

    def __eq__(self, o):
        return self._bin(o, "eq", "eq")

    def __ne__(self, o):
        return 1.0 - self._bin(o, "eq", "eq")

    __hash__ = object.__hash__

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

    gt = __gt__
    lt = __lt__
    ge = __ge__
    le = __le__
    eq = __eq__
    ne = __ne__
    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    matmul = __matmul__

    # ------------------------------------------------------------------ element-wise, one operand
    def _un(self, name, *args):
        return SymTensor(_jop(name, getattr(self._s, name), *args))

    def neg(self):
        return self._un("neg")

    def exp(self):
        return self._un("exp")

    def log(self):
        return self._un("log")

    def sqrt(self):
        return self._un("sqrt")

    def square(self):
        return self._un("square")

    def abs(self):
        return self._un("abs")

    def sin(self):
        return self._un("sin")

    def cos(self):
        return self._un("cos")

    def tan(self):
        return self.sin() / self.cos()

    def tanh(self):
        return self._un("tanh")

    def sinh(self):
        return (self.exp() - (-self).exp()) * 0.5

    def cosh(self):
        return (self.exp() + (-self).exp()) * 0.5

    def sigmoid(self):
        return self._un("sigmoid")

    def relu(self):
        return self._un("relu")

    def silu(self):
        return self._un("silu")

    def sign(self):
        return self._un("sign")

    def softplus(self, beta=1.0, threshold=20.0):
        return SymTensor(_jop("softplus", self._s.softplus, float(beta), float(threshold)))

    def elu(self, alpha=1.0):
        return SymTensor(_jop("elu", self._s.elu, float(alpha)))

    def leaky_relu(self, negative_slope=0.01):
        return where(self > 0.0, self, self * float(negative_slope))

    def log1p(self):
        return (self + 1.0).log()

    def expm1(self):
        return self.exp() - 1.0

    def reciprocal(self):
        return 1.0 / self

    def rsqrt(self):
        return 1.0 / self.sqrt()

    def clamp(self, min=None, max=None):
        out = self
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out

    clip = clamp

    def maximum(self, o):
        return maximum(self, o)

    def minimum(self, o):
        return minimum(self, o)

    # ------------------------------------------------------------------ reductions
    def _dims(self, dim):
        return sorted((d + len(self._shape) if d < 0 else d for d in dim), reverse=True) \
            if isinstance(dim, (tuple, list)) else None

    def _reduce(self, name, dim, keepdim):
        if dim is None:
            if keepdim:
                raise refuse("%s(keepdim=True) without a dim: give the dims to reduce" % name)
            return SymTensor(_jop(name, getattr(self._s, name)))
        dims = self._dims(dim)
        if dims is not None:
            out = self
            for d in dims:
                out = out._reduce(name, d, keepdim)
            return out
        return SymTensor(_jop("%s(dim=%s) of shape %s" % (name, dim, self._shape), getattr(self._s, name),
                              int(dim), bool(keepdim)))

    def sum(self, dim=None, keepdim=False):
        return self._reduce("sum", dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return self._reduce("mean", dim, keepdim)

    def max(self, dim=None, keepdim=False):
        if dim is None:
            if self._batched():
                per = 1
                for d in self._shape[1:]:
                    per *= d
                flat = self if len(self._shape) == 2 else self.reshape(-1, per)
                return SymTensor(_jop("max", flat._s.max, 1, False)).max(0, False)[0]
            flat = self if len(self._shape) == 1 else self.reshape(-1)
            return SymTensor(_jop("max", flat._s.max, 0, False)) if self._shape else self
        return MaxResult(SymTensor(_jop("max(dim=%s) of shape %s" % (dim, self._shape), self._s.max, int(dim),
                                        bool(keepdim))))

    def min(self, dim=None, keepdim=False):
        r = (-self).max(dim, keepdim)
        return MaxResult(-r[0]) if isinstance(r, MaxResult) else -r

    def amax(self, dim, keepdim=False):
        return self.max(dim, keepdim)[0]

    def amin(self, dim, keepdim=False):
        return self.min(dim, keepdim)[0]

    def norm(self, p=2, dim=None, keepdim=False):
        if p != 2:
            raise refuse("norm(p=%r): only the 2-norm is traced" % (p,))
        return self.square().sum(dim, keepdim).sqrt()

    def softmax(self, dim):
        return SymTensor(_jop("softmax(dim=%s)" % (dim,), self._s.softmax, int(dim)))

    def log_softmax(self, dim):
        return SymTensor(_jop("log_softmax(dim=%s)" % (dim,), self._s.logSoftmax, int(dim)))

    # ------------------------------------------------------------------ shapes
    def _resolve(self, shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = [int(d) for d in shape]
        batched = self._batched()
        per = 1
        for d in self._shape:
            if d != -1:
                per *= d
        if batched:
            if not shape or shape[0] != -1:
                raise refuse("reshape of %s to %s: keep the batch first (x.reshape(-1, ...) or x.reshape(x.shape[0], "
                             "...)); the batch cannot be merged with other dimensions" % (self._shape, tuple(shape)))
            rest = shape[1:]
        else:
            rest = shape
        free = [i for i, d in enumerate(rest) if d == -1]
        if len(free) > 1:
            raise refuse("reshape to %s: at most one dimension may be -1 (besides the batch)" % (tuple(shape),))
        known = 1
        for d in rest:
            if d != -1:
                known *= d
        if free:
            if known == 0 or per % known:
                raise refuse("reshape of %s to %s: %d elements per sample do not fit" % (self._shape, tuple(shape), per))
            rest[free[0]] = per // known
        elif known != per:
            raise refuse("reshape of %s to %s: %d elements per sample, the new shape holds %d"
                         % (self._shape, tuple(shape), per, known))
        return ([-1] if batched else []) + rest

    def reshape(self, *shape):
        new = self._resolve(shape)
        if tuple(new) == self._shape:
            return self
        return SymTensor(_jop("reshape", self._s.reshape, *new))

    view = reshape

    def view_as(self, other):
        return self.reshape(*other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        r = len(self._shape)
        s, e = start_dim % r if r else 0, end_dim % r if r else 0
        if self._batched() and s == 0:
            raise refuse("flatten(start_dim=0) would merge the batch: use x.flatten(1)")
        n = 1
        for d in self._shape[s:e + 1]:
            n *= d
        return self.reshape(*(self._shape[:s] + (n,) + self._shape[e + 1:]))

    def unsqueeze(self, dim):
        r = len(self._shape) + 1
        d = dim + r if dim < 0 else dim
        if self._batched() and d == 0:
            raise refuse("unsqueeze(0) would put a dimension before the batch")
        return self.reshape(*(self._shape[:d] + (1,) + self._shape[d:]))

    def squeeze(self, dim=None):
        if dim is None:
            new = tuple(d for d in self._shape if d != 1)
        else:
            d = dim % len(self._shape)
            new = self._shape if self._shape[d] != 1 else self._shape[:d] + self._shape[d + 1:]
        return self.reshape(*new)

    def expand(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return SymTensor(_jop("expand", self._s.broadcastTo, *[int(d) for d in shape]))

    def expand_as(self, other):
        return self.expand(*other.shape)

    def transpose(self, dim0=-2, dim1=-1):
        r = len(self._shape)
        if r < 2 or sorted((dim0 % r, dim1 % r)) != [r - 2, r - 1]:
            raise refuse("transpose(%s, %s) of shape %s: only the last two dimensions can be swapped"
                         % (dim0, dim1, self._shape))
        return SymTensor(_jop("transpose of %s" % (self._shape,), self._s.transpose))

    def t(self):
        return self if len(self._shape) < 2 else self.transpose()

    @property
    def T(self):
        return self.t()

    @property
    def mT(self):
        return self.transpose()

    def new_zeros(self, *shape):
        return self.new_full(shape, 0.0)

    def new_ones(self, *shape):
        return self.new_full(shape, 1.0)

    def new_full(self, shape, fill_value):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return SymTensor(_jop("new_full", self._s.newFull, float(fill_value), *[int(d) for d in shape]))

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, index):
        slices, out = index_plan(index, self._shape, _trace_fail, "a traced tensor")
        s = self._s
        for dim, a, b in slices:
            what = "x[%d]" % a if b == a + 1 else "x[%d:%d]" % (a, b)
            s = _jop("%s along dimension %d of shape %s" % (what, dim, self._shape), s.slice, dim, a, b)
        res = SymTensor(s)
        if tuple(out) != res._shape:
            res = SymTensor(_jop("reshape", s.reshape, *out))
        return res

    def __setitem__(self, index, value):
        raise refuse("assignment into a traced tensor (x[...] = v) cannot be traced: build the result with "
                     "jdyn.cat / jdyn.stack / jdyn.where")


# ---------------------------------------------------------------------------------------- indexing
def _trace_fail(message, kind="refuse"):
    """How the tracer fails an index: a TracingError at the user's line (IndexError for an index out of range)."""
    if kind == "range":
        return IndexError(message)
    return refuse(message)


def index_plan(index, shape, fail, what="a tensor"):
    """x[index] for a tensor of this shape (-1 first for a traced batch) as basic indexing: (slices, out)
    where slices are (dim, start, stop) along the tensor's own dimensions (stop exclusive; an int index is
    the slice k:k+1 whose dimension is then dropped; full slices are left out) and out the shape of the
    result (a reshape of the sliced tensor). Handles ints (negative ones too), slices without a step, None
    (a new dimension of size 1) and one Ellipsis. fail(message, kind) returns the exception to raise
    (kind "range": an index out of range; "index": too many indices or ellipses; "type": an index of an
    unsupported kind; "empty": an empty slice; "refuse": what the tracer or jdyn cannot do);
    the eager tensor and the tracer share this parser."""
    if not isinstance(index, tuple):
        index = (index,)
    for i in index:
        if isinstance(i, SymTensor) or (hasattr(i, "_j") and not isinstance(i, slice)) or \
                isinstance(i, (list, bool)):
            raise fail("indexing %s with a tensor or a list (masks, gather) is not supported: use jdyn.where(mask, "
                       "a, b) or slices x[:, a:b]" % what, "type")
    real = [i for i in index if i is not None and i is not Ellipsis]
    rank = len(shape)
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise fail("an index can hold one ellipsis (...)", "index")
    if len(real) > rank:
        raise fail("too many indices (%d) for a tensor of shape %s" % (len(real), tuple(shape)), "index")
    full = []
    for i in index:
        if i is Ellipsis:
            full.extend([slice(None)] * (rank - len(real)))
        else:
            full.append(i)
    if not any(i is Ellipsis for i in index):
        full.extend([slice(None)] * (rank - len(real)))
    dim, out, slices = 0, [], []
    for i in full:
        if i is None:
            out.append(1)
            continue
        size = shape[dim]
        if isinstance(i, slice):
            if i.step not in (None, 1):
                raise fail("slices with a step (%r) are not supported; select the parts and jdyn.cat them" % (i,))
            if size == -1:
                if i.start is not None or i.stop is not None:
                    raise fail("the batch dimension cannot be sliced in a vector field (its size is known only "
                               "when the program runs): index the features, x[:, a:b]")
                out.append(-1)
            else:
                a, b, _ = i.indices(size)
                if b <= a:
                    raise fail("the slice %r of a dimension of size %d is empty (empty tensors are not supported)"
                               % (i, size), "empty")
                if (a, b) != (0, size):
                    slices.append((dim, a, b))
                out.append(b - a)
        else:
            try:
                k = operator.index(i)
            except TypeError:
                raise fail("cannot index %s with %r" % (what, i), "type") from None
            if size == -1:
                raise fail("indexing the batch dimension (x[%d]) cannot be traced: the field is written for the "
                           "whole batch; index the features with x[:, %d]" % (k, k))
            if not -size <= k < size:
                raise fail("index %d is out of range for dimension %d of size %d (shape %s)"
                           % (k, dim, size, tuple(shape)), "range")
            k = k + size if k < 0 else k
            slices.append((dim, k, k + 1))
        dim += 1
    if -1 in out and out.index(-1) != 0:
        raise fail("a new dimension (None) before the batch: the batch stays first")
    return slices, out


# ---------------------------------------------------------------------------------------- functions
def as_sym(v, what="operand"):
    """v as a SymTensor of the trace in progress (numbers and concrete tensors become constants)."""
    return v if isinstance(v, SymTensor) else SymTensor(_to_sym(v, what))


def involves_sym(*args):
    """Whether any argument is traced (or an nn.Parameter while a trace runs)."""
    if any(isinstance(a, SymTensor) for a in args):
        return True
    if _stack:
        from .nn import Parameter
        return any(isinstance(a, Parameter) for a in args)
    return False


def matmul(a, b):
    a, b = as_sym(a, "matmul"), as_sym(b, "matmul")
    ra, rb = len(a.shape), len(b.shape)
    what = "matmul of shapes %s and %s" % (a.shape, b.shape)
    if rb == 1:     # [..., k] @ [k]: [...]
        left = a if ra > 1 else a.reshape(1, a.shape[0])
        return SymTensor(_jop(what, left._s.matmul, b.reshape(b.shape[0], 1)._s)).reshape(*a.shape[:-1])
    if ra == 1:
        return SymTensor(_jop(what, a.reshape(1, a.shape[0])._s.matmul, b._s)).reshape(b.shape[-1])
    if b._batched():
        if a._batched() and ra == 3 and rb == 3:
            return SymTensor(_jop(what, a._s.bmm, b._s))
        raise refuse("%s: the right operand may be batched only in a batched product [-1, m, k] @ [-1, k, n]" % what)
    return SymTensor(_jop(what, a._s.matmul, b._s))


def where(cond, a, b):
    if isinstance(cond, bool):
        return a if cond else b
    c = as_sym(cond, "where")
    return SymTensor(_jop("where", jtype(_FN + "Sym").where, c._s, _to_sym(a, "where"), _to_sym(b, "where")))


def maximum(a, b):
    a = as_sym(a, "maximum")
    return SymTensor(_jop("maximum", a._s.maximum, _to_sym(b, "maximum")))


def minimum(a, b):
    a = as_sym(a, "minimum")
    return SymTensor(_jop("minimum", a._s.minimum, _to_sym(b, "minimum")))


def cat(tensors, dim=0):
    parts = [as_sym(t, "cat")._s for t in tensors]
    if not parts:
        raise refuse("cat needs at least one tensor")
    shapes = ", ".join(str(as_sym(t).shape) for t in tensors)
    return SymTensor(_jop("cat(dim=%s) of shapes %s" % (dim, shapes), jtype(_FN + "Sym").cat, int(dim), *parts))


def stack(tensors, dim=0):
    parts = [as_sym(t, "stack")._s for t in tensors]
    if not parts:
        raise refuse("stack needs at least one tensor")
    shapes = ", ".join(str(as_sym(t).shape) for t in tensors)
    return SymTensor(_jop("stack(dim=%s) of shapes %s" % (dim, shapes), jtype(_FN + "Sym").stack, int(dim), *parts))


def full_like(x, value):
    return SymTensor(_jop("full_like", as_sym(x)._s.fullLike, float(value)))


def vjp(outputs, inputs, cotangents):
    """Reverse mode inside the trace (Graph.vjp): one SymTensor per input."""
    tr = current()
    outs = [as_sym(o, "grad outputs")._s for o in outputs]
    ins = [as_sym(i, "grad inputs")._s for i in inputs]
    cts = [as_sym(c, "grad_outputs")._s for c in cotangents]
    res = _jop("autograd.grad", tr.graph.vjp, outs, cts, ins)
    return tuple(SymTensor(r) for r in res)


def jvp(inputs, tangents, outputs):
    tr = current()
    ins = [as_sym(i, "jvp inputs")._s for i in inputs]
    tgs = [as_sym(v, "jvp tangents")._s for v in tangents]
    outs = [as_sym(o, "jvp outputs")._s for o in outputs]
    res = _jop("jvp", tr.graph.jvp, ins, tgs, outs)
    return tuple(SymTensor(r) for r in res)


# ---------------------------------------------------------------------------------------- the Fn
def _positional_arity(fn):
    """How many positional arguments without defaults fn takes (self excluded for a bound method)."""
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    n = 0
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            n += 1
    return n


def _function_modules(f):
    """Modules (and parameters) a plain function reaches through its closure and globals, by name."""
    from .nn import Module
    found = {}
    code = getattr(f, "__code__", None)
    if code is None:
        return found
    cells = getattr(f, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars, cells):
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if isinstance(v, Module):
            found.setdefault(name, v)
    g = getattr(f, "__globals__", {})
    for name in code.co_names:
        v = g.get(name)
        if isinstance(v, Module):
            found.setdefault(name, v)
    return found


def _function_params(f):
    from .nn import Parameter
    out = {}
    code = getattr(f, "__code__", None)
    if code is None:
        return out
    for name, cell in zip(code.co_freevars, getattr(f, "__closure__", None) or ()):
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if isinstance(v, Parameter):
            out[id(v)] = name
    g = getattr(f, "__globals__", {})
    for name in code.co_names:
        v = g.get(name)
        if isinstance(v, Parameter):
            out.setdefault(id(v), name)
    return out


def infer_dim(f):
    """The state width of a Module or function field from its first Linear-like layer, or None."""
    from .nn import GalLinear, Linear, Module, Sequential
    hook = getattr(f, "_jdyn_state_dim", None)      # a field whose state is wider than its net's input (CNF)
    if callable(hook):
        return hook()
    roots = [f] if isinstance(f, Module) else list(_function_modules(f).values())
    seen = set()

    def first(m):
        if id(m) in seen:
            return None
        seen.add(id(m))
        if isinstance(m, (Linear, GalLinear)):
            return m.in_features
        if isinstance(m, Sequential):
            try:
                return m.in_features()
            except (ValueError, TypeError):
                pass
        for c in m.__dict__.get("_modules", {}).values():
            if c is not None:
                r = first(c)
                if r is not None:
                    return r
        return None

    for r in roots:
        d = first(r)
        if d is not None:
            return d
    return None


class FieldFn:
    """An io.jdyn.fn.Fn (GraalPy passes this object where Java takes one): apply(t, x, p) runs the user's
    forward once on SymTensors and returns the output's Java Sym. NeuralField.of calls it once, when the
    program is built; the program then runs with no Python."""

    def __init__(self, f, dtype="float32", order=1):
        from .nn import Module
        self.f = f
        self.dtype = dtype
        self.order = int(order)
        self.is_module = isinstance(f, Module)
        target = f.forward if self.is_module else f
        self.fn_modules = {} if self.is_module else _function_modules(f)
        self.fn_params = {} if self.is_module else _function_params(f)
        n = _positional_arity(target)
        self.with_t = n is None or n >= 2
        if n == 0:
            raise TypeError("the vector field %r takes no argument: write forward(self, x) / forward(self, t, x) or "
                            "f(x) / f(t, x)" % (f,))
        self.declared = []
        self.last_where = None

    def describe(self):
        f = self.f
        target = f.forward if self.is_module else f
        code = getattr(target, "__code__", None)
        loc = " (%s, line %d)" % (code.co_filename, code.co_firstlineno) if code is not None else ""
        name = type(f).__name__ + ".forward" if self.is_module else getattr(f, "__qualname__", repr(f))
        return "traced " + name + loc

    def __repr__(self):
        return self.describe()

    __str__ = __repr__

    def apply(self, t, x, p):
        tr = _Trace(t, p, self.dtype, self.f if self.is_module else None, self.fn_modules)
        for pid, name in self.fn_params.items():
            tr.param_names.setdefault(pid, name)
        _stack.append(tr)
        try:
            xs = SymTensor(x)
            if self.is_module:
                from .nn import Sequential
                if isinstance(self.f, Sequential):
                    out = tr.call_module(self.f, (xs,), {})
                else:
                    out = self.f.forward(tr.t, xs) if self.with_t else self.f.forward(xs)
            else:
                out = self.f(tr.t, xs) if self.with_t else self.f(xs)
            self.declared = list(tr.declared)
            return self._check(out, xs)._s
        finally:
            _stack.pop()

    def _check(self, out, x):
        from ._tensor import Tensor
        name = self.describe()
        if isinstance(out, (tuple, list)) and len(out) == 1:
            out = out[0]
        if isinstance(out, Tensor) or _num(out):
            raise TracingError("%s returned a constant (%r) that does not depend on t or x: a vector field returns "
                               "a tensor computed from x (x * 0 + c for a constant field)" % (name, _short(out)))
        if not isinstance(out, SymTensor):
            raise TracingError("%s returned %s (%r), not a tensor: a vector field returns one tensor shaped as the "
                               "state" % (name, type(out).__name__, _short(out)))
        width = x.shape[-1] if self.order == 1 else x.shape[-1] // 2
        want = (-1, width)
        if out.shape != want:
            raise TracingError("%s returned shape %s but the state has shape %s: a vector field must return %s%s"
                               % (name, out.shape, x.shape, want,
                                  " (the acceleration, for order 2)" if self.order == 2 else ""))
        return out

    def bind(self, field):
        """After the program is built: copies the nn.Parameters' values into the field and binds the module's
        parameters to it (state_dict(), named_parameters() read the trained values from there)."""
        params = field.parameters()
        names = set(str(n) for n in params.names())
        for name, prm in self.declared:
            if name in names:
                params.set(name, prm._j.toDoubleArray())
                prm._bind(field, name)
        from .nn import Module
        if isinstance(self.f, Module):
            self.f._bind(field)
        for m in self.fn_modules.values():
            m._bind(field)


# ---------------------------------------------------------------------------------------- jdyn.trace
class TracedField:
    """What jdyn.trace(f) returns (torch.jit.trace's ScriptModule): f compiled into a native vector field
    (an io.jdyn.nn.NeuralField, ``.java``). ``field(x)`` / ``field(t, x)`` evaluates it natively;
    ``NeuralODE(field, ...)`` solves it; ``parameters()`` are its parameters."""

    def __init__(self, fn, java):
        self._fn, self._j = fn, java

    def __call__(self, *args):
        from ._java import jcall

        @jcall
        def run():
            if len(args) not in (1, 2):
                raise TypeError("a traced field is called as field(x) or field(t, x)")
            from ._tensor import Tensor, as_tensor
            t = float(args[0]) if len(args) == 2 else 0.0
            dt = "float32" if str(self._j.dtype().name()) == "FLOAT32" else "float64"
            return Tensor(self._j.forward(t, as_tensor(args[-1], dt)._j))
        return run()

    def parameters(self):
        from .optim import ParamGroups
        return ParamGroups([self._j])

    @property
    def java(self):
        """The io.jdyn.nn.NeuralField."""
        return self._j

    def __repr__(self):
        return "TracedField(%s, dim=%d, params=%d)" % (self._fn.describe(), int(self._j.dim()),
                                                       int(self._j.numParams()))


def trace(f, dim=None, dtype="float32", seed=0):
    """Traces f (an nn.Module with forward(x) / forward(t, x), or a function f(t, x) / f(x)) once into a
    native vector field over states [batch, dim] (torch.jit.trace): returns a TracedField. dim: the state
    width, read from f's first Linear unless given."""
    from ._java import jcall

    @jcall
    def build():
        fn = FieldFn(f, dtype=dtype)
        d = dim if dim is not None else infer_dim(f)
        if d is None:
            raise ValueError("cannot tell the state width of %r (it has no Linear layer to read it from): give "
                             "jdyn.trace(f, dim=D)" % (f,))
        j = jtype("io.jdyn.nn.NeuralField").of(fn, int(d), jtype("io.jdyn.polyglot.Values").dtype(dtype), int(seed))
        fn.bind(j)
        return TracedField(fn, j)
    return build()
