#include "common/cpu_features.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace mpf {
namespace {

Simd detect() {
#if defined(MPF_X86)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma"))
    return Simd::AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Simd::AVX2;
#endif
  return Simd::Scalar;
}

Simd from_env(Simd hw) {
  const char* env = std::getenv("MPFNET_SIMD");
  if (!env) return hw;
  Simd want = hw;
  if (!std::strcmp(env, "scalar")) want = Simd::Scalar;
  else if (!std::strcmp(env, "avx2")) want = Simd::AVX2;
  else if (!std::strcmp(env, "avx512")) want = Simd::AVX512;
  return Simd(std::min(int(want), int(hw)));
}

Simd& level() {
  static Simd s = from_env(detect());
  return s;
}

}  // namespace

Simd simd_level() { return level(); }
void set_simd_level(Simd cap) { level() = Simd(std::min(int(cap), int(detect()))); }
const char* simd_name(Simd s) {
  switch (s) {
    case Simd::AVX512: return "avx512";
    case Simd::AVX2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace mpf
