// The worker pool behind parallel_for. A job is (fn, ctx, n_blocks); blocks are claimed one at a time
// through an atomic word, so a thread that finishes early takes the next one (which thread runs a
// block never changes what the block computes), and the caller waits only for blocks a worker has
// claimed, never for a worker to wake up: on a loaded machine a late worker finds the job done and
// the caller has run it alone. Hand-over: the caller publishes the job by bumping a generation
// counter; workers spin on it for a short while (about 50 us) before sleeping on a condition variable,
// so the jobs of one step (one per stage) usually reach spinning workers without a system call, and
// an idle pool costs nothing.
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "status.h"

#if defined(__SSE__)
#include <immintrin.h>
#endif

namespace jdyn {

namespace {

inline void cpu_relax() {
#if defined(__SSE__)
    _mm_pause();
#endif
}

// The caller's floating-point control (rounding, flush-to-zero) is given to the workers for each job,
// so that a block rounds the same whichever thread runs it.
inline unsigned fp_control() {
#if defined(__SSE__)
    return _mm_getcsr();
#else
    return 0;
#endif
}
inline void set_fp_control(unsigned csr) {
#if defined(__SSE__)
    if (_mm_getcsr() != csr) _mm_setcsr(csr);
#else
    (void)csr;
#endif
}

thread_local bool in_block = false;  // this thread is running a block (a nested parallel_for runs inline)

class Pool {
public:
    void resize(int threads) {
        std::lock_guard<std::mutex> job(job_mutex_);
        const int want = threads - 1;  // the caller is the other one
        if ((int)workers_.size() == want) return;
        {
            std::lock_guard<std::mutex> lk(m_);
            stop_ = true;
        }
        cv_.notify_all();
        for (std::thread& w : workers_) w.join();
        workers_.clear();
        stop_ = false;
        // A new worker waits for the generation after this one: reading the counter itself when it
        // starts could miss a job published before it ran.
        const uint64_t now = generation_.load(std::memory_order_acquire);
        try {
            for (int i = 0; i < want; ++i) workers_.emplace_back([this, now] { work(now); });
        } catch (const std::system_error& e) {
            size_ = (int)workers_.size() + 1;  // the workers that did start serve on
            fail(JDYN_ERR_INTERNAL, "could not start worker thread " + std::to_string(workers_.size() + 1) + " of " +
                                        std::to_string(want) + ": " + e.what());
        }
        size_ = threads;
    }

    int size() const { return size_.load(std::memory_order_relaxed); }

    void run(int64_t n, void (*fn)(void*, int64_t), void* ctx) {
        if (in_block || n > kMaxBlocks) {
            serial(n, fn, ctx);
            return;
        }
        std::unique_lock<std::mutex> job(job_mutex_, std::try_to_lock);
        if (!job.owns_lock() || workers_.empty()) {
            serial(n, fn, ctx);
            return;
        }
        fn_ = fn;
        ctx_ = ctx;
        csr_ = fp_control();
        error_block_ = n;
        error_ = nullptr;
        done_.store(0, std::memory_order_relaxed);
        const uint64_t gen = (generation_.load(std::memory_order_relaxed) + 1) & kLow;
        job_n_.store(gen << 32 | (uint64_t)n, std::memory_order_relaxed);
        claim_.store(gen << 32, std::memory_order_release);
        bool wake;
        {
            std::lock_guard<std::mutex> lk(m_);
            generation_.store(gen, std::memory_order_release);
            wake = sleepers_ > 0;
        }
        if (wake) cv_.notify_all();
        take_blocks(gen);
        // Only blocks a worker has claimed can still be running: a worker that has not woken up yet
        // finds the job done and claims nothing, so the caller never waits for a sleeping thread.
        spin_while([&] { return done_.load(std::memory_order_acquire) != n; });
        if (done_.load(std::memory_order_acquire) != n) {
            std::unique_lock<std::mutex> lk(m_);
            caller_waiting_ = true;
            done_cv_.wait(lk, [&] { return done_.load(std::memory_order_acquire) == n; });
            caller_waiting_ = false;
        }
        if (error_) std::rethrow_exception(error_);
    }

private:
    static constexpr uint64_t kLow = 0xffffffffu;
    static constexpr int64_t kMaxBlocks = int64_t(1) << 31;

    // Waits while busy() for at most about 50 us: a few hundred pause instructions, then yields, so
    // that on a machine with more runnable threads than cores the wait gives its core away.
    template <class Busy>
    static void spin_while(Busy&& busy) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
        for (int i = 0; busy(); ++i) {
            if (i < 256) {
                cpu_relax();
            } else {
                std::this_thread::yield();
                if (std::chrono::steady_clock::now() > until) return;
            }
        }
    }

    static void serial(int64_t n, void (*fn)(void*, int64_t), void* ctx) {
        const bool outer = in_block;
        in_block = true;
        try {
            for (int64_t b = 0; b < n; ++b) fn(ctx, b);
        } catch (...) {
            in_block = outer;
            throw;
        }
        in_block = outer;
    }

    // Claims and runs blocks of job `gen` until none is left. The claim word holds (generation, next
    // block) and job_n_ (generation, block count): a claim succeeds only while its job is current and
    // has blocks left, and the job cannot end (nor fn_, ctx_ change) before a claimed block is done.
    void take_blocks(uint64_t gen) {
        const bool outer = in_block;
        in_block = true;
        for (;;) {
            uint64_t c = claim_.load(std::memory_order_acquire);
            const uint64_t jn = job_n_.load(std::memory_order_acquire);
            if ((c >> 32) != gen || (jn >> 32) != gen || (c & kLow) >= (jn & kLow)) break;
            if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) continue;
            const int64_t b = (int64_t)(c & kLow), n = (int64_t)(jn & kLow);
            set_fp_control(csr_);
            try {
                fn_(ctx_, b);
            } catch (...) {
                std::lock_guard<std::mutex> lk(error_mutex_);
                if (b < error_block_) {
                    error_block_ = b;
                    error_ = std::current_exception();
                }
            }
            if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
                std::lock_guard<std::mutex> lk(m_);
                if (caller_waiting_) done_cv_.notify_one();
            }
        }
        in_block = outer;
    }

    void work(uint64_t seen) {
        for (;;) {
            spin_while([&] { return generation_.load(std::memory_order_acquire) == seen; });
            {
                std::unique_lock<std::mutex> lk(m_);
                if (generation_.load(std::memory_order_acquire) == seen && !stop_) {
                    ++sleepers_;
                    cv_.wait(lk, [&] { return stop_ || generation_.load(std::memory_order_acquire) != seen; });
                    --sleepers_;
                }
                if (stop_) return;
            }
            seen = generation_.load(std::memory_order_acquire);
            take_blocks(seen);
        }
    }

    std::mutex job_mutex_;  // one job at a time; held by the caller for the job and by resize
    std::vector<std::thread> workers_;
    std::atomic<int> size_{1};

    std::mutex m_;  // guards the sleep/wake hand-over: sleepers_, caller_waiting_, stop_
    std::condition_variable cv_, done_cv_;
    int sleepers_ = 0;
    bool caller_waiting_ = false;
    bool stop_ = false;
    std::atomic<uint64_t> generation_{0};  // the current job's generation (32 bits, wrapping)

    // The current job: written by the caller before claim_ publishes it, unchanged until done_ = n.
    void (*fn_)(void*, int64_t) = nullptr;
    void* ctx_ = nullptr;
    unsigned csr_ = 0;
    std::atomic<uint64_t> claim_{0};  // generation << 32 | the next block to claim
    std::atomic<uint64_t> job_n_{0};  // generation << 32 | the block count
    std::atomic<int64_t> done_{0};    // blocks finished
    std::mutex error_mutex_;
    int64_t error_block_ = 0;
    std::exception_ptr error_;
};

Pool& pool() {
    // Never destroyed: worker threads must not be joined from a static destructor at exit (the JVM
    // may still be running other threads), and the process reclaims them.
    static Pool* p = new Pool();
    return *p;
}

}  // namespace

void set_num_threads(int threads) { pool().resize(std::max(1, std::min(1024, threads))); }

int num_threads() { return pool().size(); }

void parallel_for(int64_t n_blocks, void (*fn)(void* ctx, int64_t block), void* ctx) {
    if (n_blocks <= 0) return;
    pool().run(n_blocks, fn, ctx);
}

int64_t block_rows(int64_t batch) {
    constexpr int64_t kMinRows = 256, kMaxBlocks = 64;
    if (batch < 2 * kMinRows) return std::max<int64_t>(batch, 1);
    const int64_t blocks = std::min(kMaxBlocks, batch / kMinRows);
    return (batch + blocks - 1) / blocks;
}

int64_t element_block(int64_t n, int64_t align) {
    constexpr int64_t kMinElems = 65536, kMaxBlocks = 64;
    if (n < 2 * kMinElems) return std::max<int64_t>(n, 1);
    const int64_t blocks = std::min(kMaxBlocks, n / kMinElems);
    const int64_t per = (n + blocks - 1) / blocks;
    return (per + align - 1) / align * align;
}

}  // namespace jdyn
