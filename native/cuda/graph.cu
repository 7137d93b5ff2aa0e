// CUDA graphs: a captured run of the plugin's launches (one inference pass, say), replayed with one
// launch. Why: a 256x256 MPF-Net forward is about 660 calls, each costing the host tens to a
// hundred-odd microseconds (N-API, argument checks, cuDNN's legacy API), ~40 ms a pass, which the
// GPU waits for wherever its own work is shorter; a replay costs the host one launch. (On an H200
// at 256x256, where the GPU's 40 ms mostly hide the host's, it saved 1.3 of 41.9 ms.)
//
// The capture records on the plugin's one stream (relaxed mode, so the allocator may still
// cudaMalloc on a cache miss). Nothing may synchronise meanwhile: finish() skips MPFNET_CUDA_SYNC's
// wait while capturing, and an op that must wait (a copy to the host) makes the capture fail,
// which graph_end reports. The allocator keeps every block the capture touched for the graph
// (allocator.cu), since replays write to those addresses.
// The stream and the allocator are the process's, so a capture records whatever any thread queues
// meanwhile: capture while no other thread uses CUDA.
#include <map>
#include <mutex>

#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

struct Graph {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
};

std::mutex g_mu;
std::map<int64_t, Graph> g_graphs;
int64_t g_next = 1;
int64_t g_capturing = 0;  // the id being captured, or 0

std::string error_text(cudaError_t e) { return str(cudaGetErrorString(e), " (", cudaGetErrorName(e), ")"); }

}  // namespace

bool capturing() { return g_capturing != 0; }

MpfErr graph_begin() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_capturing) return fail("cudaGraphBegin: a capture is already under way (end it first)");
  const int64_t id = g_next++;
  allocator_capture(id);
  const cudaError_t e = cudaStreamBeginCapture(stream(), cudaStreamCaptureModeRelaxed);
  if (e != cudaSuccess) {
    cudaGetLastError();
    allocator_capture(0);
    allocator_release_graph(id);
    return fail(str("cudaGraphBegin: the capture could not start: ", error_text(e)));
  }
  g_capturing = id;
  return nullptr;
}

MpfErr graph_end(int64_t* id) {
  *id = 0;
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_capturing) return fail("cudaGraphEnd: no capture is under way");
  const int64_t gid = g_capturing;
  g_capturing = 0;
  allocator_capture(0);
  Graph g;
  cudaError_t e = cudaStreamEndCapture(stream(), &g.graph);
  if (e == cudaSuccess) e = cudaGraphInstantiate(&g.exec, g.graph, 0);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (g.graph) cudaGraphDestroy(g.graph);
    allocator_release_graph(gid);
    return fail(str("cudaGraphEnd: the capture failed: ", error_text(e),
                    "; an op in it waited for the GPU or copied to the host, which a graph cannot record"));
  }
  g_graphs[gid] = g;
  *id = gid;
  return nullptr;
}

MpfErr graph_launch(int64_t id) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_graphs.find(id);
  if (it == g_graphs.end()) return fail(str("cudaGraphLaunch: no graph ", id, " (destroyed already?)"));
  if (g_capturing) return fail("cudaGraphLaunch: a capture is under way");
  return guard([&] { check(cudaGraphLaunch(it->second.exec, stream()), "cudaGraphLaunch"); });
}

MpfErr graph_destroy(int64_t id) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_graphs.find(id);
  if (it == g_graphs.end()) return nullptr;  // destroying twice is harmless
  // Wait for queued replays before the graph's blocks can be handed to other work.
  const cudaError_t e = cudaStreamSynchronize(stream());
  cudaGraphExecDestroy(it->second.exec);
  cudaGraphDestroy(it->second.graph);
  g_graphs.erase(it);
  allocator_release_graph(id);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return fail(str("cudaGraphDestroy: ", error_text(e)));
  }
  return nullptr;
}

}  // namespace mpf::cuda
