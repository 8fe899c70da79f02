package io.jdyn.examples;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.models.IntegralCost;
import io.jdyn.models.NeuralODE;
import io.jdyn.models.Regularizers;
import io.jdyn.nn.Linear;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.train.Trainer;
import io.jdyn.train.loss.Metrics;
import io.jdyn.train.loss.Reduction;
import io.jdyn.train.optim.Adam;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Finlay et al.'s regularisers ("How to train your neural ODE", RNODE) on the moons classifier: the same
 * field, data, seed and epochs trained twice, once plain and once with the kinetic energy and the
 * Jacobian's Frobenius norm (Hutchinson) as integral losses, then each trained field solved with dopri5
 * at a few tolerances to count its NFE: regularised dynamics are straighter and take fewer steps at
 * equal accuracy. Arguments: {@code --n N} (points, default 512), {@code --epochs E} (default 300),
 * {@code --lambda L} (the weight of each regulariser, default 0.002), {@code --seed S}.
 *
 * <p>The plain model's NFE grows as its cross-entropy goes to zero (it stretches the flow to push the
 * logits apart); the regularised one stays near the accuracy with straighter paths. Too large a lambda
 * (0.05 here) wins over the classification loss and the model stops learning.
 */
public final class RegularizedMoons {
    /** The tolerances the trained fields are solved at (rtol = atol). */
    public static final double[] TOLERANCES = {1e-3, 1e-4, 1e-5};

    public record Options(int n, int epochs, double lambda, long seed) {
        public static Options defaults() {
            return new Options(512, 300, 0.002, 0);
        }
    }

    /** One trained model: accuracy, the NFE of one solve over the data at each tolerance, training time. */
    public record Trained(String name, double accuracy, long[] nfe, double trainSeconds, double lastLoss) {}

    public record Outcome(Trained plain, Trained regularized) {}

    private RegularizedMoons() {}

    public static void main(String[] args) {
        Options o = Options.defaults();
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--n" -> o = new Options(Integer.parseInt(args[i + 1]), o.epochs(), o.lambda(), o.seed());
                case "--epochs" -> o = new Options(o.n(), Integer.parseInt(args[i + 1]), o.lambda(), o.seed());
                case "--lambda" -> o = new Options(o.n(), o.epochs(), Double.parseDouble(args[i + 1]), o.seed());
                case "--seed" -> o = new Options(o.n(), o.epochs(), o.lambda(), Long.parseLong(args[i + 1]));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        run(o, System.out);
    }

    static Sequential field() {
        return Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 2));
    }

    public static Outcome run(Options o, PrintStream out) {
        Dataset moons = ToyDataset.moons(o.n(), 0.1, o.seed(), DType.FLOAT32);
        Trained plain = train("plain", null, o, moons);
        IntegralCost reg = Regularizers.kineticEnergy().plus(Regularizers.jacobianFrobenius()).times(o.lambda());
        Trained regularized = train("kinetic + jacobian (lambda " + o.lambda() + ")", reg, o, moons);
        for (Trained t : new Trained[] {plain, regularized}) {
            StringBuilder nfe = new StringBuilder();
            for (int i = 0; i < TOLERANCES.length; i++) {
                nfe.append(String.format(Locale.ROOT, "%s NFE %d at tol %.0e", i == 0 ? "" : ",", t.nfe()[i], TOLERANCES[i]));
            }
            out.printf(Locale.ROOT, "%-36s accuracy %.4f, loss %.4f,%s, trained in %.1f s%n", t.name(), t.accuracy(),
                    t.lastLoss(), nfe, t.trainSeconds());
        }
        return new Outcome(plain, regularized);
    }

    private static Trained train(String name, IntegralCost reg, Options o, Dataset data) {
        NeuralODE.Builder b = NeuralODE.builder(field(), 2).solver("dopri5").sensitivity("adjoint").seed(o.seed());
        if (reg != null) b.integralLoss(reg, Reduction.MEAN);
        try (NeuralODE model = b.build()) {
            Trainer trainer = Trainer.builder().maxEpochs(o.epochs()).batchSize(o.n()).seed(o.seed())
                    .optimizer(p -> Adam.of(p, 1e-2)).progress(false).build();
            Trainer.Result fit = trainer.fit(model, data);
            double loss = fit.lastMetrics().getOrDefault("train_loss", Double.NaN);
            // The trained dynamics alone (the regularisers' parameters left out), solved as inference is.
            long[] nfe = new long[TOLERANCES.length];
            double acc = 0;
            for (int i = 0; i < TOLERANCES.length; i++) {
                try (NeuralODE eval = NeuralODE.builder(field(), 2).solver("dopri5").rtol(TOLERANCES[i])
                        .atol(TOLERANCES[i]).build(); Tensor x = data.x()) {
                    for (String p : eval.parameters().names()) eval.parameters().set(p, model.parameters().get(p));
                    try (Tensor logits = eval.forward(x)) {
                        if (i == 0) acc = Metrics.accuracy(logits, data.y());
                    }
                    nfe[i] = eval.forwardNfe();
                }
            }
            return new Trained(name, acc, nfe, fit.seconds(), loss);
        }
    }
}
