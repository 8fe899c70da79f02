package io.jdyn.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps cli's GraalVM reachability metadata
 * ({@code cli/src/main/resources/META-INF/native-image/io.jdyn/jdyn-cli/reachability-metadata.json}) in
 * step with the FFM calls the bindings really make: native-image only links the (descriptor, options)
 * pairs registered there, and a missing one fails at run time, in the native binary only.
 *
 * <p>When jdyn.h and the bindings change, regenerate the file's {@code "foreign"} section with:
 *
 * <pre>
 * mvn -o -q -B -pl ffm-bindings test -Dtest=NativeImageMetadataTest -Djdyn.regenerate.metadata=true
 * </pre>
 *
 * (see {@link NativeImageMetadata}) and commit the result.
 */
class NativeImageMetadataTest {
    private static String text;
    private static Map<String, Object> metadata;

    @BeforeAll
    static void read() throws IOException {
        Path file = NativeImageMetadata.FILE;
        assertTrue(Files.isRegularFile(file), "no " + file.toAbsolutePath().normalize());
        text = Files.readString(file, StandardCharsets.UTF_8);
        if (Boolean.getBoolean("jdyn.regenerate.metadata")) {
            String updated = NativeImageMetadata.rewrite(text);
            if (!updated.equals(text)) Files.writeString(file, updated, StandardCharsets.UTF_8);
            text = updated;
        }
        metadata = map(parseJson(text), "the document");
    }

    @Test
    void registeredDowncallsAreExactlyTheDescriptorsTheBindingsLink() {
        Set<String> expected = new TreeSet<>();
        for (Downcall d : NativeImageMetadata.downcalls()) {
            expected.add(signature(d.descriptor().returnLayout().map(NativeImageMetadata::type).orElse("void"),
                    d.descriptor().argumentLayouts().stream().map(NativeImageMetadata::type).toList(), d.critical()));
        }
        assertSameSets("downcalls", expected, registered("downcalls"));
    }

    @Test
    void registeredUpcallsAreExactlyTheStubsTheBindingsMake() {
        Set<String> expected = new TreeSet<>();
        for (Upcalls.Upcall u : Upcalls.UPCALLS) {
            expected.add(signature(u.descriptor().returnLayout().map(NativeImageMetadata::type).orElse("void"),
                    u.descriptor().argumentLayouts().stream().map(NativeImageMetadata::type).toList(), false));
        }
        assertSameSets("upcalls", expected, registered("upcalls"));
    }

    @Test
    void theGeneratorReproducesTheForeignSection() {
        assertEquals(NativeImageMetadata.rewrite(text), text, "the foreign section of " + NativeImageMetadata.FILE
                + " is not what the generator writes; regenerate it with: mvn -o -q -B -pl ffm-bindings test"
                + " -Dtest=NativeImageMetadataTest -Djdyn.regenerate.metadata=true");
    }

    /**
     * The lists above describe every FFM call only if nothing links outside them: Downcall.bind is the
     * one call of Linker.downcallHandle and Upcalls.stub the one call of Linker.upcallStub.
     */
    @Test
    void nothingLinksOutsideTheLists() throws IOException {
        Path sources = Path.of("src", "main", "java", "io", "jdyn", "ffm");
        List<String> downcallSites = new ArrayList<>();
        List<String> upcallSites = new ArrayList<>();
        try (var files = Files.list(sources)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                String src = Files.readString(f, StandardCharsets.UTF_8);
                for (int at = src.indexOf(".downcallHandle("); at >= 0; at = src.indexOf(".downcallHandle(", at + 1)) {
                    downcallSites.add(f.getFileName().toString());
                }
                for (int at = src.indexOf(".upcallStub("); at >= 0; at = src.indexOf(".upcallStub(", at + 1)) {
                    upcallSites.add(f.getFileName().toString());
                }
            }
        }
        assertEquals(List.of("Downcall.java", "Downcall.java"), downcallSites,
                "Linker.downcallHandle must only be called in Downcall.bind (list the function in a DOWNCALLS list)");
        assertEquals(List.of("Upcalls.java"), upcallSites,
                "Linker.upcallStub must only be called in Upcalls.stub (list the stub in Upcalls.UPCALLS)");
    }

    /** Upcalls looks its targets up by name (findStatic), which native-image only resolves for registered methods. */
    @Test
    void upcallTargetsAreRegisteredForReflection() {
        Set<String> registered = new TreeSet<>();
        for (Object o : list(metadata.get("reflection"), "reflection")) {
            Map<String, Object> entry = map(o, "a reflection entry");
            if (!Upcalls.class.getName().equals(entry.get("type"))) continue;
            for (Object m : list(entry.getOrDefault("methods", List.of()), "methods")) {
                Map<String, Object> method = map(m, "a method");
                registered.add(method.get("name") + "" + method.getOrDefault("parameterTypes", List.of()));
            }
        }
        Set<String> expected = new TreeSet<>();
        for (Upcalls.Upcall u : Upcalls.UPCALLS) {
            expected.add(u.method() + u.descriptor().toMethodType().parameterList().stream()
                    .map(c -> c == MemorySegment.class ? MemorySegment.class.getName() : c.getName()).toList());
        }
        assertSameSets("reflection methods of " + Upcalls.class.getName(), expected, registered);
    }

    /** What NativeLibraryLoader and the ServiceLoader read must be in the image. */
    @Test
    void theNativeLibraryAndServiceEntriesAreRegisteredResources() {
        List<Pattern> globs = new ArrayList<>();
        for (Object o : list(metadata.get("resources"), "resources")) {
            Object glob = map(o, "a resources entry").get("glob");
            if (glob != null) globs.add(globPattern((String) glob));
        }
        String platform = "linux-x86_64";
        for (String resource : List.of("io/jdyn/native/" + platform + "/libjdyn.so",
                "io/jdyn/native/" + platform + "/libjdyn.so.sha256", "META-INF/services/io.jdyn.spi.BackendProvider",
                "io/jdyn/cli/version.properties")) {
            assertTrue(globs.stream().anyMatch(p -> p.matcher(resource).matches()),
                    resource + " is matched by no resources glob of " + NativeImageMetadata.FILE);
        }
    }

    private static Set<String> registered(String kind) {
        Map<String, Object> foreign = map(metadata.get("foreign"), "foreign");
        Set<String> found = new TreeSet<>();
        for (Object o : list(foreign.getOrDefault(kind, List.of()), kind)) {
            Map<String, Object> e = map(o, "a " + kind + " entry");
            List<String> params = new ArrayList<>();
            for (Object p : list(e.getOrDefault("parameterTypes", List.of()), "parameterTypes")) params.add((String) p);
            boolean critical = false;
            if (e.get("options") != null) {
                Map<String, Object> options = map(e.get("options"), "options");
                if (options.get("critical") != null) {
                    Object heap = map(options.get("critical"), "critical").get("allowHeapAccess");
                    assertTrue(heap == null || Boolean.FALSE.equals(heap),
                            "the bindings link no critical call with heap access, but " + e + " registers one");
                    critical = true;
                }
                assertTrue(options.keySet().stream().allMatch("critical"::equals), "unexpected options in " + e);
            }
            String sig = signature((String) e.getOrDefault("returnType", "void"), params, critical);
            assertTrue(found.add(sig), kind + " registers " + sig + " twice");
        }
        return found;
    }

    private static String signature(String ret, List<String> params, boolean critical) {
        return (ret == null ? "void" : ret) + "(" + String.join(", ", params) + ")" + (critical ? " critical" : "");
    }

    private static void assertSameSets(String what, Set<String> expected, Set<String> actual) {
        Set<String> missing = new TreeSet<>(expected);
        missing.removeAll(actual);
        Set<String> extra = new TreeSet<>(actual);
        extra.removeAll(expected);
        if (!missing.isEmpty() || !extra.isEmpty()) {
            fail(what + " in " + NativeImageMetadata.FILE + " are out of step with the bindings.\n  missing (linked but"
                    + " not registered): " + missing + "\n  extra (registered but never linked): " + extra
                    + "\n  regenerate: mvn -o -q -B -pl ffm-bindings test -Dtest=NativeImageMetadataTest"
                    + " -Djdyn.regenerate.metadata=true");
        }
    }

    private static Pattern globPattern(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
            } else if (c == '*') {
                re.append("[^/]*");
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map)) throw new AssertionError(what + " is not a JSON object: " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, String what) {
        if (!(o instanceof List)) throw new AssertionError(what + " is not a JSON array: " + o);
        return (List<Object>) o;
    }

    private static Object parseJson(String text) {
        try {
            return io.jdyn.io.Json.parse(text);
        } catch (io.jdyn.io.Json.ParseException e) {
            throw new AssertionError("the metadata file is not valid JSON: " + e.getMessage(), e);
        }
    }
}
