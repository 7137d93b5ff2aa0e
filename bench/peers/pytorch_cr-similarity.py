"""PyTorch peer of bench/cr-similarity.bench.ts: PCL's similarity (F.normalize along channels,
product summed over channels, mean over H x W) of samples against gathered anchors; backward
through autograd to the anchors."""
import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    n, m, c, hw = p["n"], p["m"], p["c"], p["hw"]
    a = torch.randn(n, c, hw, hw)
    b = torch.randn(m, c, hw, hw)
    index = torch.arange(m) % n

    def sim(x):
        return (F.normalize(x[index], dim=1) * F.normalize(b, dim=1)).sum(1).mean((1, 2))

    if p["pass"] == "forward":
        return lambda: sim(a)
    ag = a.clone().requires_grad_(True)
    gs = torch.randn(m)

    def step():
        s = sim(ag)
        return torch.autograd.grad(s, ag, gs)

    return step


run(build)
