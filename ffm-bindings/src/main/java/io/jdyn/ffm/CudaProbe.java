package io.jdyn.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;

/**
 * Asks libjdyn_cuda.so whether a device answers. The library links cudart statically, so it loads
 * on any machine; without a driver or a device every CUDA call returns an error code, which is the
 * normal case on CPU-only machines and means "no CUDA", never a failure.
 */
final class CudaProbe {
    /** The outcome: whether CUDA is usable and, either way, a one-line reason. */
    record Result(boolean available, String description) {}

    /** The functions of libjdyn_cuda.so the probe calls (see {@link Downcall}). */
    static final List<Downcall> DOWNCALLS = List.of(
            Downcall.of("jdyn_cuda_device_count", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
            Downcall.of("jdyn_cuda_error_string", FunctionDescriptor.of(ADDRESS, JAVA_INT)),
            Downcall.of("jdyn_cuda_selftest", FunctionDescriptor.of(JAVA_INT, ADDRESS)));

    private CudaProbe() {}

    static Result probe() {
        try {
            Path lib = NativeLibraryLoader.locate("jdyn_cuda", "jdyn.cuda.library.path");
            if (lib == null) {
                return new Result(false, "no CUDA: this build has no libjdyn_cuda.so (nvcc was absent when it was built)");
            }
            SymbolLookup lookup = SymbolLookup.libraryLookup(lib, Arena.global());
            Linker linker = Linker.nativeLinker();
            MethodHandle count = DOWNCALLS.get(0).bind(linker, lookup);
            MethodHandle errorString = DOWNCALLS.get(1).bind(linker, lookup);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment n = a.allocate(JAVA_INT);
                int rc = (int) count.invokeExact(n);
                if (rc != 0) {
                    String why = JdynLibrary.cString((MemorySegment) errorString.invokeExact(rc));
                    return new Result(false, "no CUDA: " + why + " (CUDA status " + rc + ")");
                }
                int devices = n.get(JAVA_INT, 0);
                MethodHandle selftest = DOWNCALLS.get(2).bind(linker, lookup);
                MemorySegment diff = a.allocate(JAVA_DOUBLE);
                int st = (int) selftest.invokeExact(diff);
                if (st != 0) {
                    String why = JdynLibrary.cString((MemorySegment) errorString.invokeExact(st));
                    return new Result(false, "no CUDA: " + devices + " device(s) found but the kernel self-test failed: " + why);
                }
                return new Result(true, "CUDA: " + devices + " device(s); kernel self-test max difference "
                        + diff.get(JAVA_DOUBLE, 0));
            }
        } catch (Throwable t) {
            return new Result(false, "no CUDA: " + t);
        }
    }
}
