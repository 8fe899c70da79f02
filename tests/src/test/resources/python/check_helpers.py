# Helpers shared by the Python check files (loaded first into their context by PythonChecks).


def expect_raises(exc_type, fn, *fragments):
    try:
        fn()
    except exc_type as e:
        text = str(e)
        for f in fragments:
            assert f in text, "message %r lacks %r" % (text, f)
        return e
    except BaseException as e:
        raise AssertionError("expected %s, got %s: %s" % (exc_type.__name__, type(e).__name__, e))
    raise AssertionError("expected %s, nothing raised" % exc_type.__name__)


def assert_pendulum_hnn(hnn_of_pendulum):
    """hnn_of_pendulum() is an HNN of H = p^2 / 2 + (1 - cos q): its traced field is (p, -sin q) to 1e-14,
    and a tight dopri5 solve keeps H to 1e-8 over [0, 5]."""
    import math
    import jdyn
    from jdyn import NeuralODE
    field = jdyn.trace(hnn_of_pendulum(), dim=2, dtype="float64")
    pts = [[0.3, -0.7], [1.2, 0.4], [-2.0, 1.5], [0.0, 0.0]]
    out = field(jdyn.tensor(pts, dtype="float64")).tolist()
    for (q, p), (dq, dp) in zip(pts, out):
        assert abs(dq - p) < 1e-14 and abs(dp + math.sin(q)) < 1e-14, ((q, p), (dq, dp))
    model = NeuralODE(hnn_of_pendulum(), dim=2, solver="dopri5", dtype="float64", atol=1e-10, rtol=1e-10,
                      s_span=(0.0, 5.0))
    with jdyn.no_grad():
        end = model(jdyn.tensor([[1.0, 0.0]], dtype="float64")).tolist()[0]
    energy = lambda q, p: 0.5 * p * p + 1 - math.cos(q)
    assert abs(energy(*end) - energy(1.0, 0.0)) < 1e-8, end
