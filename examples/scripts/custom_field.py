"""A vector field written the torch way, traced once into a native program, trained on torchdyn's moons:
    ./jdyn run examples/scripts/custom_field.py [max_epochs]

The field is an nn.Module subclass, as in PyTorch: a gated MLP with a learned damping of its own,
    f(t, x) = (W2 tanh(W1 [x, t] + b1) + b2) * 2 sigmoid(g(x)) - softplus(damping) * x
jdyn runs forward() once, on symbolic tensors, when NeuralODE(f) is built: every operation becomes a node
of a differentiable program that the solver and the adjoint then run natively, with no Python per
evaluation. Trained like a Sequential: model.parameters(), Adam, loss.backward(). Exits 1 if the
accuracy does not reach 0.97."""
import sys
import time

import jdyn
from jdyn import NeuralODE, nn
from jdyn.datasets import ToyDataset

TARGET = 0.97


class GatedField(nn.Module):
    def __init__(self, dim=2, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.Tanh(), nn.Linear(hidden, dim))
        self.gate = nn.Linear(dim, dim)
        self.damping = nn.Parameter(jdyn.tensor([-3.0] * dim))

    def forward(self, t, x):
        tx = jdyn.cat([x, t * jdyn.ones_like(x[:, :1])], dim=1)      # depth as an input (torchdyn's DepthCat)
        return self.net(tx) * (2 * jdyn.sigmoid(self.gate(x))) - jdyn.softplus(self.damping) * x


def main(argv):
    max_epochs = int(argv[1]) if len(argv) > 1 else 300
    X, yn = ToyDataset().generate(n_samples=512, noise=1e-1, dataset_type="moons")
    f = GatedField()
    model = NeuralODE(f, sensitivity="adjoint", solver="dopri5", dim=2)
    print(model)
    print("parameters:", ", ".join("%s %s" % (n, tuple(p.shape)) for n, p in f.named_parameters()))
    opt = jdyn.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.time()
    acc, epoch = 0.0, 0
    for epoch in range(1, max_epochs + 1):
        opt.zero_grad()
        y_hat = model(X)
        loss = loss_fn(y_hat, yn)
        loss.backward()
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
    print("trained %d epochs in %.2f s; damping %s" % (epoch, seconds, f.damping.tolist()))
    print("accuracy=%.4f epochs=%d nfe=%d" % (final, epoch, model.nfe))
    return 0 if final >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
