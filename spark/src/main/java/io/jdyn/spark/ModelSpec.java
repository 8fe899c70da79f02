package io.jdyn.spark;

import io.jdyn.DType;
import io.jdyn.io.Checkpoint;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.NeuralField;
import io.jdyn.ode.SolveOptions;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * A NeuralODE as something Spark can ship: its field as a {@link Checkpoint} (the Sequential's
 * architecture as JSON and its parameter values, in safetensors bytes) and the model's solve and
 * sensitivity settings. Executors rebuild the model once per JVM (see {@link ExecutorModels}) under
 * {@link #id()}; parameters then travel per round as a broadcast double[].
 *
 * <p>For a first-order NeuralODE built from a {@link io.jdyn.nn.Sequential} without an integral loss
 * (an {@link io.jdyn.fn.Fn}'s code cannot be rebuilt from a file).
 */
public final class ModelSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String id;
    private final byte[] checkpoint;
    private final int dim;
    private final DType dtype;
    private final long numParams;
    private final String solver;
    private final double rtol;
    private final double atol;
    private final double dt;
    private final long maxSteps;
    private final String sensitivity;
    private final double rtolAdjoint;
    private final double atolAdjoint;
    private final boolean seminorm;
    private final double[] sSpan;

    private ModelSpec(NeuralODE m, byte[] checkpoint) {
        this.id = UUID.randomUUID().toString();
        this.checkpoint = checkpoint;
        this.dim = m.inFeatures();
        this.dtype = m.dtype();
        this.numParams = m.numParams();
        this.solver = m.solver().torchName();
        this.rtol = m.rtol();
        this.atol = m.atol();
        SolveOptions o = m.solveOptions(m.sSpan());
        this.dt = o.grid() == null ? o.dt() : Double.NaN;
        this.maxSteps = o.maxStepsSet() ? o.maxSteps() : 0;
        this.sensitivity = m.sensitivity().torchName();
        this.rtolAdjoint = m.rtolAdjoint();
        this.atolAdjoint = m.atolAdjoint();
        this.seminorm = m.gradOptions().seminorm();
        this.sSpan = m.sSpan();
    }

    /**
     * The spec of model as it is now (architecture, current parameter values, solver, tolerances, dt,
     * max steps, sensitivity, integration interval). Refuses a model an executor could not rebuild.
     */
    public static ModelSpec of(NeuralODE model) {
        Objects.requireNonNull(model, "model");
        if (model.net() == null) {
            throw new IllegalArgumentException("a NeuralODE built from an Fn cannot be shipped to executors (its code is"
                    + " not data): build it from a Sequential, or use Ensemble with a FieldSpec of a serializable Fn");
        }
        if (model.order() != 1) throw new IllegalArgumentException("only first-order NeuralODEs can be shipped, got order " + model.order());
        if (model.field().dim() != model.inFeatures()) {
            throw new IllegalArgumentException("a NeuralODE with an integral loss cannot be shipped to executors");
        }
        try {
            Path tmp = Files.createTempFile("jdyn-spark-", ".safetensors");
            try {
                Checkpoint.save(tmp, model.field());
                return new ModelSpec(model, Files.readAllBytes(tmp));
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the model's checkpoint to ship it", e);
        }
    }

    /** A model rebuilt from a spec with the field under it: closing it frees both. */
    public record Built(NeuralODE model, NeuralField field) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
            field.close();
        }
    }

    /**
     * A new model from this spec (the caller closes it): the checkpoint's field with the spec's
     * parameter values, under a NeuralODE with the spec's settings.
     */
    public Built build() {
        NeuralField field;
        try {
            Path tmp = Files.createTempFile("jdyn-spark-", ".safetensors");
            try {
                Files.write(tmp, checkpoint);
                field = Checkpoint.load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not rebuild the shipped model " + id, e);
        }
        try {
            NeuralODE.Builder b = NeuralODE.builder(field).solver(solver).rtol(rtol).atol(atol).sensitivity(sensitivity)
                    .rtolAdjoint(rtolAdjoint).atolAdjoint(atolAdjoint).seminorm(seminorm).sSpan(sSpan);
            if (!Double.isNaN(dt)) b.dt(dt);
            if (maxSteps > 0) b.maxSteps(maxSteps);
            return new Built(b.build(), field);
        } catch (RuntimeException | Error e) {
            field.close();
            throw e;
        }
    }

    /** The id executors cache the rebuilt model under (fresh for every spec). */
    public String id() {
        return id;
    }

    public int dim() {
        return dim;
    }

    public DType dtype() {
        return dtype;
    }

    public long numParams() {
        return numParams;
    }

    @Override
    public String toString() {
        return "ModelSpec[" + id + ": dim " + dim + ", " + dtype + ", " + numParams + " parameters, " + solver
                + (Double.isNaN(dt) ? "" : " dt " + dt) + ", sensitivity " + sensitivity + ", sSpan "
                + Arrays.toString(sSpan) + "]";
    }
}
