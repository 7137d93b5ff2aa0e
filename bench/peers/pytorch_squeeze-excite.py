"""PyTorch peer of bench/squeeze-excite.bench.ts: PyTorch's own SE is the composite of ops (it has
no fused SE), so both our paths are compared with the same composite."""
from peer_common import run

import torch  # noqa: E402  (after peer_common: thread caps)
import torch.nn.functional as F  # noqa: E402


def build(p):
    n, c = p["shape"][0], p["shape"][1]
    h = p["hidden"]
    x = torch.randn(p["shape"], requires_grad=p["pass"] == "train")
    w = torch.randn(p["shape"])
    fc1, fc2 = torch.nn.Linear(c, h), torch.nn.Linear(h, c)

    def forward():
        s = torch.sigmoid(fc2(F.relu(fc1(x.mean(dim=(2, 3))))))
        return x * s.reshape(n, c, 1, 1)

    if p["pass"] == "forward":
        return forward
    params = [x, *fc1.parameters(), *fc2.parameters()]
    return lambda: torch.autograd.grad((forward() * w).sum(), params)


run(build)
