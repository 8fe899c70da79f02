package io.jdyn.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdyn.spi.LayerSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradStructsTest {
    @Test
    void layoutsMatchJdynH() {
        // jdyn.h: every field is 8 bytes; these are the field counts of the four structs.
        assertEquals(7 * 8, GradStructs.LAYER_SPEC.byteSize());
        assertEquals(7 * 8, GradStructs.GRAD_OPTIONS.byteSize());
        assertEquals(3 * 8, GradStructs.BACKWARD_STATS.byteSize());
        assertEquals(5 * 8, GradStructs.DIFF_FIELD.byteSize());
    }

    @Test
    void fieldOrderFollowsTheHeader() {
        assertEquals(0, GradStructs.offset(GradStructs.LAYER_SPEC, "kind"));
        assertEquals(40, GradStructs.offset(GradStructs.LAYER_SPEC, "alpha"));
        assertEquals(48, GradStructs.offset(GradStructs.LAYER_SPEC, "threshold"));
        assertEquals(40, GradStructs.offset(GradStructs.GRAD_OPTIONS, "integral"));
        assertEquals(32, GradStructs.offset(GradStructs.DIFF_FIELD, "n_params"));
    }

    @Test
    void layerSpecsAreWrittenInOrder() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = GradStructs.layerSpecs(a, List.of(
                    new LayerSpec(LayerSpec.LINEAR, 64, true, 0, 0, 0, 0),
                    new LayerSpec(LayerSpec.SOFTPLUS, 0, false, 0, 0, 2.0, 15.0)));
            assertEquals(LayerSpec.LINEAR, s.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(64, s.get(ValueLayout.JAVA_LONG, 8));
            assertEquals(1, s.get(ValueLayout.JAVA_LONG, 16));
            assertEquals(LayerSpec.SOFTPLUS, s.get(ValueLayout.JAVA_LONG, 56));
            assertEquals(2.0, s.get(ValueLayout.JAVA_DOUBLE, 56 + 40));
            assertEquals(15.0, s.get(ValueLayout.JAVA_DOUBLE, 56 + 48));
        }
    }
}
