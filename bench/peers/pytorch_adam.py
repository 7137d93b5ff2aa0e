"""PyTorch peer of bench/adam.bench.ts (torch.optim.Adam / AdamW, default single-tensor path)."""
import torch

from peer_common import run


def build(p):
    param = torch.randn(p["shape"], requires_grad=True)
    param.grad = torch.randn(p["shape"])
    cls = torch.optim.AdamW if p["decoupled"] else torch.optim.Adam
    opt = cls([param], lr=1e-4, weight_decay=0.01 if p["decoupled"] else 0)
    return opt.step


run(build)
