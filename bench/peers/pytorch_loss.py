"""PyTorch peer of bench/loss.bench.ts."""
import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    pred = torch.randn(p["shape"])
    target = torch.randn(p["shape"])
    if p["pass"] == "forward":
        return lambda: F.l1_loss(pred, target)
    pred.requires_grad_(True)
    y = F.l1_loss(pred, target)
    return lambda: torch.autograd.grad(y, pred, retain_graph=True)


run(build)
