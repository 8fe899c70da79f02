package io.jdyn.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native library reaches executors by itself: in a fresh JVM with an empty jdyn cache, the first
 * use of jdyn happens inside Spark tasks, which extract libjdyn.so from the class path (ffm-bindings'
 * loader) and solve. The tasks of a cluster's executors do the same in their own JVMs.
 */
class NativeLoadInTaskTest {
    @Test
    void firstUseInsideATaskExtractsAndLoadsTheLibrary(@TempDir Path cache) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the same JVM options as this test JVM (Spark's module options and native access)
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--") || a.startsWith("-XX:+IgnoreUnrecognized") || a.startsWith("-Dio.netty")) cmd.add(a);
        }
        cmd.add("-Djdyn.cache.dir=" + cache);
        cmd.add("-Dlog4j2.configurationFile=log4j2-test.properties");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(FirstUseInTask.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM finished");
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        // rk4 with h = 0.01 over one time unit: error ~ 1e-10
        double error = lines.stream().filter(l -> l.startsWith("error ")).mapToDouble(l -> Double.parseDouble(l.substring(6)))
                .findFirst().orElseThrow(() -> new AssertionError(out));
        assertTrue(error < 1e-8, out);
        long taskLines = lines.stream().filter(l -> l.contains("Executor task launch worker") && l.contains("native: ")
                && !l.contains("unavailable")).count();
        assertEquals(2, taskLines, out);
        try (Stream<Path> files = Files.walk(cache)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().equals("libjdyn.so")),
                    "libjdyn.so extracted into the fresh cache " + cache);
        }
    }
}
