// The moons classifier of seed 000, built, trained and queried from JavaScript on GraalJS through jdyn's
// Java API:  ./jdyn run examples/scripts/moons.js [max_epochs]
// Same settings as the Java MoonsDemo and moons.py. Throws (exit 1) if the accuracy stays under 0.97.
const DType = Java.type('io.jdyn.DType');
const ToyDataset = Java.type('io.jdyn.data.ToyDataset');
const Sequential = Java.type('io.jdyn.nn.Sequential');
const Linear = Java.type('io.jdyn.nn.Linear');
const Tanh = Java.type('io.jdyn.nn.Tanh');
const NeuralODE = Java.type('io.jdyn.models.NeuralODE');
const Adam = Java.type('io.jdyn.train.optim.Adam');
const CrossEntropyLoss = Java.type('io.jdyn.train.loss.CrossEntropyLoss');
const Metrics = Java.type('io.jdyn.train.loss.Metrics');
const Values = Java.type('io.jdyn.polyglot.Values');

const maxEpochs = arguments.length > 1 ? parseInt(arguments[1]) : 300;
const data = ToyDataset.moons(512, 0.1, 0, DType.FLOAT32);
const f = Sequential.of(new Linear(2, 64), new Tanh(), new Linear(64, 2));
const model = NeuralODE.builder(f, 2).solver('dopri5').sensitivity('adjoint').seed(0).build();
const opt = Adam.of(model.parameters(), 0.01);
const ce = new CrossEntropyLoss();
const x = data.x();
const y = data.y();

let acc = 0, epoch = 0;
for (epoch = 1; epoch <= maxEpochs && acc < 0.97; epoch++) {
  opt.zeroGrad();
  const trace = model.trace(x);                 // the final state, with the adjoint's tape
  const loss = ce.compute(trace.output(), y);
  trace.backward(loss.grad());                  // dL/dtheta into the model's gradient
  opt.step();
  acc = Metrics.accuracy(trace.output(), y);
  if (epoch % 10 === 0) console.log(`epoch ${epoch}  loss ${loss.value().toFixed(4)}  acc ${acc.toFixed(4)}`);
  loss.close();
  trace.close();
}

// query the trained model: the final accuracy and the classes of two new points
const logits = model.forward(x);
const finalAcc = Metrics.accuracy(logits, y);
logits.close();
const probe = Values.tensor([[-1.0, 0.5], [2.0, -0.2]], 'float32');
const out = model.forward(probe);
const classes = Array.from(Metrics.argmax(out));
out.close();
probe.close();
console.log(`accuracy=${finalAcc.toFixed(4)} epochs=${epoch - 1} nfe=${model.nfe()} classes=${classes.join(',')}`);
model.close();
opt.close();
if (finalAcc < 0.97) throw new Error(`accuracy ${finalAcc} < 0.97`);
