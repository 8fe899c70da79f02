"""torchdyn's energy models with its spelling: ``HNN(net)`` and ``LNN(net)`` are vector fields (nn.Modules)
for NeuralODE or jdyn.trace. net maps the state [batch, 2n] to an energy [batch, 1] (a jdyn.nn.Sequential or a
module written the torch way); the field is traced into one native program with the net: HNN's J grad H and
LNN's Euler-Lagrange acceleration (its mass matrix solved natively per row) are built by the Java
io.jdyn.models.HNN.field / LNN.field in the same graph, so they train with every sensitivity."""
from ._java import jtype
from ._trace import SymTensor, _jop, as_sym, is_tracing
from .nn import Module

__all__ = ["HNN", "LNN"]


class _EnergyField(Module):
    _java_class = None

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        name = type(self).__name__
        if not is_tracing():
            raise NotImplementedError("%s(net) is a vector field traced into a native program: give it to "
                                      "NeuralODE(%s(net), ...) or call jdyn.trace(%s(net), dim=...)" % (name, name, name))
        x = as_sym(x, "%s state" % name)
        energy = as_sym(self.net(x), "%s net output" % name)
        return SymTensor(_jop(name, jtype(self._java_class).field, x._s, energy._s))


class HNN(_EnergyField):
    """Hamiltonian Neural ODE field (torchdyn.models.HNN): x = [q, p], H = net(x), field [dH/dp, -dH/dq]."""

    _java_class = "io.jdyn.models.HNN"


class LNN(_EnergyField):
    """Lagrangian Neural ODE field (torchdyn.models.LNN): x = [q, qdot], L = net(x), field [qdot, qddot] with
    qddot = (d2L/dqdot2)^-1 (dL/dq - d2L/(dqdot dq) qdot), solved per row by LU (torchdyn uses pinverse)."""

    _java_class = "io.jdyn.models.LNN"
