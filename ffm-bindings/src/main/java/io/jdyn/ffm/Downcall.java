package io.jdyn.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * One native function as the bindings call it: its symbol, its descriptor and whether it is linked
 * with {@code Linker.Option.critical(false)}. {@link JdynLibrary#DOWNCALLS} and {@link CudaProbe#DOWNCALLS}
 * list them and {@link #bind} is the only place that calls {@code Linker.downcallHandle}, so the lists
 * are exactly the downcalls made; GraalVM native-image needs each distinct (descriptor, options) pair
 * registered, which cli's reachability-metadata.json does (NativeImageMetadataTest keeps it in step).
 */
record Downcall(String symbol, FunctionDescriptor descriptor, boolean critical) {
    static Downcall of(String symbol, FunctionDescriptor descriptor) {
        return new Downcall(symbol, descriptor, false);
    }

    static Downcall critical(String symbol, FunctionDescriptor descriptor) {
        return new Downcall(symbol, descriptor, true);
    }

    /** The downcall handle for this function in lib. */
    MethodHandle bind(Linker linker, SymbolLookup lib) {
        MemorySegment address = lib.find(symbol).orElseThrow(() -> new IllegalStateException("the native library lacks the symbol "
                + symbol + ": the native library and the Java bindings are out of step"));
        return critical
                ? linker.downcallHandle(address, descriptor, Linker.Option.critical(false))
                : linker.downcallHandle(address, descriptor);
    }
}
