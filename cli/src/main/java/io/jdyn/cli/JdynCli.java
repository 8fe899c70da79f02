package io.jdyn.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code jdyn} command: {@code info}, {@code solve} and {@code train}. Exit codes are picocli's: 0 on
 * success, 2 on a usage error (with the message and the usage), 1 on a failure (one line, the stack trace
 * only with {@code --verbose}).
 */
@Command(name = "jdyn", mixinStandardHelpOptions = true, versionProvider = JdynCli.Version.class,
        description = "Neural differential equations for the JVM: solve classic ODEs, train Neural ODE classifiers, run Python and JavaScript scripts.",
        subcommands = {InfoCommand.class, SolveCommand.class, TrainCommand.class, RunCommand.class, CommandLine.HelpCommand.class},
        synopsisSubcommandLabel = "COMMAND")
public final class JdynCli implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Print the stack trace of a failure.")
    boolean verbose;

    /** Without a subcommand: the usage on stderr, as a usage error (exit 2). */
    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        cl.getErr().println("jdyn: missing a command (info, solve, train or run)");
        cl.usage(cl.getErr());
        cl.getErr().flush();
        return spec.exitCodeOnInvalidInput();
    }

    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }

    /** The command line, printing to System.out and System.err. */
    public static CommandLine newCommandLine() {
        return configure(new CommandLine(new JdynCli()));
    }

    /** The command line, printing to out and err (for running it in-process). */
    public static CommandLine newCommandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = configure(new CommandLine(new JdynCli()));
        cl.setOut(out);
        cl.setErr(err);
        return cl;
    }

    private static CommandLine configure(CommandLine cl) {
        // as with `python s.py --epochs 3`: everything after the script's name is the script's own
        cl.getSubcommands().get("run").setStopAtPositional(true);
        // a usage error: the message, suggestions for a mistyped name, and where the help is (exit 2)
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine line = ex.getCommandLine();
            PrintWriter err = line.getErr();
            err.println("jdyn: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            err.println("Try '" + line.getCommandSpec().qualifiedName() + " --help' for more information.");
            err.flush();
            return line.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            boolean verbose = parseResult.hasMatchedOption("--verbose") || parseResult.hasMatchedOption("-v")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose")
                            || p.hasMatchedOption("-v"));
            PrintWriter err = line.getErr();
            if (verbose) ex.printStackTrace(err);
            err.println("jdyn: " + oneLine(ex));
            err.flush();
            return line.getCommandSpec().exitCodeOnExecutionException();
        });
        return cl;
    }

    /** The message of a failure on one line, with its type where the message alone says too little. */
    static String oneLine(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) m = ex.getClass().getSimpleName();
        else if (!(ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof CliFailure || ex instanceof io.jdyn.JdynException
                || ex instanceof IOException || ex instanceof java.io.UncheckedIOException)) {
            m = ex.getClass().getSimpleName() + ": " + m;
        }
        return m.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /** The jdyn version this tool was built from. */
    static String version() {
        try (InputStream in = JdynCli.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** A failure the tool reports as it is (exit 1). */
    static final class CliFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CliFailure(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jdyn " + version(), "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
