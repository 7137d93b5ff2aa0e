"""Shared driver for the PyTorch peers of bench/<group>.bench.ts.

A peer script reads {"threads", "timeMs", "iterations", "cases": [{"name", "params"}]} on stdin,
(import this module before torch, so the thread caps below apply),
builds each case with build(params) -> a zero-argument callable, times it like our harness
(warm-up, then samples for timeMs and at least `iterations` runs), and prints
{"version", "results": [{"name", "ms": {min, median, mean, max, samples}}]} on stdout.
"""
import json
import os
import statistics
import sys
import time

# Thread caps before torch is imported (its OpenMP / MKL / OpenBLAS pools size themselves at load):
# the harness passes our thread count in MPFNET_PEER_THREADS, and every peer imports this module,
# so a peer that imports torch first still gets the caps through the harness's environment.
_threads = os.environ.get("MPFNET_PEER_THREADS")
if _threads:
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[_var] = _threads

import torch  # noqa: E402


def run(build):
    req = json.load(sys.stdin)
    torch.set_num_threads(int(req["threads"]))
    torch.set_flush_denormal(True)
    results = []
    for case in req["cases"]:
        fn = build(case["params"])
        with torch.no_grad() if case["params"].get("noGrad") else torch.enable_grad():
            for _ in range(2):
                fn()
            samples = []
            start = time.perf_counter()
            while len(samples) < req["iterations"] or (time.perf_counter() - start) * 1000 < req["timeMs"]:
                t0 = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - t0) * 1000)
        results.append({
            "name": case["name"],
            "ms": {
                "min": min(samples),
                "median": statistics.median(samples),
                "mean": statistics.fmean(samples),
                "max": max(samples),
                "samples": len(samples),
            },
            "samplesMs": samples,
        })
    json.dump({"version": torch.__version__, "results": results}, sys.stdout)
