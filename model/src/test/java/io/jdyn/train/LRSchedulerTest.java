package io.jdyn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.train.optim.CosineAnnealingLR;
import io.jdyn.train.optim.LRScheduler;
import io.jdyn.train.optim.Optimizer;
import io.jdyn.train.optim.StepLR;
import org.junit.jupiter.api.Test;

/** StepLR and CosineAnnealingLR against PyTorch's closed forms; no native backend needed. */
class LRSchedulerTest {
    /** An optimizer that only holds a learning rate. */
    static final class LrOnly implements Optimizer {
        double lr;

        LrOnly(double lr) {
            this.lr = lr;
        }

        @Override
        public void step() {}

        @Override
        public void zeroGrad() {}

        @Override
        public double lr() {
            return lr;
        }

        @Override
        public void setLr(double lr) {
            this.lr = lr;
        }

        @Override
        public void close() {}
    }

    @Test
    void stepLrDecaysEveryStepSizeEpochs() {
        LrOnly opt = new LrOnly(0.05);
        StepLR s = new StepLR(opt, 3, 0.5);
        assertEquals(0, s.lastEpoch());
        assertEquals(0.05, opt.lr());
        for (int e = 1; e <= 20; e++) {
            s.step();
            double expected = 0.05 * Math.pow(0.5, e / 3);
            assertEquals(e, s.lastEpoch());
            assertEquals(expected, opt.lr(), 1e-12 * 0.05, "epoch " + e);
            assertEquals(opt.lr(), s.lastLr());
        }
        // PyTorch's sequence for lr 0.05, step 3, gamma 0.5: 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125
        LrOnly o2 = new LrOnly(0.05);
        StepLR s2 = new StepLR(o2, 3, 0.5);
        double[] seq = new double[7];
        seq[0] = o2.lr();
        for (int e = 1; e < 7; e++) {
            s2.step();
            seq[e] = o2.lr();
        }
        double[] torch = {0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
        for (int e = 0; e < 7; e++) assertEquals(torch[e], seq[e], 1e-15, "epoch " + e);
    }

    @Test
    void stepLrDefaultGammaIsATenth() {
        LrOnly opt = new LrOnly(1.0);
        StepLR s = new StepLR(opt, 1);
        s.step();
        assertEquals(0.1, opt.lr(), 1e-15);
    }

    @Test
    void cosineFollowsTheClosedFormOverSeveralPeriods() {
        double base = 0.1, etaMin = 0.001;
        int tMax = 10;
        LrOnly opt = new LrOnly(base);
        LRScheduler s = new CosineAnnealingLR(opt, tMax, etaMin);
        assertEquals(base, s.baseLr());
        for (int e = 1; e <= 3 * tMax; e++) {
            s.step();
            double closed = etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * e / tMax)) / 2;
            assertEquals(closed, opt.lr(), 1e-12 * base, "epoch " + e);
        }
    }

    @Test
    void cosineReachesEtaMinAtTMaxAndZeroStaysNonNegative() {
        LrOnly opt = new LrOnly(0.01);
        CosineAnnealingLR s = new CosineAnnealingLR(opt, 4);
        double[] lrs = new double[5];
        lrs[0] = opt.lr();
        for (int e = 1; e <= 4; e++) {
            s.step();
            lrs[e] = opt.lr();
            assertTrue(opt.lr() >= 0);
        }
        // PyTorch: 0.01, 0.008535533905932738, 0.005, 0.0014644660940672626, 0.0
        double[] torch = {0.01, 0.008535533905932738, 0.005, 0.0014644660940672626, 0.0};
        for (int e = 0; e < 5; e++) assertEquals(torch[e], lrs[e], 1e-15, "epoch " + e);
    }

    @Test
    void cosineCarriesOnFromAnLrChangedInBetween() {
        // PyTorch's recursive form scales the current lr, so a manual change persists proportionally.
        LrOnly opt = new LrOnly(1.0);
        CosineAnnealingLR s = new CosineAnnealingLR(opt, 10, 0.0);
        s.step();
        double before = opt.lr();
        opt.setLr(before / 2);
        s.step();
        double closedRatio = (1 + Math.cos(Math.PI * 2 / 10)) / (1 + Math.cos(Math.PI / 10));
        assertEquals(before / 2 * closedRatio, opt.lr(), 1e-15);
    }

    @Test
    void argumentsAreChecked() {
        LrOnly opt = new LrOnly(0.1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new StepLR(opt, 0, 0.1)).getMessage()
                .contains("stepSize"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new StepLR(opt, 1, Double.NaN)).getMessage()
                .contains("gamma"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(opt, 0)).getMessage()
                .contains("tMax"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(opt, 5, -1)).getMessage()
                .contains("etaMin"));
    }
}
