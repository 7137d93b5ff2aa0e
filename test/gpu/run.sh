#!/usr/bin/env bash
# The GPU check from the self-contained bundle (test/gpu/make-bundle.sh), for a machine with an
# NVIDIA GPU, the CUDA toolkit, cuDNN, CMake, a C++ compiler and PyTorch, but no Node.js and no
# network:
#   tar xzf mpfnet-gpu-check.tar.gz && bash mpfnet-gpu-check/test/gpu/run.sh
# It unpacks the bundled node, builds the addon and the CUDA plugin with plain cmake, runs
# test/gpu/check.mjs and leaves the JSON report in bench/results/gpu-<card>.json (and in $OUT when
# that is set, with the build log). Arguments go to check.mjs (e.g. --no-bench, --quick,
# --allow-no-cuda for a dry run on a machine without a GPU). Environment: MPFNET_CUDA_ARCHS
# (default: the GPU's own, from nvidia-smi), CUDNN_ROOT / CUDNN_PATH, PYTHON (the Python with PyTorch:
# the PyTorch peer and where cuDNN is found; default: the first python3 on PATH or in /opt/*/.venv that
# imports torch), MPFNET_CUDNN=OFF (test without cuDNN), MPFNET_CUDA_SYNC (default 1 here: errors
# checked after every op), JOBS (build parallelism).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
log_dir=${OUT:-$root/bench/results/tmp}
mkdir -p "$log_dir"

step() { printf '\n== %s\n' "$*"; }

# 1. Node: the bundled binary (xz-compressed; Python's lzma unpacks it where xz is missing).
node_bin=$root/.node/bin/node
if [ ! -x "$node_bin" ]; then
  step "unpacking node"
  mkdir -p "$root/.node/bin"
  if command -v xz >/dev/null; then
    xz -dc "$root/node.xz" >"$node_bin.tmp"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$root/node.xz" "$node_bin.tmp"
  fi
  chmod +x "$node_bin.tmp"
  mv "$node_bin.tmp" "$node_bin"
fi
export PATH=$root/.node/bin:$PATH
node --version

# 2a. PyTorch's Python and its pip-installed NVIDIA libraries. GPU images often keep PyTorch in a venv
# that is not activated (e.g. /opt/torch/.venv): without it CMake would not find cuDNN and the check
# would quietly measure the own convolution kernels. PYTHON or CUDNN_ROOT override the search.
if [ -z "${PYTHON:-}" ]; then
  for py in python3 /opt/*/.venv/bin/python3 /opt/*/venv/bin/python3 /opt/venv/bin/python3 /opt/conda/bin/python3 \
            "$HOME"/.venv/bin/python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import torch' >/dev/null 2>&1; then PYTHON=$(command -v "$py"); break; fi
  done
fi
export PYTHON=${PYTHON:-python3}
echo "python with PyTorch: $PYTHON"
# cuDNN dlopens cuBLASLt (and its own sub-libraries) at run time: put every nvidia/*/lib folder of
# that environment on the loader path, not just the one the plugin was linked against.
nv_libs=$("$PYTHON" -c 'import glob, site, sys; print(":".join(sorted({d for p in site.getsitepackages() + sys.path for d in glob.glob(p + "/nvidia/*/lib")})))' 2>/dev/null || true)
if [ -n "$nv_libs" ]; then export LD_LIBRARY_PATH="$nv_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; echo "nvidia libraries: $nv_libs"; fi
# cuDNN is expected on a GPU machine: not finding it stops the build (MPFNET_CUDNN=OFF to test without).
if [ "${MPFNET_CUDNN:-ON}" != "OFF" ]; then export MPFNET_REQUIRE_CUDNN=ON; fi
# The first run on a card checks errors after every op, so one illegal address names its op instead
# of poisoning every later case (MPFNET_CUDA_SYNC=0 for the timings of a known-good build).
export MPFNET_CUDA_SYNC=${MPFNET_CUDA_SYNC:-1}

# 2. Build: the CPU addon and the CUDA plugin, as cmake-js would, with the Node-API headers from
# the bundled node_modules. The plugin is compiled for this GPU only (fast) unless told otherwise.
if [ -z "${MPFNET_CUDA_ARCHS:-}" ] && command -v nvidia-smi >/dev/null; then
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .' || true)
  if [ -n "$cc" ]; then export MPFNET_CUDA_ARCHS="${cc}-real"; fi
fi
step "building (CUDA architectures: ${MPFNET_CUDA_ARCHS:-default})"
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
build=$root/build
start=$(date +%s)
{
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_JS_INC="$root/node_modules/node-api-headers/include" \
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$build/Release"
  cmake --build "$build" --parallel "${JOBS:-$(nproc)}"
} 2>&1 | tee "$log_dir/gpu-build.log"
echo "build took $(( $(date +%s) - start )) s; outputs:"
ls -la "$build/Release"
# A CUDA plugin that was not built (an nvcc that rejects this g++, a missing runtime library) must stop
# the check here: the rest would only test the CPU addon.
if [ ! -f "$build/Release/mpfnet_cuda.so" ] && [ "${MPFNET_CUDA:-ON}" != "OFF" ]; then
  echo "ERROR: the CUDA plugin was not built; see the 'mpfnet:' lines of $log_dir/gpu-build.log" >&2
  grep 'mpfnet:' "$log_dir/gpu-build.log" >&2 || true
  exit 3
fi

# 3. The check.
step "running test/gpu/check.mjs"
out_args=()
if [ -n "${OUT:-}" ]; then out_args=(--out "$OUT"); fi
export MPFNET_ADDON=$build/Release/mpfnet.node
export MPFNET_DIST=$root/dist
set +e
node "$root/test/gpu/check.mjs" "${out_args[@]}" "$@" 2>&1 | tee "$log_dir/gpu-check.log"
status=${PIPESTATUS[0]}
set -e
echo "check exited with $status; reports in $root/bench/results/${OUT:+ and $OUT}"
exit "$status"
