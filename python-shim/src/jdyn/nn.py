"""Layers, containers and losses with torch.nn's and torchdyn's names.

Layers here are descriptions: jdyn compiles a stack of them into a native layer program (the vector
field of a NeuralODE, or a block of a model), so a forward or backward pass never calls back into Python.
``Sequential(Linear(2, 64), Tanh(), Linear(64, 2))`` is a vector field; a Sequential that contains a
NeuralODE (``Sequential(Augmenter(1, 3), NeuralODE(f), Linear(5, 2))``) is a model.
"""
from ._java import jcall, jtype
from ._tensor import OPS, Fn, Tensor, as_tensor, is_grad_enabled, _eager

_NN = "io.jdyn.nn."


class Module:
    """The base of jdyn's Python modules, and of vector fields written the torch way.

    Subclass it as torch.nn.Module: assign layers (``self.net = nn.Sequential(...)``), other modules and
    ``nn.Parameter``s as attributes in __init__, and write ``forward(self, x)`` or ``forward(self, t, x)``
    with jdyn's tensor operations. Given to ``NeuralODE(f)`` (or ``jdyn.trace(f)``) the forward is traced
    once into a native program (see jdyn._trace); its parameters are named as PyTorch's state_dict names
    them ("net.0.weight", "scale"). Once compiled, ``parameters()``, ``named_parameters()``,
    ``state_dict()`` / ``load_state_dict()`` see the compiled field's values, and ``f(x)`` / ``f(t, x)``
    evaluates it natively."""

    training = True

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})

    # ------------------------------------------------------------------ attribute registration
    def __setattr__(self, name, value):
        d = self.__dict__
        if isinstance(value, Parameter):
            d.pop(name, None)
            d.get("_modules", {}).pop(name, None)
            d.setdefault("_parameters", {})[name] = value
            return
        if isinstance(value, Module) and not name.startswith("_"):
            d.pop(name, None)
            d.get("_parameters", {}).pop(name, None)
            d.setdefault("_modules", {})[name] = value
            return
        d.get("_parameters", {}).pop(name, None)
        d.get("_modules", {}).pop(name, None)
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only reached when normal lookup fails: parameters and submodules live in their own dicts
        d = self.__dict__
        ps = d.get("_parameters")
        if ps is not None and name in ps:
            p = ps[name]
            from . import _trace
            tr = _trace.current()
            if tr is not None and p is not None:
                return tr.param(p)
            return p
        ms = d.get("_modules")
        if ms is not None and name in ms:
            return ms[name]
        raise AttributeError("%r object has no attribute %r" % (type(self).__name__, name))

    def __delattr__(self, name):
        d = self.__dict__
        if name in d.get("_parameters", {}):
            del d["_parameters"][name]
        elif name in d.get("_modules", {}):
            del d["_modules"][name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError("register_parameter takes an nn.Parameter, got %r" % (param,))
        self.__dict__.setdefault("_parameters", {})[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A constant tensor of the module (baked into the traced program as a constant)."""
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        self.__dict__.setdefault("_modules", {})[name] = module

    # ------------------------------------------------------------------ the module tree
    def children(self):
        return [m for m in self.__dict__.get("_modules", {}).values() if m is not None]

    def named_children(self):
        return [(n, m) for n, m in self.__dict__.get("_modules", {}).items() if m is not None]

    def named_modules(self, memo=None, prefix=""):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for n, m in self.named_children():
            yield from m.named_modules(memo, prefix + "." + n if prefix else n)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def train(self, mode=True):
        self.training = bool(mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        return self

    def to(self, *args, **kwargs):
        return self

    # ------------------------------------------------------------------ calls
    def __call__(self, *args, **kwargs):
        from . import _trace
        tr = _trace.current()
        if tr is not None and _trace.involves_sym(*args, *kwargs.values()):
            return tr.call_module(self, args, kwargs)
        if _is_user_module(self):
            return self._run_compiled(args, kwargs)
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(type(self).__name__ + " has no forward pass of its own: it is a layer "
                                  "description, compiled into a vector field or a model")

    # ------------------------------------------------------------------ compiled parameters
    def _bind(self, field, prefix=""):
        """Called when a NeuralODE (or jdyn.trace) compiled this module (at prefix within the field)."""
        object.__setattr__(self, "_field", field)
        object.__setattr__(self, "_field_prefix", prefix)
        pending = self.__dict__.pop("_pending_state", None)
        for n, m in self.named_children():
            m._bind(field, prefix + n + ".")
        if pending:
            self.load_state_dict(pending, strict=False)

    def _compiled(self):
        return self.__dict__.get("_field")

    @jcall
    def _run_compiled(self, args, kwargs):
        field = self._compiled()
        if field is None:       # not compiled: a model of the user's (NeuralODE blocks, tensor arithmetic) runs eagerly
            try:
                return self.forward(*args, **kwargs)
            except NotImplementedError as e:
                raise NotImplementedError("%s\n(%s.forward runs eagerly only with operations of concrete tensors; a "
                                          "vector field is traced into a native program: give it to NeuralODE(f) or "
                                          "jdyn.trace(f), after which f(x) / f(t, x) evaluates the compiled field)"
                                          % (e, type(self).__name__)) from None
        if kwargs or len(args) not in (1, 2):
            raise TypeError("a compiled field is called as f(x) or f(t, x)")
        t = float(args[0]) if len(args) == 2 else 0.0
        from ._tensor import as_tensor
        dt = "float32" if str(field.dtype().name()) == "FLOAT32" else "float64"
        x = as_tensor(args[-1], dt)
        return Tensor(field.forward(t, x._j))

    def parameters(self, recurse=True):
        """The parameters of the compiled field this module belongs to (for an optimizer)."""
        field = self._compiled()
        if field is None:
            raise ValueError("%s has not been compiled yet: its parameters are created when NeuralODE(f) (or "
                             "jdyn.trace(f)) traces it; give the optimizer model.parameters()" % type(self).__name__)
        from .optim import ParamGroups
        return ParamGroups([field])

    @jcall
    def named_parameters(self, prefix="", recurse=True):
        """(name, tensor) pairs with PyTorch's state_dict names; the values of the compiled field once compiled
        (copies; nn.Parameter objects themselves for parameters that were not compiled)."""
        out = []
        field = self._compiled()
        seen = set()
        if field is not None:
            own = self.__dict__.get("_field_prefix", "")
            params = field.parameters()
            for name in params.names():
                name = str(name)
                if name.startswith(own):
                    seen.add(name[len(own):])
                    out.append((prefix + name[len(own):], _param_tensor(field, name)))
        natives = []
        for name, m in self.named_modules():
            if any(name.startswith(n + ".") for n in natives):
                continue
            if name and _separate(m):
                natives.append(name)        # a NeuralODE or a model Sequential: its parameters live natively
                out.extend(m.named_parameters(prefix + name + "."))
                continue
            for pn, p in m.__dict__.get("_parameters", {}).items():
                full = name + "." + pn if name else pn
                if p is not None and full not in seen:
                    out.append((prefix + full, p))
        return out

    def state_dict(self):
        """An ordered dict of name -> tensor (PyTorch's names; the compiled values once compiled)."""
        import collections
        return collections.OrderedDict((n, p._value_tensor() if isinstance(p, Parameter) else p)
                                       for n, p in self.named_parameters())

    @jcall
    def load_state_dict(self, state_dict, strict=True):
        """Sets the parameters by name: into the compiled field once compiled; before that into the
        nn.Parameters, the rest kept until compilation. strict: every name must match."""
        field = self._compiled()
        own = self.__dict__.get("_field_prefix", "")
        state_dict = dict(state_dict)
        natives = []
        for name, m in self.named_modules():    # NeuralODEs and model Sequentials load their own entries
            if name and _separate(m) and not any(name.startswith(n + ".") for n in natives):
                natives.append(name)
                sub = {k[len(name) + 1:]: v for k, v in state_dict.items() if k.startswith(name + ".")}
                for k in sub:
                    del state_dict[name + "." + k]
                m.load_state_dict(sub, strict)
        mine = {}
        for name, m in self.named_modules():
            if any(name == n or name.startswith(n + ".") for n in natives):
                continue
            for pn, p in m.__dict__.get("_parameters", {}).items():
                if p is not None:
                    mine[name + "." + pn if name else pn] = p
        known = set(mine)
        if field is not None:
            known |= {str(n)[len(own):] for n in field.parameters().names() if str(n).startswith(own)}
        given = set(state_dict)
        if strict and field is not None and given != known:
            raise KeyError("load_state_dict: missing %s, unexpected %s" % (sorted(known - given), sorted(given - known)))
        pending = {}
        field_names = set() if field is None else {str(n) for n in field.parameters().names()}
        for name, value in state_dict.items():
            data = _values(value)
            if own + name in field_names:
                field.parameters().set(own + name, data)
            elif name in mine:
                p = mine[name]
                if p._bound is not None:
                    p._bound[0].parameters().set(p._bound[1], data)
                else:
                    p._j = jtype("io.jdyn.polyglot.Values").tensor(value._j if isinstance(value, Tensor) else value,
                                                                   p.dtype)
                    p._shape = None
            else:
                pending[name] = value
        if pending:
            if strict and field is not None:
                raise KeyError("load_state_dict: unexpected %s" % sorted(pending))
            object.__setattr__(self, "_pending_state", pending)
        return self

    def __repr__(self):
        kids = self.named_children()
        extra = self.extra_repr()
        if not kids:
            return "%s(%s)" % (type(self).__name__, extra)
        lines = [extra] if extra else []
        for n, m in kids:
            lines.append("(%s): %s" % (n, repr(m).replace("\n", "\n  ")))
        return "%s(\n  %s\n)" % (type(self).__name__, "\n  ".join(lines))

    def extra_repr(self):
        return ""


def _separate(m):
    """A submodule whose parameters live natively on their own (a NeuralODE, a model Sequential): it names and
    loads them itself."""
    f = getattr(m, "_separate_params", None)
    return f is not None and f()


def _is_user_module(m):
    """A Module subclass whose forward is the user's (traced), not one of jdyn's own."""
    fwd = type(m).forward
    code = getattr(fwd, "__code__", None)
    return code is not None and not code.co_filename.startswith(_PKG_DIR)


_PKG_DIR = __file__.rsplit("/", 1)[0] + "/"


def _param_tensor(field, name):
    return _params_tensor(field.parameters(), name)


def _params_tensor(params, name):
    """A copy of the named tensor of an io.jdyn.nn.Parameters, shaped as it is."""
    info = params.info(name)
    shape = [int(v) for v in info.shape()]
    values = params.get(name)
    dt = "float32" if str(params.dtype().name()) == "FLOAT32" else "float64"
    from ._tensor import tensor as _mk
    flat = _mk(list(values), dtype=dt)
    return Tensor(flat._j.reshape(shape if shape else [1]), shape=tuple(shape))


def _values(value):
    """A state_dict value (a tensor, nested lists, a number) as a Java double[]."""
    if isinstance(value, Tensor):
        return value._j.toDoubleArray()
    return jtype("io.jdyn.polyglot.Values").tensor(value, "float64").toDoubleArray()


def _load_named(targets, state_dict, strict, what):
    """Loads a state_dict into natively held parameters: targets maps each name to (io.jdyn.nn.Parameters,
    its name there)."""
    given = set(state_dict)
    if strict and given != set(targets):
        raise KeyError("load_state_dict of %s: missing %s, unexpected %s"
                       % (what, sorted(set(targets) - given), sorted(given - set(targets))))
    for name, value in state_dict.items():
        t = targets.get(name)
        if t is None:
            continue
        data = _values(value)
        want = int(t[0].info(t[1]).count())
        if len(data) != want:
            raise ValueError("load_state_dict: %s holds %d values, the parameter %d" % (name, len(data), want))
        t[0].set(t[1], data)


class Parameter(Tensor):
    """torch.nn.Parameter: a tensor a Module learns. Assign it as an attribute in __init__
    (``self.scale = nn.Parameter(jdyn.tensor([1.0, 2.0]))``); in a traced forward it is a named parameter
    of the program, initialised with these values; once compiled its values (and .grad) are the compiled
    field's."""

    __slots__ = ("_bound",)

    def __init__(self, data=None, requires_grad=True):
        from ._tensor import tensor as _mk
        if data is None:
            raise ValueError("nn.Parameter needs its initial values (a jdyn.tensor)")
        src = data if isinstance(data, Tensor) else _mk(data, dtype="float64")
        if src._j is None:
            raise TypeError("nn.Parameter takes a float tensor, got %r" % (data,))
        Tensor.__init__(self, _eager().cast(src._j, src._j.dtype()), shape=src.shape)
        self._bound = None
        self._req = bool(requires_grad)      # a leaf: eager computations with it reach .grad

    def _bind(self, field, name):
        self._bound = (field, name)

    @jcall
    def _value_tensor(self):
        """The current values: a copy of the compiled field's once compiled, else a view of this tensor."""
        if self._bound is not None:
            return _param_tensor(*self._bound)
        return Tensor(self._j, owned=False, keep=self)

    def _eager(self):
        return self if self._bound is None else self._value_tensor()

    @property
    def data(self):
        return self._value_tensor()

    @property
    @jcall
    def grad(self):
        """Once compiled, the compiled field's gradient of this parameter (a copy); before, what eager
        backward() passes accumulated into it."""
        if self._bound is None:
            return self._grad
        field, name = self._bound
        from ._tensor import tensor as _mk
        dt = "float32" if str(field.dtype().name()) == "FLOAT32" else "float64"
        shape = [int(v) for v in field.parameters().info(name).shape()]
        return Tensor(_mk(list(field.parameters().grad(name)), dtype=dt)._j.reshape(shape if shape else [1]),
                      shape=tuple(shape))

    @grad.setter
    def grad(self, value):
        self._grad = value

    def tolist(self):
        return self._value_tensor().tolist()

    def __repr__(self):
        return "Parameter containing:\n" + repr(self._value_tensor())


def _traced_method(name):
    base = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        from . import _trace
        tr = _trace.current()
        if tr is not None:
            return getattr(tr.param(self), name)(*args, **kwargs)
        return base(self._eager(), *args, **kwargs)

    method.__name__ = name
    return method


for _n in OPS:
    setattr(Parameter, _n, _traced_method(_n))
Parameter.T = property(lambda self: _param_T(self))


def _param_T(self):
    from . import _trace
    tr = _trace.current()
    return tr.param(self).T if tr is not None else self._eager().T


class Layer(Module):
    """A layer description (compiled by jdyn; not callable on its own)."""

    def to_java(self, in_features):
        raise NotImplementedError

    def out_features(self, in_features):
        return in_features


class Linear(Layer):
    def __init__(self, in_features, out_features, bias=True):
        self.in_features, self.out_features_, self.bias = int(in_features), int(out_features), bool(bias)

    @jcall
    def to_java(self, in_features):
        return jtype(_NN + "Linear")(self.in_features, self.out_features_, self.bias)

    def out_features(self, in_features):
        return self.out_features_

    def __repr__(self):
        return "Linear(in_features=%d, out_features=%d, bias=%s)" % (self.in_features, self.out_features_, self.bias)


def _activation(name, java_name=None, doc=""):
    java_name = java_name or name

    class _Act(Layer):
        __doc__ = doc

        @jcall
        def to_java(self, in_features):
            return jtype(_NN + java_name)()

        def __repr__(self):
            return name + "()"

    _Act.__name__ = _Act.__qualname__ = name
    return _Act


Tanh = _activation("Tanh", doc="tanh, element-wise")
ReLU = _activation("ReLU", doc="max(x, 0), element-wise")
Softplus = _activation("Softplus", doc="log(1 + exp(x)), element-wise")
Sigmoid = _activation("Sigmoid", doc="1 / (1 + exp(-x)), element-wise")
SiLU = _activation("SiLU", doc="x * sigmoid(x), element-wise")
Sin = _activation("Sin", doc="sin(x), element-wise (periodic fields)")


class ELU(Layer):
    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    @jcall
    def to_java(self, in_features):
        return jtype(_NN + "ELU")(self.alpha)

    def __repr__(self):
        return "ELU(alpha=%g)" % self.alpha


class DepthCat(Layer):
    """torchdyn's DepthCat: concatenates the depth variable t to the input (one more feature)."""

    def __init__(self, idx_cat=1):
        if idx_cat != 1:
            raise ValueError("DepthCat concatenates t along the feature dimension (idx_cat=1), got idx_cat=%r" % (idx_cat,))
        self.idx_cat = 1

    @jcall
    def to_java(self, in_features):
        return jtype(_NN + "DepthCat")()

    def out_features(self, in_features):
        return in_features + 1

    def __repr__(self):
        return "DepthCat(idx_cat=1)"


class Augmenter(Layer):
    """torchdyn's Augmenter: appends augment_dims zeros to the features (augment_idx=1). In a model
    Sequential it is a block before the NeuralODE; order 'first' (zeros after x) or 'last'."""

    def __init__(self, augment_idx=1, augment_dims=5, order="first"):
        if augment_idx != 1:
            raise ValueError("Augmenter augments the feature dimension (augment_idx=1), got %r" % (augment_idx,))
        if order not in ("first", "last"):
            raise ValueError("Augmenter order must be 'first' or 'last', got %r" % (order,))
        self.augment_idx, self.augment_dims, self.order = 1, int(augment_dims), order

    @jcall
    def to_java(self, in_features):
        return jtype(_NN + "Augmenter")(self.augment_dims)

    def out_features(self, in_features):
        return in_features + self.augment_dims

    def __repr__(self):
        return "Augmenter(augment_idx=1, augment_dims=%d, order=%r)" % (self.augment_dims, self.order)


class GalLinear(Layer):
    """torchdyn's Galerkin linear layer: weights and biases that depend on depth t through a basis
    (expfunc 'fourier' with n_harmonics terms, or 'polynomial' with n_eig terms)."""

    def __init__(self, in_features, out_features, bias=True, expfunc="fourier", n_harmonics=5, n_eig=2,
                 period=1.0):
        if expfunc not in ("fourier", "polynomial"):
            raise ValueError("GalLinear expfunc must be 'fourier' or 'polynomial', got %r" % (expfunc,))
        self.in_features, self.out_features_ = int(in_features), int(out_features)
        self.bias, self.expfunc = bool(bias), expfunc
        self.n_harmonics, self.n_eig, self.period = int(n_harmonics), int(n_eig), float(period)

    @jcall
    def to_java(self, in_features):
        B = jtype(_NN + "Basis")
        if self.expfunc == "fourier":
            basis, n = B.fourier(self.period), self.n_harmonics
        else:
            basis, n = B.polynomial(), self.n_eig
        return jtype(_NN + "GalLinear")(self.in_features, self.out_features_, basis, n, self.bias)

    def out_features(self, in_features):
        return self.out_features_

    def __repr__(self):
        return "GalLinear(in_features=%d, out_features=%d, expfunc=%r)" % (self.in_features, self.out_features_,
                                                                            self.expfunc)


class Sequential(Module):
    """A stack of layers (a vector field, compiled natively) or of blocks with a NeuralODE (a model)."""

    def __init__(self, *modules, dtype="float32", seed=0):
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        Module.__init__(self)
        self.dtype, self.seed = dtype, int(seed)
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError("Sequential takes jdyn.nn layers and NeuralODE models, got %r" % (m,))
        self._list = list(modules)
        for i, m in enumerate(self._list):
            self._modules[str(i)] = m       # state_dict names "0.weight", "2.bias"
        self._model = None

    def children(self):
        return list(self._list)

    def __len__(self):
        return len(self._list)

    def __getitem__(self, i):
        return self._list[i]

    def __iter__(self):
        return iter(self._list)

    def is_model(self):
        from .models import NeuralODE
        return any(isinstance(m, NeuralODE) for m in self._list)

    def is_layer_stack(self):
        """Whether every element is a jdyn.nn layer (a vector field the layer program compiles)."""
        return all(isinstance(m, Layer) for m in self._list)

    def in_features(self):
        """The input width implied by the first layer that has one (DepthCat layers before it count)."""
        extra = 0
        for m in self._list:
            if isinstance(m, (Linear, GalLinear)):
                return m.in_features - extra
            if isinstance(m, DepthCat):
                extra += 1
            elif isinstance(m, Augmenter):
                extra += m.augment_dims
            elif hasattr(m, "in_features") and callable(getattr(m, "in_features")):
                return m.in_features() - extra
            elif hasattr(m, "_j") and m._j is not None:
                return int(m._j.inFeatures()) - extra
        raise ValueError("cannot tell the input width of %r: it has no Linear or GalLinear layer" % (self,))

    @jcall
    def to_java(self):
        """The io.jdyn.nn.Sequential of these layers (a vector-field description)."""
        if self.is_model():
            raise TypeError("this Sequential holds a NeuralODE: it is a model, not a vector field")
        layers = []
        width = self.in_features()
        for m in self._list:
            layers.append(m.to_java(width))
            width = m.out_features(width)
        return jtype(_NN + "Sequential").of(layers)

    # ---------------------------------------------------------------- as a model
    def _java_model(self):
        if self._model is None:
            from .models import build_sequential_model
            self._model = build_sequential_model(self)
        return self._model

    def forward(self, x):
        """As a model: a Sequential holding a NeuralODE, or a plain stack of layers (an MLP, run natively as
        one layer block, float32 unless built with dtype=). Given to NeuralODE(...), the same layers are a
        vector field of their own (with their own parameters)."""
        from .models import run_model
        return run_model(self, self._java_model(), x)

    def parameters(self):
        """The parameters of this Sequential used as a model (see forward)."""
        from .optim import ParamGroups
        return ParamGroups([self])

    @jcall
    def zero_grad(self):
        self._java_model().zeroGrad()

    # ---------------------------------------------------------------- parameters by name
    def _separate_params(self):
        """Whether this Sequential holds parameters of its own (as a model) rather than being a description
        (of a field not compiled yet, or compiled into its parent's field)."""
        return self._compiled() is None and (self._model is not None or self.is_model())

    @jcall
    def named_parameters(self, prefix="", recurse=True):
        """PyTorch's names and copies of the values: of the vector field this Sequential became (given to a
        NeuralODE), else of this Sequential used as a model ("0.weight", "2.bias", "1.vf.0.weight" for a
        NeuralODE at index 1)."""
        if self._compiled() is not None:
            return Module.named_parameters(self, prefix, recurse)
        return [(prefix + n, _params_tensor(p, jn)) for n, (p, jn) in self._native_targets().items()]

    @jcall
    def load_state_dict(self, state_dict, strict=True):
        if self._compiled() is not None:
            return Module.load_state_dict(self, state_dict, strict)
        _load_named(self._native_targets(), state_dict, strict, "a Sequential model")
        return self

    def _native_targets(self):
        jm = self._java_model()
        out = {}
        for b, spec in zip(jm.blocks(), self._block_names):
            if spec is None:
                continue
            kind, where = spec
            params = b.parameters()
            for jn in params.names():
                jn = str(jn)
                if kind == "ode":
                    out["%d.vf.%s" % (where, jn)] = (params, jn)
                else:
                    k, _, rest = jn.partition(".")
                    out["%d.%s" % (where[int(k)], rest)] = (params, jn)
        return out

    def __repr__(self):
        inner = "\n".join("  (%d): %s" % (i, repr(m).replace("\n", "\n  ")) for i, m in enumerate(self._list))
        return "Sequential(\n%s\n)" % inner


# ---------------------------------------------------------------------- losses
class _Loss(Module):
    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError("reduction must be 'mean' or 'sum', got %r" % (reduction,))
        self.reduction = reduction
        self._jloss = None

    def _java_loss(self, name):
        # built once: a training loop calls the loss every step
        if self._jloss is None:
            self._jloss = jtype("io.jdyn.train.loss." + name)(self._java_reduction())
        return self._jloss

    def _java_reduction(self):
        return jtype("io.jdyn.train.loss.Reduction").valueOf(self.reduction.upper())

    def _result(self, lv, input):
        """The loss as a 0-d tensor of the input's dtype; its backward multiplies dL/dinput (computed with the
        value) by the incoming cotangent, natively."""
        out = Tensor(value=float(lv.value()), dtype=input.dtype)
        if input.requires_grad and is_grad_enabled():
            grad = lv.grad()   # dL/dinput; freed with lv when collected (FfmBuffer's Cleaner)
            out._grad_fn = Fn([input], lambda g: [_eager().binary("mul", grad, g)])
        else:
            lv.close()
        return out


class CrossEntropyLoss(_Loss):
    """torch.nn.CrossEntropyLoss over logits [batch, classes] and integer labels."""

    @jcall
    def forward(self, input, target):
        if not isinstance(input, Tensor) or input._j is None:
            raise TypeError("CrossEntropyLoss takes a float tensor of logits, got %r" % (input,))
        labels = target._ints if isinstance(target, Tensor) and target._ints is not None else \
            jtype("io.jdyn.polyglot.Values").labels(target.tolist() if isinstance(target, Tensor) else target)
        return self._result(self._java_loss("CrossEntropyLoss").compute(input._j, labels), input)


class MSELoss(_Loss):
    """torch.nn.MSELoss between two tensors of the same shape."""

    @jcall
    def forward(self, input, target):
        if not isinstance(input, Tensor) or input._j is None:
            raise TypeError("MSELoss takes a float tensor, got %r" % (input,))
        t = as_tensor(target, input.dtype)
        return self._result(self._java_loss("MSELoss").compute(input._j, t._j), input)


# ---------------------------------------------------------------------- torch.nn.functional
from . import functional  # noqa: E402
import sys as _sys  # noqa: E402

_sys.modules[__name__ + ".functional"] = functional
