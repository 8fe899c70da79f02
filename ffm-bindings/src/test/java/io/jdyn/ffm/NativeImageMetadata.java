package io.jdyn.ffm;

import java.io.IOException;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Writes the {@code "foreign"} section of cli's GraalVM reachability metadata from the descriptors the
 * bindings really link ({@link JdynLibrary#DOWNCALLS}, {@link CudaProbe#DOWNCALLS}, {@link Upcalls#UPCALLS}).
 *
 * <p>After changing jdyn.h and the bindings, regenerate with one command from the repository root:
 *
 * <pre>
 * mvn -o -q -B -pl ffm-bindings test -Dtest=NativeImageMetadataTest -Djdyn.regenerate.metadata=true
 * </pre>
 *
 * <p>The section is rewritten in place; everything else in the file (reflection, resources) is kept as
 * it is. The section must stay the file's last top-level member.
 */
final class NativeImageMetadata {
    /** The metadata file, relative to ffm-bindings' basedir (the working directory of its tests). */
    static final Path FILE = Path.of("..", "cli", "src", "main", "resources", "META-INF", "native-image", "io.jdyn",
            "jdyn-cli", "reachability-metadata.json");

    private static final String SECTION_START = "\n  \"foreign\": {";

    private NativeImageMetadata() {}

    /** Every downcall the bindings make, from every list. */
    static List<Downcall> downcalls() {
        List<Downcall> all = new ArrayList<>(JdynLibrary.DOWNCALLS);
        all.addAll(CudaProbe.DOWNCALLS);
        return all;
    }

    /**
     * The canonical layout name GraalVM's metadata parser accepts for a layout. jdyn.h passes no
     * structs by value (only pointers to them), so anything but a plain value layout is refused here
     * rather than guessed.
     */
    static String type(MemoryLayout layout) {
        if (layout instanceof AddressLayout) return "void*";
        if (layout instanceof ValueLayout v && v.withoutName().equals(canonical(v.carrier()))) {
            return "j" + v.carrier().getName();
        }
        throw new IllegalArgumentException("no reachability-metadata name for the layout " + layout
                + ": extend NativeImageMetadata.type (struct layouts are written as struct(...))");
    }

    private static ValueLayout canonical(Class<?> carrier) {
        if (carrier == int.class) return ValueLayout.JAVA_INT;
        if (carrier == long.class) return ValueLayout.JAVA_LONG;
        if (carrier == double.class) return ValueLayout.JAVA_DOUBLE;
        if (carrier == float.class) return ValueLayout.JAVA_FLOAT;
        if (carrier == short.class) return ValueLayout.JAVA_SHORT;
        if (carrier == char.class) return ValueLayout.JAVA_CHAR;
        if (carrier == byte.class) return ValueLayout.JAVA_BYTE;
        if (carrier == boolean.class) return ValueLayout.JAVA_BOOLEAN;
        return null;
    }

    /** One registration as a single line of JSON: returnType, parameterTypes, options. */
    static String entry(FunctionDescriptor d, boolean critical) {
        String ret = d.returnLayout().map(NativeImageMetadata::type).orElse("void");
        String params = d.argumentLayouts().stream().map(l -> "\"" + type(l) + "\"").collect(Collectors.joining(", "));
        String options = critical ? ", \"options\": {\"critical\": {\"allowHeapAccess\": false}}" : "";
        return "{\"returnType\": \"" + ret + "\", \"parameterTypes\": [" + params + "]" + options + "}";
    }

    /** The generated section, from {@code "foreign"} to its closing brace, indented as in the file. */
    static String foreignSection() {
        Map<String, String> downcalls = new TreeMap<>();
        for (Downcall d : downcalls()) downcalls.put(entry(d.descriptor(), d.critical()), d.symbol());
        Map<String, String> upcalls = new TreeMap<>();
        for (Upcalls.Upcall u : Upcalls.UPCALLS) upcalls.put(entry(u.descriptor(), false), u.method());
        return "  \"foreign\": {\n"
                + "    \"downcalls\": [\n" + lines(downcalls.keySet()) + "    ],\n"
                + "    \"upcalls\": [\n" + lines(upcalls.keySet()) + "    ]\n"
                + "  }";
    }

    private static String lines(Iterable<String> entries) {
        StringBuilder b = new StringBuilder();
        for (String e : entries) {
            if (!b.isEmpty()) b.append(",\n");
            b.append("      ").append(e);
        }
        return b.append('\n').toString();
    }

    /** The file's text with its foreign section replaced by the generated one. */
    static String rewrite(String text) {
        int start = text.indexOf(SECTION_START);
        int end = text.lastIndexOf("\n}");
        if (start < 0 || end < start || text.indexOf(SECTION_START, start + 1) >= 0) {
            throw new IllegalArgumentException(FILE + " must end with one top-level \"foreign\" member, indented by"
                    + " two spaces, so that it can be regenerated");
        }
        return text.substring(0, start + 1) + foreignSection() + text.substring(end);
    }

    /** Rewrites the file (args[0], default {@link #FILE}, or the same path from the repository root). */
    public static void main(String[] args) throws IOException {
        Path file = args.length > 0 ? Path.of(args[0]) : Files.exists(FILE) ? FILE : FILE.subpath(1, FILE.getNameCount());
        String text = Files.readString(file, StandardCharsets.UTF_8);
        String updated = rewrite(text);
        if (!updated.equals(text)) {
            Files.writeString(file, updated, StandardCharsets.UTF_8);
            System.out.println("rewrote the foreign section of " + file.toAbsolutePath().normalize());
        } else {
            System.out.println(file.toAbsolutePath().normalize() + " is up to date");
        }
    }
}
