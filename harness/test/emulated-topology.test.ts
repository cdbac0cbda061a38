// The emulated host's topologies as data: validation, the kernel parameters they become, and the
// huge page capacity the runtime cases rely on when they run side by side.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTopology, kernelParams, loadTopology, type Topology } from '../emulated/topology.js';
import { RUNTIME_JOBS } from '../emulated/capacity.js';
import { projectRoot } from '../emulated/topology.js';

const small = (hugepages?: Record<string, number>): Topology => ({
  name: 'x', why: '', kernel: '6.12', distances: [[10]], nodes: [{ id: 0, memMiB: 256, cpus: [0], ...(hugepages ? { hugepages } : {}) }],
});

t.test('huge page reservations become one kernel parameter, per node and size', async (t) => {
  t.same(kernelParams(small()), [], 'none reserved: no parameter');
  t.same(kernelParams(small({ 2048: 0 })), [], 'a zero count is no reservation');
  t.same(kernelParams(small({ 2048: 16 })), ['lvh.hugepages=0:2048:16']);
  t.same(kernelParams(loadTopology('mock8')), [`lvh.hugepages=${[0, 1, 2, 3, 4, 5, 6, 7].map((n) => `${n}:2048:${n < 2 ? 32 : 64}`).join(',')}`]);
});

t.test('bad reservations are refused with the node named', async (t) => {
  t.throws(() => checkTopology(small({ 2048: -1 })), /node 0 hugepages wants/);
  t.throws(() => checkTopology(small({ '2M': 4 })), /node 0 hugepages wants 'SIZE_KIB': COUNT, not '2M'/);
  t.throws(() => checkTopology(small({ 2048: 1.5 })), /node 0 hugepages wants/);
  t.throws(() => checkTopology(small({ 2048: 100 })), /node 0 reserves 200 MiB of huge pages, more than half its 256 MiB/);
  t.doesNotThrow(() => checkTopology(small({ 2048: 64 })));
});

// Huge page pools are per node and shared by every guest: when one guest takes a node's pool, a
// bind or restrictive guest beside it fails to start and an interleave one falls back to other
// nodes (seen: 3 pages of an interleave 1,3 guest on node 0 while two 64 MiB guests took node
// 1's pool). So every huge-page case must fit with RUNTIME_JOBS of them drawing on one node.
t.test('the huge-page runtime cases fit in any one node\'s pool, RUNTIME_JOBS at once', async (t) => {
  const mock8 = loadTopology('mock8');
  const pool = Math.min(...mock8.nodes.map((n) => ((n.hugepages?.['2048'] ?? 0) * 2048) / 1024));
  const dir = join(projectRoot(), 'cases', 'emulated');
  const huge = readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => [f, readFileSync(join(dir, f), 'utf8')] as const)
    .filter(([, x]) => /<hugepages|<pagesize/.test(x));
  t.ok(huge.length >= 5, `${huge.length} huge-page cases`);
  for (const [f, x] of huge) {
    const mem = /<memory unit='MiB'>(\d+)<\/memory>/.exec(x);
    t.ok(mem, `${f}: <memory unit='MiB'> (the check reads MiB only)`);
    const mib = Number(mem?.[1] ?? Infinity);
    t.ok(RUNTIME_JOBS * mib <= pool, `${f}: ${RUNTIME_JOBS} x ${mib} MiB <= ${pool} MiB of 2 MiB pages per node`);
  }
});
