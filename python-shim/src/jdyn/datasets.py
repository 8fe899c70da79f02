"""torchdyn's ToyDataset: moons, spirals, gaussians, gaussians_spiral, spheres (seeded, generated natively
in Java)."""
from ._java import jcall, jtype
from ._tensor import Tensor

_D = "io.jdyn.data.ToyDataset"


class ToyDataset:
    """``X, yn = ToyDataset().generate(n_samples=512, noise=1e-1, dataset_type='moons')``."""

    @jcall
    def generate(self, n_samples, dataset_type="moons", noise=None, dim=2, n_gaussians=None, radius=0.5,
                 std_gaussians=0.1, n_gaussians_per_loop=4, radius_start=4.0, radius_end=1.0,
                 std_gaussians_start=0.3, std_gaussians_end=0.1, inner_radius=0.5, outer_radius=1.0, seed=0,
                 dtype="float32"):
        """torchdyn's defaults: noise 0.1 for moons/spirals/spheres, 1e-3 for the gaussians."""
        T = jtype(_D)
        dt = jtype("io.jdyn.polyglot.Values").dtype(dtype)
        n = int(n_samples)
        gauss = dataset_type in ("gaussians", "gaussians_spiral")
        noise = float(noise if noise is not None else (1e-3 if gauss else 0.1))
        if dataset_type == "moons":
            d = T.moons(n, noise, int(seed), dt)
        elif dataset_type == "spirals":
            d = T.spirals(n, noise, int(seed), dt)
        elif dataset_type == "gaussians":
            d = T.gaussians(n, int(n_gaussians or 6), int(dim), float(radius), float(std_gaussians), noise, int(seed), dt)
        elif dataset_type == "gaussians_spiral":
            d = T.gaussiansSpiral(n, int(n_gaussians or 7), int(n_gaussians_per_loop), int(dim), float(radius_start),
                                  float(radius_end), float(std_gaussians_start), float(std_gaussians_end), noise,
                                  int(seed), dt)
        elif dataset_type == "spheres":
            d = T.spheres(n, noise, int(dim), float(inner_radius), float(outer_radius), int(seed), dt)
        elif dataset_type == "8gaussians":          # FFJORD's density (its own noise; labels: the centre)
            d = T.eightGaussians(n, int(seed), dt)
        else:
            raise ValueError("unknown dataset_type %r: moons, spirals, gaussians, gaussians_spiral, spheres or 8gaussians"
                             % (dataset_type,))
        return Tensor(d.x()), Tensor(ints=d.y())
