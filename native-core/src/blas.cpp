// OpenBLAS behind the ABI: GEMM and the thread count. OpenBLAS is linked statically into libjdyn so
// that a Java user installs nothing. OpenBLAS itself always runs on one thread (two threads measured
// four times slower than one on a 512x512 dgemm on the 2-vCPU machines this project runs on, and the
// batch-splitting workers call it concurrently, where nested BLAS threads would only oversubscribe);
// jdyn_set_num_threads sizes the batch-splitting pool instead (parallel.h).
#include <cblas.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>

#include <string>

#include "jdyn.h"
#include "parallel.h"
#include "status.h"

namespace {
// OpenBLAS starts its thread pool from its own load-time constructor, sized by OPENBLAS_NUM_THREADS
// or the core count. Inside a JVM that pool's server thread crashed (SIGSEGV in blas_thread_server)
// in Release builds, and one thread is the right default here anyway: this constructor runs first
// (priority 101 < OpenBLAS's default) and asks for one thread unless the user set a count.
__attribute__((constructor(101))) void one_blas_thread_at_load() { setenv("OPENBLAS_NUM_THREADS", "1", 0); }

// Applied on first use rather than in a static constructor: OpenBLAS's own initialiser runs at load
// time too, and the order of the two within one shared object is unspecified (setting the count
// before OpenBLAS has started its thread pool crashed its thread server).
std::once_flag default_threads_once;
void ensure_default_threads() {
    std::call_once(default_threads_once, [] { openblas_set_num_threads(1); });
}
}  // namespace

extern "C" {

int32_t jdyn_set_num_threads(int64_t threads) {
    return jdyn::guarded([&] {
        if (threads < 1 || threads > 1024)
            jdyn::fail(JDYN_ERR_ARGUMENT, "threads must be in [1, 1024], got " + std::to_string(threads));
        ensure_default_threads();
        jdyn::set_num_threads((int)threads);
    });
}

int64_t jdyn_get_num_threads(void) {
    ensure_default_threads();
    return jdyn::num_threads();
}

const char* jdyn_blas_info(void) { return openblas_get_config(); }

int32_t jdyn_gemm(int64_t dtype, int64_t trans_a, int64_t trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  const void* a, const void* b, double beta, void* c) {
    return jdyn::guarded([&] {
        if (m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
            jdyn::fail(JDYN_ERR_ARGUMENT, "gemm sizes must be in [0, 2^31), got m=" + std::to_string(m) +
                                              " n=" + std::to_string(n) + " k=" + std::to_string(k));
        if (!a || !b || !c) jdyn::fail(JDYN_ERR_ARGUMENT, "gemm operands must not be NULL");
        ensure_default_threads();
        const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
        const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
        const int lda = (int)(trans_a ? m : k), ldb = (int)(trans_b ? k : n), ldc = (int)n;
        if (dtype == JDYN_FLOAT32) {
            cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, (float)alpha, (const float*)a, lda,
                        (const float*)b, ldb, (float)beta, (float*)c, ldc);
        } else if (dtype == JDYN_FLOAT64) {
            cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, (const double*)a, lda,
                        (const double*)b, ldb, beta, (double*)c, ldc);
        } else {
            jdyn::fail(JDYN_ERR_ARGUMENT, "dtype must be 0 (float32) or 1 (float64), got " + std::to_string(dtype));
        }
    });
}

}  // extern "C"
