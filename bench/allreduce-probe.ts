// Started by bench/distributed.bench.ts under `mpirun -np 2`: the time of the gradient all-reduce
// alone (6.22 M float32, the default ×4 model's parameters), each call after an allgather that
// lines the ranks up, so waiting for a slower rank is not counted. Rank 0 prints JSON.
import { processGroup } from '../lib/distributed/process-group.js';

const floats = Number(process.argv[2] ?? 6_220_000);
const reps = Number(process.argv[3] ?? 7);
const group = processGroup();
const data = Float32Array.from({ length: floats }, (_, i) => (i % 97) * 0.01);
const ms: number[] = [];
for (let r = 0; r < reps + 1; r++) {
  await group.allgather(new Uint8Array(1)); // line the ranks up
  const t0 = performance.now();
  await group.allreduceMean(data);
  if (r) ms.push(performance.now() - t0); // the first call sets up the transport
}
ms.sort((a, b) => a - b);
if (group.isRoot) console.log(JSON.stringify({ ranks: group.size, transport: group.transport, bytes: floats * 4, ms, medianMs: ms[ms.length >> 1] }));
