package io.jdyn.polyglot;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;

/**
 * Runs a Python or JavaScript file in a jdyn context ({@code jdyn run}), the language chosen by its
 * extension. The exit code is the script's own (Python's sys.exit(n), JavaScript's exit), 0 when it ends
 * normally, 1 when it raises: the guest's error and its guest-side stack go to err, as the language's own
 * interpreter would print them.
 */
public final class ScriptRunner {
    private ScriptRunner() {}

    /** The options of one run. */
    public record Options(boolean allowFiles, boolean allowAllHostAccess, java.util.function.Consumer<String> jitNote) {
        public Options(boolean allowFiles, boolean allowAllHostAccess) {
            this(allowFiles, allowAllHostAccess, null);
        }

        /** Sandboxed, no JIT note. */
        public static Options sandboxed() {
            return new Options(false, false);
        }
    }

    /** Runs script with args; returns the exit code. */
    public static int run(Path script, List<String> args, Options o, OutputStream out, OutputStream err)
            throws IOException {
        Language lang = Language.ofScript(script);
        if (!Files.isRegularFile(script)) throw new IOException("no such script: " + script);
        String code = Files.readString(script);
        List<String> argv = new ArrayList<>();
        argv.add(script.toString());
        argv.addAll(args);
        PrintStream perr = err instanceof PrintStream p ? p : new PrintStream(err, true);
        JdynContexts.Builder b = JdynContexts.builder(lang);
        // the script's path as GraalPy's own launcher gives it: sys.path gets no "" entry from argv[0]
        if (lang == Language.PYTHON) b.option("python.InputFilePath", script.toAbsolutePath().normalize().toString());
        try (Context c = b.allowFiles(o.allowFiles()).allowAllHostAccess(o.allowAllHostAccess())
                .arguments(argv).out(out).err(err).jitNote(o.jitNote()).build()) {
            Path abs = script.toAbsolutePath().normalize();
            if (lang == Language.PYTHON) {
                // as CPython does: the script's folder first on sys.path, absolute. GraalPy would put the
                // folder of argv[0] there as given ("" for a bare file name), and resolving a relative
                // entry asks for the working directory, which a sandboxed script may not see
                c.eval("python", "import sys");
                c.getBindings("python").getMember("sys").getMember("path").invokeMember("insert", 0,
                        String.valueOf(abs.getParent()));
            }
            Source src = Source.newBuilder(lang.id(), code, abs.toString()).build();
            try {
                c.eval(src);
                return 0;
            } catch (PolyglotException e) {
                if (e.isExit()) return e.getExitStatus();
                if (e.isCancelled()) {
                    perr.println("jdyn run: the script was cancelled");
                    return 130;
                }
                perr.println(describe(e));
                return 1;
            }
        }
    }

    /** The guest's message and guest stack (host frames left out), like the language's own traceback. */
    public static String describe(PolyglotException e) {
        StringBuilder b = new StringBuilder();
        b.append(e.isHostException() ? "Error (from Java): " + e.asHostException() : e.getMessage());
        for (PolyglotException.StackFrame f : e.getPolyglotStackTrace()) {
            if (f.isGuestFrame()) b.append(System.lineSeparator()).append("    at ").append(f);
        }
        return b.toString();
    }
}
