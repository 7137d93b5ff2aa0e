"""PyTorch peer of bench/pool.bench.ts."""
import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    x = torch.randn(p["shape"])
    k, s, pad = p["k"], p["s"], p["p"]
    if p["pass"] == "forward":
        return lambda: F.avg_pool2d(x, k, s, pad)
    x.requires_grad_(True)
    y = F.avg_pool2d(x, k, s, pad)
    gy = torch.randn_like(y)
    return lambda: torch.autograd.grad(y, x, gy, retain_graph=True)


run(build)
