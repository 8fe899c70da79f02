package io.jdyn.spark;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The per-JVM cache of rebuilt models (and compiled ensemble fields), keyed by the spec's id: a task
 * borrows an instance, uses it alone, and gives it back. A model holds parameter values and gradients,
 * so two tasks running at once in one executor (local[2], or executor cores &gt; 1) each get their own;
 * at most as many instances per id as tasks ran at once. The ids least recently used beyond
 * {@link #MAX_IDS} are dropped, their idle instances closed.
 */
final class ExecutorModels {
    /** How many specs a JVM keeps built (a training run and an ensemble or two at once). */
    static final int MAX_IDS = 8;

    private static final Map<String, ArrayDeque<AutoCloseable>> IDLE = new LinkedHashMap<>(16, 0.75f, true);

    private ExecutorModels() {}

    /** An idle instance built for id, or a new one from make. Give it back with {@link #release}. */
    @SuppressWarnings("unchecked")
    static <T extends AutoCloseable> T borrow(String id, Supplier<T> make) {
        synchronized (IDLE) {
            ArrayDeque<AutoCloseable> q = IDLE.get(id);
            if (q != null && !q.isEmpty()) return (T) q.pop();
        }
        return make.get();
    }

    /** Puts an instance back for the next task of the same id (closing what the cache drops). */
    static void release(String id, AutoCloseable instance) {
        ArrayDeque<AutoCloseable> dropped = new ArrayDeque<>();
        synchronized (IDLE) {
            IDLE.computeIfAbsent(id, k -> new ArrayDeque<>()).push(instance);
            Iterator<Map.Entry<String, ArrayDeque<AutoCloseable>>> it = IDLE.entrySet().iterator();
            while (IDLE.size() > MAX_IDS && it.hasNext()) {
                dropped.addAll(it.next().getValue());
                it.remove();
            }
        }
        for (AutoCloseable c : dropped) closeQuietly(c);
    }

    /** Closes an instance that a failed task may have left in a bad state, instead of caching it. */
    static void discard(AutoCloseable instance) {
        closeQuietly(instance);
    }

    /** How many idle instances this JVM holds for id (tests check the reuse). */
    static int idle(String id) {
        synchronized (IDLE) {
            ArrayDeque<AutoCloseable> q = IDLE.get(id);
            return q == null ? 0 : q.size();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // a cache eviction has no caller to tell
        }
    }
}
