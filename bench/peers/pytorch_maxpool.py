"""PyTorch peer of bench/maxpool.bench.ts (F.max_pool2d forward; backward through autograd)."""
import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    x = torch.randn(p["shape"])
    k, s = p["k"], p["s"]
    if p["pass"] == "forward":
        return lambda: F.max_pool2d(x, k, s)
    xg = x.clone().requires_grad_(True)
    y = F.max_pool2d(xg, k, s)
    gy = torch.randn_like(y)
    return lambda: torch.autograd.grad(y, xg, gy, retain_graph=True)


run(build)
