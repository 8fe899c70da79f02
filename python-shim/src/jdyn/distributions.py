"""torch.distributions' MultivariateNormal, as much as torchdyn's CNF tutorial uses: log_prob (differentiable,
on jdyn tensors) and sample / rsample (drawn by jdyn.randn, so reproducible from jdyn.manual_seed)."""
import math

from ._tensor import Tensor, as_tensor, randn, tensor

__all__ = ["MultivariateNormal"]


def _rows(m, what):
    v = m.tolist() if hasattr(m, "tolist") else m
    if not isinstance(v, (list, tuple)):
        raise ValueError("%s must be a vector or a matrix, got %r" % (what, m))
    return [list(r) if isinstance(r, (list, tuple)) else r for r in v]


def _cholesky(c):
    n = len(c)
    low = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = c[i][j] - sum(low[i][k] * low[j][k] for k in range(j))
            if i == j:
                if s <= 0:
                    raise ValueError("covariance_matrix is not positive definite")
                low[i][i] = math.sqrt(s)
            else:
                low[i][j] = s / low[j][j]
    return low


def _inverse_lower(low):
    n = len(low)
    inv = [[0.0] * n for _ in range(n)]
    for i in range(n):
        inv[i][i] = 1.0 / low[i][i]
        for j in range(i):
            inv[i][j] = -sum(low[i][k] * inv[k][j] for k in range(j, i)) / low[i][i]
    return inv


class MultivariateNormal:
    """MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None) over vectors of
    width D = len(loc) (one of the three matrices; the identity when none is given)."""

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        self.loc = [float(v) for v in _rows(loc, "loc")]
        d = len(self.loc)
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) > 1:
            raise ValueError("give exactly one of covariance_matrix, precision_matrix, scale_tril")
        if scale_tril is not None:
            low = [[float(v) for v in r] for r in _rows(scale_tril, "scale_tril")]
        elif precision_matrix is not None:
            p = [[float(v) for v in r] for r in _rows(precision_matrix, "precision_matrix")]
            li = _cholesky(p)                      # P = L L^T, so Sigma = L^-T L^-1
            inv = _inverse_lower(li)
            cov = [[sum(inv[k][i] * inv[k][j] for k in range(d)) for j in range(d)] for i in range(d)]
            low = _cholesky(cov)
        else:
            cov = [[1.0 if i == j else 0.0 for j in range(d)] for i in range(d)] if covariance_matrix is None else \
                [[float(v) for v in r] for r in _rows(covariance_matrix, "covariance_matrix")]
            low = _cholesky(cov)
        if len(low) != d or any(len(r) != d for r in low):
            raise ValueError("the matrix must be %d x %d (loc has %d entries)" % (d, d, d))
        self._low = low
        self._inv = _inverse_lower(low)
        self.event_shape = (d,)
        self._half_log_det = sum(math.log(low[i][i]) for i in range(d))

    @property
    def mean(self):
        return tensor(self.loc)

    @property
    def covariance_matrix(self):
        d, low = len(self.loc), self._low
        return tensor([[sum(low[i][k] * low[j][k] for k in range(d)) for j in range(d)] for i in range(d)])

    @property
    def scale_tril(self):
        return tensor(self._low)

    def _is_standard(self):
        d = len(self.loc)
        return all(v == 0 for v in self.loc) and all(
            self._low[i][j] == (1.0 if i == j else 0.0) for i in range(d) for j in range(d))

    def log_prob(self, value):
        """log N(value; loc, Sigma) over the last dimension (differentiable in value)."""
        x = value if isinstance(value, Tensor) else as_tensor(value)
        d = len(self.loc)
        if x.shape[-1] != d:
            raise ValueError("log_prob: value has shape %s but the distribution's event shape is (%d,)"
                             % (tuple(x.shape), d))
        diff = x - tensor(self.loc, dtype=x.dtype)
        if not self._is_standard():
            diff = diff @ tensor([list(r) for r in zip(*self._inv)], dtype=x.dtype)    # rows times L^-T
        return -0.5 * (diff * diff).sum(-1) - (0.5 * d * math.log(2 * math.pi) + self._half_log_det)

    def sample(self, sample_shape=()):
        """Draws of shape sample_shape + (D,)."""
        shape = tuple(sample_shape) if isinstance(sample_shape, (tuple, list)) else tuple(sample_shape)
        d = len(self.loc)
        z = randn(*(shape + (d,)))
        if not self._is_standard():
            z = z @ tensor([list(r) for r in zip(*self._low)], dtype=z.dtype)             # rows times L^T
        return z + tensor(self.loc, dtype=z.dtype)

    rsample = sample

    def __repr__(self):
        return "MultivariateNormal(loc: %s, covariance_matrix: %s)" % (self.mean.shape, tuple(self.covariance_matrix.shape))
