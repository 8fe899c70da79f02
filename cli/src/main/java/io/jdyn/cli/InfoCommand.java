package io.jdyn.cli;

import io.jdyn.Jdyn;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code jdyn info}: versions, the native library, BLAS, CUDA and the JIT. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print the versions, the native library in use, BLAS, why CUDA is or is not available, and the JIT.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("jdyn: " + JdynCli.version());
        out.print(Jdyn.info()); // Java, native library (version and path), BLAS and threads, CUDA status
        out.println("JVM: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version")
                + ", " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", "
                + Runtime.getRuntime().availableProcessors() + " CPU(s)");
        // GraalPy and GraalJS (jdyn run): whether their guest code is compiled or only interpreted
        out.println("Graal JIT: " + io.jdyn.polyglot.Jit.describe());
        out.flush();
        return 0;
    }
}
