package io.jdyn.train;

/**
 * Hooks into {@link Trainer#fit} (Lightning's Callback): every method has an empty default.
 * Epoch-end hooks see the epoch's metrics in {@link TrainerState#metrics()} and may ask the trainer to
 * stop with {@link TrainerState#requestStop(String)}.
 */
public interface Callback {
    default void onFitStart(TrainerState state) {}

    /** After each optimizer step (the step's row: loss, accuracy, NFE, lr). */
    default void onStepEnd(TrainerState state, StepMetrics step) {}

    /** After each epoch (and its validation, when one ran). */
    default void onEpochEnd(TrainerState state) {}

    default void onFitEnd(TrainerState state) {}
}
