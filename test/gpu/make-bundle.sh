#!/usr/bin/env bash
# Packs everything the GPU check needs into one tarball (at most 64 MiB) for a machine without
# Node.js and without network: the node binary running this script (xz-compressed), the compiled
# library (dist/), the native sources and CMake files, the few node_modules the build reads
# (node-addon-api and node-api-headers: headers only; node-gyp-build for the loader), the check,
# its PyTorch peer and the PyTorch model definition.
#   bash test/gpu/make-bundle.sh [output.tar.gz]     (default: ./mpfnet-gpu-check.tar.gz)
# Then, on the GPU machine: tar xzf mpfnet-gpu-check.tar.gz && bash mpfnet-gpu-check/test/gpu/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(realpath -m "${1:-$PWD/mpfnet-gpu-check.tar.gz}")
limit=$((64 * 1024 * 1024))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/mpfnet-gpu-check
mkdir -p "$stage/node_modules" "$stage/test/gpu" "$stage/test/fixtures" "$stage/bench/results"
cd "$root"

node_bin=$(readlink -f "$(command -v node)")
echo "node: $node_bin ($(node --version)), compressing"
xz -T0 -6 -c "$node_bin" >"$stage/node.xz"

echo "compiling the TypeScript library"
npx tsc -p tsconfig.json --outDir "$stage/dist" --sourceMap false --declaration false

echo "copying sources"
cp CMakeLists.txt package.json "$stage/"
tar -cf - --exclude='*.o' native | tar -xf - -C "$stage"
for m in node-addon-api node-api-headers node-gyp-build; do
  cp -r "node_modules/$m" "$stage/node_modules/$m"
done
cp test/gpu/check.mjs test/gpu/run.sh test/gpu/pytorch_peer.py test/gpu/README.md "$stage/test/gpu/"
cp test/fixtures/gen_mpfnet.py "$stage/test/fixtures/"
{
  echo "mpfnet GPU check bundle"
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "node: $(node --version)"
  echo "run: bash mpfnet-gpu-check/test/gpu/run.sh"
} >"$stage/BUNDLE.txt"

tar -C "$tmp" -czf "$out" mpfnet-gpu-check
size=$(stat -c %s "$out")
echo "bundle: $out ($((size / 1024 / 1024)) MiB, $size bytes)"
if [ "$size" -gt "$limit" ]; then
  echo "make-bundle: the bundle is over 64 MiB" >&2
  exit 1
fi
