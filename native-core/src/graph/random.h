// RANDOM's values: a counter-based generator, so element i of a draw is a pure function of
// (seed, stream, i). That is what lets a solve see one fixed noise at every evaluation (the
// Hutchinson estimator of FFJORD and of the Jacobian regulariser needs it), lets VJP programs
// recompute the forward's noise instead of storing it, and keeps a batch row's values independent
// of the batch size and of the thread that computes them. Per element and header-only so a
// device twin can share it.
#pragma once

#include <cmath>
#include <cstdint>

namespace jdyn {
namespace graph {

// splitmix64's finaliser (Steele, Lea and Flood 2014): a bijection on 64 bits with full avalanche.
inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The key of one (seed, stream) pair; distinct pairs give unrelated sequences.
inline uint64_t random_key(int64_t seed, uint64_t stream) {
    return mix64(mix64((uint64_t)seed + 0x9e3779b97f4a7c15ULL) ^ (stream * 0xd1b54a32d192ed03ULL + 1));
}

// A uniform draw in (0, 1] from 53 bits of counter i of the key.
inline double random_unit(uint64_t key, uint64_t i) {
    return ((double)(mix64(key ^ mix64(i)) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

// Element i: standard normal (Box-Muller on counters 2i and 2i + 1) or Rademacher (one bit).
inline double random_value(uint64_t key, int64_t dist, uint64_t i) {
    if (dist == 1) return (mix64(key ^ mix64(2 * i)) >> 63) ? 1.0 : -1.0;
    const double u1 = random_unit(key, 2 * i), u2 = random_unit(key, 2 * i + 1);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// The seed as an integer: its value rounded (a float32 seed parameter holds integers up to 2^24 exactly).
inline int64_t random_seed(double v) {
    if (!std::isfinite(v)) return 0;
    if (v > 9.0e18) return INT64_MAX;
    if (v < -9.0e18) return INT64_MIN;
    return (int64_t)std::llround(v);
}

}  // namespace graph
}  // namespace jdyn
