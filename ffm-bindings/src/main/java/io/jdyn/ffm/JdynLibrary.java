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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
    final MethodHandle graphNew;
    final MethodHandle graphFree;
    final MethodHandle graphTime;
    final MethodHandle graphArg;
    final MethodHandle graphParam;
    final MethodHandle graphConst;
    final MethodHandle graphOp;
    final MethodHandle graphShape;
    final MethodHandle graphVjp;
    final MethodHandle graphJvp;
    final MethodHandle graphSize;
    final MethodHandle graphFinish;
    final MethodHandle programSignature;
    final MethodHandle programArgShape;
    final MethodHandle programOutputShape;
    final MethodHandle programParam;
    final MethodHandle programRun;
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
    final MethodHandle programLinearLayers;
    final MethodHandle tapeBackwardCurvature;
    final MethodHandle symEig;
    final MethodHandle snoptEigenbasis;
    final MethodHandle snoptPrecondition;

    /**
     * Every function of jdyn.h the bindings call, with the descriptor and options it is linked with:
     * the handles below are made from this list and nothing else, so it is also what GraalVM
     * native-image must have registered (cli's reachability-metadata.json, checked by
     * NativeImageMetadataTest).
     */
    static final List<Downcall> DOWNCALLS = List.of(
            Downcall.of("jdyn_last_error", FunctionDescriptor.of(ADDRESS)),
            Downcall.of("jdyn_version", FunctionDescriptor.of(ADDRESS)),
            // Not critical: the solve calls back into Java for Java-written vector fields.
            Downcall.of("jdyn_solve",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_method_info",
                    FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_dense_eval", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_dense_span", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_dense_free", FunctionDescriptor.ofVoid(ADDRESS)),
            Downcall.of("jdyn_set_num_threads", FunctionDescriptor.of(JAVA_INT, JAVA_LONG)),
            Downcall.critical("jdyn_get_num_threads", FunctionDescriptor.of(JAVA_LONG)),
            Downcall.of("jdyn_blas_info", FunctionDescriptor.of(ADDRESS)),
            Downcall.of("jdyn_gemm", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS)),

            // Layer programs. Not critical: a forward pass over a large batch takes long enough that the
            // GC must be able to reach a safepoint meanwhile.
            Downcall.of("jdyn_program_create",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_program_free", FunctionDescriptor.ofVoid(ADDRESS)),
            Downcall.of("jdyn_program_info", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_program_layer_params",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_program_init_params", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_program_forward",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_program_vjp", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS,
                    ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_program_jvp", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS,
                    ADDRESS, JAVA_LONG, ADDRESS)),

            // Differentiable programs: graph building (one call per node), signatures, runs. Not critical:
            // differentiating or finishing a large graph, and running a program on a large batch, take long
            // enough that the GC must be able to reach a safepoint meanwhile.
            Downcall.of("jdyn_graph_new", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
            Downcall.of("jdyn_graph_free", FunctionDescriptor.ofVoid(ADDRESS)),
            Downcall.of("jdyn_graph_time", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_graph_arg", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_graph_param", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                    JAVA_LONG, JAVA_DOUBLE, ADDRESS)),
            Downcall.of("jdyn_graph_const",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_graph_op", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG,
                    ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_graph_shape", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_graph_vjp", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                    ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_graph_jvp", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                    ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_graph_size", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_graph_finish",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_program_signature",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_program_arg_shape",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_program_output_shape",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_program_param", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_program_run", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS,
                    JAVA_LONG, ADDRESS)),

            // Solves with gradients. Not critical: they call back into Java (Java fields, VJPs, integral losses).
            Downcall.of("jdyn_program_solve", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_diff_field_solve", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_tape_backward",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_tape_info", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_tape_step_times", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_tape_free", FunctionDescriptor.ofVoid(ADDRESS)),

            // Optimizer steps and gradient clipping: loops over the parameter buffers. Not critical: a large
            // model's buffers take long enough that the GC must be able to reach a safepoint meanwhile.
            Downcall.of("jdyn_sgd_step", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS,
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_LONG,
                    ADDRESS)),
            Downcall.of("jdyn_adam_step", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE,
                    JAVA_DOUBLE, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_clip_grad_norm", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS,
                    JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_clip_grad_value",
                    FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_DOUBLE, ADDRESS)),

            // SNOpt. The backward pass is not critical (Java integral losses call back); the rest are
            // dense linear algebra on small matrices, not critical either (LAPACK may take a while).
            Downcall.of("jdyn_program_linear_layers",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS)),
            Downcall.of("jdyn_tape_backward_curvature", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_sym_eig", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_snopt_eigenbasis",
                    FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS)),
            Downcall.of("jdyn_snopt_precondition", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG,
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE,
                    ADDRESS)));

    JdynLibrary(Path file) {
        SymbolLookup lib = SymbolLookup.libraryLookup(file, Arena.global());
        Linker linker = Linker.nativeLinker();
        Map<String, MethodHandle> handles = new HashMap<>();
        for (Downcall d : DOWNCALLS) {
            if (handles.put(d.symbol(), d.bind(linker, lib)) != null) {
                throw new IllegalStateException(d.symbol() + " is listed twice in JdynLibrary.DOWNCALLS");
            }
        }
        lastError = handle(handles, "jdyn_last_error");
        version = handle(handles, "jdyn_version");
        solve = handle(handles, "jdyn_solve");
        methodInfo = handle(handles, "jdyn_method_info");
        denseEval = handle(handles, "jdyn_dense_eval");
        denseSpan = handle(handles, "jdyn_dense_span");
        denseFree = handle(handles, "jdyn_dense_free");
        setNumThreads = handle(handles, "jdyn_set_num_threads");
        getNumThreads = handle(handles, "jdyn_get_num_threads");
        blasInfo = handle(handles, "jdyn_blas_info");
        gemm = handle(handles, "jdyn_gemm");
        programCreate = handle(handles, "jdyn_program_create");
        programFree = handle(handles, "jdyn_program_free");
        programInfo = handle(handles, "jdyn_program_info");
        programLayerParams = handle(handles, "jdyn_program_layer_params");
        programInitParams = handle(handles, "jdyn_program_init_params");
        programForward = handle(handles, "jdyn_program_forward");
        programVjp = handle(handles, "jdyn_program_vjp");
        programJvp = handle(handles, "jdyn_program_jvp");
        graphNew = handle(handles, "jdyn_graph_new");
        graphFree = handle(handles, "jdyn_graph_free");
        graphTime = handle(handles, "jdyn_graph_time");
        graphArg = handle(handles, "jdyn_graph_arg");
        graphParam = handle(handles, "jdyn_graph_param");
        graphConst = handle(handles, "jdyn_graph_const");
        graphOp = handle(handles, "jdyn_graph_op");
        graphShape = handle(handles, "jdyn_graph_shape");
        graphVjp = handle(handles, "jdyn_graph_vjp");
        graphJvp = handle(handles, "jdyn_graph_jvp");
        graphSize = handle(handles, "jdyn_graph_size");
        graphFinish = handle(handles, "jdyn_graph_finish");
        programSignature = handle(handles, "jdyn_program_signature");
        programArgShape = handle(handles, "jdyn_program_arg_shape");
        programOutputShape = handle(handles, "jdyn_program_output_shape");
        programParam = handle(handles, "jdyn_program_param");
        programRun = handle(handles, "jdyn_program_run");
        programSolve = handle(handles, "jdyn_program_solve");
        diffFieldSolve = handle(handles, "jdyn_diff_field_solve");
        tapeBackward = handle(handles, "jdyn_tape_backward");
        tapeInfo = handle(handles, "jdyn_tape_info");
        tapeStepTimes = handle(handles, "jdyn_tape_step_times");
        tapeFree = handle(handles, "jdyn_tape_free");
        sgdStep = handle(handles, "jdyn_sgd_step");
        adamStep = handle(handles, "jdyn_adam_step");
        clipGradNorm = handle(handles, "jdyn_clip_grad_norm");
        clipGradValue = handle(handles, "jdyn_clip_grad_value");
        programLinearLayers = handle(handles, "jdyn_program_linear_layers");
        tapeBackwardCurvature = handle(handles, "jdyn_tape_backward_curvature");
        symEig = handle(handles, "jdyn_sym_eig");
        snoptEigenbasis = handle(handles, "jdyn_snopt_eigenbasis");
        snoptPrecondition = handle(handles, "jdyn_snopt_precondition");
    }

    private static MethodHandle handle(Map<String, MethodHandle> handles, String symbol) {
        MethodHandle h = handles.get(symbol);
        if (h == null) throw new IllegalStateException(symbol + " is not in JdynLibrary.DOWNCALLS");
        return h;
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
