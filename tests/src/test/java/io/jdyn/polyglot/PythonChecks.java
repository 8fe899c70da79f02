package io.jdyn.polyglot;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;

/**
 * A GraalPy context with a file of Python checks loaded (after check_helpers.py, which they share): runs
 * its functions by name, and turns a failure into an AssertionError carrying the guest traceback and
 * everything the context printed.
 */
final class PythonChecks implements AutoCloseable {
    private static final Path DIR = Path.of("src/test/resources/python");

    private final Context context;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PythonChecks(String file, boolean allowFiles) throws IOException {
        context = JdynContexts.python().allowFiles(allowFiles).out(out).err(out).build();
        for (String f : new String[] {"check_helpers.py", file}) {
            context.eval(Source.newBuilder("python", Files.readString(DIR.resolve(f)), f).build());
        }
    }

    PythonChecks(String file) throws IOException {
        this(file, false);
    }

    /** Calls the Python function `name` with `args` and returns its result. */
    Value call(String name, Object... args) {
        Value fn = context.getBindings("python").getMember(name);
        assertTrue(fn != null && fn.canExecute(), "no function " + name);
        try {
            return fn.execute(args);
        } catch (PolyglotException e) {
            throw new AssertionError(name + " failed: " + ScriptRunner.describe(e) + "\n"
                    + out.toString(StandardCharsets.UTF_8), e);
        }
    }

    @Override
    public void close() {
        context.close();
    }
}
