"""PyTorch peer of bench/upsample-tail.bench.ts: the chain conv3x3 -> pixel_shuffle -> conv3x3 without
the tape (PyTorch fuses none of it), for both of our paths."""
from peer_common import run

import torch  # noqa: E402  (after peer_common: thread caps)
import torch.nn.functional as F  # noqa: E402


def build(p):
    n, c, h, w = p["shape"]
    mid, r, o = p["mid"], p["r"], p["out"]
    x = torch.randn(n, c, h, w)
    wz, bz = torch.randn(mid * r * r, c, 3, 3) * 0.05, torch.randn(mid * r * r)
    wt, bt = torch.randn(o, mid, 3, 3) * 0.05, torch.randn(o)

    def forward():
        with torch.no_grad():
            return F.conv2d(F.pixel_shuffle(F.conv2d(x, wz, bz, padding=1), r), wt, bt, padding=1)

    return forward


run(build)
