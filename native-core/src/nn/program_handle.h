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
