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
from ._tensor import (Tensor, arange, as_tensor, empty, enable_grad, eye, float32, float64, from_numpy, full,
                      initial_seed, int64, is_grad_enabled, linspace, manual_seed, no_grad, ones, rand, rand_like,
                      randint, randn, randn_like, randperm, set_grad_enabled, tensor, zeros, hstack, vstack)
from ._trace import SymTensor, TracedField, TracingError, trace
from . import nn, optim, datasets, numerics, train, autograd, regularizers
from . import linalg
from .functional import (abs, amax, amin, bmm, cat, clamp, clip, concat, concatenate, cos, cosh, elu, exp, expm1,
                         flatten, full_like, leaky_relu, linear, log, log1p, log_softmax, logsumexp, matmul, max,
                         maximum, mean, min, minimum, mm, neg, norm, ones_like, pow, reciprocal, relu, reshape, rsqrt,
                         sigmoid, sign, silu, sin, sinh, softmax, softplus, sqrt, square, squeeze, stack, sum, t, tan,
                         tanh, transpose, unsqueeze, where, zeros_like)
from .models import NeuralODE
from . import distributions
from .train import Trainer

__version__ = "0.1.0"

# torch's other dtype spellings: jdyn.float is float32, jdyn.double float64, jdyn.long int64 (this module's
# own code calls builtins.float, since these names shadow Python's)
import builtins as _builtins
double = "float64"
long = "int64"
float = "float32"   # noqa: A001


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
def load(path, vector_field=None, solver=None, sensitivity=None):
    """The NeuralODE saved at path (its solver and sensitivity as saved unless given). A checkpoint of a traced
    field (an nn.Module or function) holds its parameters but not its code: give the same vector_field, which
    is traced again and gets the saved values (its module then sees them, as after load_state_dict)."""
    import json
    h = host()
    meta = h.checkpointMetadata(str(path))
    arch = json.loads(str(meta["jdyn.architecture"])) if "jdyn.architecture" in meta else {}
    if isinstance(arch, dict) and arch.get("format") == "jdyn.fn_field":
        if vector_field is None:
            raise ValueError("%s holds a traced vector field (%s): its code is not in the file; give the same field: "
                             "jdyn.load(path, f)" % (path, arch.get("fn")))
        kw = {}
        if "rtol" in meta and "atol" in meta:
            kw = dict(rtol=_builtins.float(str(meta["rtol"])), atol=_builtins.float(str(meta["atol"])))
        model = NeuralODE(vector_field, solver=solver or (str(meta["solver"]) if "solver" in meta else "tsit5"),
                          sensitivity=sensitivity or (str(meta["sensitivity"]) if "sensitivity" in meta else "autograd"),
                          dim=int(arch["dim"]), dtype=str(arch["dtype"]), **kw)
        h.loadCheckpointInto(str(path), model._j.field())
        return model
    field = h.loadCheckpoint(str(path))
    b = jtype("io.jdyn.models.NeuralODE").builder(field)
    b = b.solver(solver or (str(meta["solver"]) if "solver" in meta else "tsit5"))
    b = b.sensitivity(sensitivity or (str(meta["sensitivity"]) if "sensitivity" in meta else "autograd"))
    if "rtol" in meta and "atol" in meta:
        b = b.rtol(_builtins.float(str(meta["rtol"]))).atol(_builtins.float(str(meta["atol"])))
    j = b.build()
    return NeuralODE(None, solver=str(j.solver().torchName()), sensitivity=str(j.sensitivity().torchName()), _java=j)
