"""PyTorch peer of bench/matmul.bench.ts (backward: both input gradients, as autograd computes them)."""
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
