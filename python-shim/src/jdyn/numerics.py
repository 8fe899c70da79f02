"""torchdyn.numerics' odeint for classic ODEs written as Python functions.

This is the flexible, slower path: the native solver calls back into Python once per evaluation, and the
state is copied each way. Neural vector fields should be built from jdyn.nn layers (NeuralODE), which run
natively with no calls back."""
from ._java import jcall, jtype
from ._tensor import Tensor, as_tensor, as_times
from ._hyper import HyperEuler, HyperMidpoint, HyperRK4, HyperRungeKutta4, HyperSolverTemplate


@jcall
def odeint(f, x, t_span, solver="dopri5", atol=1e-6, rtol=1e-6, max_steps=None, dt=None, dtype="float64"):
    """Solves dx/dt = f(t, x) from x at t_span[0]; returns (t_eval, trajectory [len(t_span), *x.shape]).

    f takes t (float) and x (a list of floats for a 1-D x, a list of rows for a [batch, dim] x) and returns
    the derivative in the same layout (lists, tuples or a Tensor).

    solver may be a hypersolver (HyperEuler(hypernet), ...): f is then a NeuralODE or its compiled vf, and
    the solve steps natively on the evenly spaced t_span."""
    if isinstance(solver, HyperSolverTemplate):
        return solver._solve(f, x, t_span)
    if not callable(f):
        raise TypeError("f must be a function f(t, x), got %r" % (f,))
    x = as_tensor(x, dtype)
    one_d = x.dim() == 1
    if x.dim() not in (1, 2):
        raise ValueError("odeint takes a state of shape [dim] or [batch, dim], got %s" % (x.shape,))

    def field(t, z, batch, dim):
        if one_d:
            arg = [float(v) for v in z]
        else:
            arg = [[float(z[i * dim + j]) for j in range(dim)] for i in range(batch)]
        out = f(t, arg)
        if isinstance(out, Tensor):
            out = out.tolist()
        if one_d:
            return [float(v) for v in out]
        return [float(v) for row in out for v in row]

    y0 = x if not one_d else Tensor(x._j.reshape([1, x.shape[0]]))
    o = jtype("io.jdyn.ode.SolveOptions").builder().method(solver).rtol(float(rtol)).atol(float(atol))
    if max_steps is not None:
        o = o.maxSteps(int(max_steps))
    if dt is not None:
        o = o.dt(float(dt))
    sol = jtype("io.jdyn.ode.Odeint").odeint(jtype("io.jdyn.polyglot.ScriptField")(field), y0._j, as_times(t_span),
                                           o.build())
    try:
        ts = [float(v) for v in sol.ts()]
        ys = sol.ys()
        shape = [len(ts)] + list(x.shape)
        return ts, Tensor(ys.reshape(shape))
    finally:
        sol.close()
