package io.jdyn.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the distribution in target/jdyn the way a user would: bin/jdyn in a stripped environment (no
 * JAVA_HOME, and a {@code java} first on the PATH that fails), so it passes only on the bundled runtime.
 */
class DistributionIT {
    private static final long TIMEOUT_S = 120;

    private static Path dist;
    private static Path jdyn;
    private static String version;

    @TempDir
    static Path tmp;

    private static Path decoyBin;

    @BeforeAll
    static void locate() throws IOException {
        String d = System.getProperty("jdyn.dist");
        assertTrue(d != null && !d.isEmpty(), "the jdyn.dist system property (failsafe sets it)");
        dist = Path.of(d).toAbsolutePath();
        jdyn = dist.resolve("bin/jdyn");
        version = System.getProperty("jdyn.version", "");
        // a java that fails loudly: the launcher must never pick a java from the PATH
        decoyBin = Files.createDirectories(tmp.resolve("decoy-bin"));
        Path fake = decoyBin.resolve("java");
        Files.writeString(fake, "#!/bin/sh\necho 'the PATH java was used' >&2\nexit 97\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    record Result(int code, String out, String err) {
        String both() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private static Result run(Path launcher, Map<String, String> extraEnv, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", decoyBin + ":/usr/bin:/bin");
        env.put("HOME", System.getProperty("user.home"));
        env.putAll(extraEnv);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " did not finish in " + TIMEOUT_S + " s\n"
                    + Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static Result jdyn(String... args) throws IOException, InterruptedException {
        return run(jdyn, Map.of(), args);
    }

    @Test
    void layout() throws IOException {
        assertTrue(Files.isExecutable(jdyn), "bin/jdyn is executable");
        assertTrue(Files.isExecutable(dist.resolve("runtime/bin/java")), "the bundled runtime");
        assertTrue(Files.isRegularFile(dist.resolve("README.txt")), "README.txt");
        String release = Files.readString(dist.resolve("runtime/release"));
        for (String m : List.of("java.desktop", "jdk.internal.vm.ci", "jdk.unsupported", "java.management")) {
            assertTrue(release.contains(m), "runtime has " + m + ": " + release);
        }
        assertFalse(release.contains("jdk.compiler"), "the runtime is trimmed: " + release);
        List<String> lib;
        try (Stream<Path> s = Files.list(dist.resolve("lib"))) {
            lib = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar")).toList();
        }
        List<String> jit;
        try (Stream<Path> s = Files.list(dist.resolve("lib/jit"))) {
            jit = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertTrue(lib.stream().anyMatch(n -> n.startsWith("jdyn-cli-")), "lib has jdyn-cli: " + lib);
        assertTrue(lib.stream().anyMatch(n -> n.startsWith("picocli-")), "lib has picocli: " + lib);
        assertEquals(4, jit.size(), "lib/jit: " + jit);
        for (String prefix : List.of("collections-", "compiler-", "truffle-compiler-", "word-")) {
            assertTrue(jit.stream().anyMatch(n -> n.startsWith(prefix)), "lib/jit has " + prefix + ": " + jit);
            assertTrue(lib.stream().noneMatch(n -> n.startsWith(prefix)), prefix + " is not in lib/: " + lib);
        }
        assertTrue(lib.stream().noneMatch(n -> n.startsWith("junit-")), "no JUnit in lib/: " + lib);
    }

    @Test
    void version() throws Exception {
        Result r = jdyn("--version");
        assertEquals(0, r.code(), r.both());
        assertTrue(r.out().contains("jdyn " + version), r.both());
        assertTrue(r.out().contains("Java " + Runtime.version().feature()), r.both());
    }

    @Test
    void info() throws Exception {
        Result r = jdyn("info");
        assertEquals(0, r.code(), r.both());
        assertTrue(r.out().contains("native: jdyn native"), r.both());
        assertTrue(r.out().contains("BLAS: "), r.both());
        assertTrue(r.err().isBlank(), "nothing on stderr (no JVM warnings): " + r.both());
    }

    @Test
    void solveVdp() throws Exception {
        Result r = jdyn("solve", "vdp", "--points", "5");
        assertEquals(0, r.code(), r.both());
        assertTrue(r.out().startsWith("vdp on [0, 20]"), r.both());
        // the state at t = 20: Van der Pol (mu = 1) from (2, 0) is back near x = 2.008
        assertTrue(Pattern.compile("(?m)^\\s*20\\.0+\\s+\\+2\\.00\\d*e\\+00\\s").matcher(r.out()).find(), r.both());
        assertTrue(r.out().contains("nfe "), r.both());
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        Result r = jdyn("solve", "no-such-problem");
        assertEquals(2, r.code(), r.both());
        assertTrue(r.err().contains("jdyn solve --help"), r.both());
        assertEquals(2, jdyn("--no-such-option").code());
    }

    @Test
    void throughASymlinkWithoutTheJit() throws Exception {
        Path link = Files.createDirectories(tmp.resolve("links")).resolve("jdyn");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, jdyn);
        Path link2 = tmp.resolve("links/jdyn2");
        Files.deleteIfExists(link2);
        Files.createSymbolicLink(link2, Path.of("jdyn")); // a relative link to the link
        try {
            Result r = run(link2, Map.of("JDYN_JIT", "0"), "--version");
            assertEquals(0, r.code(), r.both());
            assertTrue(r.out().contains("jdyn " + version), r.both());
        } finally { // not left for @TempDir, which warns about links that lead out of it
            Files.deleteIfExists(link2);
            Files.deleteIfExists(link);
        }
    }

    /** {@code jdyn run} on a Python and a JavaScript file, once the cli has the subcommand. */
    @Test
    void runScripts() throws Exception {
        Result help = jdyn("--help");
        assertEquals(0, help.code(), help.both());
        assumeTrue(Pattern.compile("(?m)^\\s+run\\s").matcher(help.out()).find(),
                "the cli has no `run` subcommand yet: the script test is skipped");
        Path py = Files.writeString(tmp.resolve("hello.py"), "print('hello from python', 6 * 7)\n");
        Path js = Files.writeString(tmp.resolve("hello.js"), "console.log('hello from js', 6 * 7);\n");
        Result p = jdyn("run", py.toString());
        assertEquals(0, p.code(), p.both());
        assertTrue(p.out().contains("hello from python 42"), p.both());
        Result j = jdyn("run", js.toString());
        assertEquals(0, j.code(), j.both());
        assertTrue(j.out().contains("hello from js 42"), j.both());
    }

    /** JDYN_JIT=0: the scripts run on Truffle's interpreter, which needs the word and collections jars of lib/jit/. */
    @Test
    void runScriptsWithoutTheJit() throws Exception {
        Path py = Files.writeString(tmp.resolve("nojit.py"), "import jdyn\nprint('python', jdyn.tensor([1.0, 2.0]).sum().item())\n");
        Path js = Files.writeString(tmp.resolve("nojit.js"),
                "console.log('js', Java.type('io.jdyn.polyglot.Values').tensor([1, 2, 3], 'float64').numel());\n");
        Result p = run(jdyn, Map.of("JDYN_JIT", "0"), "run", "--no-jit-note", py.getFileName().toString());
        assertEquals(0, p.code(), p.both());
        assertTrue(p.out().contains("python 3.0"), p.both());
        Result j = run(jdyn, Map.of("JDYN_JIT", "0"), "run", "--no-jit-note", js.toString());
        assertEquals(0, j.code(), j.both());
        assertTrue(j.out().contains("js 3"), j.both());
    }
}
