package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** Downcall handles for native-core/include/jdyn.h: the one place that knows its functions. */
final class JdynLibrary {
    final MethodHandle lastError;
    final MethodHandle version;
    final MethodHandle solve;
    final MethodHandle methodInfo;
    final MethodHandle denseEval;
    final MethodHandle denseSpan;
    final MethodHandle denseFree;
    final MethodHandle setNumThreads;
    final MethodHandle getNumThreads;
    final MethodHandle blasInfo;
    final MethodHandle gemm;
    final MethodHandle programCreate;
    final MethodHandle programFree;
    final MethodHandle programInfo;
    final MethodHandle programLayerParams;
    final MethodHandle programInitParams;
    final MethodHandle programForward;
    final MethodHandle programVjp;
    final MethodHandle programJvp;
    final MethodHandle programSolve;
    final MethodHandle diffFieldSolve;
    final MethodHandle tapeBackward;
    final MethodHandle tapeInfo;
    final MethodHandle tapeStepTimes;
    final MethodHandle tapeFree;
    final MethodHandle sgdStep;
    final MethodHandle adamStep;
    final MethodHandle clipGradNorm;
    final MethodHandle clipGradValue;

    JdynLibrary(Path file) {
        SymbolLookup lib = SymbolLookup.libraryLookup(file, Arena.global());
        Linker linker = Linker.nativeLinker();
        Linker.Option critical = Linker.Option.critical(false);
        lastError = linker.downcallHandle(find(lib, "jdyn_last_error"), FunctionDescriptor.of(ADDRESS));
        version = linker.downcallHandle(find(lib, "jdyn_version"), FunctionDescriptor.of(ADDRESS));
        // Not critical: the solve calls back into Java for Java-written vector fields.
        solve = linker.downcallHandle(find(lib, "jdyn_solve"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        methodInfo = linker.downcallHandle(find(lib, "jdyn_method_info"),
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        denseEval = linker.downcallHandle(find(lib, "jdyn_dense_eval"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        denseSpan = linker.downcallHandle(find(lib, "jdyn_dense_span"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        denseFree = linker.downcallHandle(find(lib, "jdyn_dense_free"), FunctionDescriptor.ofVoid(ADDRESS));
        setNumThreads = linker.downcallHandle(find(lib, "jdyn_set_num_threads"),
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        getNumThreads = linker.downcallHandle(find(lib, "jdyn_get_num_threads"), FunctionDescriptor.of(JAVA_LONG),
                critical);
        blasInfo = linker.downcallHandle(find(lib, "jdyn_blas_info"), FunctionDescriptor.of(ADDRESS));
        gemm = linker.downcallHandle(find(lib, "jdyn_gemm"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS));

        // Layer programs. Not critical: a forward pass over a large batch takes long enough that the
        // GC must be able to reach a safepoint meanwhile.
        programCreate = linker.downcallHandle(find(lib, "jdyn_program_create"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        programFree = linker.downcallHandle(find(lib, "jdyn_program_free"), FunctionDescriptor.ofVoid(ADDRESS));
        programInfo = linker.downcallHandle(find(lib, "jdyn_program_info"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        programLayerParams = linker.downcallHandle(find(lib, "jdyn_program_layer_params"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        programInitParams = linker.downcallHandle(find(lib, "jdyn_program_init_params"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        programForward = linker.downcallHandle(find(lib, "jdyn_program_forward"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS, JAVA_LONG, ADDRESS));
        programVjp = linker.downcallHandle(find(lib, "jdyn_program_vjp"), FunctionDescriptor.of(JAVA_INT, ADDRESS,
                ADDRESS, JAVA_DOUBLE, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
        programJvp = linker.downcallHandle(find(lib, "jdyn_program_jvp"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));

        // Solves with gradients. Not critical: they call back into Java (Java fields, VJPs, integral losses).
        programSolve = linker.downcallHandle(find(lib, "jdyn_program_solve"), FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        diffFieldSolve = linker.downcallHandle(find(lib, "jdyn_diff_field_solve"), FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        tapeBackward = linker.downcallHandle(find(lib, "jdyn_tape_backward"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        tapeInfo = linker.downcallHandle(find(lib, "jdyn_tape_info"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        tapeStepTimes = linker.downcallHandle(find(lib, "jdyn_tape_step_times"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        tapeFree = linker.downcallHandle(find(lib, "jdyn_tape_free"), FunctionDescriptor.ofVoid(ADDRESS));

        // Optimizer steps and gradient clipping: loops over the parameter buffers. Not critical: a large
        // model's buffers take long enough that the GC must be able to reach a safepoint meanwhile.
        sgdStep = linker.downcallHandle(find(lib, "jdyn_sgd_step"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG,
                ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE,
                JAVA_DOUBLE, JAVA_LONG, ADDRESS));
        adamStep = linker.downcallHandle(find(lib, "jdyn_adam_step"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE,
                JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_LONG, ADDRESS));
        clipGradNorm = linker.downcallHandle(find(lib, "jdyn_clip_grad_norm"), FunctionDescriptor.of(JAVA_INT,
                JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE, ADDRESS, ADDRESS));
        clipGradValue = linker.downcallHandle(find(lib, "jdyn_clip_grad_value"),
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_DOUBLE, ADDRESS));
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException(
                "libjdyn lacks the symbol " + name + ": the native library and the Java bindings are out of step"));
    }

    /** The calling thread's last error message. */
    String lastErrorMessage() {
        try {
            MemorySegment p = (MemorySegment) lastError.invokeExact();
            return cString(p);
        } catch (Throwable t) {
            return "(could not read the native error message: " + t + ")";
        }
    }

    static String cString(MemorySegment p) {
        if (p.equals(MemorySegment.NULL)) return "";
        return p.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
