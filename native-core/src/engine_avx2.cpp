// The engine again, compiled with AVX2 and FMA (CMake sets the flags for this file only); used when
// the CPU has them. The same source, so both variants pass the same tests.
#define JDYN_ISA isa_avx2
#include "engine.cpp"
