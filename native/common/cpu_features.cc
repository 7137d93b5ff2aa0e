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
#elif defined(MPF_NEON)
  return Simd::Neon;  // Advanced SIMD with FMA is part of every aarch64 CPU
#endif
  return Simd::Scalar;
}

// want, limited to what hw has: x86 levels are ordered; Neon and x86 levels do not mix (a request
// from the other family leaves hw as it is).
Simd cap(Simd want, Simd hw) {
  if (want == Simd::Scalar || hw == Simd::Scalar) return Simd::Scalar;
  const bool want_neon = want == Simd::Neon, hw_neon = hw == Simd::Neon;
  if (want_neon != hw_neon) return hw;
  return Simd(std::min(int(want), int(hw)));
}

Simd from_env(Simd hw) {
  const char* env = std::getenv("MPFNET_SIMD");
  if (!env) return hw;
  Simd want = hw;
  if (!std::strcmp(env, "scalar")) want = Simd::Scalar;
  else if (!std::strcmp(env, "avx2")) want = Simd::AVX2;
  else if (!std::strcmp(env, "avx512")) want = Simd::AVX512;
  else if (!std::strcmp(env, "neon")) want = Simd::Neon;
  return cap(want, hw);
}

Simd& level() {
  static Simd s = from_env(detect());
  return s;
}

}  // namespace

Simd simd_level() { return level(); }
void set_simd_level(Simd want) { level() = cap(want, detect()); }
const char* simd_name(Simd s) {
  switch (s) {
    case Simd::AVX512: return "avx512";
    case Simd::AVX2: return "avx2";
    case Simd::Neon: return "neon";
    default: return "scalar";
  }
}

}  // namespace mpf
