package io.jdyn.cli;

import io.jdyn.polyglot.ScriptRunner;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jdyn run script.py|script.js [args]}: runs a Python (GraalPy, with the python-shim: {@code import
 * jdyn}) or JavaScript (GraalJS, jdyn's Java API through {@code Java.type}) script. Sandboxed to jdyn by
 * default; {@code --allow-files} lets it read and write files, {@code --allow-all} gives it the whole JVM.
 * The exit code is the script's.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a Python (.py, GraalPy) or JavaScript (.js, GraalJS) script with jdyn available.",
                "Python: import jdyn (torchdyn's API). JavaScript: Java.type('io.jdyn.models.NeuralODE') and the rest of jdyn's Java API.",
                "Scripts see jdyn and nothing else of the JVM, and no files, unless allowed below."},
        footer = {"", "Exit status: the script's own (sys.exit(n)); 1 when it raises; 2 for a usage error."})
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SCRIPT", description = "The script: a .py or .js file.")
    Path script;

    @Parameters(index = "1..*", paramLabel = "ARG", arity = "0..*",
            description = {"Arguments for the script (Python's sys.argv[1:], JavaScript's arguments): everything after SCRIPT,",
                    "options included, is the script's (jdyn run s.py --epochs 3); jdyn run's own options go before SCRIPT."})
    List<String> args = new ArrayList<>();

    @Option(names = "--allow-files", description = "Let the script read and write files (open(), jdyn.save, metrics logs).")
    boolean allowFiles;

    @Option(names = "--allow-all", description = "Full trust: every Java class, files, threads, processes and native access.")
    boolean allowAll;

    @Option(names = "--jit-note", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Say so on stderr when the Graal JIT is off (default: on).")
    boolean jitNote;

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(script)) {
            throw new JdynCli.CliFailure("no such script: " + script);
        }
        PrintWriter err = spec.commandLine().getErr();
        java.util.function.Consumer<String> note = jitNote ? line -> {
            err.println("jdyn run: " + line);
            err.flush();
        } : null;
        OutputStream out = new WriterStream(spec.commandLine().getOut());
        OutputStream errs = new WriterStream(err);
        int rc = ScriptRunner.run(script, args, new ScriptRunner.Options(allowFiles, allowAll, note), out, errs);
        out.flush();
        errs.flush();
        return rc;
    }
}
