"""NeuralODE with torchdyn's spelling, on jdyn's native solver core."""
from ._java import jcall, jtype
from ._tensor import TapeFn, Tensor, _eager, as_tensor, as_times, is_grad_enabled, weak
from .nn import Augmenter, Layer, Module, Sequential
from .energy import HNN, LNN  # noqa: F401  (torchdyn.models spelling)

_Values = "io.jdyn.polyglot.Values"


class _Tape:
    """One model call's tape (a Java trace). Runs the backward pass once (dL/dtheta into the model's
    gradient; dL/dx on to the input when it requires a gradient), then frees the tape; an output the caller
    still holds is first copied out so it stays readable."""

    def __init__(self, trace, x=None, after_backward=None):
        self.trace = trace
        self.outputs = []
        self.x = x if x is not None and x.requires_grad else None
        self.after_backward = after_backward  # called with the Java trace once its backward ran

    def _fn(self):
        return TapeFn(self, (self.x,) if self.x is not None else ())

    def output(self, java_tensor):
        t = Tensor(java_tensor, grad_fn=self._fn(), owned=False, keep=self)
        self.outputs.append(weak(t))
        return t

    def owned_output(self, java_tensor):
        """An output the trace handed over (takeOutput): it outlives the tape with no copy."""
        return Tensor(java_tensor, grad_fn=self._fn(), owned=True, keep=self)

    @jcall
    def backward(self, cot):
        """Runs the model's backward pass from the output cotangent cot; returns [dL/dx] when the input
        requires a gradient, else []."""
        if self.trace is None:
            raise RuntimeError("backward through this model call ran already (its tape is freed); call the model again")
        try:
            gx = self.trace.backward(cot)
            if self.after_backward is not None:
                self.after_backward(self.trace)
            return [_eager().unary("copy", gx)] if self.x is not None and gx is not None else []
        finally:
            self.release()

    def release(self):
        tr, self.trace = self.trace, None
        if tr is None:
            return
        for r in self.outputs:
            o = r()
            if o is not None and o._j is not None:
                o._j = o._j.copy()
                o._owned, o._keep, o._grad_fn = True, None, None
        tr.close()

    def __del__(self):
        try:
            self.release()
        except BaseException:
            pass


class NeuralODE(Module):
    """torchdyn's NeuralODE: ``model(x)`` is the state at the end of s_span (torchdyn 0.x, the seed
    tutorial's spelling), ``model(x, t_span)`` is ``(t_eval, trajectory)`` (torchdyn 1.x),
    ``model.trajectory(x, s_span)`` the states at every time of s_span, ``model.nfe`` the vector field
    evaluations so far.

    vector_field: a jdyn.nn.Sequential (or a single layer) of width dim -> dim, compiled into a native layer
    program; or a vector field written the torch way, an nn.Module with forward(x) / forward(t, x) or a function
    f(t, x) / f(x), traced once into a native program (dim: the state width, read from its first Linear
    unless given); or a field from jdyn.trace(f). solver: 'euler', 'midpoint', 'heun', 'rk4', 'bosh3', 'dopri5', 'tsit5' (default, as
    torchdyn), 'dopri8'. sensitivity: 'autograd', 'adjoint', 'interpolated_adjoint'. per_sample (jdyn's, torchdyn
    has none): every sample steps on its own with an adaptive solver, as if solved alone (torchode's per-sample
    stepping); the samples must not interact through the field.
    """

    def __init__(self, vector_field, solver="tsit5", order=1, atol=1e-3, rtol=1e-3, sensitivity="autograd",
                 solver_adjoint=None, atol_adjoint=1e-4, rtol_adjoint=1e-4, interpolator=None, integral_loss=None,
                 seminorm=False, return_t_eval=True, optimizable_params=(), s_span=(0.0, 1.0), dtype="float32",
                 seed=0, max_steps=None, dt=None, dim=None, per_sample=False, _java=None):
        if interpolator is not None:
            raise NotImplementedError("interpolator: jdyn's solvers use their own dense output; leave it None")
        if optimizable_params:
            raise NotImplementedError("optimizable_params is not supported: jdyn optimizes the vector field's parameters")
        if solver_adjoint is not None and solver_adjoint != solver:
            raise NotImplementedError("solver_adjoint must be None or the forward solver (%r): the backward solve uses "
                                      "the forward one" % (solver,))
        from ._hyper import HyperSolverTemplate
        # a hypersolver (torchdyn's NeuralODE(f, solver=HyperEuler(hypernet))): calls step with it on t_span, the
        # model itself keeps the base method for everything else
        self._hyper = solver if isinstance(solver, HyperSolverTemplate) else None
        if self._hyper is not None:
            if integral_loss is not None:
                raise NotImplementedError("integral_loss with a hypersolver: the hypersolver's solve has no cost "
                                          "column; use an adaptive or fixed solver by name")
            solver = self._hyper.base
        self.solver, self.sensitivity, self.order = solver, sensitivity, int(order)
        self.atol, self.rtol, self.atol_adjoint, self.rtol_adjoint = atol, rtol, atol_adjoint, rtol_adjoint
        self.seminorm, self.return_t_eval = bool(seminorm), bool(return_t_eval)
        self.per_sample = bool(per_sample)  # jdyn's: every sample steps on its own (torchode's per-sample stepping)
        self.integral_loss, self.integral_loss_value = integral_loss, None
        self.s_span = tuple(float(s) for s in s_span)
        self.training = True
        if isinstance(vector_field, Layer):
            vector_field = Sequential(vector_field)
        self.vf = vector_field
        if _java is not None:
            self._j = _java
            self._dtype = None
            return
        from ._trace import TracedField
        self._traced = None
        if isinstance(vector_field, TracedField):
            self._j = self._configure(jtype("io.jdyn.models.NeuralODE").builder(vector_field.java), None, None,
                                      max_steps, dt).build()
            self._dtype = None
            return
        if isinstance(vector_field, NeuralODE) or not callable(vector_field):
            raise TypeError("vector_field must be a jdyn.nn.Sequential of layers, an nn.Module with forward(x) or "
                            "forward(t, x), or a function f(t, x) / f(x), got %r" % (vector_field,))
        if isinstance(vector_field, Sequential) and vector_field.is_layer_stack():
            self._j = self._build(vector_field, dim, dtype, seed, max_steps, dt)
        else:
            self._j = self._build_traced(vector_field, dim, dtype, seed, max_steps, dt)
        self._dtype = None

    @jcall
    def _build(self, f, dim, dtype, seed, max_steps, dt):
        if dim is None:
            dim = f.in_features()
            if self.order == 2:
                dim = dim // 2
        J = jtype("io.jdyn.models.NeuralODE")
        j = self._configure(J.builder(f.to_java(), int(dim)), dtype, seed, max_steps, dt).build()
        f._bind(j.field())      # f.state_dict() / named_parameters() are the field's from now on
        return j

    @jcall
    def _build_traced(self, f, dim, dtype, seed, max_steps, dt):
        """A Module or function field traced once into a native program (see jdyn._trace)."""
        from ._trace import FieldFn, infer_dim
        fn = FieldFn(f, dtype=dtype, order=self.order)
        if dim is None:
            dim = infer_dim(f)
            if dim is None:
                raise ValueError("cannot tell the state width of %r (it has no Linear layer to read it from): give "
                                 "NeuralODE(f, dim=D)" % (f,))
        J = jtype("io.jdyn.models.NeuralODE")
        j = self._configure(J.builder(fn, int(dim)), dtype, seed, max_steps, dt).build()
        fn.bind(j.field())
        self._traced = fn
        return j

    def _configure(self, b, dtype, seed, max_steps, dt):
        b = b.solver(self.solver).sensitivity(self.sensitivity) \
            .rtol(float(self.rtol)).atol(float(self.atol)).rtolAdjoint(float(self.rtol_adjoint)) \
            .atolAdjoint(float(self.atol_adjoint)).seminorm(self.seminorm).order(self.order) \
            .sSpan(list(self.s_span))
        if seed is not None:
            b = b.seed(int(seed))
        if dtype is not None:
            b = b.dtype(jtype("io.jdyn.polyglot.Values").dtype(dtype))
        if max_steps is not None:
            b = b.maxSteps(int(max_steps))
        if dt is not None:
            b = b.dt(float(dt))
        if self.per_sample:
            b = b.perSample(True)
        if self.integral_loss is not None:
            b = b.integralLoss(self._integral_cost(dtype))
        return b

    def _integral_cost(self, dtype):
        """The integral loss as a Java IntegralCost: one already (jdyn.regularizers), or a traced function."""
        l = self.integral_loss
        if hasattr(l, "java"):
            return l.java
        from ._integral import IntegralLossFn
        return IntegralLossFn(l, dtype=dtype or "float32")

    # ------------------------------------------------------------------ calls
    @jcall
    def forward(self, x, t_span=None):
        if self._hyper is not None:
            return self._hyper_forward(x, t_span)
        x = as_tensor(x, self.dtype)
        tape = self.training and is_grad_enabled()
        if t_span is None:
            if tape:
                hook = self.__dict__.get("_after_backward")  # jdyn.optim.IntegrationTimeOptimizer's
                t = _Tape(self._j.trace(x._j), x, hook)
                if self.integral_loss is not None:
                    self.integral_loss_value = float(t.trace.integralLoss())
                if hook is not None:  # it reads z(t1) from the trace after the backward pass
                    return t.output(t.trace.output())
                return t.owned_output(t.trace.takeOutput())
            return Tensor(self._j.forward(x._j))
        ts = as_times(t_span)
        if tape:
            t = _Tape(self._j.trace(x._j, ts), x)
            if self.integral_loss is not None:
                self.integral_loss_value = float(t.trace.integralLoss())
            traj = t.output(t.trace.trajectory())
            t_eval = [float(v) for v in t.trace.ts()]
        else:
            r = self._j.forward(x._j, ts)
            traj = Tensor(r.trajectory().copy())
            t_eval = [float(v) for v in r.tEval()]
            r.close()
        return (t_eval, traj) if self.return_t_eval else traj

    def _hyper_forward(self, x, t_span):
        """A call with the hypersolver: on t_span, or on s_span (its ends) in steps of dt; no tape."""
        ts = t_span
        if ts is None:
            s0, s1 = self.s_span[0], self.s_span[-1]
            dt = self._j.solveOptions([s0, s1]).dt()
            n = max(1, int(round((s1 - s0) / dt))) if dt > 0 else 1
            ts = [s0 + (s1 - s0) * k / n for k in range(n + 1)]
        before = self._hyper.nfe
        t_eval, traj = self._hyper._solve(self, x, ts)
        self._hyper_nfe = getattr(self, "_hyper_nfe", 0) + self._hyper.nfe - before
        if t_span is None:
            return traj[-1]
        return (t_eval, traj) if self.return_t_eval else traj

    @jcall
    def trajectory(self, x, s_span):
        """The states at every time of s_span, shape [len(s_span), *x.shape] (no tape)."""
        if self._hyper is not None:
            return self._hyper_forward(x, s_span)[1]
        x = as_tensor(x, self.dtype)
        return Tensor(self._j.trajectory(x._j, as_times(s_span)))

    # ------------------------------------------------------------------ parameters
    def parameters(self):
        from .optim import ParamGroups
        return ParamGroups([self])

    @jcall
    def zero_grad(self):
        self._j.zeroGrad()

    @property
    @jcall
    def nfe(self):
        """Vector field evaluations so far (forward and backward), as torchdyn counts them."""
        return int(self._j.nfe()) + getattr(self, "_hyper_nfe", 0)

    @nfe.setter
    @jcall
    def nfe(self, value):
        if value != 0:
            raise ValueError("nfe can only be reset to 0")
        self._j.resetNfe()
        self._hyper_nfe = 0

    @property
    @jcall
    def dtype(self):
        if self._dtype is None:  # fixed at build time; read once (every call converts its input to it)
            self._dtype = "float32" if str(self._j.dtype().name()) == "FLOAT32" else "float64"
        return self._dtype

    # ------------------------------------------------------------------ parameters by name
    def _separate_params(self):
        return True

    @jcall
    def named_parameters(self, prefix="", recurse=True):
        """(name, tensor) pairs: the vector field's parameters as "vf." + the field's own names ("vf.0.weight"
        for a layer Sequential, "vf.net.0.weight" for a traced module's net), copies of the values."""
        from .nn import _params_tensor
        params = self._j.parameters()
        return [(prefix + "vf." + str(n), _params_tensor(params, str(n))) for n in params.names()]

    @jcall
    def load_state_dict(self, state_dict, strict=True):
        """Sets the vector field's parameters from a state_dict of named_parameters()' names."""
        from .nn import _load_named
        params = self._j.parameters()
        _load_named({"vf." + str(n): (params, str(n)) for n in params.names()}, state_dict, strict, "a NeuralODE")
        return self

    @jcall
    def count_params(self):
        return int(self._j.numParams())

    def in_features(self):
        return int(self._j.inFeatures())

    @property
    def java(self):
        """The underlying io.jdyn.models.NeuralODE."""
        return self._j

    def __repr__(self):
        return str(self._j.toString())


# ---------------------------------------------------------------------- Sequential models
@jcall
def build_sequential_model(seq):
    """The io.jdyn.models.SequentialModel of a Sequential holding a NeuralODE: consecutive layers become
    native LayerBlocks, an Augmenter an AugmenterBlock."""
    blocks, pending, names = [], [], []      # names: per block, how its parameters are named in seq
    width = seq.in_features()
    dtype = jtype(_Values).dtype(seq.dtype)
    for m in seq:
        if isinstance(m, NeuralODE):
            dtype = m._j.dtype()
            break
    P = "io.jdyn.models."

    def flush(w):
        if pending:
            layers = []
            ww = w
            names.append(("layers", [i for i, _ in pending]))
            for _, p in pending:
                layers.append(p.to_java(ww))
                ww = p.out_features(ww)
            blocks.append(jtype(P + "LayerBlock").of(jtype("io.jdyn.nn.Sequential").of(layers), w, dtype,
                                                     seq.seed + len(blocks)))
            pending.clear()
            return ww
        return w

    start = width
    for i, m in enumerate(seq):
        if isinstance(m, NeuralODE):
            start = flush(start)
            if m.in_features() != start:
                raise ValueError("the NeuralODE takes %d features but the blocks before it give %d"
                                 % (m.in_features(), start))
            blocks.append(m._j)
            names.append(("ode", i))
        elif isinstance(m, Augmenter):
            start = flush(start)
            blocks.append(jtype(P + "AugmenterBlock").of(start, m.augment_dims, m.order, dtype))
            names.append(None)
            start += m.augment_dims
        elif isinstance(m, Layer):
            pending.append((i, m))
        else:
            raise TypeError("a model Sequential takes layers, Augmenters and NeuralODEs, got %r" % (m,))
    flush(start)
    seq._block_names = names
    return jtype(P + "SequentialModel").of(blocks)


@jcall
def run_model(module, jmodel, x):
    dtype = "float32" if str(jmodel.get(0).dtype().name()) == "FLOAT32" else "float64"
    x = as_tensor(x, dtype)
    if module.training and is_grad_enabled():
        t = _Tape(jmodel.trace(x._j), x)
        return t.output(t.trace.output())
    return Tensor(jmodel.forward(x._j))


# torchdyn.models' continuous normalizing flow (jdyn/_cnf.py)
from ._cnf import CNF, REQUIRES_NOISE, autograd_trace, hutch_trace  # noqa: E402,F401
