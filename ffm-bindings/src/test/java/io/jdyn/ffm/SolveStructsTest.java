package io.jdyn.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SolveStructsTest {
    @Test
    void layoutsMatchTheSizesPinnedInApiCpp() {
        // native-core/src/api.cpp static_asserts the same sizes for the C structs.
        assertEquals(34 * 8, SolveStructs.CONFIG.byteSize());
        assertEquals(13 * 8, SolveStructs.STATS.byteSize());
    }
}
