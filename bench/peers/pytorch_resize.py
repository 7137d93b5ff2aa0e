"""PyTorch peer of bench/resize.bench.ts: F.interpolate bicubic with antialias (PyTorch's cubic uses
a = -0.75 and clamps at the borders instead of mirroring; the work per pixel is the same)."""
import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    x = torch.rand(p["shape"])
    s = p["scale"]
    f = lambda t: F.interpolate(t, scale_factor=s, mode="bicubic", align_corners=False, antialias=True)
    if p["pass"] == "forward":
        return lambda: f(x)
    xg = x.clone().requires_grad_(True)

    def step():
        y = f(xg)
        torch.autograd.grad(y, xg, y.detach())

    return step


run(build)
