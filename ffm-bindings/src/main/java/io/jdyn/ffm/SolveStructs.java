package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.spi.SolveRequest;
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
            JAVA_LONG.withName("dense"));

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

    /** A jdyn_solve_config for the request in the arena, with the given field callback (NULL for a program). */
    static MemorySegment config(Arena a, SolveRequest r, MemorySegment field) {
        MemorySegment cfg = a.allocate(CONFIG);
        set(cfg, "method", (long) r.method());
        set(cfg, "dtype", (long) r.dtype().code());
        set(cfg, "batch", r.batch());
        set(cfg, "dim", r.dim());
        set(cfg, "field", field);
        set(cfg, "times", a.allocateFrom(JAVA_DOUBLE, r.times()));
        set(cfg, "n_times", (long) r.times().length);
        set(cfg, "adaptive", r.adaptive() ? 1L : 0L);
        set(cfg, "rtol", r.rtol());
        set(cfg, "atol", r.atol());
        set(cfg, "rtol_vec", array(a, r.rtolPerComponent()));
        set(cfg, "atol_vec", array(a, r.atolPerComponent()));
        set(cfg, "norm_weights", array(a, r.normWeights()));
        set(cfg, "dt", r.dt());
        set(cfg, "grid", array(a, r.grid()));
        set(cfg, "n_grid", r.grid() == null ? 0L : (long) r.grid().length);
        set(cfg, "min_step", r.minStep());
        set(cfg, "max_step", r.maxStep());
        set(cfg, "max_steps", r.maxSteps());
        set(cfg, "step_ts", array(a, r.stepTimes()));
        set(cfg, "n_step_ts", r.stepTimes() == null ? 0L : (long) r.stepTimes().length);
        set(cfg, "safety", r.safety());
        set(cfg, "ifactor", r.ifactor());
        set(cfg, "dfactor", r.dfactor());
        set(cfg, "pcoeff", r.pcoeff());
        set(cfg, "icoeff", r.icoeff());
        set(cfg, "dcoeff", r.dcoeff());
        set(cfg, "event", r.event() == null ? MemorySegment.NULL : Upcalls.EVENT_STUB);
        set(cfg, "event_tol", r.eventTolerance());
        set(cfg, "event_direction", (long) r.eventDirection());
        set(cfg, "event_max_check", r.eventMaxCheck());
        set(cfg, "dense", r.dense() ? 1L : 0L);
        return cfg;
    }

    private static MemorySegment array(Arena a, double[] v) {
        return v == null ? MemorySegment.NULL : a.allocateFrom(JAVA_DOUBLE, v);
    }
}
