"""torchdyn.numerics' odeint for classic ODEs written as Python functions.

This is the flexible, slower path: the native solver calls back into Python once per evaluation, and the
state is copied each way. Neural vector fields should be built from jdyn.nn layers (NeuralODE), which run
natively with no calls back."""
from ._java import jcall, jtype
from ._tensor import Tensor, as_tensor, as_times
from ._hyper import HyperEuler, HyperMidpoint, HyperRK4, HyperRungeKutta4, HyperSolverTemplate


_TORCHDIFFEQ_OPTIONS = ("step_size", "max_num_steps", "first_step")


@jcall
def odeint(f, x, t_span, solver=None, atol=None, rtol=None, *extra, method=None, options=None, max_steps=None,
           dt=None, dtype="float64"):
    """Solves dx/dt = f(t, x) from x at t_span[0], in either library's spelling:

    - torchdyn's, ``odeint(f, x, t_span, solver, atol, rtol)`` (solver by position or ``solver=``, or neither):
      returns ``(t_eval, sol)`` as torchdyn does, t_eval the output times (floats) and sol the trajectory
      [len(t_span), *x.shape]; f gets t (float) and x as Python lists (a list of rows for a [batch, dim] x).
    - torchdiffeq's, ``odeint(func, y0, t, rtol=, atol=, method=, options=)``: returns only the solution tensor
      [len(t), *y0.shape], as torchdiffeq does; func gets t (float) and y as a jdyn Tensor of y0's shape.
      options: step_size (fixed-step methods), max_num_steps, first_step (adaptive ones).

    f returns the derivative as lists, tuples or a Tensor. Fixed-step methods (euler, midpoint, rk4, ...) step
    by dt (torchdiffeq: options step_size), else on the output times, and are not capped by max_steps unless
    it is given; adaptive ones stop at max_steps (default 10,000). Defaults: dopri5; rtol = atol = 1e-6
    (torchdiffeq's spelling: its rtol 1e-7, atol 1e-9).

    solver may be a hypersolver (HyperEuler(hypernet), ...): f is then a NeuralODE or its compiled vf, and
    the solve steps natively on the evenly spaced t_span."""
    if extra:
        raise TypeError("odeint takes f, x, t_span and then solver, atol, rtol by position (torchdyn's order); "
                        "%d more positional argument(s) given: pass the rest by name (max_steps=, dt=, dtype=, "
                        "or torchdiffeq's method=, options=)" % len(extra))
    if isinstance(solver, HyperSolverTemplate):
        return solver._solve(f, x, t_span)
    if not callable(f):
        raise TypeError("f must be a function f(t, x), got %r" % (f,))
    torchdiffeq = method is not None or options is not None
    if solver is not None and method is not None:
        raise TypeError("give the method once: solver=%r (torchdyn's name) or method=%r (torchdiffeq's), not both"
                        % (solver, method))
    name = method if method is not None else solver if solver is not None else "dopri5"
    if not isinstance(name, str):
        raise TypeError("the solver is named by a string such as 'dopri5', 'tsit5' or 'rk4', got %r" % (name,))
    opts = dict(options or {})
    unknown = sorted(k for k in opts if k not in _TORCHDIFFEQ_OPTIONS)
    if unknown:
        raise ValueError("odeint options %s are not supported; jdyn takes %s" % (unknown, list(_TORCHDIFFEQ_OPTIONS)))
    if dt is None:
        dt = opts.get("step_size")
    if max_steps is None:
        max_steps = opts.get("max_num_steps")
    if rtol is None:
        rtol = 1e-7 if torchdiffeq else 1e-6
    if atol is None:
        atol = 1e-9 if torchdiffeq else 1e-6
    for arg, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError("%s must be a number, got %r" % (arg, v))
    x = as_tensor(x, dtype)
    one_d = x.dim() == 1
    if x.dim() not in (1, 2):
        raise ValueError("odeint takes a state of shape [dim] or [batch, dim], got %s" % (x.shape,))
    shape = list(x.shape)

    def field(t, z, batch, dim):
        if torchdiffeq:
            arg = Tensor(jtype("io.jdyn.polyglot.Values").tensor(list(z), x.dtype).reshape(shape))
        elif one_d:
            arg = [float(v) for v in z]
        else:
            arg = [[float(z[i * dim + j]) for j in range(dim)] for i in range(batch)]
        out = f(t, arg)
        if isinstance(out, Tensor):
            out = out.tolist()
        if one_d:
            return [float(v) for v in out]
        return [float(v) for row in out for v in row]

    times = as_times(t_span)
    y0 = x if not one_d else Tensor(x._j.reshape([1, x.shape[0]]))
    o = jtype("io.jdyn.ode.SolveOptions").builder().method(name).rtol(float(rtol)).atol(float(atol))
    if max_steps is not None:
        o = o.maxSteps(int(max_steps))
    if dt is not None:
        o = o.dt(float(dt))
    elif not jtype("io.jdyn.ode.Method").of(name).isAdaptive():
        o = o.grid(times)  # a fixed-step method without a step: one step per output interval, as torchdyn does
    if "first_step" in opts:
        o = o.firstStep(float(opts["first_step"]))
    sol = jtype("io.jdyn.ode.Odeint").odeint(jtype("io.jdyn.polyglot.ScriptField")(field), y0._j, times, o.build())
    try:
        ts = [float(v) for v in sol.ts()]
        ys = Tensor(sol.ys().reshape([len(ts)] + shape))
        return ys if torchdiffeq else (ts, ys)
    finally:
        sol.close()
