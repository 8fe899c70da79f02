package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdyn.DType;
import io.jdyn.ode.GradOptions;
import io.jdyn.ode.Method;
import io.jdyn.ode.Sensitivity;
import io.jdyn.ode.SolveOptions;
import io.jdyn.spi.SolveSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class SolveStructsTest {
    @Test
    void layoutsMatchTheSizesPinnedInApiCpp() {
        // native-core/src/api.cpp static_asserts the same sizes for the C structs.
        assertEquals(38 * 8, SolveStructs.CONFIG.byteSize());
        assertEquals(13 * 8, SolveStructs.STATS.byteSize());
    }

    @Test
    void configIsWrittenFromTheOptionsAndTheCall() {
        SolveOptions fixed = SolveOptions.builder().method(Method.RK4).dt(0.25).maxSteps(7).normMask(true, false).build();
        SolveOptions adaptive = SolveOptions.builder().firstStep(0.01).rtol(1e-5).build();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = SolveStructs.config(a, new SolveSpec(fixed, new double[] {0, 0.5, 1}, DType.FLOAT64, 3, 2),
                    MemorySegment.NULL);
            assertEquals(Method.RK4.code(), f.get(JAVA_LONG, at("method")));
            assertEquals(DType.FLOAT64.code(), f.get(JAVA_LONG, at("dtype")));
            assertEquals(3, f.get(JAVA_LONG, at("batch")));
            assertEquals(2, f.get(JAVA_LONG, at("dim")));
            assertEquals(3, f.get(JAVA_LONG, at("n_times")));
            assertArrayEquals(new double[] {0, 0.5, 1}, doubles(f, "times", 3));
            assertEquals(0, f.get(JAVA_LONG, at("adaptive")));
            assertEquals(0.25, f.get(JAVA_DOUBLE, at("dt")));
            assertEquals(7, f.get(JAVA_LONG, at("max_steps")));
            assertArrayEquals(new double[] {1, 0}, doubles(f, "norm_weights", 2));
            assertEquals(MemorySegment.NULL, f.get(ADDRESS, at("grid")));
            assertEquals(MemorySegment.NULL, f.get(ADDRESS, at("event")));

            MemorySegment d = SolveStructs.config(a, new SolveSpec(adaptive, new double[] {0, 1}, DType.FLOAT32, 1, 4),
                    MemorySegment.NULL);
            assertEquals(1, d.get(JAVA_LONG, at("adaptive")));
            assertEquals(0.01, d.get(JAVA_DOUBLE, at("dt")), "an adaptive solve's dt is its first step");
            assertEquals(1e-5, d.get(JAVA_DOUBLE, at("rtol")));
            assertEquals(0.9, d.get(JAVA_DOUBLE, at("safety")));
            assertEquals(MemorySegment.NULL, d.get(ADDRESS, at("norm_weights")));
        }
    }

    @Test
    void perSampleConfigCarriesTheRowFieldAndTheStatisticsBuffer() {
        // the two members appended for per-sample stepping sit at the end, after sample_stats
        assertEquals(36 * 8, at("field_rows"));
        assertEquals(37 * 8, at("field_rows_ctx"));
        SolveOptions o = SolveOptions.builder().perSample(true).build();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment stats = a.allocate(JAVA_LONG, 6);
            MemorySegment c = SolveStructs.config(a, new SolveSpec(o, new double[] {0, 1}, DType.FLOAT64, 2, 3),
                    MemorySegment.NULL, Upcalls.FIELD_ROWS_STUB, stats);
            assertEquals(1, c.get(JAVA_LONG, at("per_sample")));
            assertEquals(Upcalls.FIELD_ROWS_STUB, c.get(ADDRESS, at("field_rows")));
            assertEquals(stats.address(), c.get(ADDRESS, at("sample_stats")).address());
            assertEquals(MemorySegment.NULL, c.get(ADDRESS, at("field")));
        }
    }

    @Test
    void gradOptionsAreWrittenFromTheOptions() {
        GradOptions g = GradOptions.builder().sensitivity(Sensitivity.INTERPOLATED_ADJOINT).seminorm(false).rtol(1e-3)
                .maxSteps(40).build();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = GradStructs.gradOptions(a, g);
            assertEquals(Sensitivity.INTERPOLATED_ADJOINT.code(), s.get(JAVA_LONG, 0));
            assertEquals(0, s.get(JAVA_LONG, 8));
            assertEquals(1e-3, s.get(JAVA_DOUBLE, 16));
            assertEquals(0.0, s.get(JAVA_DOUBLE, 24), "0: the forward solve's atol");
            assertEquals(40, s.get(JAVA_LONG, 32));
            assertEquals(MemorySegment.NULL, s.get(ADDRESS, GradStructs.offset(GradStructs.GRAD_OPTIONS, "integral")));
        }
    }

    private static long at(String field) {
        return SolveStructs.CONFIG.byteOffset(PathElement.groupElement(field));
    }

    private static double[] doubles(MemorySegment cfg, String field, int n) {
        return cfg.get(ADDRESS, at(field)).reinterpret(8L * n).toArray(JAVA_DOUBLE);
    }
}
