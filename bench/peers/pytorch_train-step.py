"""PyTorch peer of bench/train-step.bench.ts: the same MPF-Net (test/fixtures/gen_mpfnet.py's
definition), one training step (zero_grad, forward, L1, backward, Adam) or an inference pass."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures"))
from peer_common import run  # noqa: E402  (first: it caps the thread pools before torch loads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from gen_mpfnet import MPFNet  # noqa: E402


def build(p):
    torch.manual_seed(1)
    model = MPFNet(scale=p["scale"])
    b, s, r = p["batch"], p["size"], p["scale"]
    x = torch.rand(b, 3, s, s)
    if p["mode"] == "infer":
        model.eval()
        return lambda: model(x)
    y = torch.rand(b, 3, r * s, r * s)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        F.l1_loss(model(x), y).backward()
        opt.step()

    return step


run(build)
