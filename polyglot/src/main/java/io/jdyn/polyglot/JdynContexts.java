package io.jdyn.polyglot;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.PolyglotAccess;
import org.graalvm.polyglot.io.IOAccess;
import org.graalvm.polyglot.io.FileSystem;

/**
 * Builds GraalPy and GraalJS contexts with jdyn available: Python imports the python-shim ({@code import
 * jdyn}, see {@link PythonShim}); both languages look up jdyn's Java classes with
 * {@code java.type}. By default a context is sandboxed to jdyn ({@link HostPolicy}): no other host class,
 * no files, no processes, no native code, no environment; the embedding application opts in with
 * {@link Builder#allowFiles} or, for full trust, {@link Builder#allowAllHostAccess}.
 *
 * <p>Contexts share one polyglot {@link Engine} per JVM unless given another, so the second context
 * starts faster (its code is already parsed and, with the JIT, compiled).
 */
public final class JdynContexts {
    private static final java.util.concurrent.ConcurrentHashMap<String, Engine> SHARED = new java.util.concurrent.ConcurrentHashMap<>();

    private static final java.util.concurrent.atomic.AtomicBoolean JIT_NOTED = new java.util.concurrent.atomic.AtomicBoolean();

    private JdynContexts() {}

    private static void logJitNote(String note) {
        System.getLogger(JdynContexts.class.getName()).log(System.Logger.Level.WARNING, note);
    }

    /** A builder for a GraalPy context. */
    public static Builder python() {
        return new Builder(Language.PYTHON);
    }

    /** A builder for a GraalJS context. */
    public static Builder js() {
        return new Builder(Language.JS);
    }

    /** A builder for the given language. */
    public static Builder builder(Language language) {
        return new Builder(Objects.requireNonNull(language, "language"));
    }

    /**
     * The engine sandboxed contexts share unless told otherwise (created on first use, never closed).
     * Contexts with other permissions get engines of their own kind: an engine's contexts must share one
     * host-access configuration.
     */
    public static Engine sharedEngine() {
        return sharedEngine("sandboxed");
    }

    private static Engine sharedEngine(String kind) {
        return SHARED.computeIfAbsent(kind,
                k -> Engine.newBuilder().option("engine.WarnInterpreterOnly", "false").build());
    }

    /**
     * What a Python context may read: GraalPy's own home (its standard library) and the shim's folder,
     * read-only; the rest of the disk only where files are allowed.
     */
    static FileSystem pythonFiles(boolean allowFiles) {
        Path shim = PythonShim.directory();
        FileSystem host = FileSystem.newDefaultFileSystem();
        FileSystem rest = allowFiles ? host : new RefusedFiles();
        FileSystem fs = FileSystem.newCompositeFileSystem(rest, FileSystem.Selector.of(FileSystem.newReadOnlyFileSystem(host),
                p -> p.isAbsolute() && p.normalize().startsWith(shim)));
        return FileSystem.allowInternalResourceAccess(FileSystem.allowLanguageHomeAccess(fs));
    }

    /**
     * GraalPy's os.getcwd() asks Truffle for the working directory and lets the sandbox's refusal through
     * as a host SecurityException no Python handler can catch; in a sandbox it raises PermissionError
     * instead (tempfile, pathlib and os.path.abspath fall back on OSError as they do on CPython).
     */
    private static final String REFUSE_GETCWD = """
            def _jdyn_sandbox():
                import os, posix
                def refused(*args):
                    raise PermissionError(13, "os.getcwd() is refused: %s" % REASON)
                for m in (os, posix):
                    m.getcwd = m.getcwdb = refused
            _jdyn_sandbox()
            del _jdyn_sandbox
            """.replace("REASON", "\"" + RefusedFiles.REASON + "\"");

    /** Options of one context. */
    public static final class Builder {
        private final Language language;
        private boolean allowFiles;
        private boolean allowAll;
        private Engine engine;
        private boolean ownEngine;
        private final List<String> arguments = new ArrayList<>();
        private final Map<String, String> options = new LinkedHashMap<>();
        private OutputStream out;
        private OutputStream err;
        private InputStream in;
        private java.util.function.Consumer<String> jitNote = JdynContexts::logJitNote;

        private Builder(Language language) {
            this.language = language;
        }

        /** Lets the script read and write host files (Python's open(), jdyn's checkpoints). Off by default. */
        public Builder allowFiles(boolean on) {
            this.allowFiles = on;
            return this;
        }

        /**
         * Full trust: every host class and member, files, threads, processes and native access, as a plain
         * GraalPy or GraalJS context would give. For applications that run their own scripts only.
         */
        public Builder allowAllHostAccess(boolean on) {
            this.allowAll = on;
            return this;
        }

        /** The script's arguments (Python's sys.argv[1:], JavaScript's arguments). */
        public Builder arguments(List<String> args) {
            arguments.clear();
            arguments.addAll(args);
            return this;
        }

        /** A language option (e.g. "python.WarnExperimentalFeatures"). */
        public Builder option(String key, String value) {
            options.put(key, value);
            return this;
        }

        /** The engine to run in (default: {@link #sharedEngine()}). */
        public Builder engine(Engine e) {
            this.engine = e;
            return this;
        }

        /** Gives the context an engine of its own, closed with it (start-up from cold, as a fresh JVM sees it). */
        public Builder ownEngine(boolean on) {
            this.ownEngine = on;
            return this;
        }

        public Builder out(OutputStream s) {
            this.out = s;
            return this;
        }

        public Builder err(OutputStream s) {
            this.err = s;
            return this;
        }

        /**
         * Where the one-line note goes when the JIT is off (once per JVM, at the first such context):
         * by default a System.Logger warning; null for none.
         */
        public Builder jitNote(java.util.function.Consumer<String> sink) {
            this.jitNote = sink;
            return this;
        }

        public Builder in(InputStream s) {
            this.in = s;
            return this;
        }

        /** The context, with jdyn's {@link ScriptHost} bound as "jdyn.host". */
        public Context build() {
            Context.Builder b;
            if (language == Language.PYTHON) {
                b = Context.newBuilder("python").allowExperimentalOptions(true)
                        .allowIO(IOAccess.newBuilder().fileSystem(pythonFiles(allowFiles || allowAll)).build())
                        .option("python.PythonPath", PythonShim.directory().toString())
                        // as GraalPyResources sets them: no native POSIX layer, no .pyc files written
                        .option("python.PosixModuleBackend", "java")
                        .option("python.DontWriteBytecodeFlag", "true")
                        .option("python.CheckHashPycsMode", "never")
                        .option("python.WarnExperimentalFeatures", "false");
                if (!arguments.isEmpty()) b.arguments("python", arguments.toArray(String[]::new));
            } else {
                b = Context.newBuilder("js").option("js.ecmascript-version", "2023");
                if (!arguments.isEmpty()) b.arguments("js", arguments.toArray(String[]::new));
                b.allowIO(allowFiles || allowAll ? IOAccess.ALL : IOAccess.NONE);
            }
            if (allowAll) {
                b.allowAllAccess(true).allowHostAccess(HostAccess.ALL).allowHostClassLookup(name -> true)
                        .allowNativeAccess(true).allowCreateThread(true);
            } else {
                HostPolicy policy = HostPolicy.jdynOnly(allowFiles);
                b.allowAllAccess(false)
                        .allowHostAccess(policy.hostAccess())
                        .allowHostClassLookup(policy.classFilter())
                        .allowNativeAccess(false)
                        .allowCreateProcess(false)
                        .allowCreateThread(false)
                        .allowPolyglotAccess(PolyglotAccess.newBuilder().allowBindingsAccess(language.id()).build());
            }
            options.forEach(b::option);
            if (ownEngine) {
                b.option("engine.WarnInterpreterOnly", "false"); // a bound engine, closed with the context
            } else {
                b.engine(engine != null ? engine : sharedEngine(allowAll ? "all" : allowFiles ? "files" : "sandboxed"));
            }
            if (out != null) b.out(out);
            if (err != null) b.err(err);
            if (in != null) b.in(in);
            Context c = b.build();
            if (jitNote != null && "Interpreted".equalsIgnoreCase(c.getEngine().getImplementationName())
                    && JIT_NOTED.compareAndSet(false, true)) {
                jitNote.accept("GraalPy and GraalJS run in the interpreter only (slower guest code; jdyn's own "
                        + "solves are native either way): the Graal JIT is off; to turn it on " + Jit.HOW_TO);
            }
            c.getPolyglotBindings().putMember(ScriptHost.BINDING, new ScriptHost(allowFiles || allowAll));
            if (language == Language.PYTHON && !allowFiles && !allowAll) c.eval("python", REFUSE_GETCWD);
            return c;
        }
    }
}
