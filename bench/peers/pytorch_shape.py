"""PyTorch peer of bench/shape.bench.ts."""
import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    n, c, h, w = p["shape"]
    op = p["op"]
    if op == "cat":
        a, b = torch.randn(n, c, h, w), torch.randn(n, c, h, w)
        return lambda: torch.cat([a, b], 1)
    if op == "split":
        x = torch.randn(n, 2 * c, h, w)
        # torch.split returns views; the clones make it move the same bytes as ours.
        return lambda: [t.clone() for t in torch.split(x, [c, c], 1)]
    if op == "pixelShuffle":
        x = torch.randn(n, 4 * c, h, w)
        return lambda: F.pixel_shuffle(x, 2)
    y = torch.randn(n, c, 2 * h, 2 * w)
    return lambda: F.pixel_unshuffle(y, 2)


run(build)
