/* libjdyn_cuda.so: the device twin of the engine's per-element kernels (native-core/src/kernels).
 * Loaded by ffm-bindings only after jdyn_cuda_device_count reports a device; every entry returns a
 * status (0 = success, otherwise the CUDA error code) and never aborts. */
#ifndef JDYN_CUDA_H
#define JDYN_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JDYN_CUDA_API __attribute__((visibility("default")))

/* Number of usable devices in *count; a non-zero return (no driver, no device) means "no CUDA". */
JDYN_CUDA_API int32_t jdyn_cuda_device_count(int32_t* count);
/* The text of a CUDA status code. */
JDYN_CUDA_API const char* jdyn_cuda_error_string(int32_t status);

/* out = y0 + h * sum_j w[j] * k[j] on device arrays of n float64 values (k: nk device pointers in
 * host memory). */
JDYN_CUDA_API int32_t jdyn_cuda_stage_combine_f64(const double* y0, double h, const double* w, const double* const* k,
                                                  int32_t nk, int64_t n, double* out);
/* sum_i ((h sum_j e[j] k[j][i]) / (atol + rtol max(|y0_i|, |y1_i|)))^2 into *result, one reduction. */
JDYN_CUDA_API int32_t jdyn_cuda_error_sum_f64(const double* y0, const double* y1, double h, const double* e,
                                              const double* const* k, int32_t nk, int64_t n, double rtol,
                                              double atol, double* result);
/* Runs both kernels on a small host problem through the device and compares with the host twins:
 * *max_diff receives the largest absolute difference. */
JDYN_CUDA_API int32_t jdyn_cuda_selftest(double* max_diff);

#ifdef __cplusplus
}
#endif

#endif
