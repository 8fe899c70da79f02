package io.jdyn.spark;

import io.jdyn.fn.Fn;
import java.io.Serializable;

/**
 * An {@link Fn} Spark can ship: a lambda written where a SerializableFn is expected is serialisable, so
 * executors compile the same program ({@link FieldSpec#of(SerializableFn, int, io.jdyn.DType, long)}).
 * Capture only serialisable values in it.
 */
@FunctionalInterface
public interface SerializableFn extends Fn, Serializable {}
