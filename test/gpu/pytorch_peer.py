"""PyTorch peer of the GPU check (test/gpu/check.mjs): the same MPF-Net (test/fixtures/gen_mpfnet.py's
definition) on the same GPU, timed like check.mjs times ours: the default model's training step
(zero_grad, forward, L1, backward, Adam) and inference, TF32 off, with cudnn.benchmark off (PyTorch's
default, "eager") and on. Reads {"iters", "warmup", "batch", "size", "inferSize", "scale"} on stdin,
prints JSON on stdout ("tf32": true allows TF32 on both sides).
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from gen_mpfnet import MPFNet  # noqa: E402


def timed(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ms = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ms.append((time.perf_counter() - t0) * 1000)
    return {"median": statistics.median(ms), "min": min(ms), "mean": statistics.fmean(ms), "samples": len(ms)}


def workload(req, dev):
    """The model (seeded), one training step (zero_grad, forward, L1, backward, Adam) at batch x size²,
    and one inference pass on a 1 x inferSize² input, as check.mjs runs ours."""
    torch.manual_seed(1)
    model = MPFNet(scale=req["scale"]).to(dev)
    b, s, r = req["batch"], req["size"], req["scale"]
    x = torch.rand(b, 3, s, s, device=dev)
    y = torch.rand(b, 3, r * s, r * s, device=dev)
    xi = torch.rand(1, 3, req["inferSize"], req["inferSize"], device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        F.l1_loss(model(x), y).backward()
        opt.step()

    def infer():
        with torch.no_grad():
            model(xi)

    return model, step, infer


def graph_infer(model, req):
    """The inference pass replayed as a CUDA graph (torch.cuda.CUDAGraph), input copy included: the
    peer of check.mjs's CudaGraph timing. {error} when capture fails."""
    try:
        dev = torch.device("cuda")
        xi = torch.rand(1, 3, req["inferSize"], req["inferSize"], device=dev)
        static_x = xi.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), torch.no_grad():
            for _ in range(3):
                model(static_x)
        torch.cuda.current_stream().wait_stream(side)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g), torch.no_grad():
            model(static_x)

        def replay():
            static_x.copy_(xi)
            g.replay()

        return timed(replay, req["iters"], req["warmup"])
    except Exception as e:  # noqa: BLE001 - reported, not fatal
        return {"error": str(e)}


def run(req, benchmark):
    torch.backends.cudnn.benchmark = benchmark
    model, step, infer = workload(req, torch.device("cuda"))
    out = {"train": timed(step, req["iters"], req["warmup"])}
    model.eval()
    out["infer"] = timed(infer, req["iters"], req["warmup"])
    out["inferGraph"] = graph_infer(model, req)
    out["peakBytes"] = torch.cuda.max_memory_allocated()
    del model, step, infer
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return out


def device_us(e):
    """An event's own device time in µs (the attribute's name changed in PyTorch 2.4)."""
    for a in ("self_device_time_total", "self_cuda_time_total"):
        v = getattr(e, a, None)
        if v is not None:
            return v
    return 0


def profile(req):
    """The CUDA kernels of a few training steps and inference passes (cudnn.benchmark off), by
    total time per step: where PyTorch's time goes, to set beside check.mjs --profile."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    model, step, infer = workload(req, torch.device("cuda"))
    out = {}
    for name, fn, train in (("train", step, True), ("infer", infer, False)):
        model.train(train)
        for _ in range(req["warmup"]):
            fn()
        torch.cuda.synchronize()
        with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(req["iters"]):
                fn()
            torch.cuda.synchronize()
        # Only CUDA activity is recorded, so the events are kernels, copies and memsets.
        rows = [(e.key, e.count, device_us(e)) for e in prof.key_averages()]
        rows = sorted((r for r in rows if r[2] > 0), key=lambda r: -r[2])
        total = sum(r[2] for r in rows)
        out[name] = [{"name": k, "calls": c / req["iters"], "ms": us / 1000 / req["iters"]} for k, c, us in rows[:30]]
        out[name + "KernelMsPerStep"] = total / 1000 / req["iters"]
    return out


def main():
    req = json.load(sys.stdin)
    if req.get("profile"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        print(json.dumps(profile(req)))
        return
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is False", "version": torch.__version__}))
        return
    # The same precision as ours: full fp32 (no TF32) in convolutions and matrix products, unless
    # check.mjs --tf32 asks both sides to allow TF32.
    tf32 = bool(req.get("tf32"))
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    res = {
        "version": torch.__version__,
        "device": torch.cuda.get_device_name(0),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "tf32": tf32,
        "eager": run(req, False),
        "benchmark": run(req, True),
    }
    print(json.dumps(res))


if __name__ == "__main__":
    main()
