"""torch.linalg with its spelling, as far as jdyn has it: solve, on eager tensors (one native SOLVE program,
differentiable through loss.backward()) and inside traced fields (a SOLVE node of the program)."""
from . import _tensor, _trace
from ._java import jcall

__all__ = ["solve"]


@jcall
def solve(A, B, *, left=True, out=None):
    """torch.linalg.solve: X with A X = B, by LU with partial pivoting per matrix. A [n, n] or [b, n, n];
    B [n, k] or [b, n, k], or a vector [n] / [b, n] (torch's rule: B is a vector when it has one dimension
    less than A). A singular matrix raises (jdyn.NonFiniteValueError naming the batch row)."""
    if not left:
        raise NotImplementedError("linalg.solve(left=False) is not supported: solve A^T X^T = B^T instead")
    if out is not None:
        raise NotImplementedError("linalg.solve(out=...) is not supported")
    if _trace.involves_sym(A, B):
        a, b = _trace.as_sym(A, "linalg.solve A"), _trace.as_sym(B, "linalg.solve B")
        vector = len(b.shape) == len(a.shape) - 1
        if vector:
            b = b.unsqueeze(-1)
        x = _trace.SymTensor(_trace._jop("linalg.solve of %s and %s" % (a.shape, b.shape), a._s.solve, b._s))
        return x.squeeze(-1) if vector else x
    a, b = _tensor._pair(A, B, "linalg.solve")
    vector = len(b.shape) == len(a.shape) - 1
    if vector:
        b = b.unsqueeze(-1)
    sa, sb = a.shape, b.shape
    if len(sa) not in (2, 3) or sa[-1] != sa[-2] or len(sb) not in (2, 3) or sb[-2] != sa[-1] or (
            len(sa) == 3 and len(sb) == 3 and sa[0] != sb[0]):
        raise ValueError("linalg.solve takes A [n, n] or [b, n, n] and B [n, k], [b, n, k] (or a vector), got %s and %s"
                         % (sa, B.shape if isinstance(B, _tensor.Tensor) else sb))
    shape = sb if len(sb) == 3 else ((sa[0],) + sb if len(sa) == 3 else sb)
    j = _tensor._eager().binary("solve", a._j, b._j)
    x = a._result(j, "solve", None, None, 0.0, (a, b), shape)
    return x.squeeze(-1) if vector else x
