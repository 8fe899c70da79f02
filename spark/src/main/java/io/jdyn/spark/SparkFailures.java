package io.jdyn.spark;

/**
 * Turns a failed Spark job back into the exception its task threw, where that was a refusal of bad
 * input: Spark wraps it in a SparkException ("Job aborted due to stage failure: ...") whose cause is
 * the task's exception, and a caller should see the IllegalArgumentException naming the bad sample.
 */
final class SparkFailures {
    private SparkFailures() {}

    static RuntimeException translate(Exception e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof IllegalArgumentException) return new IllegalArgumentException(c.getMessage(), e);
            if (c.getCause() == c) break;
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
    }
}
