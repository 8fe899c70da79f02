package io.jdyn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Atomic file replacement: the content is written to a temporary file in the target's directory,
 * forced to disk, then moved over the target with {@code ATOMIC_MOVE}. A failure (or a crash) before
 * the move leaves the previous file as it was; the temporary file is removed on failure.
 */
public final class AtomicFiles {
    /** Writes the content of a file through a channel. */
    @FunctionalInterface
    public interface Writer {
        void write(Sink sink) throws IOException;
    }

    /** Where a {@link Writer} puts its bytes. */
    public interface Sink {
        void write(ByteBuffer bytes) throws IOException;
    }

    /** Test hook: called after every chunk with the bytes written so far (may throw to simulate a crash). */
    @FunctionalInterface
    interface Hook {
        void afterWrite(Path target, long written) throws IOException;
    }

    static volatile Hook hook;

    private AtomicFiles() {}

    /** Replaces target atomically with what writer writes. */
    public static void write(Path target, Writer writer) throws IOException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(writer, "writer");
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null) throw new IOException(target + ": has no parent directory");
        if (!Files.isDirectory(dir)) throw new IOException(target + ": directory " + dir + " does not exist");
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                long[] written = {0};
                Hook h = hook;
                writer.write(bytes -> {
                    while (bytes.hasRemaining()) written[0] += ch.write(bytes);
                    if (h != null) h.afterWrite(abs, written[0]);
                });
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(target + ": the file system cannot replace it atomically", e);
            }
            moved = true;
            syncDirectory(dir);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the failure being reported matters more
                }
            }
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every platform can open or sync a directory; the rename itself is atomic
        }
    }
}
