"""PyTorch peer of bench/reduce.bench.ts."""
import torch

from peer_common import run


def build(p):
    x = torch.randn(p["shape"])
    op, pass_ = p["op"], p["pass"]
    if op == "mean" and pass_ == "forward":
        return lambda: x.mean((2, 3), keepdim=True)
    if op == "mean":
        xg = x.clone().requires_grad_(True)
        y = xg.mean((2, 3), keepdim=True)
        gy = torch.randn_like(y)
        return lambda: torch.autograd.grad(y, xg, gy, retain_graph=True)
    if op == "sum" and p["dims"] == "all":
        return lambda: x.sum()
    if op == "sum":
        return lambda: x.sum(p["dims"])
    return lambda: torch.logsumexp(x, p["dim"])


run(build)
