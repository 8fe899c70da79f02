"""A Lightning-style Trainer: the epoch loop, mini-batches, early stopping and metrics run in Java
(io.jdyn.train.Trainer); Python says what to train and reads the history."""
from ._java import host, jcall, jtype
from ._tensor import Tensor
from .models import NeuralODE
from .optim import Optimizer

_T = "io.jdyn.train."


class EarlyStopping:
    """Lightning's EarlyStopping: stop when monitor ('train_loss', 'train_acc', 'val_loss', 'val_acc') has not
    improved by min_delta for patience epochs, or once it passes stopping_threshold."""

    def __init__(self, monitor="train_loss", min_delta=0.0, patience=3, mode="min", stopping_threshold=None):
        if mode not in ("min", "max"):
            raise ValueError("mode must be 'min' or 'max', got %r" % (mode,))
        self.monitor, self.min_delta, self.patience, self.mode = monitor, float(min_delta), int(patience), mode
        self.stopping_threshold = stopping_threshold

    @jcall
    def to_java(self):
        mode = jtype(_T + "Mode").valueOf(self.mode.upper())
        thr = float("nan") if self.stopping_threshold is None else float(self.stopping_threshold)
        return jtype(_T + "EarlyStopping")(self.monitor, self.patience, mode, self.min_delta, thr)


class Trainer:
    """``Trainer(max_epochs=300).fit(model, (X, y), optimizer=jdyn.optim.Adam(model.parameters(), lr=0.01))``
    trains a NeuralODE classifier (CrossEntropyLoss on its final state) and returns the result: epochs,
    steps, stop_reason, metrics (the last epoch's), history (every epoch's), seconds."""

    def __init__(self, max_epochs=1000, batch_size=None, seed=0, callbacks=(), gradient_clip_val=None,
                 progress_bar=False, metrics_log=None, check_val_every_n_epoch=1):
        self.max_epochs, self.batch_size, self.seed = int(max_epochs), batch_size, int(seed)
        self.callbacks, self.gradient_clip_val = list(callbacks), gradient_clip_val
        self.progress_bar, self.metrics_log = bool(progress_bar), metrics_log
        self.check_val_every_n_epoch = int(check_val_every_n_epoch)

    @jcall
    def fit(self, model, train_data, val_data=None, optimizer=None):
        if not isinstance(model, NeuralODE):
            raise TypeError("Trainer.fit trains a NeuralODE classifier; for other models write the loop "
                            "(loss.backward(); optimizer.step()), got %r" % (type(model).__name__,))
        train = _dataset(train_data, model.dtype, "train_data")
        val = _dataset(val_data, model.dtype, "val_data") if val_data is not None else None
        b = jtype(_T + "Trainer").builder().maxEpochs(self.max_epochs).seed(self.seed) \
            .batchSize(int(self.batch_size or train.size())).progress(self.progress_bar) \
            .valEvery(self.check_val_every_n_epoch)
        if optimizer is None:
            optimizer = _default_optimizer(model)
        if not isinstance(optimizer, Optimizer):
            raise TypeError("optimizer must be a jdyn.optim optimizer, got %r" % (optimizer,))
        b = b.optimizer(optimizer.java()[0])
        if self.gradient_clip_val is not None:
            b = b.gradClipNorm(float(self.gradient_clip_val))
        cbs = [c.to_java() for c in self.callbacks]
        if cbs:
            b = b.callbacks(cbs)
        if self.metrics_log is not None:
            b = host().metricsLog(b, str(self.metrics_log))
        r = b.build().fit(model._j, train, val)
        return {
            "epochs": int(r.epochs()),
            "steps": int(r.steps()),
            "stop_reason": None if r.stopReason() is None else str(r.stopReason()),
            "metrics": _dict(r.lastMetrics()),
            "history": [_dict(h) for h in r.history()],
            "seconds": float(r.seconds()),
        }


def _default_optimizer(model):
    from .optim import Adam
    return Adam(model.parameters(), lr=1e-3)


def _dict(m):
    return {str(k): float(m[k]) for k in m}


def _dataset(data, dtype, what):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError("%s must be a pair (X, y) of a [n, dim] tensor and n integer labels" % what)
    x, y = data
    if not isinstance(x, Tensor) or x._j is None or x.dim() != 2:
        raise TypeError("%s: X must be a 2-D float tensor [n, dim], got %r" % (what, x))
    n, d = x.shape
    labels = y._ints if isinstance(y, Tensor) and y._ints is not None else \
        jtype("io.jdyn.polyglot.Values").labels(y.tolist() if isinstance(y, Tensor) else y)
    if len(labels) != n:
        raise ValueError("%s: %d points but %d labels" % (what, n, len(labels)))
    V = jtype("io.jdyn.polyglot.Values")
    return jtype("io.jdyn.data.Dataset")(x._j.toDoubleArray(), n, d, labels, V.dtype(dtype))
