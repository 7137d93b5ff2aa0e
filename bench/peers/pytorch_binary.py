"""PyTorch peer of bench/binary.bench.ts."""
import torch

from peer_common import run

OPS = {"add": torch.add, "mul": torch.mul}


def build(p):
    f = OPS[p["op"]]
    a = torch.randn(p["a"])
    b = torch.randn(p["b"])
    if p["pass"] == "forward":
        return lambda: f(a, b)
    a.requires_grad_(True)
    b.requires_grad_(True)
    y = f(a, b)
    gy = torch.randn_like(y)
    return lambda: torch.autograd.grad(y, [a, b], gy, retain_graph=True)


run(build)
