"""PyTorch peer of bench/distributed.bench.ts: the same MPF-Net (test/fixtures/gen_mpfnet.py),
training steps (zero_grad, forward, L1, backward, Adam) of a global batch on random 48x48 LR
patches, as 1 process x 2 threads and as DistributedDataParallel (gloo, loopback) 2 processes x
1 thread each taking half the batch; plus the time of one all_reduce of all gradients
(6.22 M float32) between the 2 processes.

Usage: python3 pytorch_distributed.py <batch> <iters>; prints JSON on stdout."""
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures"))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from gen_mpfnet import MPFNet  # noqa: E402

SIZE, SCALE = 48, 4


def steps(model, batch, iters, wrap=lambda m: m):
    torch.manual_seed(2)
    x = torch.rand(batch, 3, SIZE, SIZE)
    y = torch.rand(batch, 3, SCALE * SIZE, SCALE * SIZE)
    m = wrap(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    times = []
    for i in range(iters + 1):  # the first step warms up
        t0 = time.perf_counter()
        opt.zero_grad()
        F.l1_loss(m(x), y).backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    return times


def worker(rank, size, batch, iters, queue):
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = os.environ.get("MPFNET_PEER_PORT", "29533")
    dist.init_process_group("gloo", rank=rank, world_size=size)
    torch.manual_seed(1)
    model = MPFNet(scale=SCALE)
    times = steps(model, batch // size, iters, lambda m: torch.nn.parallel.DistributedDataParallel(m))
    flat = torch.rand(sum(p.numel() for p in model.parameters()))
    ar = []
    for i in range(4):
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(flat)
        if i:
            ar.append(time.perf_counter() - t0)
    if rank == 0:
        queue.put({"stepS": times, "allreduceS": ar, "allreduceBytes": flat.numel() * 4})
    dist.destroy_process_group()


def main():
    batch, iters = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(2)
    torch.manual_seed(1)
    single = steps(MPFNet(scale=SCALE), batch, iters)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(r, 2, batch, iters, queue)) for r in range(2)]
    for p in procs:
        p.start()
    ddp = queue.get(timeout=1800)
    for p in procs:
        p.join()
    med = statistics.median
    print(json.dumps({
        "version": torch.__version__,
        "single": {"processes": 1, "threads": 2, "itPerSec": 1 / med(single), "stepMs": [t * 1000 for t in single]},
        "ddp": {"processes": 2, "threads": 1, "itPerSec": 1 / med(ddp["stepS"]), "stepMs": [t * 1000 for t in ddp["stepS"]],
                "allreduceMs": med(ddp["allreduceS"]) * 1000, "allreduceBytes": ddp["allreduceBytes"]},
    }))


if __name__ == "__main__":
    main()
