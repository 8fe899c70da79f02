package io.jdyn.spi;

import java.util.List;

/**
 * Internal: what {@code jdyn_program_signature}, {@code _arg_shape}, {@code _output_shape} and
 * {@code _param} report of a program: argument and output shapes (-1 first when batched), the parameter
 * tensors in layout order, and the number of nodes.
 */
public record ProgramSignature(List<long[]> argShapes, List<long[]> outputShapes, List<Param> params, long nodes) {
    public ProgramSignature {
        argShapes = List.copyOf(argShapes);
        outputShapes = List.copyOf(outputShapes);
        params = List.copyOf(params);
    }

    /** One parameter tensor: its name, unbatched shape, and where it sits in the flat buffer. */
    public record Param(String name, long[] shape, long offset, long count) {}
}
