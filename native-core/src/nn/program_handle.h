// The C ABI's opaque jdyn_program, opened for the other C++ code of the core (the solves with
// gradients in src/sensitivity): its Program, its dtype, and a vector field over it.
#pragma once

#include <memory>
#include <string>

#include "jdyn.h"
#include "nn/program.h"
#include "status.h"

struct jdyn_program {
    jdyn::Program program;
    int64_t dtype;  // enum jdyn_dtype
    uint64_t id;    // unique per program created (never reused, unlike addresses)
};

inline const jdyn::Program& jdyn_program_get(const jdyn_program* program) {
    if (!program) jdyn::fail(JDYN_ERR_ARGUMENT, "program must not be NULL");
    return program->program;
}

inline int64_t jdyn_program_dtype(const jdyn_program* program) {
    if (!program) jdyn::fail(JDYN_ERR_ARGUMENT, "program must not be NULL");
    return program->dtype;
}

// A new vector field f(t, z) = program(t, z) bound to params (which must outlive it), with its own
// workspace. Throws Failure(JDYN_ERR_ARGUMENT) for a NULL program, a dtype other than the program's,
// a program whose dim_in differs from its dim_out, or NULL params for a program with parameters.
template <class T>
std::unique_ptr<jdyn::DiffField<T>> jdyn_program_field(const jdyn_program* program, const T* params) {
    const int64_t dtype = sizeof(T) == sizeof(float) ? JDYN_FLOAT32 : JDYN_FLOAT64;
    if (jdyn_program_dtype(program) != dtype)
        jdyn::fail(JDYN_ERR_ARGUMENT, std::string("the program's dtype is ") +
                                          (program->dtype == JDYN_FLOAT32 ? "float32" : "float64") + ", not " +
                                          (dtype == JDYN_FLOAT32 ? "float32" : "float64"));
    return jdyn::make_program_field<T>(program->program, params);
}

// A field for one-off use on this thread (a one-shot forward/VJP/JVP, or an inference solve): the
// field of the program used last on this thread, re-bound to params, so that calls in a loop do not
// reallocate and zero the workspace (about 100 MB at batch 65536 for a 2-64-64-2 net). Programs are
// told apart by their never-reused id. Valid until the next call on this thread.
template <class T>
jdyn::ProgramField<T>& jdyn_program_cached_field(const jdyn_program* program, const T* params) {
    thread_local uint64_t cached_id = 0;
    thread_local std::unique_ptr<jdyn::ProgramField<T>> cached;
    if (!cached || cached_id != program->id) {
        cached.reset();
        cached = std::make_unique<jdyn::ProgramField<T>>(program->program, params);
        cached_id = program->id;
    } else {
        cached->bind_params(params);
    }
    return *cached;
}
