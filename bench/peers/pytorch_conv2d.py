"""PyTorch peer of bench/conv2d.bench.ts.

An input of several parts is convolved as F.conv2d(torch.cat(parts, 1), ...), what a PyTorch model
of MPF-Net does: the forward timing includes the cat. The backward passes call
aten::convolution_backward with one output mask each (input gradient or weight gradient), the same
call autograd makes, on the already concatenated input. The passes 'forward+selu' and
'forward,selu' (ours fused and unfused) both run F.selu(F.conv2d(...), inplace=True): PyTorch's CPU
convolution has no fused epilogue, and in place is the cheapest it offers. 'forward@fp32' (ours at
the 'fp32' inference precision) is PyTorch's one forward.
"""
import io
import json
import os
import sys

# PyTorch's BLAS here (OpenBLAS, used e.g. by 1x1 convolutions' gradients) starts its own threads
# when torch loads and ignores torch.set_num_threads: cap it at the requested count before then.
_request = sys.stdin.read()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(json.loads(_request)["threads"]))
os.environ.setdefault("OMP_NUM_THREADS", str(json.loads(_request)["threads"]))
sys.stdin = io.StringIO(_request)

import torch
import torch.nn.functional as F

from peer_common import run


def build(p):
    b, hw, k, d, pad = p["batch"], p["hw"], p["k"], p["dilation"], p["padding"]
    parts = [torch.randn(b, c, hw, hw) for c in p["parts"]]
    cin = sum(p["parts"])
    w = torch.randn(p["cout"], cin, k, k) * 0.05
    bias = torch.randn(p["cout"])
    if p["pass"] in ("forward", "forward@fp32"):
        if len(parts) == 1:
            x = parts[0]
            return lambda: F.conv2d(x, w, bias, padding=pad, dilation=d)
        return lambda: F.conv2d(torch.cat(parts, 1), w, bias, padding=pad, dilation=d)
    if p["pass"] in ("forward+selu", "forward,selu"):
        cat = (lambda: parts[0]) if len(parts) == 1 else (lambda: torch.cat(parts, 1))
        return lambda: F.selu(F.conv2d(cat(), w, bias, padding=pad, dilation=d), inplace=True)
    x = parts[0] if len(parts) == 1 else torch.cat(parts, 1)
    gy = torch.randn(b, p["cout"], hw, hw)
    mask = [True, False, False] if p["pass"] == "backward-data" else [False, True, False]
    return lambda: torch.ops.aten.convolution_backward(gy, x, w, [p["cout"]], [1, 1], [pad, pad], [d, d], False, [0, 0], 1, mask)


run(build)
