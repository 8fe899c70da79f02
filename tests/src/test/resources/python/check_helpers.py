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
