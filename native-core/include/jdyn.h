/* jdyn's C ABI: the one header that ffm-bindings binds.
 *
 * Rules of the ABI: every entry point returns a status (JDYN_OK or an error code) and never aborts,
 * exits or prints; the message of the last failure on the calling thread is read with
 * jdyn_last_error(). Structs hold only 8-byte fields, so their layout is the same on every x86_64 and
 * aarch64 compiler and the Java side describes them without padding rules.
 */
#ifndef JDYN_H
#define JDYN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define JDYN_API __attribute__((visibility("default")))
#else
#define JDYN_API
#endif

/* Status codes. Stable: the Java side maps each one to an exception type. */
enum jdyn_status {
    JDYN_OK = 0,
    JDYN_ERR_ARGUMENT = 1,          /* a bad argument: shape, tolerance, unsorted times, unknown method */
    JDYN_ERR_STEP_UNDERFLOW = 2,    /* the adaptive step fell below the minimum step */
    JDYN_ERR_MAX_STEPS = 3,         /* more steps than max_steps */
    JDYN_ERR_NON_FINITE = 4,        /* the state or a stage became NaN or infinite */
    JDYN_ERR_CALLBACK = 5,          /* a vector field or event function reported failure */
    JDYN_ERR_OUT_OF_MEMORY = 6,
    JDYN_ERR_INTERNAL = 7
};

enum jdyn_dtype { JDYN_FLOAT32 = 0, JDYN_FLOAT64 = 1 };

/* Methods: torchdyn's and torchdiffeq's names. JDYN_RK4 is the classic rule (torchdyn's "rk4");
 * JDYN_RK4_38 is the 3/8 rule (what torchdiffeq calls "rk4"). */
enum jdyn_method {
    JDYN_EULER = 0, JDYN_MIDPOINT = 1, JDYN_HEUN = 2, JDYN_RK4 = 3, JDYN_RK4_38 = 4,
    JDYN_BOSH3 = 5, JDYN_DOPRI5 = 6, JDYN_TSIT5 = 7, JDYN_DOPRI8 = 8,
    JDYN_METHOD_COUNT = 9
};

/* A vector field: writes dz = f(t, z) for a batch, z and dz both [batch, dim] row-major in the solve's
 * dtype. Returns 0 on success; any other value aborts the solve with JDYN_ERR_CALLBACK. */
typedef int32_t (*jdyn_field_fn)(void* ctx, double t, const void* z, void* dz, int64_t batch, int64_t dim);

/* A vector field with a time per batch row: writes dz = f(t[b], z[b]) for every row b, t [batch].
 * Per-sample solves (jdyn_solve_config.per_sample) call it with each row at its own time; rows are
 * never reordered, so row b is always the batch's row b. Returns 0 on success. */
typedef int32_t (*jdyn_field_rows_fn)(void* ctx, const double* t, const void* z, void* dz, int64_t batch,
                                      int64_t dim);

/* An event function: writes g(t, z) (one value for the whole batch) to *out. Returns 0 on success. */
typedef int32_t (*jdyn_event_fn)(void* ctx, double t, const void* z, int64_t batch, int64_t dim, double* out);

typedef struct jdyn_solve_config {
    int64_t method;             /* enum jdyn_method */
    int64_t dtype;              /* enum jdyn_dtype */
    int64_t batch;              /* B >= 1 */
    int64_t dim;                /* D >= 1 */
    jdyn_field_fn field;
    void* field_ctx;
    const double* times;        /* output times, strictly monotone (either direction); times[0] = t0 */
    int64_t n_times;            /* >= 2 */
    int64_t adaptive;           /* 1: adaptive stepping (needs an embedded pair); 0: fixed steps */
    double rtol;                /* used when rtol_vec is NULL */
    double atol;                /* used when atol_vec is NULL */
    const double* rtol_vec;     /* per component [dim], or NULL */
    const double* atol_vec;     /* per component [dim], or NULL */
    const double* norm_weights; /* per component [dim]: its norm group, an integer in [0, 64]. 0 leaves
                                   the component out of step control (a seminorm); the norm is the largest
                                   of the groups' RMS (torchdiffeq's mixed norm), so all 1 is Hairer's RMS.
                                   NULL: all 1 */
    double dt;                  /* fixed: the step (or 0 with grid); adaptive: initial step, 0 = Hairer's choice */
    const double* grid;         /* fixed steps on this grid from t0 to t1 (monotone), or NULL */
    int64_t n_grid;
    double min_step;            /* adaptive: |dt| below this is an underflow (0 = 16 ulp of t) */
    double max_step;            /* adaptive: |dt| cap (0 = none) */
    int64_t max_steps;          /* accepted + rejected steps allowed (0 = unlimited) */
    const double* step_ts;      /* adaptive: times a step must land on (jumps, step bounds), or NULL */
    int64_t n_step_ts;
    double safety;              /* controller: step factor = safety * err^-(beta1/k) * ... clipped */
    double ifactor;             /* largest growth factor */
    double dfactor;             /* smallest shrink factor */
    double pcoeff, icoeff, dcoeff;  /* PID coefficients (diffrax's meaning); I controller = 0, 1, 0 */
    jdyn_event_fn event;        /* terminal event, or NULL */
    void* event_ctx;
    double event_tol;           /* event time located within this (absolute) */
    int64_t event_direction;    /* 0 any, +1 rising (g goes - to +), -1 falling */
    double event_max_check;     /* > 0: also sample g at most this far apart inside each step (so two
                                   crossings within one step are seen); 0: only at step ends */
    int64_t dense;              /* 1: keep the interpolant of every accepted step (see jdyn_dense_*) */
    int64_t per_sample;         /* 1: every batch row steps on its own (its own step size, accepted and
                                   rejected alone, its own error norm over its dim components), in the
                                   same call; the field must treat rows independently. 0: the batch
                                   shares one step (Hairer's RMS over the whole batch) */
    int64_t* sample_stats;      /* per_sample: [batch, 3] written per row (nfe, accepted, rejected), or
                                   NULL; a row's nfe counts the evaluations that row took part in */
    jdyn_field_rows_fn field_rows; /* the field with a time per row, or NULL. Either field or field_rows
                                   must be given; with both, per-sample adaptive solves call field_rows
                                   and the others field. With only field, a per-sample adaptive solve
                                   calls it once per run of consecutive rows at one time (on that
                                   sub-batch): correct but slow, as rows soon all have their own times */
    void* field_rows_ctx;
} jdyn_solve_config;

typedef struct jdyn_solve_stats {
    int64_t nfe;                /* vector field evaluations (each is one batch) */
    int64_t accepted;
    int64_t rejected;
    int64_t n_out;              /* output times written to ys (fewer than n_times after an event) */
    int64_t event_found;        /* 1 when the terminal event fired */
    int64_t bad_index;          /* first non-finite component (flat index into [batch, dim]), or -1 */
    double t_reached;
    double last_dt;
    double event_t;
    double err_history[4];      /* the last error ratios, newest first (0 where absent) */
} jdyn_solve_stats;

typedef struct jdyn_dense jdyn_dense;

JDYN_API const char* jdyn_last_error(void);
JDYN_API const char* jdyn_version(void);

/* Solves from y0 [batch, dim] at times[0]. ys receives [n_times, batch, dim] (only stats->n_out of
 * them when an event fires); event_state, if not NULL, receives [batch, dim] at the event; *dense_out
 * (when config->dense) receives an interpolant owned by the caller (free with jdyn_dense_free), also
 * on failure, covering the steps accepted until then. stats is filled on success and on failure. */
JDYN_API int32_t jdyn_solve(const jdyn_solve_config* config, const void* y0, void* ys, void* event_state,
                            jdyn_solve_stats* stats, jdyn_dense** dense_out);

/* Method facts: order, embedded order (0 = fixed step only), stages, dense interpolant degree. */
JDYN_API int32_t jdyn_method_info(int64_t method, int64_t* order, int64_t* error_order, int64_t* stages,
                                  int64_t* dense_degree);

/* The dense interpolant: evaluates at n sorted or unsorted times within [t_first, t_last] into
 * out [n, batch, dim]. */
JDYN_API int32_t jdyn_dense_eval(const jdyn_dense* dense, const double* ts, int64_t n, void* out);
JDYN_API int32_t jdyn_dense_span(const jdyn_dense* dense, double* t_first, double* t_last, int64_t* steps);
JDYN_API void jdyn_dense_free(jdyn_dense* dense);

/* ---- Layer programs: vector fields made of layers, run natively --------------------------------
 * A program maps [batch, dim_in] to [batch, dim_out] through its layers in order, with an input
 * t (the time) available to the layers that use it. Parameters live in one flat buffer owned by the
 * caller (the program only knows each layer's offset and count in it), in the program's dtype. */
enum jdyn_layer_kind {
    JDYN_LAYER_LINEAR = 0,    /* y = x W^T + b; W [out, in] then b [out] in the parameters */
    JDYN_LAYER_TANH = 1,
    JDYN_LAYER_RELU = 2,
    JDYN_LAYER_SOFTPLUS = 3,  /* log(1 + exp(beta x)) / beta, linear above threshold (PyTorch's) */
    JDYN_LAYER_SIGMOID = 4,
    JDYN_LAYER_SIN = 5,
    JDYN_LAYER_ELU = 6,       /* alpha (exp(x) - 1) for x < 0 */
    JDYN_LAYER_SILU = 7,      /* x sigmoid(x) */
    JDYN_LAYER_DEPTHCAT = 8,  /* appends t as one more column (torchdyn's DepthCat(1)) */
    JDYN_LAYER_AUGMENTER = 9, /* appends `out_features` zero columns (ANODE's augmentation) */
    JDYN_LAYER_GALLINEAR = 10 /* Galerkin linear layer: W(t) = sum_k phi_k(t) W_k, b(t) likewise */
};

enum jdyn_galerkin_basis {
    JDYN_BASIS_FOURIER = 0,    /* phi = 1, cos(w t), sin(w t), cos(2 w t), ... with w = 2 pi / period */
    JDYN_BASIS_POLYNOMIAL = 1  /* phi = 1, t, t^2, ... */
};

typedef struct jdyn_layer_spec {
    int64_t kind;           /* enum jdyn_layer_kind */
    int64_t out_features;   /* LINEAR, GALLINEAR: output width; AUGMENTER: zero columns added; else 0 */
    int64_t bias;           /* LINEAR, GALLINEAR: 1 with a bias, 0 without */
    int64_t basis;          /* GALLINEAR: enum jdyn_galerkin_basis */
    int64_t n_basis;        /* GALLINEAR: number of basis functions (>= 1) */
    double alpha;           /* ELU: alpha (1.0); SOFTPLUS: beta (1.0); GALLINEAR Fourier: period (1.0) */
    double threshold;       /* SOFTPLUS: threshold (20.0) */
} jdyn_layer_spec;

typedef struct jdyn_program jdyn_program;

/* Builds a program from n_layers specs for inputs of width dim_in; widths are checked layer by layer. */
JDYN_API int32_t jdyn_program_create(const jdyn_layer_spec* layers, int64_t n_layers, int64_t dtype,
                                     int64_t dim_in, jdyn_program** out);
JDYN_API void jdyn_program_free(jdyn_program* program);
JDYN_API int32_t jdyn_program_info(const jdyn_program* program, int64_t* dim_in, int64_t* dim_out,
                                   int64_t* n_params);
/* Where layer `layer`'s parameters sit in the flat buffer (count 0 for layers without any). */
JDYN_API int32_t jdyn_program_layer_params(const jdyn_program* program, int64_t layer, int64_t* offset,
                                           int64_t* count);
/* PyTorch's default initialisation, reproducible from seed: Linear weights Kaiming-uniform with
 * a = sqrt(5) (uniform in +-1/sqrt(fan_in)), biases uniform in +-1/sqrt(fan_in); GalLinear alike. */
JDYN_API int32_t jdyn_program_init_params(const jdyn_program* program, uint64_t seed, void* params);
/* out [batch, dim_out] = program(t, z [batch, dim_in]). */
JDYN_API int32_t jdyn_program_forward(const jdyn_program* program, const void* params, double t, const void* z,
                                      int64_t batch, void* out);
/* gz [batch, dim_in] = v^T d out / dz (overwritten); gparams [n_params] += v^T d out / dtheta (NULL to
 * skip); *gt += v^T d out / dt (NULL to skip). v is [batch, dim_out]. */
JDYN_API int32_t jdyn_program_vjp(const jdyn_program* program, const void* params, double t, const void* z,
                                  const void* v, int64_t batch, void* gz, void* gparams, double* gt);
/* out [batch, dim_out] = (d out / dz) u for u [batch, dim_in]. */
JDYN_API int32_t jdyn_program_jvp(const jdyn_program* program, const void* params, double t, const void* z,
                                  const void* u, int64_t batch, void* out);

/* ---- Differentiable programs: any vector field as a typed graph of tensor operations ------------
 * A graph is built node by node; each call checks the shapes (a failure names the op and both shapes)
 * and returns the new node's id. Tensors are row-major, rank <= 4; a batched tensor has the batch as
 * its first dimension, written -1 in shapes, and an unbatched operand broadcasts over it. The inputs
 * are the time t (a scalar, shape []), arguments (the state z first: a vector field has one argument
 * [-1, D] and one output of the same shape) and parameters (named views of the caller's one flat
 * buffer, laid out in declaration order). Building simplifies as it goes: equal nodes are built once
 * (common subexpressions), operations on constants are folded, x * 1, x + 0 and the like are skipped;
 * jdyn_graph_finish drops the nodes no output needs. Differentiation adds nodes to the same graph
 * (jdyn_graph_vjp, jdyn_graph_jvp), so derivatives of derivatives are derivatives of programs. A
 * finished graph is a jdyn_program: solvable (jdyn_program_solve, with every sensitivity) when it is a
 * vector field, runnable (jdyn_program_run) in any case. Layer programs (jdyn_program_create) are
 * compiled into the same graphs and run by the same executor. */
enum jdyn_op {
    /* element-wise, numpy broadcasting (inputs: 2) */
    JDYN_OP_ADD = 0, JDYN_OP_SUB = 1, JDYN_OP_MUL = 2, JDYN_OP_DIV = 3,
    /* element-wise (inputs: 1) */
    JDYN_OP_NEG = 4, JDYN_OP_EXP = 5, JDYN_OP_LOG = 6, JDYN_OP_SQRT = 7, JDYN_OP_SQUARE = 8, JDYN_OP_ABS = 9,
    JDYN_OP_SIN = 10, JDYN_OP_COS = 11, JDYN_OP_TANH = 12, JDYN_OP_SIGMOID = 13, JDYN_OP_RELU = 14,
    JDYN_OP_SILU = 15,
    JDYN_OP_SOFTPLUS = 16,      /* fattr: beta, threshold (PyTorch's Softplus) */
    JDYN_OP_ELU = 17,           /* fattr: alpha */
    JDYN_OP_POW = 18,           /* fattr: the exponent p (x^p) */
    JDYN_OP_SIGN = 19,          /* -1, 0, 1 (derivative 0) */
    JDYN_OP_STEP = 20,          /* 1 where x > 0 else 0 (derivative 0) */
    /* derivative products, out = g * f'(.) (inputs: 2: the value named, then g); each is itself
     * differentiable, so the first derivative of an activation costs one pass */
    JDYN_OP_TANH_BWD = 21,      /* (y = tanh x, g): g (1 - y^2) */
    JDYN_OP_SIGMOID_BWD = 22,   /* (y = sigmoid x, g): g y (1 - y) */
    JDYN_OP_SOFTPLUS_BWD = 23,  /* (x, g): g sigmoid(beta x), g where beta x > threshold; fattr as SOFTPLUS */
    JDYN_OP_ELU_BWD = 24,       /* (x, g): g where x > 0 else g alpha exp(x); fattr: alpha */
    JDYN_OP_SILU_BWD = 25,      /* (x, g): g s (1 + x (1 - s)), s = sigmoid x */
    /* comparisons and selection: 1 or 0, no derivative (inputs: 2); WHERE (inputs: 3) picks a where
     * c != 0 else b, all three broadcast */
    JDYN_OP_GT = 26, JDYN_OP_LT = 27, JDYN_OP_EQ = 28, JDYN_OP_WHERE = 29,
    JDYN_OP_MAXIMUM = 30, JDYN_OP_MINIMUM = 31,
    /* products. MATMUL (inputs: a, b; iattr: trans_a, trans_b): a is read as a matrix [rows, last dim]
     * with every leading dimension (the batch included) in rows.
     *   trans_a 0, trans_b 0: a [..., k] b [k, n]    -> [..., n]
     *   trans_a 0, trans_b 1: a [..., k] b [n, k]    -> [..., n]
     *   trans_a 1, trans_b 0: a [..., m] b [..., n]  -> [m, n] (a^T b: summed over the leading dims)
     * LINEAR (inputs: x [..., in], W [out, in], and optionally b [out]): x W^T + b.
     * BMM (inputs: a [-1, m, k], b [-1, k, n]): one product per batch row -> [-1, m, n]. */
    JDYN_OP_MATMUL = 32, JDYN_OP_LINEAR = 33, JDYN_OP_BMM = 34,
    /* reductions along one axis (iattr: axis, keepdim); summing axis 0 of a batched tensor gives an
     * unbatched one */
    JDYN_OP_SUM = 35, JDYN_OP_MEAN = 36, JDYN_OP_MAX = 37,
    JDYN_OP_SOFTMAX = 38, JDYN_OP_LOG_SOFTMAX = 39,     /* iattr: axis */
    /* shapes. iattr of RESHAPE, SUM_TO, BROADCAST_TO, FULL: rank, then the dims (-1 first = batched) */
    JDYN_OP_RESHAPE = 40,       /* same element count; a batched tensor stays batched */
    JDYN_OP_SUM_TO = 41,        /* sums the dimensions that broadcasting added (broadcasting's VJP) */
    JDYN_OP_BROADCAST_TO = 42,  /* an unbatched tensor may broadcast to a batched shape (the run's batch) */
    JDYN_OP_SLICE = 43,         /* iattr: axis, start, stop (stop exclusive, 0 <= start < stop <= size) */
    JDYN_OP_PAD = 44,           /* iattr: axis, before, after: zeros around (SLICE's VJP) */
    JDYN_OP_CONCAT = 45,        /* iattr: axis; inputs: any number >= 1 */
    JDYN_OP_TRANSPOSE = 46,     /* swaps the last two dimensions (rank >= 2; not the batch) */
    JDYN_OP_FULL = 47,          /* no inputs; fattr: value; a batched shape takes the batch of the run */
    JDYN_OP_BASIS = 48,         /* input: t; iattr: basis (enum jdyn_galerkin_basis), n, derivative order;
                                   fattr: period (Fourier); the basis functions' values at t [n] */
    /* inputs, created by their own calls (jdyn_graph_time, _arg, _param, _const), never by jdyn_graph_op */
    JDYN_OP_TIME = 49, JDYN_OP_ARG = 50, JDYN_OP_PARAM = 51, JDYN_OP_CONST = 52,
    JDYN_OP_RANDOM = 53,        /* input: a scalar seed (its value rounded to an integer); iattr: distribution
                                 * (enum jdyn_random_dist), rank, then the dims (-1 first = batched); fattr:
                                 * stream. Element i of the result is a fixed function of (seed, stream, i), so
                                 * a batch row's values do not depend on the batch size and every evaluation
                                 * with one seed sees the same values; its derivative is zero. */
    /* linear systems (inputs: A, B; iattr: transpose): X with A X = B (A^T X = B when transpose is 1),
     * by LU with partial pivoting per matrix; torch.linalg.solve. A [n, n] or [b, n, n], B [n, k] or
     * [b, n, k] (b the batch -1 or a number; an unbatched side is shared by every matrix of the other)
     * -> [b, n, k]. A zero or non-finite pivot fails with JDYN_ERR_NON_FINITE naming the node and the
     * batch row. */
    JDYN_OP_SOLVE = 54,
    JDYN_OP_COUNT = 55
};

/* Parameter initialisation (jdyn_program_init_params draws every parameter in layout order from one
 * seeded stream): uniform in +-arg, normal with standard deviation arg, or the constant arg. */
enum jdyn_init { JDYN_INIT_UNIFORM = 0, JDYN_INIT_NORMAL = 1, JDYN_INIT_CONSTANT = 2 };

typedef struct jdyn_graph jdyn_graph;
/* RANDOM's distributions: standard normal, and Rademacher (-1 or +1, each with probability 1/2). */
enum jdyn_random_dist { JDYN_RANDOM_NORMAL = 0, JDYN_RANDOM_RADEMACHER = 1 };

JDYN_API int32_t jdyn_graph_new(jdyn_graph** out);
JDYN_API void jdyn_graph_free(jdyn_graph* graph);
/* The time t (shape []); the same node every call. */
JDYN_API int32_t jdyn_graph_time(jdyn_graph* graph, int64_t* id);
/* The next argument, of the given shape (-1 first for batched). */
JDYN_API int32_t jdyn_graph_arg(jdyn_graph* graph, const int64_t* shape, int64_t rank, int64_t* id);
/* A parameter (unbatched shape); the name must be new ("unknown or duplicate parameter" otherwise). */
JDYN_API int32_t jdyn_graph_param(jdyn_graph* graph, const char* name, const int64_t* shape, int64_t rank,
                                  int64_t init, double init_arg, int64_t* id);
/* A constant (unbatched shape), data in row-major order. */
JDYN_API int32_t jdyn_graph_const(jdyn_graph* graph, const double* data, const int64_t* shape, int64_t rank,
                                  int64_t* id);
/* An operation on earlier nodes; iattr / fattr as the op's comment says (unused entries ignored). */
JDYN_API int32_t jdyn_graph_op(jdyn_graph* graph, int64_t op, const int64_t* inputs, int64_t n_inputs,
                               const int64_t* iattr, int64_t n_iattr, const double* fattr, int64_t n_fattr,
                               int64_t* id);
/* A node's shape: rank, then up to 4 dims (-1 first when batched). */
JDYN_API int32_t jdyn_graph_shape(const jdyn_graph* graph, int64_t id, int64_t* rank, int64_t* shape);
/* Reverse mode: adds the nodes of sum_i <cotangents[i], d outputs[i] / d wrt[j]> for each j (shaped as
 * wrt[j]) and writes their ids to grads (a node that does not depend on wrt[j] gets a zero FULL node).
 * cotangents[i] is shaped as outputs[i]. wrt may be any nodes (arguments, parameters, t, or
 * intermediate values). */
JDYN_API int32_t jdyn_graph_vjp(jdyn_graph* graph, const int64_t* outputs, const int64_t* cotangents, int64_t n_outputs,
                                const int64_t* wrt, int64_t n_wrt, int64_t* grads);
/* Forward mode: adds the nodes of sum_j d outputs[i] / d wrt[j] . tangents[j] for each output. */
JDYN_API int32_t jdyn_graph_jvp(jdyn_graph* graph, const int64_t* wrt, const int64_t* tangents, int64_t n_wrt,
                                const int64_t* outputs, int64_t n_outputs, int64_t* results);
/* Nodes in the graph so far (a bound: 1,000,000). */
JDYN_API int32_t jdyn_graph_size(const jdyn_graph* graph, int64_t* nodes);
/* The program that computes outputs (the graph stays usable). Its arguments are every argument of the
 * graph in creation order, its parameters every declared parameter in declaration order. */
JDYN_API int32_t jdyn_graph_finish(const jdyn_graph* graph, const int64_t* outputs, int64_t n_outputs, int64_t dtype,
                                   jdyn_program** out);

/* A program's signature: counts, then shapes (rank + 4 dims each) of arguments and outputs. */
JDYN_API int32_t jdyn_program_signature(const jdyn_program* program, int64_t* n_args, int64_t* n_outputs,
                                        int64_t* n_param_tensors, int64_t* n_nodes);
JDYN_API int32_t jdyn_program_arg_shape(const jdyn_program* program, int64_t index, int64_t* rank, int64_t* shape);
JDYN_API int32_t jdyn_program_output_shape(const jdyn_program* program, int64_t index, int64_t* rank, int64_t* shape);
/* Parameter tensor `index`: its name (valid while the program lives), shape, offset and count. */
JDYN_API int32_t jdyn_program_param(const jdyn_program* program, int64_t index, const char** name, int64_t* rank,
                                    int64_t* shape, int64_t* offset, int64_t* count);
/* Runs the program on a batch (the size of every -1): args[i] and outs[i] point at row-major tensors of
 * the program's dtype. A non-finite value in an output fails with JDYN_ERR_NON_FINITE naming the
 * first operation that produced one. */
JDYN_API int32_t jdyn_program_run(const jdyn_program* program, const void* params, double t, const void* const* args,
                                  int64_t batch, void* const* outs);

/* ---- Solves of layer programs, and their gradients ----------------------------------------------
 * Sensitivity methods, by torchdyn's names: "autograd" backpropagates through the accepted steps
 * (the solve lands a step on every output time; memory grows with the steps), "adjoint" backsolves
 * [z, a_z, a_theta] (O(1) memory in the steps), "interpolated_adjoint" backsolves [a_z, a_theta] with
 * z from the forward interpolant. The adjoint modes control the backward step with the largest RMS
 * over the blocks z, a_z, a_theta (torchdiffeq's mixed norm); the seminorm (the default) leaves a_theta
 * and the integral loss out, which can only lengthen the steps. */
enum jdyn_sensitivity { JDYN_SENS_AUTOGRAD = 0, JDYN_SENS_ADJOINT = 1, JDYN_SENS_INTERPOLATED_ADJOINT = 2 };

/* A running cost l(t, z) summed over the batch (torchdyn's integral_loss): writes l to *value and
 * dl/dz [batch, dim] (the solve's dtype) to grad. Returns 0 on success. */
typedef int32_t (*jdyn_integral_fn)(void* ctx, double t, const void* z, int64_t batch, int64_t dim, double* value,
                                    void* grad);

typedef struct jdyn_grad_options {
    int64_t sensitivity;        /* enum jdyn_sensitivity */
    int64_t seminorm;           /* adjoint modes: 1 (default) seminorm, 0 the mixed norm over all blocks */
    double rtol;                /* backward tolerances; 0 = the forward solve's */
    double atol;
    int64_t max_steps;          /* backward; 0 = the forward solve's */
    jdyn_integral_fn integral;  /* NULL for none */
    void* integral_ctx;
} jdyn_grad_options;

typedef struct jdyn_backward_stats {
    int64_t nfe;                /* backward evaluations (vector field or its VJP) */
    int64_t accepted;
    int64_t rejected;
} jdyn_backward_stats;

typedef struct jdyn_tape jdyn_tape;

/* Solves with the program as the vector field (config->field is ignored). With tape != NULL, keeps
 * what grad->sensitivity needs for jdyn_tape_backward (params must then stay unchanged and alive until
 * the tape is freed). integral_value (may be NULL) receives the integral loss.
 * With config->per_sample on an adaptive method, every row is solved and differentiated as if alone
 * (one sub-tape per row: dL/dy0 per row, dL/dtheta and dL/dt summed over the rows in row order); stats
 * and jdyn_backward_stats hold totals over the rows, config->sample_stats the rows' own counts. Refused
 * there: grad->integral, a program whose rows interact (e.g. a reduction over the batch), SNOpt. */
JDYN_API int32_t jdyn_program_solve(const jdyn_solve_config* config, const jdyn_program* program, const void* params,
                                    const jdyn_grad_options* grad, const void* y0, void* ys, jdyn_solve_stats* stats,
                                    double* integral_value, jdyn_tape** tape);
/* A differentiable vector field from outside the core (a Java field with its own VJP): forward as
 * jdyn_field_fn; vjp writes gz = v^T df/dz [batch, dim] (overwritten), adds v^T df/dtheta to gparams
 * [n_params] and v^T df/dt to *gt (either may be NULL: skip it). Returns 0 on success. */
typedef int32_t (*jdyn_vjp_fn)(void* ctx, double t, const void* z, const void* v, int64_t batch, int64_t dim,
                               void* gz, void* gparams, double* gt);

typedef struct jdyn_diff_field {
    jdyn_field_fn forward;
    void* forward_ctx;
    jdyn_vjp_fn vjp;
    void* vjp_ctx;
    int64_t n_params;
} jdyn_diff_field;

/* As jdyn_program_solve, with a differentiable field from outside the core. */
JDYN_API int32_t jdyn_diff_field_solve(const jdyn_solve_config* config, const jdyn_diff_field* field,
                                       const jdyn_grad_options* grad, const void* y0, void* ys,
                                       jdyn_solve_stats* stats, double* integral_value, jdyn_tape** tape);

/* Gradients from ys_cotangent [n_times, batch, dim] (NULL = zeros, e.g. an integral loss alone):
 * g_y0 [batch, dim] and g_times [n_times] overwritten, g_params [n_params] accumulated; any may be NULL. */
JDYN_API int32_t jdyn_tape_backward(jdyn_tape* tape, const void* ys_cotangent, void* g_y0, void* g_params,
                                    double* g_times, jdyn_backward_stats* stats);
/* Accepted steps recorded (autograd; 0 for a per-sample solve, whose rows' steps are in sample_stats) and
 * native bytes held by the tape. */
JDYN_API int32_t jdyn_tape_info(const jdyn_tape* tape, int64_t* steps, int64_t* bytes);
/* The step boundaries of an autograd tape: steps + 1 times. */
JDYN_API int32_t jdyn_tape_step_times(const jdyn_tape* tape, double* out);
JDYN_API void jdyn_tape_free(jdyn_tape* tape);

/* Worker threads that split a solve's batch inside one call (the caller included; [1, 1024], default 1):
 * the engine's per-step arithmetic and a native program field's evaluations run in row blocks whose
 * boundaries depend only on the batch size, so results are bitwise the same for any thread count. A
 * callback field is always called on the calling thread with the whole batch. OpenBLAS (linked into
 * libjdyn) stays on one thread. */
JDYN_API int32_t jdyn_set_num_threads(int64_t threads);
JDYN_API int64_t jdyn_get_num_threads(void);
JDYN_API const char* jdyn_blas_info(void);

/* C = alpha * op(A) op(B) + beta * C, row-major, through OpenBLAS. trans_a / trans_b: 0 or 1. */
JDYN_API int32_t jdyn_gemm(int64_t dtype, int64_t trans_a, int64_t trans_b, int64_t m, int64_t n, int64_t k,
                           double alpha, const void* a, const void* b, double beta, void* c);

/* ---- Optimizer steps and gradient clipping -------------------------------------------------------
 * In-place updates of flat buffers in `dtype`, PyTorch's rules (torch.optim.SGD, Adam, AdamW,
 * torch.nn.utils.clip_grad_norm_ / clip_grad_value_). params, grad and the optimizer state are
 * caller-owned buffers indexed alike (the state buffers have the size of params, zero-filled before the
 * first step; the core keeps nothing between calls). A step updates elements [offset, offset + count);
 * `step` is the 1-based number of this step on that block (PyTorch's per-parameter state["step"],
 * kept by the caller). Every call checks the gradients it reads first: on a NaN or infinity it changes
 * nothing and returns JDYN_ERR_NON_FINITE, with the flat index in *bad_index and in the message;
 * *bad_index (may be NULL) is -1 otherwise. */

/* SGD: g += weight_decay * p; with momentum != 0, buf = g at step 1, else momentum * buf + (1 -
 * dampening) * g, then g = g + momentum * buf (nesterov) or buf; p -= lr * g. momentum_buf may be NULL
 * when momentum is 0. nesterov needs momentum > 0 and dampening 0. */
JDYN_API int32_t jdyn_sgd_step(int64_t dtype, void* params, const void* grad, void* momentum_buf, int64_t offset,
                               int64_t count, int64_t step, double lr, double momentum, double dampening,
                               double weight_decay, int64_t nesterov, int64_t* bad_index);
/* Adam (decoupled = 0: g += weight_decay * p) and AdamW (decoupled = 1: p *= 1 - lr * weight_decay):
 * m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2;
 * p -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps). */
JDYN_API int32_t jdyn_adam_step(int64_t dtype, void* params, const void* grad, void* exp_avg, void* exp_avg_sq,
                                int64_t offset, int64_t count, int64_t step, double lr, double beta1, double beta2,
                                double eps, double weight_decay, int64_t decoupled, int64_t* bad_index);
/* Gradient clipping over n_ranges blocks of grad, ranges = {offset0, count0, offset1, count1, ...}
 * (sorted, disjoint). By norm: the norm_type-norm of all the blocks together (norm_type > 0, or
 * INFINITY for the largest magnitude) goes to *total_norm (before clipping; may be NULL), and every
 * gradient is multiplied by min(1, max_norm / (total_norm + 1e-6)). By value: clamped to
 * [-clip_value, clip_value]. */
JDYN_API int32_t jdyn_clip_grad_norm(int64_t dtype, void* grad, const int64_t* ranges, int64_t n_ranges,
                                     double max_norm, double norm_type, double* total_norm, int64_t* bad_index);
JDYN_API int32_t jdyn_clip_grad_value(int64_t dtype, void* grad, const int64_t* ranges, int64_t n_ranges,
                                      double clip_value, int64_t* bad_index);

/* ---- SNOpt: second-order statistics along the adjoint (Liu, Chen, Theodorou 2021) ----------------
 * The Linear layers SNOpt preconditions: LINEAR ops of the program on a batched [batch, in] input whose
 * weight (and bias) is a parameter no other LINEAR op uses. *count receives their number; with out !=
 * NULL (capacity rows), 6 values per layer: in, out, weight parameter index, bias parameter index (-1:
 * none), weight offset and bias offset (-1) in the flat parameter buffer. */
JDYN_API int32_t jdyn_program_linear_layers(const jdyn_program* program, int64_t* out, int64_t capacity,
                                            int64_t* count);
/* SNOpt's full_precond: the same factors for a program run outside any solve (an encoder or decoder
 * layer stack), from one batch: x [batch, in] its input at time t and y_cotangent [batch, out] dL/d(its
 * output); per layer A = [a, 1]^T [a, 1] / batch then G = gy^T gy / batch with gy = batch * dL/d(layer
 * output) (no sampling step). */
JDYN_API int32_t jdyn_program_layer_factors(const jdyn_program* program, const void* params, double t, const void* x,
                                            const void* y_cotangent, int64_t batch, double* factors);
/* jdyn_tape_backward of a program's adjoint or interpolated-adjoint tape that also collects, at times
 * sample_step apart along the backsolve, each layer's Kronecker factors: factors receives per layer
 * (jdyn_program_linear_layers order) A = mean of [a, 1][a, 1]^T / batch ((in + 1)^2 with a bias, else
 * in^2) then G = mean of gy gy^T / batch (out^2), gy = batch * sample_step * a_z^T df/d(layer output);
 * *samples the number of sampled times. */
JDYN_API int32_t jdyn_tape_backward_curvature(jdyn_tape* tape, const void* ys_cotangent, void* g_y0, void* g_params,
                                              double* g_times, jdyn_backward_stats* stats, double sample_step,
                                              double* factors, int64_t* samples);
/* Symmetric eigendecomposition (LAPACK dsyevd): a [n, n] row-major in, its eigenvectors as columns out;
 * w [n] the eigenvalues, ascending. */
JDYN_API int32_t jdyn_sym_eig(int64_t n, double* a, double* w);
/* A layer's eigenbasis: g_factor [out, out] -> U_G, a_factor [a_dim, a_dim] -> U_A (as jdyn_sym_eig),
 * m2 [out, a_dim] = lambda_G lambda_A^T. */
JDYN_API int32_t jdyn_snopt_eigenbasis(int64_t out, int64_t a_dim, double* g_factor, double* a_factor, double* m2);
/* Preconditions one layer's gradient in place (weight [out, in] at weight_offset, bias [out] at
 * bias_offset or -1 for none, in grad of dtype): K = U_G^T [dW | db] U_A; m2 = alpha m2 + (1 - alpha)
 * batch K^2; [dW | db] = U_G (K / (m2 + eps)) U_A^T. A non-finite gradient changes nothing and
 * returns JDYN_ERR_NON_FINITE with its flat index in *bad_index (may be NULL; -1 otherwise). */
JDYN_API int32_t jdyn_snopt_precondition(int64_t dtype, void* grad, int64_t weight_offset, int64_t bias_offset,
                                         int64_t out, int64_t in, const double* u_g, const double* u_a, double* m2,
                                         double alpha, double eps, double batch, int64_t* bad_index);

#ifdef __cplusplus
}
#endif

#endif /* JDYN_H */
