"""The bridge to jdyn's Java classes: type lookups and Java exceptions turned into Python ones.

Java exceptions reach GraalPy as polyglot.ForeignException, which derives from BaseException only, so a
plain ``except Exception`` would miss them. Every public entry point of the shim goes through
:func:`jcall`, which re-raises them as the Python exception a Python user expects (ValueError for a bad
argument, IndexError, PermissionError for a refused file, jdyn.SolveError and its subclasses for a failed
solve), with the Java message.
"""
import functools

import java
import polyglot

_types = {}


def jtype(name):
    """A jdyn Java class by its fully qualified name (cached)."""
    t = _types.get(name)
    if t is None:
        t = _types[name] = java.type(name)
    return t


class JdynError(RuntimeError):
    """A failure inside jdyn with no closer Python equivalent."""


class TensorClosedError(JdynError):
    """A tensor was used after its memory was freed."""


class SolveError(JdynError):
    """An ODE solve failed."""


class StepSizeUnderflowError(SolveError):
    """The adaptive step size fell below the smallest step the solver may take."""


class MaxStepsExceededError(SolveError):
    """The solve needed more steps than max_steps."""


class NonFiniteValueError(SolveError, ValueError):
    """A state, derivative or input was NaN or infinite."""


class VectorFieldError(SolveError):
    """The vector field raised an error while the solver evaluated it."""


class NonFiniteGradientError(JdynError, ValueError):
    """An optimizer step met a NaN or infinite gradient."""


class BackendUnavailableError(JdynError):
    """jdyn's native backend could not be loaded."""


_BY_JAVA_CLASS = {
    "java.lang.IllegalArgumentException": ValueError,
    "java.lang.NumberFormatException": ValueError,
    "java.lang.IndexOutOfBoundsException": IndexError,
    "java.lang.ArrayIndexOutOfBoundsException": IndexError,
    "java.lang.SecurityException": PermissionError,
    "java.io.UncheckedIOException": OSError,
    "java.io.IOException": OSError,
    "java.nio.file.NoSuchFileException": FileNotFoundError,
    "io.jdyn.polyglot.CheckpointNotFoundException": FileNotFoundError,
    "java.lang.IllegalStateException": RuntimeError,
    "java.lang.NullPointerException": TypeError,
    "java.lang.ClassCastException": TypeError,
    "java.lang.UnsupportedOperationException": NotImplementedError,
    "java.lang.ArithmeticException": ArithmeticError,
    "java.lang.OutOfMemoryError": MemoryError,
    "io.jdyn.TensorClosedException": TensorClosedError,
    "io.jdyn.BackendUnavailableException": BackendUnavailableError,
    "io.jdyn.ode.SolveException": SolveError,
    "io.jdyn.ode.StepSizeUnderflowException": StepSizeUnderflowError,
    "io.jdyn.ode.MaxStepsExceededException": MaxStepsExceededError,
    "io.jdyn.ode.NonFiniteValueException": NonFiniteValueError,
    "io.jdyn.ode.VectorFieldException": VectorFieldError,
    "io.jdyn.train.optim.NonFiniteGradientException": NonFiniteGradientError,
    "io.jdyn.spi.NonFiniteInputException": NonFiniteValueError,
}


def python_exception(e):
    """The Python exception for a polyglot.ForeignException raised by Java code."""
    text = str(e)
    name, sep, message = text.partition(": ")
    if not sep or " " in name:
        name, message = text.strip(), ""
    cls = _BY_JAVA_CLASS.get(name)
    if cls is None:
        cls = JdynError if name.startswith("io.jdyn.") else RuntimeError
    return cls(message or name)


def jcall(fn):
    """Runs fn, turning Java exceptions into Python exceptions (the Java message kept)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except polyglot.ForeignException as e:
            raise python_exception(e) from None
    return wrapper


def host():
    """The embedding application's door to files (jdyn.host): checks the script's file permission."""
    return polyglot.import_value("jdyn.host")
