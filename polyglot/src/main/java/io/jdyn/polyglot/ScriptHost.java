package io.jdyn.polyglot;

import io.jdyn.io.Checkpoint;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.NeuralField;
import io.jdyn.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The one door from a script to the host's files, handed to each context by {@link JdynContexts}
 * (Python reaches it as {@code polyglot.import_value("jdyn.host")}, JavaScript as
 * {@code Polyglot.import("jdyn.host")}). Every method checks the context's file permission first, so a
 * script whose embedding application did not allow file access gets a SecurityException naming how to
 * allow it, whatever jdyn call it goes through.
 */
public final class ScriptHost {
    /** The binding name scripts import it by. */
    public static final String BINDING = "jdyn.host";

    private final boolean filesAllowed;

    ScriptHost(boolean filesAllowed) {
        this.filesAllowed = filesAllowed;
    }

    /** Whether this script may read and write files. */
    public boolean filesAllowed() {
        return filesAllowed;
    }

    /** Saves a model's parameters and architecture (safetensors, written atomically). */
    public String saveCheckpoint(NeuralODE model, String path) {
        Path p = file(path);
        try {
            Checkpoint.save(p, model.field(), Map.of("solver", model.solver().torchName(),
                    "sensitivity", model.sensitivity().torchName(), "rtol", Double.toString(model.rtol()),
                    "atol", Double.toString(model.atol())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the checkpoint " + p + ": " + e.getMessage(), e);
        }
        return Checkpoint.resolve(p).toAbsolutePath().toString();
    }

    /** The vector field stored in a checkpoint. */
    public NeuralField loadCheckpoint(String path) {
        Path p = file(path);
        try {
            return Checkpoint.load(p);
        } catch (IOException e) {
            throw readFailure(p, "load", e);
        }
    }

    /**
     * Loads a checkpoint's parameter values into an existing field, by name (the way to load the checkpoint
     * of a field traced from code: the script builds the same field, then loads into it).
     */
    public void loadCheckpointInto(String path, NeuralField field) {
        Path p = file(path);
        try {
            Checkpoint.load(p, field);
        } catch (IOException e) {
            throw readFailure(p, "load", e);
        }
    }

    /** The checkpoint's metadata (solver, sensitivity, architecture...). */
    public Map<String, String> checkpointMetadata(String path) {
        Path p = file(path);
        try {
            return Checkpoint.metadata(p);
        } catch (IOException e) {
            throw readFailure(p, "read", e);
        }
    }

    /** Writes the trainer's metrics as CSV to path. */
    public Trainer.Builder metricsLog(Trainer.Builder builder, String path) {
        return builder.metricsLog(file(path));
    }

    private static UncheckedIOException readFailure(Path p, String verb, IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException || e instanceof java.io.FileNotFoundException) {
            return new CheckpointNotFoundException("no checkpoint at " + p + " (no such file or folder: jdyn.save(model, path) "
                    + "writes one)", e);
        }
        return new UncheckedIOException("cannot " + verb + " the checkpoint " + p + ": " + e.getMessage(), e);
    }

    private Path file(String path) {
        if (!filesAllowed) {
            throw new SecurityException("file access is off for this script (it asked for " + path + "); the embedding "
                    + "application allows it with JdynContexts.Builder.allowFiles(true), the command line with "
                    + "`jdyn run --allow-files`");
        }
        if (path == null || path.isBlank()) throw new IllegalArgumentException("an empty path");
        return Path.of(path);
    }
}
