"""PyTorch peer of bench/unary.bench.ts."""
import torch
import torch.nn.functional as F

from peer_common import run

FWD = {
    "selu": F.selu,
    "sigmoid": torch.sigmoid,
    "leakyRelu": lambda x: F.leaky_relu(x, 0.1),
}


def build(p):
    x = torch.randn(p["shape"])
    f = FWD[p["op"]]
    if p["pass"] == "forward":
        return lambda: f(x)
    xg = x.clone().requires_grad_(True)
    y = f(xg)
    gy = torch.randn_like(y)
    return lambda: torch.autograd.grad(y, xg, gy, retain_graph=True)


run(build)
