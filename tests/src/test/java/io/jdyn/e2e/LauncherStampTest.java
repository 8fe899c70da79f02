package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * ./jdyn rebuilds when its stamp is missing or older than the sources; any Maven build that packages the
 * cli (scripts/test.sh's, this one) writes that stamp, so the launcher does not rebuild after it (issue 13).
 */
class LauncherStampTest {
    @Test
    void aMavenBuildOfTheCliWritesTheLaunchersStamp() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        String launcher = Files.readString(root.resolve("jdyn"));
        Matcher m = Pattern.compile("(?m)^stamp=(\\S+)$").matcher(launcher);
        assertTrue(m.find(), "./jdyn names its stamp");
        Path stamp = root.resolve(m.group(1));
        assertTrue(Files.isRegularFile(stamp), "the build wrote " + stamp);
        // written after the cli's jar and class path in the same package phase
        long built = Files.getLastModifiedTime(stamp).toMillis();
        try (Stream<Path> s = Files.list(root.resolve("cli/target"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".jar") || p.endsWith("classpath.txt")).toList()) {
                assertFalse(Files.getLastModifiedTime(p).toMillis() > built, p + " is newer than the stamp");
            }
        }
    }
}
