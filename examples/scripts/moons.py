"""torchdyn's moons tutorial (seed 000: "Neural ODEs with PyTorch Lightning and TorchDyn") on jdyn, in
Python on GraalPy:  ./jdyn run examples/scripts/moons.py [max_epochs]

The same model and settings as the Java MoonsDemo: 512 noisy moons, the field Linear(2, 64) - Tanh -
Linear(64, 2), dopri5 with the adjoint, Adam at lr 0.01 on full batches, until the accuracy reaches 0.97.
Exits 1 if it does not."""
import sys
import time

import jdyn
from jdyn import NeuralODE, nn
from jdyn.datasets import ToyDataset

TARGET = 0.97


def main(argv):
    max_epochs = int(argv[1]) if len(argv) > 1 else 300
    X, yn = ToyDataset().generate(n_samples=512, noise=1e-1, dataset_type="moons")
    f = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 2))
    model = NeuralODE(f, sensitivity="adjoint", solver="dopri5")
    print(model)
    opt = jdyn.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.time()
    acc, epoch = 0.0, 0
    for epoch in range(1, max_epochs + 1):
        opt.zero_grad()
        y_hat = model(X)                    # the final state: logits, with the adjoint's tape
        loss = loss_fn(y_hat, yn)
        loss.backward()                     # dL/dtheta into the model's gradient
        opt.step()
        acc = (y_hat.argmax(dim=-1) == yn).float().mean().item()
        if epoch % 10 == 0:
            print("epoch %3d  loss %.4f  acc %.4f  nfe %d" % (epoch, loss.item(), acc, model.nfe))
        if acc >= TARGET:
            break
    seconds = time.time() - t0
    model.eval()
    with jdyn.no_grad():
        final = (model(X).argmax(dim=-1) == yn).float().mean().item()
    s_span = jdyn.linspace(0, 1, 40)
    traj = model.trajectory(X, s_span)
    print("trained %d epochs in %.2f s; accuracy %.4f (after the last update); trajectory %s"
          % (epoch, seconds, final, traj.shape))
    print("accuracy=%.4f epochs=%d nfe=%d" % (final, epoch, model.nfe))
    return 0 if final >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
