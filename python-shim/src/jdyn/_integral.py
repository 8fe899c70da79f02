"""torchdyn's integral_loss, traced into the vector field's native program.

``NeuralODE(f, integral_loss=l)`` with ``l(t, x)`` (or ``l(x)``, or ``l(t, x, dx)`` where dx = f(t, x) is
the field's value, shared with the field: a cost on the dynamics, e.g. a regulariser, costs no second
evaluation) written with jdyn's tensor operations. It returns one cost per sample (shape [batch] or
[batch, 1]), summed over the batch, or one cost for the whole batch (a scalar). Its integral over the
solve joins the loss of every backward pass through the model, with gradients in x, the parameters and
the times from every sensitivity; ``model.integral_loss_value`` is the last traced call's integral.
"""
from ._trace import (SymTensor, TracingError, _Trace, _function_modules, _function_params, _num,
                     _positional_arity, _stack)


class IntegralLossFn:
    """An io.jdyn.models.IntegralCost (GraalPy passes this object where Java takes one): apply(t, z, dz, p)
    runs the user's function once on SymTensors when the field's program is built."""

    def __init__(self, f, dtype="float32"):
        if not callable(f):
            raise TypeError("integral_loss must be a function l(t, x), l(x) or l(t, x, dx), got %r" % (f,))
        self.f = f
        self.dtype = dtype
        n = _positional_arity(f)
        if n == 0:
            raise TypeError("integral_loss %r takes no argument: write l(t, x), l(x) or l(t, x, dx)" % (f,))
        self.nargs = 2 if n is None else min(n, 3)
        self.fn_modules = _function_modules(f)
        self.fn_params = _function_params(f)

    def describe(self):
        code = getattr(self.f, "__code__", None)
        loc = " (%s, line %d)" % (code.co_filename, code.co_firstlineno) if code is not None else ""
        return "integral_loss " + getattr(self.f, "__qualname__", repr(self.f)) + loc

    def __repr__(self):
        return self.describe()

    __str__ = __repr__

    def apply(self, t, z, dz, p):
        tr = _Trace(t, p, self.dtype, None, self.fn_modules)
        for pid, name in self.fn_params.items():
            tr.param_names.setdefault(pid, name)
        _stack.append(tr)
        try:
            x = SymTensor(z)
            if self.nargs == 1:
                out = self.f(x)
            elif self.nargs == 2:
                out = self.f(tr.t, x)
            else:
                out = self.f(tr.t, x, SymTensor(dz))
            if isinstance(out, (tuple, list)) and len(out) == 1:
                out = out[0]
            if _num(out) or not isinstance(out, SymTensor):
                raise TracingError("%s returned %r, not a tensor computed from t or x" % (self.describe(), out))
            return out._s
        finally:
            _stack.pop()
