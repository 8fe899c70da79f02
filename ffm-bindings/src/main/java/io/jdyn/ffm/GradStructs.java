package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jdyn.ode.GradOptions;
import io.jdyn.spi.LayerSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.List;

/**
 * The layouts of the structs of layer programs and gradients in jdyn.h: jdyn_layer_spec,
 * jdyn_grad_options, jdyn_backward_stats and jdyn_diff_field. Every field is 8 bytes, so the order
 * below is the whole contract; a test pins the sizes.
 */
final class GradStructs {
    private GradStructs() {}

    static final StructLayout LAYER_SPEC = MemoryLayout.structLayout(
            JAVA_LONG.withName("kind"),
            JAVA_LONG.withName("out_features"),
            JAVA_LONG.withName("bias"),
            JAVA_LONG.withName("basis"),
            JAVA_LONG.withName("n_basis"),
            JAVA_DOUBLE.withName("alpha"),
            JAVA_DOUBLE.withName("threshold"));

    static final StructLayout GRAD_OPTIONS = MemoryLayout.structLayout(
            JAVA_LONG.withName("sensitivity"),
            JAVA_LONG.withName("seminorm"),
            JAVA_DOUBLE.withName("rtol"),
            JAVA_DOUBLE.withName("atol"),
            JAVA_LONG.withName("max_steps"),
            ADDRESS.withName("integral"),
            ADDRESS.withName("integral_ctx"));

    static final StructLayout BACKWARD_STATS = MemoryLayout.structLayout(
            JAVA_LONG.withName("nfe"),
            JAVA_LONG.withName("accepted"),
            JAVA_LONG.withName("rejected"));

    static final StructLayout DIFF_FIELD = MemoryLayout.structLayout(
            ADDRESS.withName("forward"),
            ADDRESS.withName("forward_ctx"),
            ADDRESS.withName("vjp"),
            ADDRESS.withName("vjp_ctx"),
            JAVA_LONG.withName("n_params"));

    static long offset(StructLayout layout, String field) {
        return layout.byteOffset(PathElement.groupElement(field));
    }

    private static final long SPEC_KIND = offset(LAYER_SPEC, "kind");
    private static final long SPEC_OUT = offset(LAYER_SPEC, "out_features");
    private static final long SPEC_BIAS = offset(LAYER_SPEC, "bias");
    private static final long SPEC_BASIS = offset(LAYER_SPEC, "basis");
    private static final long SPEC_NBASIS = offset(LAYER_SPEC, "n_basis");
    private static final long SPEC_ALPHA = offset(LAYER_SPEC, "alpha");
    private static final long SPEC_THRESHOLD = offset(LAYER_SPEC, "threshold");

    /** An array of jdyn_layer_spec in the arena. */
    static MemorySegment layerSpecs(Arena a, List<LayerSpec> layers) {
        long size = LAYER_SPEC.byteSize();
        MemorySegment s = a.allocate(size * Math.max(1, layers.size()), 8);
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            long base = i * size;
            s.set(JAVA_LONG, base + SPEC_KIND, l.kind());
            s.set(JAVA_LONG, base + SPEC_OUT, l.outFeatures());
            s.set(JAVA_LONG, base + SPEC_BIAS, l.bias() ? 1L : 0L);
            s.set(JAVA_LONG, base + SPEC_BASIS, l.basis());
            s.set(JAVA_LONG, base + SPEC_NBASIS, l.nBasis());
            s.set(JAVA_DOUBLE, base + SPEC_ALPHA, l.alpha());
            s.set(JAVA_DOUBLE, base + SPEC_THRESHOLD, l.threshold());
        }
        return s;
    }

    // Offsets resolved once, as SolveStructs does: these structs are written on every gradient solve.
    private static final long GO_SENSITIVITY = offset(GRAD_OPTIONS, "sensitivity");
    private static final long GO_SEMINORM = offset(GRAD_OPTIONS, "seminorm");
    private static final long GO_RTOL = offset(GRAD_OPTIONS, "rtol");
    private static final long GO_ATOL = offset(GRAD_OPTIONS, "atol");
    private static final long GO_MAX_STEPS = offset(GRAD_OPTIONS, "max_steps");
    private static final long GO_INTEGRAL = offset(GRAD_OPTIONS, "integral");
    private static final long GO_INTEGRAL_CTX = offset(GRAD_OPTIONS, "integral_ctx");
    private static final long DF_FORWARD = offset(DIFF_FIELD, "forward");
    private static final long DF_FORWARD_CTX = offset(DIFF_FIELD, "forward_ctx");
    private static final long DF_VJP = offset(DIFF_FIELD, "vjp");
    private static final long DF_VJP_CTX = offset(DIFF_FIELD, "vjp_ctx");
    private static final long DF_N_PARAMS = offset(DIFF_FIELD, "n_params");

    /**
     * The jdyn_grad_options of the caller's GradOptions in the arena (the only place they meet the C
     * struct); an integral loss is the integral upcall stub, which finds its target thread-locally.
     */
    static MemorySegment gradOptions(Arena a, GradOptions o) {
        MemorySegment g = a.allocate(GRAD_OPTIONS);
        g.set(JAVA_LONG, GO_SENSITIVITY, o.sensitivity().code());
        g.set(JAVA_LONG, GO_SEMINORM, o.seminorm() ? 1L : 0L);
        g.set(JAVA_DOUBLE, GO_RTOL, o.rtol());
        g.set(JAVA_DOUBLE, GO_ATOL, o.atol());
        g.set(JAVA_LONG, GO_MAX_STEPS, o.maxSteps());
        g.set(ADDRESS, GO_INTEGRAL, o.integralLoss() == null ? MemorySegment.NULL : Upcalls.INTEGRAL_STUB);
        g.set(ADDRESS, GO_INTEGRAL_CTX, MemorySegment.NULL);
        return g;
    }

    /** A jdyn_diff_field whose forward and VJP are the upcall stubs (they find their target thread-locally). */
    static MemorySegment diffField(Arena a, long numParams) {
        MemorySegment f = a.allocate(DIFF_FIELD);
        f.set(ADDRESS, DF_FORWARD, Upcalls.FIELD_STUB);
        f.set(ADDRESS, DF_FORWARD_CTX, MemorySegment.NULL);
        f.set(ADDRESS, DF_VJP, Upcalls.VJP_STUB);
        f.set(ADDRESS, DF_VJP_CTX, MemorySegment.NULL);
        f.set(JAVA_LONG, DF_N_PARAMS, numParams);
        return f;
    }

    static long backwardStat(MemorySegment s, String field) {
        return s.get(JAVA_LONG, offset(BACKWARD_STATS, field));
    }
}
