package io.jdyn.polyglot;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.DirectoryStream;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Map;
import java.util.Set;
import org.graalvm.polyglot.io.FileSystem;

/**
 * The disk as a sandboxed script sees it: every operation refused with an {@link AccessDeniedException}
 * (an IOException, which GraalPy raises as a catchable {@code PermissionError}) rather than the
 * SecurityException of Truffle's deny-all file system, which some of GraalPy's paths let escape past
 * {@code except BaseException}. Relative paths resolve against "/": the working directory is not the
 * script's to know ({@code os.getcwd()} itself is refused by {@link JdynContexts}).
 */
final class RefusedFiles implements FileSystem {
    static final String REASON = "file access is off in jdyn's sandbox (jdyn run --allow-files, "
            + "or JdynContexts.Builder.allowFiles(true))";

    private static final Path ROOT = Path.of("/");

    private static AccessDeniedException refused(Path p) {
        return new AccessDeniedException(String.valueOf(p), null, REASON);
    }

    @Override
    public Path parsePath(URI uri) {
        return Path.of(uri);
    }

    @Override
    public Path parsePath(String path) {
        return Path.of(path);
    }

    @Override
    public void checkAccess(Path path, Set<? extends AccessMode> modes, LinkOption... linkOptions) throws IOException {
        throw refused(path);
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
        throw refused(dir);
    }

    @Override
    public void delete(Path path) throws IOException {
        throw refused(path);
    }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        throw refused(path);
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
            throws IOException {
        throw refused(dir);
    }

    @Override
    public Path toAbsolutePath(Path path) {
        return path.isAbsolute() ? path : ROOT.resolve(path);
    }

    @Override
    public Path toRealPath(Path path, LinkOption... linkOptions) throws IOException {
        throw refused(path);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
        throw refused(path);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
        throw refused(path);
    }

    @Override
    public void createLink(Path link, Path existing) throws IOException {
        throw refused(link);
    }

    @Override
    public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) throws IOException {
        throw refused(link);
    }

    @Override
    public Path readSymbolicLink(Path link) throws IOException {
        throw refused(link);
    }

    @Override
    public void copy(Path source, Path target, java.nio.file.CopyOption... options) throws IOException {
        throw refused(source);
    }

    @Override
    public void move(Path source, Path target, java.nio.file.CopyOption... options) throws IOException {
        throw refused(source);
    }

    @Override
    public void setCurrentWorkingDirectory(Path currentWorkingDirectory) {
        throw new UnsupportedOperationException(REASON);
    }
}
