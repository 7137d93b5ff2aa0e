#!/usr/bin/env python3
"""Read mpfnet's TensorBoard event files with TensorBoard's own reader and summarise them.

TensorBoard's record reader checks both masked CRC-32Cs of every record; its EventAccumulator
then decodes the Event protos and migrates simple_value scalars and Summary.Image images to the
scalars / images plugins, exactly as `tensorboard --logdir` does.

Usage:
  python3 tools/check_tensorboard.py LOGDIR [--tensorboard-src DIR] [--expect-scalar TAG ...]
                                            [--expect-image TAG ...]

The `tensorboard` package is used when it is importable. Debian has none, so --tensorboard-src may
name a checkout of github.com/tensorflow/tensorboard whose .proto files were compiled in place:
  protoc --python_out=DIR $(cd DIR && find tensorboard -name '*.proto')   (run inside DIR)
Needs python3-protobuf and python3-numpy. Exits 0 when every expected tag is there, 1 otherwise,
2 when TensorBoard cannot be imported.
"""
import argparse
import struct
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logdir")
    ap.add_argument("--tensorboard-src", help="a tensorboard source checkout with compiled protos")
    ap.add_argument("--expect-scalar", action="append", default=[], help="a scalar tag that must be present")
    ap.add_argument("--expect-image", action="append", default=[], help="an image tag that must be present")
    a = ap.parse_args()
    if a.tensorboard_src:
        sys.path.insert(0, a.tensorboard_src)
    try:
        from tensorboard.backend.event_processing import event_accumulator as ea
    except ImportError as e:
        print(f"check_tensorboard: cannot import tensorboard ({e}); pass --tensorboard-src", file=sys.stderr)
        return 2

    # First every record of every file through TensorBoard's record reader, which raises on a CRC
    # mismatch or a cut record (the accumulator below only logs those and stops reading the file).
    import glob
    import os
    from tensorboard.backend.event_processing import event_file_loader as efl
    from tensorboard.compat.proto import event_pb2

    ok = True
    files = sorted(glob.glob(os.path.join(a.logdir, "*tfevents*")))
    if not files:
        print(f"check_tensorboard: no event files in {a.logdir}", file=sys.stderr)
        return 1
    for path in files:
        n = 0
        try:
            for record in efl._make_tf_record_iterator(path):
                event_pb2.Event.FromString(record)
                n += 1
        except Exception as e:  # DataLossError from the reader, DecodeError from protobuf
            print(f"check_tensorboard: {path}: record {n + 1}: {e}", file=sys.stderr)
            ok = False
        print(f"{os.path.basename(path)}: {n} records, CRCs checked")

    acc = ea.EventAccumulator(a.logdir, size_guidance={ea.SCALARS: 0, ea.IMAGES: 0})
    acc.Reload()
    tags = acc.Tags()
    print(f"{a.logdir}: file version {acc.file_version}")
    for tag in sorted(tags["scalars"]):
        ev = acc.Scalars(tag)
        print(f"  scalar {tag}: {len(ev)} points, steps {ev[0].step}..{ev[-1].step}, last {ev[-1].value:.6g}")
    for tag in sorted(tags["images"]):
        ev = acc.Images(tag)
        last = ev[-1]
        png = last.encoded_image_string
        if png[:8] != b"\x89PNG\r\n\x1a\n":
            print(f"  image {tag}: not a PNG", file=sys.stderr)
            ok = False
            continue
        # The IHDR chunk holds the size; it must agree with the Summary.Image fields.
        w, h = struct.unpack(">II", png[16:24])
        same = (w, h) == (last.width, last.height)
        ok &= same
        print(f"  image {tag}: {len(ev)} images, steps {ev[0].step}..{ev[-1].step}, {w}x{h} PNG{'' if same else ' (header says ' + str((last.width, last.height)) + ')'}")
    for tag in a.expect_scalar:
        if tag not in tags["scalars"]:
            print(f"check_tensorboard: scalar '{tag}' is missing", file=sys.stderr)
            ok = False
    for tag in a.expect_image:
        if tag not in tags["images"]:
            print(f"check_tensorboard: image '{tag}' is missing", file=sys.stderr)
            ok = False
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
