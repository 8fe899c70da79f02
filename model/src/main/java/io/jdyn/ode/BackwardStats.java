package io.jdyn.ode;

/** What a backward pass did: evaluations of the vector field or its VJP, accepted and rejected steps. */
public record BackwardStats(long nfe, long accepted, long rejected) {
    @Override
    public String toString() {
        return "backward nfe=" + nfe + ", accepted=" + accepted + ", rejected=" + rejected;
    }
}
