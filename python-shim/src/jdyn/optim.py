"""torch.optim's optimizers over a model's parameters; the updates run natively on the flat buffers."""
from ._java import jcall, jtype

_O = "io.jdyn.train.optim."


class ParamGroups:
    """What model.parameters() returns: the flat parameter buffers of a model's blocks."""

    def __init__(self, modules):
        self._params = []
        for m in modules:
            # a Python model (its Java model), or a Java NeuralField itself (a traced module's field)
            j = m._java_model() if hasattr(m, "_java_model") else m.__dict__.get("_j", m) if hasattr(m, "__dict__") \
                else m
            self._collect(j)
        if not self._params:
            raise ValueError("this model has no parameters to optimize")

    def _collect(self, j):
        if hasattr(j, "blocks"):
            for b in j.blocks():
                self._collect(b)
        elif hasattr(j, "parameters") and int(j.numParams()) > 0:
            self._params.append(j.parameters())

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    @jcall
    def numel(self):
        return sum(int(p.numParams()) for p in self._params)


class Optimizer:
    """One native optimizer per parameter buffer, stepped together."""

    def __init__(self, params, make):
        if not isinstance(params, ParamGroups):
            raise TypeError("give the optimizer model.parameters(), got %r" % (params,))
        self.param_groups = [{"lr": None}]
        self._opts = [make(p) for p in params]
        self.param_groups[0]["lr"] = float(self._opts[0].lr())

    @jcall
    def step(self):
        lr = self.param_groups[0]["lr"]
        for o in self._opts:
            if float(o.lr()) != lr:
                o.setLr(float(lr))
            o.step()

    @jcall
    def zero_grad(self, set_to_none=False):
        for o in self._opts:
            o.zeroGrad()

    @property
    def lr(self):
        return self.param_groups[0]["lr"]

    @jcall
    def close(self):
        for o in self._opts:
            o.close()

    def java(self):
        """The Java optimizers (one per parameter buffer)."""
        return list(self._opts)


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, jcall(lambda p: jtype(_O + "Adam").builder(p).lr(float(lr))
                                       .betas(float(betas[0]), float(betas[1])).eps(float(eps))
                                       .weightDecay(float(weight_decay)).build()))


class AdamW(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, jcall(lambda p: jtype(_O + "AdamW").builder(p).lr(float(lr))
                                       .betas(float(betas[0]), float(betas[1])).eps(float(eps))
                                       .weightDecay(float(weight_decay)).build()))


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, jcall(lambda p: jtype(_O + "SGD").builder(p).lr(float(lr))
                                       .momentum(float(momentum)).dampening(float(dampening))
                                       .weightDecay(float(weight_decay)).nesterov(bool(nesterov)).build()))


class SNOpt:
    """SNOpt, the second-order Neural ODE optimizer (Liu et al. 2021), the original's spelling: a
    preconditioner of the ODE field's Linear layers, used as
    ``precond.train_itr_setup(); optim.zero_grad(); loss.backward(); precond.step(); optim.step()``.
    net: a NeuralODE (sensitivity 'adjoint' or 'interpolated_adjoint') or a Sequential holding NeuralODEs.
    snopt_step_size (the original's option of the same name) spaces the times sampled along the adjoint."""

    def __init__(self, net, eps=0.05, update_freq=100, alpha=.75, full_precond=False, snopt_step_size=0.01):
        if hasattr(net, "_java_model"):
            j = net._java_model()
        elif hasattr(net, "java"):
            j = net.java  # NeuralODE.java: the io.jdyn.models.NeuralODE
        else:
            raise TypeError("SNOpt needs a jdyn NeuralODE or a Sequential holding one, got %r" % (net,))
        self.net = net
        self.eps = float(eps)
        self.update_freq = int(update_freq)
        self.alpha = float(alpha)
        self.full_precond = bool(full_precond)
        self._j = jcall(lambda: jtype(_O + "SNOpt")(j, self.eps, self.update_freq, self.alpha,
                                                     self.full_precond).sampleStep(float(snopt_step_size)))()

    @jcall
    def train_itr_setup(self):
        self._j.trainItrSetup()

    @jcall
    def step(self):
        self._j.step()

    @property
    def store_this_itr(self):
        return bool(self._j.storeThisItr())

    def java(self):
        return self._j
