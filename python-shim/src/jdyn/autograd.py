"""torch.autograd.grad inside a traced vector field: the derivative becomes more nodes of the same native
program (reverse mode, Graph.vjp), differentiable again, so a field such as a Hamiltonian network's
``dH = jdyn.autograd.grad(H.sum(), x, create_graph=True)[0]`` trains with every sensitivity."""
from . import _trace

__all__ = ["grad", "jvp"]


def _seq(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=True, only_inputs=True,
         allow_unused=False, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad inside a traced field: for each input, sum_i <grad_outputs[i], d outputs[i] / d
    input>, shaped as the input (a tuple). grad_outputs may be omitted for scalar outputs (ones). The result
    is always part of the program and differentiable again (create_graph is implied); an input the outputs do
    not depend on gets zeros (torch gives None with allow_unused=True)."""
    if _trace.current() is None:
        raise NotImplementedError("jdyn.autograd.grad runs inside a traced vector field (a Module's forward given "
                                  "to NeuralODE or jdyn.trace); for a training loss use loss.backward()")
    if is_grads_batched:
        raise _trace.refuse("autograd.grad(is_grads_batched=True) is not supported in a traced field")
    outs = [_trace.as_sym(o, "autograd.grad outputs") for o in _seq(outputs)]
    ins = [_trace.as_sym(i, "autograd.grad inputs") for i in _seq(inputs)]
    if grad_outputs is None:
        cts = []
        for o in outs:
            if o.shape:
                raise _trace.refuse("autograd.grad: grad can be implicitly created only for scalar outputs; this "
                                    "output has shape %s: give grad_outputs (jdyn.ones_like(out)) or reduce it "
                                    "(out.sum())" % (o.shape,))
            cts.append(1.0)
    else:
        cts = [1.0 if g is None else g for g in _seq(grad_outputs)]
        if len(cts) != len(outs):
            raise _trace.refuse("autograd.grad: %d outputs but %d grad_outputs" % (len(outs), len(cts)))
    cts = [_trace.full_like(o, 1.0) if isinstance(c, float) and c == 1.0 else c for o, c in zip(outs, cts)]
    return _trace.vjp(outs, ins, cts)


def jvp(outputs, inputs, tangents):
    """Forward mode inside a traced field: sum_j d outputs[i] / d inputs[j] . tangents[j], one per output."""
    if _trace.current() is None:
        raise NotImplementedError("jdyn.autograd.jvp runs inside a traced vector field")
    return _trace.jvp(_seq(inputs), _seq(tangents), _seq(outputs))
