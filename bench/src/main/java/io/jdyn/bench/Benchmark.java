package io.jdyn.bench;

import java.util.function.Consumer;

/** One benchmark: measures, then hands one or more lines to out. */
interface Benchmark {
    /** The unit of the main line, used for the error line if the benchmark throws. */
    String unit();

    void run(Consumer<Json> out) throws Exception;
}
