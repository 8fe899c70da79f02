package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.ode.Event;
import io.jdyn.ode.SolveOptions;
import io.jdyn.ode.StepController;
import io.jdyn.spi.DenseHandle;
import io.jdyn.spi.EventInvoker;
import io.jdyn.spi.SolveOutcome;
import io.jdyn.spi.SolveSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * The layouts of jdyn_solve_config and jdyn_solve_stats (jdyn.h): every field is 8 bytes, so the
 * order of the fields below is the whole contract. A test checks the sizes against the header.
 */
final class SolveStructs {
    private SolveStructs() {}

    static final StructLayout CONFIG = MemoryLayout.structLayout(
            JAVA_LONG.withName("method"),
            JAVA_LONG.withName("dtype"),
            JAVA_LONG.withName("batch"),
            JAVA_LONG.withName("dim"),
            ADDRESS.withName("field"),
            ADDRESS.withName("field_ctx"),
            ADDRESS.withName("times"),
            JAVA_LONG.withName("n_times"),
            JAVA_LONG.withName("adaptive"),
            JAVA_DOUBLE.withName("rtol"),
            JAVA_DOUBLE.withName("atol"),
            ADDRESS.withName("rtol_vec"),
            ADDRESS.withName("atol_vec"),
            ADDRESS.withName("norm_weights"),
            JAVA_DOUBLE.withName("dt"),
            ADDRESS.withName("grid"),
            JAVA_LONG.withName("n_grid"),
            JAVA_DOUBLE.withName("min_step"),
            JAVA_DOUBLE.withName("max_step"),
            JAVA_LONG.withName("max_steps"),
            ADDRESS.withName("step_ts"),
            JAVA_LONG.withName("n_step_ts"),
            JAVA_DOUBLE.withName("safety"),
            JAVA_DOUBLE.withName("ifactor"),
            JAVA_DOUBLE.withName("dfactor"),
            JAVA_DOUBLE.withName("pcoeff"),
            JAVA_DOUBLE.withName("icoeff"),
            JAVA_DOUBLE.withName("dcoeff"),
            ADDRESS.withName("event"),
            ADDRESS.withName("event_ctx"),
            JAVA_DOUBLE.withName("event_tol"),
            JAVA_LONG.withName("event_direction"),
            JAVA_DOUBLE.withName("event_max_check"),
            JAVA_LONG.withName("dense"),
            JAVA_LONG.withName("per_sample"),
            ADDRESS.withName("sample_stats"),
            ADDRESS.withName("field_rows"),
            ADDRESS.withName("field_rows_ctx"));

    static final StructLayout STATS = MemoryLayout.structLayout(
            JAVA_LONG.withName("nfe"),
            JAVA_LONG.withName("accepted"),
            JAVA_LONG.withName("rejected"),
            JAVA_LONG.withName("n_out"),
            JAVA_LONG.withName("event_found"),
            JAVA_LONG.withName("bad_index"),
            JAVA_DOUBLE.withName("t_reached"),
            JAVA_DOUBLE.withName("last_dt"),
            JAVA_DOUBLE.withName("event_t"),
            MemoryLayout.sequenceLayout(4, JAVA_DOUBLE).withName("err_history"));

    // Offsets resolved once: a layout path lookup per field per solve would cost more than the call.
    private static final Map<String, Long> CONFIG_OFFSETS = offsets(CONFIG);
    private static final Map<String, Long> STATS_OFFSETS = offsets(STATS);

    private static Map<String, Long> offsets(StructLayout layout) {
        Map<String, Long> m = new HashMap<>();
        for (MemoryLayout e : layout.memberLayouts()) {
            String name = e.name().orElseThrow();
            m.put(name, layout.byteOffset(PathElement.groupElement(name)));
        }
        return Map.copyOf(m);
    }

    static void set(MemorySegment s, String field, long value) {
        s.set(JAVA_LONG, CONFIG_OFFSETS.get(field), value);
    }

    static void set(MemorySegment s, String field, double value) {
        s.set(JAVA_DOUBLE, CONFIG_OFFSETS.get(field), value);
    }

    static void set(MemorySegment s, String field, MemorySegment value) {
        s.set(ADDRESS, CONFIG_OFFSETS.get(field), value);
    }

    static long statLong(MemorySegment s, String field) {
        return s.get(JAVA_LONG, STATS_OFFSETS.get(field));
    }

    static double statDouble(MemorySegment s, String field) {
        return s.get(JAVA_DOUBLE, STATS_OFFSETS.get(field));
    }

    static double[] errorHistory(MemorySegment s) {
        long base = STATS_OFFSETS.get("err_history");
        double[] out = new double[4];
        for (int i = 0; i < 4; i++) out[i] = s.get(JAVA_DOUBLE, base + 8L * i);
        return out;
    }

    /**
     * The jdyn_solve_config of a solve, written in the arena straight from its one description: the
     * caller's SolveOptions as given, with this call's times, dtype, batch and width. field is the
     * vector field callback (NULL for a program, which the engine evaluates itself). This is the only
     * place the options meet the C struct.
     */
    static MemorySegment config(Arena a, SolveSpec spec, MemorySegment field) {
        return config(a, spec, field, MemorySegment.NULL, MemorySegment.NULL);
    }

    /**
     * The same with a field with a time per row (fieldRows, or NULL) and the per-row statistics'
     * [batch, 3] buffer (sampleStats, or NULL).
     */
    static MemorySegment config(Arena a, SolveSpec spec, MemorySegment field, MemorySegment fieldRows,
            MemorySegment sampleStats) {
        SolveOptions o = spec.options();
        boolean adaptive = o.adaptive();
        double[] grid = o.grid();
        double[] stepTimes = o.stepTimes();
        StepController c = o.controller();
        Event event = o.event();
        MemorySegment cfg = a.allocate(CONFIG);
        set(cfg, "method", (long) o.method().code());
        set(cfg, "dtype", (long) spec.dtype().code());
        set(cfg, "batch", spec.batch());
        set(cfg, "dim", spec.dim());
        set(cfg, "field", field);
        set(cfg, "times", a.allocateFrom(JAVA_DOUBLE, spec.times()));
        set(cfg, "n_times", (long) spec.times().length);
        set(cfg, "adaptive", adaptive ? 1L : 0L);
        set(cfg, "rtol", o.rtol());
        set(cfg, "atol", o.atol());
        set(cfg, "rtol_vec", array(a, o.rtolPerComponent()));
        set(cfg, "atol_vec", array(a, o.atolPerComponent()));
        set(cfg, "norm_weights", array(a, normWeights(o.normMask())));
        // dt is the first step of an adaptive solve (0: Hairer's choice) and the fixed step otherwise (0 with a grid).
        set(cfg, "dt", adaptive ? o.firstStep() : Double.isNaN(o.dt()) ? 0 : o.dt());
        set(cfg, "grid", array(a, grid));
        set(cfg, "n_grid", grid == null ? 0L : (long) grid.length);
        set(cfg, "min_step", o.minStep());
        set(cfg, "max_step", o.maxStep());
        set(cfg, "max_steps", o.maxSteps());
        set(cfg, "step_ts", array(a, stepTimes));
        set(cfg, "n_step_ts", stepTimes == null ? 0L : (long) stepTimes.length);
        set(cfg, "safety", c.safety());
        set(cfg, "ifactor", c.ifactor());
        set(cfg, "dfactor", c.dfactor());
        set(cfg, "pcoeff", c.pcoeff());
        set(cfg, "icoeff", c.icoeff());
        set(cfg, "dcoeff", c.dcoeff());
        set(cfg, "event", event == null ? MemorySegment.NULL : Upcalls.EVENT_STUB);
        set(cfg, "event_tol", event == null ? 0 : event.tolerance());
        set(cfg, "event_direction", event == null ? 0L : (long) event.direction().code());
        set(cfg, "event_max_check", event == null ? 0 : event.maxCheckInterval());
        set(cfg, "dense", o.dense() ? 1L : 0L);
        set(cfg, "per_sample", o.perSample() ? 1L : 0L);
        set(cfg, "sample_stats", sampleStats);
        set(cfg, "field_rows", fieldRows);
        return cfg;
    }

    /** Refuses a state the upcall views cannot address (they index batch and dim as ints). */
    static void checkShape(SolveSpec spec) {
        if (spec.batch() > Integer.MAX_VALUE || spec.dim() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("batch and dim must each be below 2^31");
        }
    }

    /** The event function of a solve's options as the upcall target, or null. */
    static EventInvoker event(SolveSpec spec) {
        Event e = spec.options().event();
        return e == null ? null : e.function()::value;
    }

    /**
     * The outcome of a solve from its status, message, the jdyn_solve_stats the engine wrote and the per-row
     * statistics it wrote to sampleStats (NULL: none).
     */
    static SolveOutcome outcome(int status, String message, MemorySegment stats, Throwable error, DenseHandle dense,
            MemorySegment sampleStats) {
        long[] rows = sampleStats.equals(MemorySegment.NULL) ? null : sampleStats.toArray(JAVA_LONG);
        return new SolveOutcome(status, message, statLong(stats, "nfe"), statLong(stats, "accepted"),
                statLong(stats, "rejected"), statLong(stats, "n_out"), statLong(stats, "event_found") != 0,
                statLong(stats, "bad_index"), statDouble(stats, "t_reached"), statDouble(stats, "last_dt"),
                statDouble(stats, "event_t"), errorHistory(stats), error, dense, rows);
    }

    /** A seminorm's mask as the engine's norm weights (1 counts, 0 is left out), or null. */
    private static double[] normWeights(boolean[] mask) {
        if (mask == null) return null;
        double[] w = new double[mask.length];
        for (int i = 0; i < mask.length; i++) w[i] = mask[i] ? 1 : 0;
        return w;
    }

    private static MemorySegment array(Arena a, double[] v) {
        return v == null ? MemorySegment.NULL : a.allocateFrom(JAVA_DOUBLE, v);
    }
}
