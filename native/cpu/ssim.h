// SSIM statistics for the metric (lib/metrics/ssim.ts, docs/model.md §4): 11×11 Gaussian window (σ 1.5),
// valid region only, C1 = (0.01·255)², C2 = (0.03·255)², in float64. The window is separable, so
// each strip of output rows runs an 11-tap horizontal pass over its input rows, then a vertical one.
// A metric, not a loss: there is no backward.
#pragma once
#include <cstdint>
#include <vector>

namespace mpf::cpu {

// Mean of the SSIM map of each of `channels` planes (H×W, planar) of a against b.
std::vector<double> ssim_channel_means(const double* a, const double* b, int64_t channels, int64_t height, int64_t width);

}  // namespace mpf::cpu
