#!/bin/sh
# `npm run check:simd-neon`: cross-builds native/tools/check_simd.cc with the NEON instantiations
# (native/cpu/*_neon.cc) as a static aarch64 binary and runs it under qemu-aarch64, so the NEON
# vector type is checked against the portable one on any x86-64 machine.
# Needs the Debian packages g++-aarch64-linux-gnu and qemu-user (CI installs them by name).
set -eu
cd "$(dirname "$0")/../.."
CXX="${MPF_AARCH64_CXX:-aarch64-linux-gnu-g++}"
QEMU="${MPF_QEMU_AARCH64:-qemu-aarch64}"
for tool in "$CXX" "$QEMU"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check:simd-neon: '$tool' not found (Debian: apt-get install g++-aarch64-linux-gnu qemu-user)" >&2
    exit 1
  fi
done
out=build/neon-check
mkdir -p "$out"
# -static: qemu-user then needs no aarch64 sysroot. Same optimisation flags as CMakeLists.txt.
"$CXX" -std=c++17 -O3 -fno-math-errno -fno-trapping-math -Wall -Wextra -Wno-unused-parameter -static \
  -DMPF_NEON=1 -Inative \
  native/tools/check_simd.cc native/common/cpu_features.cc native/cpu/*_neon.cc \
  -o "$out/check_simd" -lpthread
"$QEMU" "$out/check_simd"
