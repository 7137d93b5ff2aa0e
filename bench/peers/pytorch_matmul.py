"""PyTorch peer of bench/matmul.bench.ts (backward: both input gradients, as autograd computes them)."""
import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    if p["op"] == "matmul":
        a, b = torch.randn(p["m"], p["k"]), torch.randn(p["k"], p["n"])
        if p["pass"] == "forward":
            return lambda: torch.mm(a, b)
        gc = torch.randn(p["m"], p["n"])
        return lambda: (torch.mm(gc, b.t()), torch.mm(a.t(), gc))
    x, w, bias = torch.randn(p["rows"], p["in"]), torch.randn(p["out"], p["in"]), torch.randn(p["out"])
    if p["pass"] == "forward":
        return lambda: F.linear(x, w, bias)
    gy = torch.randn(p["rows"], p["out"])
    return lambda: (torch.mm(gy, w), torch.mm(gy.t(), x), gy.sum(0))


run(build)
