#!/usr/bin/env python3
"""Convert LPIPS weights to the safetensors layout lib/metrics/lpips.ts reads (docs/metrics.md).

mpfnet ships no LPIPS weights. Get them from their owners (LPIPS: BSD-2-Clause, github.com/richzhang/
PerceptualSimilarity; backbones: torchvision, BSD-3-Clause, ImageNet-trained) and convert:

  # the linear heads of the lpips package (lpips/weights/v0.1/alex.pth) + torchvision's backbone file
  python3 tools/lpips_to_safetensors.py --net alex --heads alex.pth --backbone alexnet-owt-7be5be79.pth -o lpips_alex.safetensors
  # or a whole lpips.LPIPS(...).state_dict() saved with torch.save (keys net.slice*.N.*, lin*.model.1.weight)
  python3 tools/lpips_to_safetensors.py --net vgg --lpips-state lpips_vgg_full.pth -o lpips_vgg.safetensors

Needs torch (to read .pth files). Output names: features.<i>.weight / .bias (torchvision indices),
lin<k>.weight (1, C, 1, 1); metadata lpips_net = alex | vgg.
"""
import argparse
import json
import os
import re
import struct

import torch

CONVS = {"alex": [0, 3, 6, 8, 10], "vgg": [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]}


def load(path):
    sd = torch.load(path, map_location="cpu")
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    return {k.replace("module.", "", 1) if k.startswith("module.") else k: v for k, v in sd.items()}


def collect(args):
    out = {}
    if args.lpips_state:
        for k, v in load(args.lpips_state).items():
            m = re.fullmatch(r"net\.slice\d+\.(\d+)\.(weight|bias)", k)
            if m:
                out[f"features.{m.group(1)}.{m.group(2)}"] = v
            m = re.fullmatch(r"lin(\d)\.model\.1\.weight", k)
            if m:
                out[f"lin{m.group(1)}.weight"] = v
    else:
        if not (args.heads and args.backbone):
            raise SystemExit("give --lpips-state, or both --heads and --backbone")
        for k, v in load(args.backbone).items():
            m = re.fullmatch(r"features\.(\d+)\.(weight|bias)", k)
            if m:
                out[k] = v
        for k, v in load(args.heads).items():
            m = re.fullmatch(r"lin(\d)\.model\.1\.weight", k)
            if m:
                out[f"lin{m.group(1)}.weight"] = v
    wanted = [f"features.{i}.{p}" for i in CONVS[args.net] for p in ("weight", "bias")] + [f"lin{k}.weight" for k in range(5)]
    missing = [k for k in wanted if k not in out]
    if missing:
        raise SystemExit(f"missing tensors for the {args.net} network: {', '.join(missing)}")
    return {k: out[k].detach().to(torch.float32).contiguous() for k in wanted}


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors.items():
        b = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--net", choices=["alex", "vgg"], required=True)
    ap.add_argument("--heads", help="LPIPS linear heads (.pth from the lpips package, weights/v0.1/<net>.pth)")
    ap.add_argument("--backbone", help="torchvision alexnet / vgg16 ImageNet weights (.pth)")
    ap.add_argument("--lpips-state", help="a complete lpips.LPIPS state_dict saved with torch.save")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    tensors = collect(args)
    write_safetensors(args.out, tensors, {"lpips_net": args.net, "lpips_version": "0.1"})
    print(f"wrote {args.out}: {len(tensors)} tensors, {sum(t.numel() for t in tensors.values()):,} parameters")


if __name__ == "__main__":
    main()
