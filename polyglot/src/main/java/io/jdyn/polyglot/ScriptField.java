package io.jdyn.polyglot;

import io.jdyn.ode.BatchView;
import io.jdyn.ode.VectorField;
import org.graalvm.polyglot.Value;

/**
 * A vector field written as a Python or JavaScript function: the flexible, slower path (one call into the
 * guest language per evaluation, and a copy of the state each way), for classic ODEs. Neural vector fields
 * should be built from layers (nn.Sequential in the python-shim), which run natively with no calls back.
 *
 * <p>The function is called as {@code fn(t, z, batch, dim)} with z a flat float64 array of batch * dim values
 * (row-major) and must return batch * dim numbers (a flat list or array, or a Java double[]).
 */
public final class ScriptField implements VectorField {
    private final Value fn;
    private double[] z = new double[0];
    private long evaluations;

    public ScriptField(Value fn) {
        if (fn == null || !fn.canExecute()) {
            throw new IllegalArgumentException("the vector field must be a function f(t, z), got "
                    + (fn == null ? "null" : fn.toString()));
        }
        this.fn = fn;
    }

    @Override
    public void evaluate(double t, BatchView zv, BatchView dz) {
        int b = zv.batch();
        int d = zv.dim();
        int n = b * d;
        if (z.length != n) z = new double[n];
        zv.copyTo(z);
        Value r = fn.execute(t, z, b, d);
        evaluations++;
        if (r.isHostObject() && r.asHostObject() instanceof double[] a) {
            if (a.length != n) throw wrongSize(a.length, b, d);
            dz.copyFrom(a);
            return;
        }
        if (!r.hasArrayElements()) {
            throw new IllegalArgumentException("the vector field returned " + r + " at t=" + t
                    + "; it must return " + n + " numbers (batch " + b + " x dim " + d + ")");
        }
        if (r.getArraySize() != n) throw wrongSize(r.getArraySize(), b, d);
        for (int i = 0; i < n; i++) {
            Value v = r.getArrayElement(i);
            if (!v.isNumber()) {
                throw new IllegalArgumentException("the vector field's value [" + i + "] is " + v + ", not a number");
            }
            dz.set(i, v.asDouble());
        }
    }

    /** How many times the guest function ran. */
    public long evaluations() {
        return evaluations;
    }

    private static IllegalArgumentException wrongSize(long got, int b, int d) {
        return new IllegalArgumentException("the vector field returned " + got + " values; expected " + (long) b * d
                + " (batch " + b + " x dim " + d + ")");
    }
}
