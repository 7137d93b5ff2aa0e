"""PyTorch peer of bench/cr-samples.bench.ts: each sample as a grouped conv2d of its source image
with its kernel (reflect padding), the blend D + f (x - D) (the kept border of the sharpened ones
from the source), Gaussian noise, clamp."""
import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    n, hw, K = p["n"], p["hw"], p["K"]
    x = torch.rand(n, 3, hw, hw)
    src = torch.tensor(p["source"])
    keep = p["keep"]
    f = torch.tensor(p["factor"], dtype=torch.float32).view(-1, 1, 1, 1)
    sigma = torch.tensor(p["sigma"], dtype=torch.float32).view(-1, 1, 1, 1)
    m = len(p["source"])
    k = torch.tensor(p["kernels"], dtype=torch.float32).view(m, 1, K, K).repeat_interleave(3, 0)
    r = K // 2

    def step():
        xs = x[src]
        d = F.conv2d(F.pad(xs.reshape(1, m * 3, hw, hw), (r, r, r, r), mode="reflect"), k, groups=m * 3).view(m, 3, hw, hw)
        if any(keep):
            d[:, :, :1, :] = xs[:, :, :1, :]
            d[:, :, -1:, :] = xs[:, :, -1:, :]
            d[:, :, :, :1] = xs[:, :, :, :1]
            d[:, :, :, -1:] = xs[:, :, :, -1:]
        y = d + f * (xs - d)
        if p["kind"] == "blur":
            y = y + sigma * torch.randn_like(y)
        return y.clamp_(0, 1)

    return step


run(build)
