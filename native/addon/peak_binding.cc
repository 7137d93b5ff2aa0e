// Binding of the machine-peak measurement (cpu/peak.cc): the reference benchmarks report their
// "% of fp32 peak" against (bench/peak.bench.ts writes bench/results/peak.json).
#include "addon/args.h"
#include "addon/registry.h"
#include "common/errors.h"
#include "cpu/peak.h"

namespace mpf {

// peakGflops(ms): runs the fp32 FMA loop (and the bf16 one where the CPU has AVX512_BF16) on every
// pool thread for about ms milliseconds each; returns { fp32, bf16 (null when absent), threads,
// isa }. Blocks the calling thread for up to 2 * ms: a benchmark tool, never called by the library.
MPF_BINDING(peakGflops) {
  Args a(info, "peakGflops");
  const double ms = a.number(0, "ms");
  if (!(ms > 0 && ms <= 10000)) throw_range("peakGflops: 'ms' must be in (0, 10000], got ", ms);
  const cpu::PeakResult r = cpu::peak_gflops(ms);
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("fp32", Napi::Number::New(env, r.fp32_gflops));
  out.Set("bf16", r.bf16_gflops > 0 ? Napi::Value(Napi::Number::New(env, r.bf16_gflops)) : env.Null());
  out.Set("threads", Napi::Number::New(env, r.threads));
  out.Set("isa", Napi::String::New(env, r.isa));
  return out;
}

}  // namespace mpf
