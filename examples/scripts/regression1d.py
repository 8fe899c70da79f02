"""The 1-D regression of seed 001 ("Neural ODEs from scratch", chapter 3 of the NeurIPS 2020 tutorial) in
Python on GraalPy:  ./jdyn run examples/scripts/regression1d.py [iterations]

inputs linspace(-2, 2, 10), targets x^3 + 0.1 x; the ODE net dz/dt = f([z, t]) with
f = DepthCat - Linear(2, 20) - Tanh - Linear(20, 1) over [0, 1] (dopri5, adjoint, tolerances 1e-7,
float64), every weight and bias drawn from N(0, 1) as the chapter does, plain gradient descent with step
0.01 on the mean squared error. Prints the MSE before and after; exits 1 unless it falls below 0.5 and at
least tenfold (the Java example's bar)."""
import random
import sys

import jdyn
from jdyn import NeuralODE, nn


def main(argv):
    iters = int(argv[1]) if len(argv) > 1 else 1000
    x = jdyn.linspace(-2.0, 2.0, 10, dtype=jdyn.float64).unsqueeze(1)     # [10, 1]
    y = x ** 3 + 0.1 * x
    f = nn.Sequential(nn.DepthCat(), nn.Linear(2, 20), nn.Tanh(), nn.Linear(20, 1))
    model = NeuralODE(f, solver="dopri5", sensitivity="adjoint", atol=1e-7, rtol=1e-7, dtype="float64")
    # the chapter's initialisation: N(0, 1) for every weight and bias
    rng = random.Random(0)
    p = model.java.parameters()
    for layer in range(p.numLayers()):
        n = p.count(layer)
        if n > 0:
            p.setLayerValues(layer, [rng.gauss(0.0, 1.0) for _ in range(n)])
    opt = jdyn.optim.SGD(model.parameters(), lr=0.01)
    mse = nn.MSELoss()
    first = last = None
    for it in range(iters + 1):
        opt.zero_grad()
        loss = mse(model(x), y)
        last = loss.item()
        if first is None:
            first = last
        if it == iters:
            break                      # the last pass only measures
        loss.backward()
        opt.step()
        if it % 200 == 0:
            print("iteration %4d  mse %.4f" % (it, last))
    print("mse_initial=%.4f mse_final=%.4f iterations=%d" % (first, last, iters))
    return 0 if last < 0.5 and last < first / 10 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
