"""Layers, containers and losses with torch.nn's and torchdyn's names.

Layers here are descriptions: jdyn compiles a stack of them into a native layer program (the vector
field of a NeuralODE, or a block of a model), so a forward or backward pass never calls back into Python.
``Sequential(Linear(2, 64), Tanh(), Linear(64, 2))`` is a vector field; a Sequential that contains a
NeuralODE (``Sequential(Augmenter(1, 3), NeuralODE(f), Linear(5, 2))``) is a model.
"""
from ._java import jcall, jtype
from ._tensor import Fn, Tensor, as_tensor

_NN = "io.jdyn.nn."


class Module:
    """The base of jdyn's Python modules: train()/eval(), parameters(), __call__ -> forward."""

    training = True

    def train(self, mode=True):
        self.training = bool(mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def children(self):
        return []

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(type(self).__name__ + " has no forward pass of its own: it is a layer "
                                  "description, compiled into a vector field or a model")


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
        self.dtype, self.seed = dtype, int(seed)
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError("Sequential takes jdyn.nn layers and NeuralODE models, got %r" % (m,))
        self._modules = list(modules)
        self._model = None

    def children(self):
        return list(self._modules)

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        return self._modules[i]

    def __iter__(self):
        return iter(self._modules)

    def is_model(self):
        from .models import NeuralODE
        return any(isinstance(m, NeuralODE) for m in self._modules)

    def in_features(self):
        """The input width implied by the first layer that has one (DepthCat layers before it count)."""
        extra = 0
        for m in self._modules:
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
        for m in self._modules:
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

    def __repr__(self):
        inner = "\n".join("  (%d): %s" % (i, repr(m).replace("\n", "\n  ")) for i, m in enumerate(self._modules))
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
        value = float(lv.value())
        fn = None
        if input._grad_fn is not None:
            grad = lv.grad()   # dL/dinput; freed with lv when collected (FfmBuffer's Cleaner)
            V = jtype("io.jdyn.polyglot.Values")
            fn = Fn([input], lambda g: [grad if g == 1.0 else V.scalar("mul", grad, float(g))])
        else:
            lv.close()
        return Tensor(value=value, grad_fn=fn)


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
