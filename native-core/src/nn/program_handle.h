// The C ABI's opaque jdyn_program, opened for the other C++ code of the core (the solves with
// gradients in src/sensitivity): a compiled graph program (from layer specs or built op by op), its
// dtype, and a vector field over it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/compiled.h"
#include "graph/graph_field.h"
#include "jdyn.h"
#include "status.h"

struct jdyn_program {
    std::shared_ptr<const jdyn::graph::CompiledProgram> compiled;
    int64_t dtype;  // enum jdyn_dtype
    uint64_t id;    // unique per program created (never reused, unlike addresses)
    // Programs made from layer specs: each layer's (offset, count) in the flat parameter buffer.
    std::vector<std::pair<int64_t, int64_t>> layer_params;
};

// A new program handle (the id is drawn here).
jdyn_program* jdyn_program_new(jdyn::graph::Graph finished, int64_t dtype,
                               std::vector<std::pair<int64_t, int64_t>> layer_params = {});

inline const jdyn::graph::CompiledProgram& jdyn_program_get(const jdyn_program* program) {
    if (!program) jdyn::fail(JDYN_ERR_ARGUMENT, "program must not be NULL");
    return *program->compiled;
}

inline int64_t jdyn_program_dtype(const jdyn_program* program) {
    if (!program) jdyn::fail(JDYN_ERR_ARGUMENT, "program must not be NULL");
    return program->dtype;
}

template <class T>
void jdyn_program_check_dtype(const jdyn_program* program) {
    const int64_t dtype = sizeof(T) == sizeof(float) ? JDYN_FLOAT32 : JDYN_FLOAT64;
    if (jdyn_program_dtype(program) != dtype)
        jdyn::fail(JDYN_ERR_ARGUMENT, std::string("the program's dtype is ") +
                                          (program->dtype == JDYN_FLOAT32 ? "float32" : "float64") + ", not " +
                                          (dtype == JDYN_FLOAT32 ? "float32" : "float64"));
}

// Throws unless the program maps [batch, D] to [batch, D].
inline void jdyn_program_require_field(const jdyn_program* program) {
    const jdyn::graph::CompiledProgram& p = jdyn_program_get(program);
    if (!p.is_map())
        jdyn::fail(JDYN_ERR_ARGUMENT, "a vector field is a program of one batched argument [batch, D] and one output "
                                      "of the same shape; this program has " +
                                          std::to_string(p.graph().args().size()) + " arguments and " +
                                          std::to_string(p.graph().outputs.size()) + " outputs");
    if (p.dim_in() != p.dim_out())
        jdyn::fail(JDYN_ERR_ARGUMENT, "a vector field must map width D to D; this program maps " +
                                          std::to_string(p.dim_in()) + " to " + std::to_string(p.dim_out()));
}

// A new vector field f(t, z) = program(t, z) bound to params (which must outlive it), with its own
// workspace. Throws Failure(JDYN_ERR_ARGUMENT) for a NULL program, a dtype other than the program's,
// a program that is no vector field, or NULL params for a program with parameters.
template <class T>
std::unique_ptr<jdyn::DiffField<T>> jdyn_program_field(const jdyn_program* program, const T* params) {
    jdyn_program_check_dtype<T>(program);
    jdyn_program_require_field(program);
    return std::make_unique<jdyn::GraphField<T>>(program->compiled, params);
}

// A field for one-off use on this thread (a one-shot forward/VJP/JVP, or an inference solve): the
// field of the program used last on this thread, re-bound to params, so that calls in a loop do not
// re-plan the workspace. Programs are told apart by their never-reused id. Valid until the next call
// on this thread.
template <class T>
jdyn::GraphField<T>& jdyn_program_cached_field(const jdyn_program* program, const T* params) {
    thread_local uint64_t cached_id = 0;
    thread_local std::unique_ptr<jdyn::GraphField<T>> cached;
    if (!cached || cached_id != program->id) {
        cached.reset();
        cached = std::make_unique<jdyn::GraphField<T>>(program->compiled, params);
        cached_id = program->id;
    } else {
        cached->bind_params(params);
    }
    return *cached;
}
