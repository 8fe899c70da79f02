package io.jdyn.ffm;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;

/**
 * Finds a native library of jdyn: an explicit path (system property {@code jdyn.library.path} for
 * libjdyn, {@code jdyn.cuda.library.path} for libjdyn_cuda), else the copy packaged in the
 * jdyn-native-core jar under {@code io/jdyn/native/PLATFORM/}, extracted once into a private,
 * content-addressed directory: {@code <cache>/jdyn/<sha256 prefix>/}, owner-only permissions, written
 * to a temporary file and moved into place atomically so that concurrent JVMs never see half a file,
 * and checked against the hash recorded at build time.
 */
final class NativeLibraryLoader {
    private NativeLibraryLoader() {}

    /** linux-x86_64 and the like, or throws saying the platform is not supported. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.replaceAll("\\s+", "");
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x86-64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return o + "-" + a.replace("x86-64", "x86_64");
    }

    /** The file to load for the named library ("jdyn" or "jdyn_cuda"), or null if none is packaged. */
    static Path locate(String name, String overrideProperty) throws IOException {
        String override = System.getProperty(overrideProperty);
        if (override != null && !override.isBlank()) {
            Path p = Path.of(override);
            if (!Files.isRegularFile(p)) {
                throw new IOException(overrideProperty + " points to " + p + ", which is not a file");
            }
            return p;
        }
        String file = "lib" + name + ".so";
        String base = "/io/jdyn/native/" + platform() + "/";
        String expectedHash = readHash(base + file + ".sha256");
        try (InputStream in = NativeLibraryLoader.class.getResourceAsStream(base + file)) {
            if (in == null) return null;
            if (expectedHash == null) {
                throw new IOException(base + file + " is packaged without its .sha256: the jar is damaged");
            }
            return extract(in, file, expectedHash);
        }
    }

    private static String readHash(String resource) throws IOException {
        try (InputStream in = NativeLibraryLoader.class.getResourceAsStream(resource)) {
            if (in == null) return null;
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
            int space = text.indexOf(' ');
            return (space > 0 ? text.substring(0, space) : text).toLowerCase(Locale.ROOT);
        }
    }

    private static Path cacheRoot() {
        String explicit = System.getProperty("jdyn.cache.dir");
        if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "jdyn");
        return Path.of(System.getProperty("user.home"), ".cache", "jdyn");
    }

    private static Path extract(InputStream in, String file, String expectedHash) throws IOException {
        Path dir = cacheRoot().resolve(expectedHash.substring(0, 16));
        Path target = dir.resolve(file);
        if (Files.isRegularFile(target)) return target;
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rwx------");
        createPrivateDirectories(dir, ownerOnly);
        Path tmp = Files.createTempFile(dir, file, ".part", PosixFilePermissions.asFileAttribute(ownerOnly));
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                    out.write(buf, 0, n);
                }
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(expectedHash)) {
                throw new IOException("packaged " + file + " has SHA-256 " + actual + " but " + expectedHash
                        + " was recorded at build time: the jar is damaged");
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                // Another JVM won the race with the same content; keep theirs.
                if (!Files.isRegularFile(target)) Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (NoSuchAlgorithmException e) {
            throw new IOException("SHA-256 is not available", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void createPrivateDirectories(Path dir, Set<PosixFilePermission> perms) throws IOException {
        Path parent = dir.getParent();
        if (parent != null && !Files.isDirectory(parent)) createPrivateDirectories(parent, perms);
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(perms));
            } catch (FileAlreadyExistsException e) {
                // Created concurrently.
            }
        }
    }
}
