package io.jdyn.polyglot;

import java.nio.file.Path;
import java.util.Locale;

/** The guest languages jdyn runs: GraalPy and GraalJS. */
public enum Language {
    PYTHON("python", ".py"),
    JS("js", ".js");

    private final String id;
    private final String extension;

    Language(String id, String extension) {
        this.id = id;
        this.extension = extension;
    }

    /** The polyglot language id ("python", "js"). */
    public String id() {
        return id;
    }

    /** The script file extension (".py", ".js"). */
    public String extension() {
        return extension;
    }

    /** The language of a script file, by its extension (.py, .js, .mjs). */
    public static Language ofScript(Path script) {
        String name = script.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".py")) return PYTHON;
        if (name.endsWith(".js") || name.endsWith(".mjs")) return JS;
        throw new IllegalArgumentException("cannot tell the language of " + script
                + ": jdyn runs Python (.py) and JavaScript (.js, .mjs) scripts");
    }
}
