package io.jdyn.polyglot;

import io.jdyn.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.graalvm.polyglot.HostAccess;

/**
 * What a script may reach on the host: jdyn's public API and nothing else. The classes are the public
 * classes of jdyn's API packages (found by listing the model's jar or class folder) plus the polyglot
 * module's script-facing helpers; a script looks up only those (java.lang.Runtime, java.io.File,
 * java.lang.System... are refused), and of each it may call only the public members declared by jdyn
 * classes (not getClass(), not Object's or reflection's). Members that take a java.io.File or a
 * java.nio.file.Path are left out unless the embedding application allows file access: a script reaches
 * files only through {@link ScriptHost}, which checks that permission.
 *
 * <p>Left out on purpose: io.jdyn.spi (the backend SPI: raw native buffers) and io.jdyn.ffm.
 */
public final class HostPolicy {
    /** The packages whose public classes scripts see. */
    public static final List<String> API_PACKAGES = List.of("io.jdyn", "io.jdyn.ode", "io.jdyn.nn", "io.jdyn.data",
            "io.jdyn.io", "io.jdyn.train", "io.jdyn.train.optim", "io.jdyn.train.loss", "io.jdyn.models", "io.jdyn.fn", "io.jdyn.numerics");

    /** The polyglot module's classes scripts see (the rest of it, the context factory included, is host-only). */
    static final List<Class<?>> SCRIPT_CLASSES = List.of(Values.class, ScriptHost.class, ScriptField.class);

    /** JDK types in jdyn's API results that a script must be able to open; their classes are not looked up. */
    static final List<Class<?>> RESULT_TYPES = List.of(java.util.Optional.class, java.util.OptionalDouble.class,
            java.util.OptionalInt.class, java.util.OptionalLong.class);

    private static volatile List<Class<?>> apiClasses;

    private final Set<String> classNames;
    private final HostAccess hostAccess;

    private HostPolicy(boolean allowFiles) {
        List<Class<?>> classes = classes();
        Set<Class<?>> allowed = Set.copyOf(classes);
        TreeSet<String> names = new TreeSet<>();
        HostAccess.Builder b = HostAccess.newBuilder()
                .allowArrayAccess(true)
                .allowListAccess(true)
                .allowMapAccess(true)
                .allowIterableAccess(true)
                .allowIteratorAccess(true)
                .allowBufferAccess(true)
                // an API method is callable on the object behind it too: the BatchView a field receives is
                // an io.jdyn.ffm class, and a script must read its state through BatchView.get
                .allowAccessInheritance(true)
                // a Python or JS function passed where jdyn takes a functional interface (a vector field, a callback)
                .allowImplementationsAnnotatedBy(FunctionalInterface.class);
        // the JDK value types jdyn's API returns (an interpolant, an event time, an integral value)
        for (Class<?> c : RESULT_TYPES) {
            for (Method m : c.getMethods()) {
                if (m.getDeclaringClass() == c && !m.getName().equals("stream")) b.allowAccess(m);
            }
        }
        for (Class<?> c : classes) {
            names.add(c.getName());
            if (c.isInterface() && c.getPackageName().startsWith("io.jdyn")) b.allowImplementations(c);
            for (Constructor<?> k : c.getConstructors()) {
                if (allowFiles || !touchesFiles(k)) b.allowAccess(k);
            }
            for (Method m : c.getMethods()) {
                if (!allowed.contains(m.getDeclaringClass()) && !isEnumBasic(c, m)) continue;
                if (allowFiles || !touchesFiles(m)) b.allowAccess(m);
            }
            for (Field f : c.getFields()) {
                if (allowed.contains(f.getDeclaringClass())) b.allowAccess(f);
            }
        }
        this.classNames = Collections.unmodifiableSet(names);
        this.hostAccess = b.build();
    }

    private static volatile HostPolicy sandboxed, withFiles;

    /**
     * jdyn's API only; files through jdyn only where allowFiles. One instance per variant and JVM: contexts
     * that share an engine must share its HostAccess.
     */
    public static HostPolicy jdynOnly(boolean allowFiles) {
        HostPolicy p = allowFiles ? withFiles : sandboxed;
        if (p == null) {
            synchronized (HostPolicy.class) {
                p = allowFiles ? withFiles : sandboxed;
                if (p == null) {
                    p = new HostPolicy(allowFiles);
                    if (allowFiles) withFiles = p;
                    else sandboxed = p;
                }
            }
        }
        return p;
    }

    /** The member-level policy. */
    public HostAccess hostAccess() {
        return hostAccess;
    }

    /** Which class names a script may look up (java.type in Python and JavaScript). */
    public Predicate<String> classFilter() {
        return classNames::contains;
    }

    /** The classes a script sees, by name. */
    public Set<String> classNames() {
        return classNames;
    }

    private static boolean isEnumBasic(Class<?> c, Method m) {
        return c.isEnum() && m.getDeclaringClass() == Enum.class
                && (m.getName().equals("name") || m.getName().equals("ordinal"));
    }

    private static boolean touchesFiles(Executable e) {
        for (Class<?> p : e.getParameterTypes()) {
            if (Path.class.isAssignableFrom(p) || java.io.File.class.isAssignableFrom(p)) return true;
        }
        return e instanceof Method m && (Path.class.isAssignableFrom(m.getReturnType())
                || java.io.File.class.isAssignableFrom(m.getReturnType()));
    }

    /** jdyn's public API classes plus the script helpers, listed once per JVM. */
    static List<Class<?>> classes() {
        List<Class<?>> c = apiClasses;
        if (c == null) {
            synchronized (HostPolicy.class) {
                c = apiClasses;
                if (c == null) apiClasses = c = scan();
            }
        }
        return c;
    }

    private static List<Class<?>> scan() {
        List<Class<?>> out = new ArrayList<>(SCRIPT_CLASSES);
        ClassLoader loader = Tensor.class.getClassLoader();
        for (String name : classFileNames()) {
            String cn = name.substring(0, name.length() - ".class".length()).replace('/', '.');
            int dot = cn.lastIndexOf('.');
            if (!API_PACKAGES.contains(cn.substring(0, dot)) || cn.endsWith("package-info")) continue;
            try {
                Class<?> k = Class.forName(cn, false, loader);
                if (isPublicAll(k)) out.add(k);
            } catch (ClassNotFoundException | LinkageError e) {
                // not loadable here: not part of what scripts can use
            }
        }
        return List.copyOf(out);
    }

    private static boolean isPublicAll(Class<?> k) {
        for (Class<?> c = k; c != null; c = c.getEnclosingClass()) {
            if (!Modifier.isPublic(c.getModifiers()) || c.isAnonymousClass() || c.isLocalClass()) return false;
        }
        return true;
    }

    /** The .class entries of the model's jar or class folder ("io/jdyn/Tensor.class", ...). */
    private static List<String> classFileNames() {
        try {
            Path where = Path.of(Tensor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(where)) {
                try (Stream<Path> s = Files.walk(where)) {
                    return s.filter(p -> p.toString().endsWith(".class"))
                            .map(p -> where.relativize(p).toString().replace('\\', '/')).toList();
                }
            }
            try (FileSystem jar = FileSystems.newFileSystem(where)) {
                Path root = jar.getPath("/");
                try (Stream<Path> s = Files.walk(root)) {
                    return s.filter(p -> p.toString().endsWith(".class"))
                            .map(p -> root.relativize(p).toString()).toList();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list jdyn's API classes", e);
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            throw new IllegalStateException("cannot find where jdyn's API classes are loaded from", e);
        }
    }
}
