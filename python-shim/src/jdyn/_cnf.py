"""torchdyn's continuous normalizing flow (torchdyn.models.CNF) with its spelling: the field is torchdyn's own
formulation, [-tr(d net / d x), net(x)] on the state [dlogp, x], written with jdyn.autograd.grad and traced
once by NeuralODE into one native program (the trace, and for training its derivatives, included), so a
solve with any sensitivity runs without Python."""
from . import autograd as _autograd
from .functional import cat as _cat
from .nn import Module


def autograd_trace(x_out, x_in, **kwargs):
    """torchdyn's exact trace: sum over i of d x_out[:, i] / d x_in[:, i], one reverse pass each (O(D))."""
    tr = 0.
    for i in range(x_in.shape[1]):
        tr = tr + _autograd.grad(x_out[:, i].sum(), x_in, create_graph=True)[0][:, i]
    return tr


def hutch_trace(x_out, x_in, noise=None, **kwargs):
    """torchdyn's Hutchinson estimator: noise^T (d x_out / d x_in) noise per sample, one reverse pass."""
    if noise is None:
        raise ValueError("hutch_trace needs noise: give CNF(net, trace_estimator=hutch_trace, noise_dist=...)")
    e_dzdx = _autograd.grad(x_out, x_in, noise, create_graph=True)[0]
    return (e_dzdx * noise).sum(1)


REQUIRES_NOISE = [hutch_trace]


class CNF(Module):
    """torchdyn's CNF(net, trace_estimator=None, noise_dist=None, order=1): the vector field of a continuous
    normalizing flow on [dlogp, x] (the log-density change first: the model starts from
    Augmenter(augment_idx=1, augment_dims=1)). net maps x [batch, D] to [batch, D] (forward(x) or
    forward(t, x)); trace_estimator is autograd_trace (default, exact) or hutch_trace (needs noise_dist, a
    MultivariateNormal(zeros(D), eye(D)) or "rademacher": the noise is drawn natively per solve and held
    fixed within it)."""

    def __init__(self, net, trace_estimator=None, noise_dist=None, order=1):
        super().__init__()
        if order != 1:
            raise NotImplementedError("CNF(order=%r): only first-order flows (order=1) are supported" % (order,))
        self.net, self.order = net, order
        self.trace_estimator = trace_estimator if trace_estimator is not None else autograd_trace
        if self.trace_estimator in REQUIRES_NOISE and noise_dist is None:
            raise ValueError("%s needs noise_dist (e.g. MultivariateNormal(zeros(D), eye(D)))"
                             % (self.trace_estimator.__name__,))
        self.noise_dist, self.noise = noise_dist, None

    def forward(self, t, x):
        x_in = x[:, 1:]
        x_out = self._net(t, x_in)
        noise = self._noise(x_in) if self.trace_estimator in REQUIRES_NOISE else None
        tr = self.trace_estimator(x_out, x_in, noise=noise)
        return _cat([-tr[:, None], x_out], 1)

    def _net(self, t, x):
        """net(t, x) when its forward takes t, else net(x) (torchdyn's CNF calls net(x))."""
        import inspect
        fwd = getattr(self.net, "forward", self.net)
        try:
            n = len([p for p in inspect.signature(fwd).parameters.values()
                     if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
        except (TypeError, ValueError):
            n = 1
        return self.net(t, x) if n >= 2 else self.net(x)

    def _noise(self, x_in):
        """[batch, D] noise from the noise seed "<this module's name>.noise" (a parameter NeuralODE redraws
        before every solve, so fixed within one: torchdyn samples noise_dist once per forward)."""
        from . import _trace
        tr = _trace.current()
        if tr is None:
            raise NotImplementedError("CNF with hutch_trace runs as a traced field: give it to NeuralODE")
        p = tr.scope(tr.module_names.get(id(self), ""))
        seed = _trace._jop("the noise seed of hutch_trace", lambda: p.noiseSeed("noise"))
        d = int(x_in.shape[-1])
        kind = _noise_kind(self.noise_dist)
        return _trace.SymTensor(_jop_noise(seed, kind, d))

    def _jdyn_state_dim(self):
        """The state width NeuralODE compiles this field for: 1 + the data width read from net."""
        from ._trace import infer_dim
        d = infer_dim(self.net)
        return None if d is None else d + 1

    def __repr__(self):
        return "CNF(net=%r, trace_estimator=%s%s)" % (self.net, getattr(self.trace_estimator, "__name__", "?"),
                                                      "" if self.noise_dist is None else ", noise_dist=%r" % (self.noise_dist,))


def _jop_noise(seed, kind, d):
    from . import _trace
    if kind == "rademacher":
        return _trace._jop("rademacher noise", lambda: seed.rademacher(-1, d))
    return _trace._jop("gaussian noise", lambda: seed.randn(-1, d))


def _noise_kind(dist):
    if isinstance(dist, str):
        if dist.lower() in ("gaussian", "normal", "rademacher"):
            return "rademacher" if dist.lower() == "rademacher" else "gaussian"
        raise ValueError("noise_dist %r: give a standard MultivariateNormal, 'gaussian' or 'rademacher'" % (dist,))
    from .distributions import MultivariateNormal
    if isinstance(dist, MultivariateNormal):
        if not dist._is_standard():
            raise ValueError("noise_dist must have zero mean and identity covariance for hutch_trace to be unbiased")
        return "gaussian"
    raise TypeError("noise_dist must be MultivariateNormal(zeros(D), eye(D)), 'gaussian' or 'rademacher', got %r" % (dist,))
