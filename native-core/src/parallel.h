// Splitting a batch over worker threads inside one native call, deterministically: work is cut into
// BLOCKS whose boundaries depend only on the problem size (block_rows, element_blocks), never on the
// thread count, and the thread count only decides which thread runs which block. Every reduction is
// formed per block and combined in block order by the caller, so 1, 2 or 3 threads give bitwise-equal
// results.
//
// One persistent pool per process (jdyn_set_num_threads sets its size; 1, the default, runs every
// block on the calling thread). The calling thread takes blocks too; idle workers spin briefly for
// the next job (a dopri5 step hands out several jobs back to back), then sleep on a condition variable.
// A parallel_for inside a block, or while another thread's parallel_for holds the pool, runs its
// blocks on its own thread in order: the same result, no deadlock.
#pragma once

#include <cstdint>
#include <type_traits>

namespace jdyn {

// Worker threads for batch splitting, the caller included: [1, 1024].
void set_num_threads(int threads);
int num_threads();

// Runs fn(ctx, b) for every block b in [0, n_blocks), on the pool. An exception thrown by a block is
// rethrown here on the caller once every block has run (the one of the lowest block index when
// several fail, so the reported failure does not depend on the thread count either).
void parallel_for(int64_t n_blocks, void (*fn)(void* ctx, int64_t block), void* ctx);

// The same with any callable f(int64_t block).
template <class F>
void parallel_for(int64_t n_blocks, F&& f) {
    if (n_blocks == 1) {
        f(int64_t(0));
        return;
    }
    using Fn = std::remove_reference_t<F>;
    parallel_for(
        n_blocks, [](void* ctx, int64_t b) { (*static_cast<Fn*>(ctx))(b); }, const_cast<void*>(static_cast<const void*>(&f)));
}

// Row blocks of a batch: rows per block (the last block may be shorter). One block below 512 rows;
// above, blocks of at least 256 rows, at most 64 of them: large enough that a block's fixed cost (a
// hand-over, a GEMM call per layer) stays small beside its work.
int64_t block_rows(int64_t batch);
inline int64_t num_row_blocks(int64_t batch) {
    const int64_t r = block_rows(batch);
    return r <= 0 ? 1 : (batch + r - 1) / r;
}

// Element blocks of the engine's per-step arithmetic over n values: elements per block, a multiple of
// `align`; one block below 131072 values. A hand-over costs more than its few microseconds: with a Java
// field, which runs on the calling thread over the whole batch, half the state would move between the
// cores' caches every stage (oscillators-10k, 20,000 values, was 36% slower on 2 threads with blocks
// from 16384 values; with this bound it is at parity, and inference-batch 65536 still gains).
int64_t element_block(int64_t n, int64_t align);

}  // namespace jdyn
