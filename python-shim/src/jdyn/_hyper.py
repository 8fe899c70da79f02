"""torchdyn.numerics' hypersolvers: HyperEuler, HyperMidpoint, HyperRungeKutta4 (HyperRK4), on
io.jdyn.numerics.

A hypersolver is a fixed-step base method whose step is corrected by a small network:
z_{k+1} = z_k + eps psi(t_k, z_k) + eps^(p+1) hypernet([eps, z_k, f(t_k, z_k)]). The hypernet is a jdyn.nn
layer or layer Sequential from width 1 + 2 dim to dim (jdyn's form of the paper's g(eps, z, f(z)); torchdyn's
own takes (t, x) and computes what it needs itself). A solve of a fixed eps is one native call: the engine's
Euler over one program of the increment. Fit the hypernet with ``solver.fit(field, x, t_span)`` (residual
fitting along dopri5 trajectories); use it as ``odeint(f, x, t_span, solver=HyperEuler(hypernet))`` or
``NeuralODE(f, solver=HyperEuler(hypernet))`` (t_span evenly spaced: its spacing is the step)."""
from ._java import jcall, jtype
from ._tensor import Tensor, as_tensor, as_times

_NUM = "io.jdyn.numerics."


class HyperSolverTemplate:
    """What HyperEuler, HyperMidpoint and HyperRungeKutta4 share. ``nfe``: vector-field evaluations of
    every solve so far (stages x steps, as torchdyn counts them)."""
    _java = None
    base = None

    def __init__(self, hypernet, dtype=None, seed=0):
        from .nn import Layer, Sequential
        net = Sequential(hypernet) if isinstance(hypernet, Layer) else hypernet
        if not (isinstance(net, Sequential) and net.is_layer_stack()):
            raise TypeError("%s takes the hypernet as a jdyn.nn layer or Sequential of layers (width 1 + 2 dim to "
                            "dim, on [eps, z, f(z)]), got %r" % (type(self).__name__, hypernet))
        self.hypernet = hypernet
        self.dtype = dtype
        self.seed = int(seed)
        self.nfe = 0
        self._net = net
        self._values = None     # the fitted hypernet parameters, flat; None until fit / set
        self._fields = {}       # (id of the field's owner, eps) -> (owner, io.jdyn.numerics.HyperField)

    @jcall
    def _solver(self):
        return jtype(_NUM + self._java)(self._net.to_java())

    @jcall
    def _hyper_field(self, owner, field, eps):
        key = (id(owner), round(eps, 12))
        hit = self._fields.get(key)
        if hit is None:
            J = jtype(_NUM + "HyperField")
            dtype = field.dtype() if self.dtype is None else jtype("io.jdyn.polyglot.Values").dtype(self.dtype)
            hf = J.of(self._solver(), field, float(eps), dtype, self.seed)
            hit = (owner, hf)
            self._fields[key] = hit
        hf = hit[1]
        hf.syncField(field)      # the field may have been trained since
        if self._values is not None:
            hf.setHypernetParams(self._values)
        return hf

    def hypernet_parameters(self):
        """The hypernet's parameters, flat (as fitted or set; None before)."""
        return None if self._values is None else list(self._values)

    def set_hypernet_parameters(self, values):
        """Sets the hypernet's parameters from a flat list (e.g. zeros: the base method itself)."""
        self._values = [float(v) for v in values]

    @jcall
    def fit(self, f, x, t_span, epochs=1000, lr=1e-2, rtol=1e-9, atol=1e-9):
        """Residual fitting: along dopri5 trajectories of f (at rtol / atol) from the points x on the evenly
        spaced t_span, the hypernet learns the base method's scaled local residuals (MSE, Adam at lr, full
        batch, epochs updates). Returns {'initial_loss', 'final_loss', 'reference_nfe'}."""
        owner, field = _field_of(f)
        ts, eps = _grid(t_span, type(self).__name__)
        hf = self._hyper_field(owner, field, eps)
        x = as_tensor(x, _dtype(field))
        R = jtype(_NUM + "ResidualFit")
        r = R.fit(hf, field, x._j, ts[0], len(ts) - 1, R.options(int(epochs), float(lr), float(rtol), float(atol)))
        self._values = [float(v) for v in hf.hypernetParams()]
        return {"initial_loss": float(r.initialLoss()), "final_loss": float(r.finalLoss()),
                "reference_nfe": int(r.referenceNfe())}

    @jcall
    def _solve(self, f, x, t_span):
        """(t_eval, trajectory [len(t_span), *x.shape]) of f from x, stepping on t_span."""
        owner, field = _field_of(f)
        ts, eps = _grid(t_span, type(self).__name__)
        hf = self._hyper_field(owner, field, eps)
        x = as_tensor(x, _dtype(field))
        before = int(hf.nfe())
        traj = Tensor(hf.trajectory(x._j, ts))
        self.nfe += int(hf.nfe()) - before
        return ts, traj

    def __repr__(self):
        return "%s(hypernet=%r)" % (type(self).__name__, self.hypernet)


class HyperEuler(HyperSolverTemplate):
    """torchdyn's HyperEuler: Euler corrected by eps^2 hypernet([eps, z, f(z)])."""
    _java = "HyperEuler"
    base = "euler"


class HyperMidpoint(HyperSolverTemplate):
    """torchdyn's HyperMidpoint: the midpoint rule corrected by eps^3 hypernet([eps, z, f(z)])."""
    _java = "HyperMidpoint"
    base = "midpoint"


class HyperRungeKutta4(HyperSolverTemplate):
    """torchdyn's HyperRungeKutta4: classic rk4 corrected by eps^5 hypernet([eps, z, f(z)])."""
    _java = "HyperRungeKutta4"
    base = "rk4"


HyperRK4 = HyperRungeKutta4


def _dtype(field):
    return "float32" if str(field.dtype().name()) == "FLOAT32" else "float64"


def _field_of(f):
    """(owner, Java NeuralField) of a NeuralODE, or of a jdyn.nn module a NeuralODE compiled."""
    from .models import NeuralODE
    if isinstance(f, NeuralODE):
        return f, f.java.field()
    field = getattr(f, "__dict__", {}).get("_field")
    if field is not None:
        return f, field
    raise TypeError("a hypersolver solves a compiled vector field: give a NeuralODE or its vf (a module a NeuralODE "
                    "was built from), got %r" % (f,))


def _grid(t_span, who):
    ts = as_times(t_span)
    if ts is None or len(ts) < 2:
        raise ValueError("%s needs a t_span of at least two times" % who)
    eps = ts[1] - ts[0]
    for i in range(1, len(ts)):
        if abs((ts[i] - ts[i - 1]) - eps) > 1e-9 * max(1.0, abs(eps)):
            raise ValueError("%s steps on t_span, which must be evenly spaced (its step is what the hypernet is fitted "
                             "for): t_span[%d] - t_span[%d] = %r, not %r" % (who, i, i - 1, ts[i] - ts[i - 1], eps))
    if not eps > 0:
        raise ValueError("%s needs an increasing t_span, got %r" % (who, ts[:2]))
    return ts, eps
