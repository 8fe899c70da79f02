// The per-sample loop again, compiled with AVX2 and FMA like engine_avx2.cpp (CMake sets the same flags
// for this file), so that its rows contract products into FMAs exactly as the AVX2 engine does.
#define JDYN_ISA isa_avx2
#include "engine_per_sample.cpp"
