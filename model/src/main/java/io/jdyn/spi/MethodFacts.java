package io.jdyn.spi;

/** Internal: what the native core says of a method. */
public record MethodFacts(int order, int errorOrder, int stages, int denseDegree) {}
