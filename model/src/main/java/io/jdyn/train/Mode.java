package io.jdyn.train;

/** Whether a monitored metric improves by going down (a loss) or up (an accuracy). */
public enum Mode {
    MIN, MAX;

    boolean better(double candidate, double reference, double minDelta) {
        if (Double.isNaN(candidate)) return false;
        if (Double.isNaN(reference)) return true;
        return this == MIN ? candidate < reference - minDelta : candidate > reference + minDelta;
    }
}
