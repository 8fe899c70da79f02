package io.jdyn.polyglot;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The python-shim package {@code jdyn}, bundled in this jar under org.graalvm.python.vfs/src (the layout
 * of GraalPy's virtual filesystem, whose index fileslist.txt the graalpy-maven-plugin writes), extracted
 * once into {@code ~/.cache/jdyn/python/<content hash>/} (owner-only, atomic move) so that a context can be
 * given read access to that folder alone. GraalPy's own VirtualFileSystem would serve it from the jar, but
 * it reads its standard library from the host through the same filesystem, so it cannot deny a sandboxed
 * script the rest of the disk; a folder of our own can.
 */
public final class PythonShim {
    static final String VFS_ROOT = "/org.graalvm.python.vfs/";
    private static final String SRC = VFS_ROOT + "src/";
    private static volatile Path directory;

    private PythonShim() {}

    /** The folder holding the package jdyn (put it on python.PythonPath). Extracts on first use. */
    public static Path directory() {
        Path d = directory;
        if (d == null) {
            synchronized (PythonShim.class) {
                d = directory;
                if (d == null) {
                    try {
                        directory = d = extract();
                        PythonBytecode.writeInBackground(d);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot unpack jdyn's Python package: " + e.getMessage(), e);
                    }
                }
            }
        }
        return d;
    }

    private static Path extract() throws IOException {
        Map<String, byte[]> files = read();
        if (files.isEmpty()) throw new IOException("no Python sources under " + SRC + " in " + where());
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            sha.update(f.getKey().getBytes(StandardCharsets.UTF_8));
            sha.update(f.getValue());
        }
        String hash = HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        Path base = cacheBase().resolve("python");
        Path target = base.resolve(hash);
        if (Files.isDirectory(target)) return target.toRealPath();
        Files.createDirectories(base);
        Path tmp = Files.createTempDirectory(base, hash + ".tmp");
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path p = tmp.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException e) {
            // another JVM unpacked the same content first: use theirs
            deleteTree(tmp);
        }
        return target.toRealPath();
    }

    /** Relative path (under src/) to content, from the bundled index. */
    static Map<String, byte[]> read() throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        try (InputStream in = PythonShim.class.getResourceAsStream(VFS_ROOT + "fileslist.txt")) {
            if (in == null) throw new IOException("the index " + VFS_ROOT + "fileslist.txt is missing from " + where());
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith(SRC) && !line.endsWith("/")) names.add(line);
                }
            }
        }
        for (String n : names) {
            try (InputStream in = PythonShim.class.getResourceAsStream(n)) {
                if (in == null) throw new IOException("listed but missing: " + n);
                out.put(n.substring(SRC.length()), in.readAllBytes());
            }
        }
        return out;
    }

    private static String where() {
        var cs = PythonShim.class.getProtectionDomain().getCodeSource();
        return cs == null ? "the class path" : String.valueOf(cs.getLocation());
    }

    private static Path cacheBase() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jdyn");
    }

    private static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
