package io.jdyn.bench;

import io.jdyn.examples.RegularizedMoons;
import java.io.PrintStream;
import java.util.function.Consumer;

/**
 * regulariser-nfe: the moons classifier (512 points, Linear(2, 64) - Tanh - Linear(64, 2), dopri5 with
 * the adjoint, Adam lr 0.01, full batch, 300 epochs, seed 0) trained plain and with RNODE's kinetic energy
 * + Jacobian Frobenius (Hutchinson) integral losses at two weights; each trained field is then solved over
 * the data with dopri5 at rtol = atol = 1e-3, 1e-4 and 1e-5, counting the NFE. One line per model and
 * tolerance; value = NFE. The regularisers' claim: fewer NFE at (about) equal accuracy.
 */
final class RegulariserNfe implements Benchmark {
    static final double[] LAMBDAS = {0.002, 0.005};

    @Override
    public String unit() {
        return "nfe";
    }

    @Override
    public void run(Consumer<Json> out) {
        int epochs = Math.max(20, (int) Math.round(300 * Double.parseDouble(System.getProperty("bench.scale", "1"))));
        RegularizedMoons.Trained plain = null;
        for (double lambda : LAMBDAS) {
            RegularizedMoons.Outcome o = RegularizedMoons.run(new RegularizedMoons.Options(512, epochs, lambda, 0),
                    new PrintStream(System.err, true));
            if (plain == null) {
                plain = o.plain();
                emit(out, plain, 0, epochs, null);
            }
            emit(out, o.regularized(), lambda, epochs, plain);
        }
    }

    private static void emit(Consumer<Json> out, RegularizedMoons.Trained t, double lambda, int epochs,
            RegularizedMoons.Trained plain) {
        for (int i = 0; i < RegularizedMoons.TOLERANCES.length; i++) {
            double tol = RegularizedMoons.TOLERANCES[i];
            Json j = Json.bench("regulariser-nfe").num("value", t.nfe()[i]).str("unit", "nfe")
                    .str("model", lambda == 0 ? "plain" : "kinetic + jacobian frobenius (hutchinson)")
                    .num("lambda", lambda).num("tol", tol).num("accuracy", t.accuracy()).num("train_loss", t.lastLoss())
                    .num("epochs", epochs).num("train_s", t.trainSeconds())
                    .str("workload", "moons 512, Linear(2,64)-Tanh-Linear(64,2), dopri5, adjoint, Adam 1e-2, seed 0");
            if (plain != null) j.num("nfe_ratio_vs_plain", (double) t.nfe()[i] / plain.nfe()[i]);
            out.accept(j);
        }
    }
}
