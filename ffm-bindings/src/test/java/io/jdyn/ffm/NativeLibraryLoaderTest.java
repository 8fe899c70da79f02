package io.jdyn.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Extraction of the packaged library: private, content-addressed, reused. */
class NativeLibraryLoaderTest {
    @Test
    void extractsIntoAPrivateContentAddressedDirectoryOnce(@TempDir Path cache) throws Exception {
        String old = System.getProperty("jdyn.cache.dir");
        System.setProperty("jdyn.cache.dir", cache.toString());
        try {
            Path lib = NativeLibraryLoader.locate("jdyn", "jdyn.test.no.such.property");
            assertNotNull(lib, "libjdyn.so is packaged by jdyn-native-core");
            assertTrue(lib.startsWith(cache));
            Path dir = lib.getParent();
            assertEquals(16, dir.getFileName().toString().length(), "directory named by a SHA-256 prefix");
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(lib)));
            long modified = Files.getLastModifiedTime(lib).toMillis();
            Path again = NativeLibraryLoader.locate("jdyn", "jdyn.test.no.such.property");
            assertEquals(lib, again);
            assertEquals(modified, Files.getLastModifiedTime(again).toMillis(), "reused, not rewritten");
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count(), "no temporary file left behind");
            }
        } finally {
            if (old == null) System.clearProperty("jdyn.cache.dir"); else System.setProperty("jdyn.cache.dir", old);
        }
    }

    @Test
    void anExplicitPathMustExist() {
        System.setProperty("jdyn.test.lib", "/nonexistent/libjdyn.so");
        try {
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> NativeLibraryLoader.locate("jdyn", "jdyn.test.lib"));
            assertTrue(e.getMessage().contains("not a file"), e.getMessage());
        } finally {
            System.clearProperty("jdyn.test.lib");
        }
    }

    @Test
    void namesThePlatform() {
        assertEquals("linux-x86_64", NativeLibraryLoader.platform());
    }
}
