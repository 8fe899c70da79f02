package io.jdyn.spi;

import io.jdyn.DType;

/**
 * Internal: a differentiable-program builder ({@code jdyn_graph}), call for call the C ABI's
 * {@code jdyn_graph_*}. Nodes are long ids; shapes are long[] of the node's rank (at most 4), -1 first
 * for a batched tensor. A native failure (a shape that does not fit, a duplicate parameter name, an
 * unknown node) throws IllegalArgumentException with the native message, which names the op and the
 * shapes. Not thread-safe: one builder per thread. Closing frees the graph; programs already finished
 * from it live on.
 */
public interface GraphHandle extends AutoCloseable {
    /* enum jdyn_op. */
    int ADD = 0, SUB = 1, MUL = 2, DIV = 3;
    int NEG = 4, EXP = 5, LOG = 6, SQRT = 7, SQUARE = 8, ABS = 9, SIN = 10, COS = 11, TANH = 12, SIGMOID = 13,
            RELU = 14, SILU = 15;
    /** fattr: beta, threshold. */
    int SOFTPLUS = 16;
    /** fattr: alpha. */
    int ELU = 17;
    /** fattr: the exponent. */
    int POW = 18;
    int SIGN = 19, STEP = 20;
    int TANH_BWD = 21, SIGMOID_BWD = 22, SOFTPLUS_BWD = 23, ELU_BWD = 24, SILU_BWD = 25;
    int GT = 26, LT = 27, EQ = 28, WHERE = 29, MAXIMUM = 30, MINIMUM = 31;
    /** iattr: trans_a, trans_b. */
    int MATMUL = 32;
    /** inputs: x, W and optionally b. */
    int LINEAR = 33;
    int BMM = 34;
    /** iattr: axis, keepdim. */
    int SUM = 35, MEAN = 36, MAX = 37;
    /** iattr: axis. */
    int SOFTMAX = 38, LOG_SOFTMAX = 39;
    /** iattr: rank, then the dims. */
    int RESHAPE = 40, SUM_TO = 41, BROADCAST_TO = 42;
    /** iattr: axis, start, stop. */
    int SLICE = 43;
    /** iattr: axis, before, after. */
    int PAD = 44;
    /** iattr: axis; any number of inputs. */
    int CONCAT = 45;
    int TRANSPOSE = 46;
    /** iattr: rank, then the dims; fattr: the value; no inputs (a batched shape has the run's batch). */
    int FULL = 47;
    /** input: t; iattr: basis, n, derivative order; fattr: period. */
    int BASIS = 48;
    int TIME = 49, ARG = 50, PARAM = 51, CONST = 52;
    /** input: a scalar seed; iattr: distribution (RANDOM_*), rank, then the dims; fattr: stream. */
    int RANDOM = 53;

    /* enum jdyn_random_dist. */
    int RANDOM_NORMAL = 0, RANDOM_RADEMACHER = 1;
    /** inputs: A, B; iattr: transpose (solves A^T X = B): X with A X = B, torch.linalg.solve. */
    int SOLVE = 54;

    /* enum jdyn_init. */
    int INIT_UNIFORM = 0, INIT_NORMAL = 1, INIT_CONSTANT = 2;

    /** The time t (shape []): the same node every call. */
    long time();

    /** The next argument, of the given shape. */
    long arg(long[] shape);

    /** A parameter (unbatched shape) drawn by init (INIT_*) with initArg; the name must be new. */
    long param(String name, long[] shape, int init, double initArg);

    /** A constant (unbatched shape), data row-major. */
    long constant(double[] data, long[] shape);

    /** An operation (a jdyn_op value) on earlier nodes; iattr and fattr may be empty. */
    long op(int op, long[] inputs, long[] iattr, double[] fattr);

    /** A node's shape. */
    long[] shape(long id);

    /** Reverse mode: one gradient node per wrt, shaped as it. */
    long[] vjp(long[] outputs, long[] cotangents, long[] wrt);

    /** Forward mode: one tangent node per output, shaped as it. */
    long[] jvp(long[] wrt, long[] tangents, long[] outputs);

    /** Nodes in the graph so far. */
    long size();

    /** The program computing outputs in dtype (the graph stays usable). */
    ProgramHandle finish(long[] outputs, DType dtype);

    boolean isClosed();

    /** Frees the graph. Idempotent. */
    @Override
    void close();
}
