"""jdyn for GraalPy: torchdyn's API on jdyn's native Neural ODE core.

    import jdyn
    from jdyn import NeuralODE, nn
    from jdyn.datasets import ToyDataset

    X, yn = ToyDataset().generate(n_samples=512, noise=1e-1, dataset_type='moons')
    f = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 2))
    model = NeuralODE(f, sensitivity='adjoint', solver='dopri5')
    opt = jdyn.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(300):
        opt.zero_grad()
        loss = loss_fn(model(X), yn)
        loss.backward()
        opt.step()
"""
from ._java import (BackendUnavailableError, JdynError, MaxStepsExceededError, NonFiniteGradientError,
                    NonFiniteValueError, SolveError, StepSizeUnderflowError, TensorClosedError, VectorFieldError,
                    host, jcall, jtype)
from ._tensor import Tensor, as_tensor, is_grad_enabled, linspace, no_grad, tensor
from . import nn, optim, datasets, numerics, train
from .models import NeuralODE
from .train import Trainer

__version__ = "0.1.0"


@jcall
def info():
    """jdyn's version, backend, BLAS and CUDA status (Jdyn.info())."""
    return str(jtype("io.jdyn.Jdyn").info())


@jcall
def save(model, path):
    """Saves a NeuralODE's parameters and architecture (safetensors, atomically); needs file access."""
    if not isinstance(model, NeuralODE):
        raise TypeError("jdyn.save takes a NeuralODE, got %r" % (type(model).__name__,))
    return str(host().saveCheckpoint(model._j, str(path)))


@jcall
def load(path, solver=None, sensitivity=None):
    """The NeuralODE saved at path (its solver and sensitivity as saved unless given)."""
    h = host()
    meta = h.checkpointMetadata(str(path))
    field = h.loadCheckpoint(str(path))
    b = jtype("io.jdyn.models.NeuralODE").builder(field)
    b = b.solver(solver or (str(meta["solver"]) if "solver" in meta else "tsit5"))
    b = b.sensitivity(sensitivity or (str(meta["sensitivity"]) if "sensitivity" in meta else "autograd"))
    if "rtol" in meta and "atol" in meta:
        b = b.rtol(float(str(meta["rtol"]))).atol(float(str(meta["atol"])))
    j = b.build()
    return NeuralODE(None, solver=str(j.solver().torchName()), sensitivity=str(j.sensitivity().torchName()), _java=j)
