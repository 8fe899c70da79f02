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
    net: a NeuralODE (sensitivity 'adjoint' or 'interpolated_adjoint') or a Sequential holding NeuralODEs;
    full_precond=True also preconditions the Sequential's Linear layers outside the NeuralODEs (encoders,
    decoders) with factors from the iteration's batch, as the original.
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


class IntegrationTimeOptimizer:
    """SNOpt's co-optimisation of the integration time t1 (the end of the NeuralODE's s_span), the seed's
    spelling: ``t1_train_itr_setup(train_it)`` before the forward pass, ``update_t1()`` after
    ``optim.step()``; the backward pass of ``model(x)`` records dL/dt1 (and dL/dtheta for "feedback").
    adaptive_t1: "baseline" (gradient descent on t1) or "feedback" (the paper's: a Newton step on the
    quadratic model of the loss in t1 plus the feedback of the parameters' change); t1_lr its learning
    rate, t1_reg the coefficient of the quadratic penalty on t1, t1_update_freq how often t1 moves
    (t1 never goes below 0.1). net: a jdyn NeuralODE (adjoint sensitivities) called on final states."""

    def __init__(self, net, adaptive_t1="feedback", t1_lr=0.05, t1_reg=1e-4, t1_update_freq=50):
        from .models import NeuralODE
        if not isinstance(net, NeuralODE):
            raise TypeError("IntegrationTimeOptimizer needs a jdyn NeuralODE, got %r" % (net,))
        if adaptive_t1 not in ("baseline", "feedback"):
            raise ValueError("adaptive_t1 must be 'baseline' or 'feedback', got %r" % (adaptive_t1,))
        self.net = net
        self.adaptive_t1 = adaptive_t1
        self.t1_lr = float(t1_lr)
        self.t1_reg = float(t1_reg)
        self.t1_update_freq = int(t1_update_freq)
        self._j = jcall(lambda: jtype(_O + "IntegrationTimeOptimizer")(net.java, adaptive_t1, self.t1_lr,
                                                                        self.t1_reg, self.t1_update_freq))()
        # the model's backward pass hands its trace over (models._Tape)
        net.__dict__["_after_backward"] = jcall(lambda trace: self._j.afterBackward(trace))

    @jcall
    def t1_train_itr_setup(self, train_it):
        self._j.t1TrainItrSetup(int(train_it))

    @jcall
    def update_t1(self):
        """Moves t1 on an update iteration (after optim.step()); returns t1."""
        t1 = float(self._j.updateT1())
        self.net.s_span = (self.net.s_span[0], t1)
        return t1

    @property
    def t1(self):
        return float(self._j.t1())

    def java(self):
        return self._j
