package io.jdyn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.Tensor;
import io.jdyn.data.Dataset;
import io.jdyn.data.ToyDataset;
import io.jdyn.io.Checkpoint;
import io.jdyn.models.NeuralODE;
import io.jdyn.nn.Linear;
import io.jdyn.nn.NeuralField;
import io.jdyn.nn.Sequential;
import io.jdyn.nn.Tanh;
import io.jdyn.train.Callback;
import io.jdyn.train.EarlyStopping;
import io.jdyn.train.MetricsLog;
import io.jdyn.train.Mode;
import io.jdyn.train.ModelCheckpoint;
import io.jdyn.train.StepMetrics;
import io.jdyn.train.Trainer;
import io.jdyn.train.TrainerState;
import io.jdyn.train.loss.LossValue;
import io.jdyn.train.optim.SGD;
import io.jdyn.train.optim.StepLR;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** io.jdyn.train.Trainer and its callbacks on small moons problems. */
class TrainerTest {
    private static NeuralODE model() {
        return NeuralODE.builder(Sequential.of(new Linear(2, 16), new Tanh(), new Linear(16, 2)), 2).seed(3).build();
    }

    /** A loss with value c and zero gradient: training changes nothing and the loss never improves. */
    private static Trainer.LossFunction constant(double c) {
        return (out, batch) -> new LossValue(c, Tensor.of(out.dtype(), new double[(int) (out.size(0) * out.size(1))],
                out.shape()));
    }

    @Test
    void everyEpochIsAReshuffledPartitionIntoBatches() {
        Dataset d = ToyDataset.moons(10, 0.1, 1, DType.FLOAT32);
        List<int[]> seen = new ArrayList<>();
        List<StepMetrics> steps = new ArrayList<>();
        Trainer.LossFunction loss = (out, batch) -> {
            seen.add(batch.indices());
            return constant(1).compute(out, batch);
        };
        Callback rec = new Callback() {
            @Override
            public void onStepEnd(TrainerState s, StepMetrics m) {
                steps.add(m);
            }
        };
        try (NeuralODE m = model()) {
            Trainer.Result r = Trainer.builder().maxEpochs(2).batchSize(4).seed(5).progress(false).callbacks(rec).build()
                    .fit(m, d, null, loss, false);
            assertEquals(2, r.epochs());
            assertEquals(6, r.steps());
        }
        assertEquals(6, seen.size());
        assertArrayEquals(new int[] {4, 4, 2, 4, 4, 2}, steps.stream().mapToInt(StepMetrics::batchSize).toArray());
        for (int e = 0; e < 2; e++) {
            int[] all = Stream.of(seen.get(3 * e), seen.get(3 * e + 1), seen.get(3 * e + 2)).flatMapToInt(Arrays::stream)
                    .sorted().toArray();
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, all, "epoch " + e + " is a partition");
        }
        assertFalse(Arrays.equals(seen.get(0), seen.get(3)), "each epoch draws a new order");
        for (int i = 0; i < 6; i++) {
            assertEquals(i, steps.get(i).step());
            assertEquals(i / 3, steps.get(i).epoch());
            assertTrue(steps.get(i).nfeForward() > 0 && steps.get(i).nfeBackward() > 0);
        }
    }

    @Test
    void fullBatchWhenBatchSizeIsAtLeastN() {
        Dataset d = ToyDataset.moons(12, 0.1, 1, DType.FLOAT32);
        try (NeuralODE m = model()) {
            Trainer.Result r = Trainer.builder().maxEpochs(3).progress(false).build().fit(m, d);
            assertEquals(3, r.steps());
        }
    }

    @Test
    void earlyStoppingStopsAfterPatienceEpochsWithoutImprovement() {
        Dataset d = ToyDataset.moons(8, 0.1, 1, DType.FLOAT32);
        EarlyStopping es = new EarlyStopping("train_loss", 3, Mode.MIN);
        try (NeuralODE m = model()) {
            Trainer.Result r = Trainer.builder().maxEpochs(50).progress(false).callbacks(es).build()
                    .fit(m, d, null, constant(0.5), false);
            assertEquals(4, r.epochs(), "best at epoch 1, then 3 epochs without improvement");
            assertNotNull(r.stopReason());
            assertEquals(3, es.stoppedEpoch());
        }
    }

    @Test
    void earlyStoppingAtAThresholdAndClassificationTrainingLearns() {
        Dataset d = ToyDataset.moons(128, 0.1, 2, DType.FLOAT32);
        Dataset val = ToyDataset.moons(64, 0.1, 3, DType.FLOAT32);
        try (NeuralODE m = model()) {
            Trainer.Result r = Trainer.builder().maxEpochs(200).batchSize(64).seed(1).gradClipNorm(10)
                    .optimizer(p -> io.jdyn.train.optim.Adam.of(p, 2e-2)).progress(true)
                    .callbacks(EarlyStopping.atThreshold("val_acc", Mode.MAX, 0.9)).build().fit(m, d, val);
            assertNotNull(r.stopReason(), "reached 0.9 validation accuracy within 200 epochs: " + r.lastMetrics());
            assertTrue(r.lastMetrics().get("val_acc") >= 0.9);
            assertTrue(r.history().get(0).get("train_loss") > r.lastMetrics().get("train_loss"));
            assertEquals(2 * r.epochs(), r.steps());
        }
    }

    @Test
    void modelCheckpointWritesBestAndLastAtomically(@TempDir Path dir) throws Exception {
        Dataset d = ToyDataset.moons(32, 0.1, 1, DType.FLOAT32);
        Path ckpt = dir.resolve("ckpt");
        ModelCheckpoint mc = new ModelCheckpoint(ckpt, "train_loss", Mode.MIN, true);
        try (NeuralODE m = model()) {
            Trainer.builder().maxEpochs(5).progress(false).optimizer(p -> io.jdyn.train.optim.Adam.of(p, 1e-2))
                    .callbacks(mc).build().fit(m, d);
            try (Stream<Path> files = Files.list(ckpt)) {
                assertEquals(List.of(ModelCheckpoint.BEST, ModelCheckpoint.LAST),
                        files.map(p -> p.getFileName().toString()).sorted().toList(), "no temp files left behind");
            }
            try (NeuralField last = Checkpoint.load(mc.lastPath()); NeuralField best = Checkpoint.load(mc.bestPath())) {
                assertArrayEquals(m.parameters().values().toDoubleArray(), last.parameters().values().toDoubleArray(), 0.0);
                assertEquals(m.numParams(), best.parameters().numParams());
            }
            assertEquals("4", Checkpoint.metadata(mc.lastPath()).get("epoch"));
            assertTrue(mc.bestEpoch() >= 0 && mc.saves() >= 6);
        }
    }

    @Test
    void metricsLogHasARowPerStepAndPerEpoch(@TempDir Path dir) throws Exception {
        Dataset d = ToyDataset.moons(20, 0.1, 1, DType.FLOAT32);
        Path csv = dir.resolve("logs/metrics.csv");
        try (NeuralODE m = model()) {
            Trainer.builder().maxEpochs(3).batchSize(8).progress(false).metricsLog(csv).build().fit(m, d, d);
        }
        List<String> lines = Files.readAllLines(csv);
        assertEquals(MetricsLog.HEADER, lines.get(0));
        assertEquals(1 + 3 * 3 + 3, lines.size(), "header, 3 steps and 1 epoch row per epoch");
        int cols = MetricsLog.HEADER.split(",").length;
        for (String l : lines.subList(1, lines.size())) {
            String[] c = l.split(",", -1);
            assertEquals(cols, c.length, l);
            assertTrue(c[0].equals("step") || c[0].equals("epoch"), l);
            Double.parseDouble(c[3]);   // loss
            Double.parseDouble(c[4]);   // accuracy
            assertTrue(Long.parseLong(c[7]) > 0, "forward NFE: " + l);
            if (c[0].equals("epoch")) Double.parseDouble(c[6]);   // val accuracy
        }
        assertEquals("epoch", lines.get(lines.size() - 1).split(",")[0]);
    }

    @Test
    void theSchedulerStepsOncePerEpoch() {
        Dataset d = ToyDataset.moons(16, 0.1, 1, DType.FLOAT32);
        try (NeuralODE m = model()) {
            Trainer.Result r = Trainer.builder().maxEpochs(5).batchSize(8).progress(false)
                    .optimizer(p -> SGD.of(p, 0.1)).scheduler(o -> new StepLR(o, 2, 0.5)).build().fit(m, d);
            double[] lrs = r.history().stream().mapToDouble(h -> h.get("lr")).toArray();
            assertArrayEquals(new double[] {0.1, 0.1, 0.05, 0.05, 0.025}, lrs, 1e-12);
        }
    }

    @Test
    void aNonFiniteLossStopsWithAMessageAndTheValidationBuilderRefusesNonsense() {
        Dataset d = ToyDataset.moons(8, 0.1, 1, DType.FLOAT32);
        try (NeuralODE m = model()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Trainer.builder().maxEpochs(2).progress(false).build().fit(m, d, null, constant(Double.NaN), false));
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().maxEpochs(0));
    }
}
