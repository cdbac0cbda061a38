// Topologies of the emulated host are data (topologies/NAME.json); this module validates one and
// turns it into QEMU flags. Keeping the numbers out of code lets cases and the README cite them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TopologyNode {
  id: number; memMiB: number; cpus?: number[]; initiator?: number; tier?: string;
  /** Huge pages reserved on this node at boot: page size in KiB -> count (guest/init.sh). */
  hugepages?: Record<string, number>;
}
export interface HmatEntry { initiator: number; target: number; latencyNs: number; bandwidth: string }
export interface Topology {
  name: string;
  why: string;
  /** Kernel the topology is meant for (a key of the image manifest's kernels). */
  kernel: string;
  nodes: TopologyNode[];
  distances: number[][];
  hmat?: HmatEntry[];
}

// The JSON files live in the source tree (dist/ has none): from dist/emulated/ or
// harness/emulated/ alike, the project root is two levels up.
export function projectRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}
function topologyDir(): string {
  return join(projectRoot(), 'harness', 'emulated', 'topologies');
}

export class TopologyError extends Error {
  override name = 'TopologyError';
}

export function loadTopology(name: string): Topology {
  if (!/^[a-z0-9-]+$/.test(name)) throw new TopologyError(`invalid topology name '${name}'`);
  let text: string;
  try {
    text = readFileSync(join(topologyDir(), `${name}.json`), 'utf8');
  } catch {
    throw new TopologyError(`unknown topology '${name}' (no ${join(topologyDir(), name + '.json')})`);
  }
  return checkTopology(JSON.parse(text) as Topology);
}

export function checkTopology(t: Topology): Topology {
  const n = t.nodes.length;
  t.nodes.forEach((node, i) => {
    if (node.id !== i) throw new TopologyError(`${t.name}: node ids must be 0..${n - 1} in order`);
    if (!(node.memMiB > 0)) throw new TopologyError(`${t.name}: node ${i} has no memory`);
    let huge = 0;
    for (const [size, count] of Object.entries(node.hugepages ?? {})) {
      if (!/^[1-9]\d*$/.test(size) || !Number.isInteger(count) || count < 0) throw new TopologyError(`${t.name}: node ${i} hugepages wants 'SIZE_KIB': COUNT, not '${size}': ${count}`);
      huge += (Number(size) * count) / 1024;
    }
    // The kernel and the guest's own processes need memory on every node too.
    if (huge > node.memMiB / 2) throw new TopologyError(`${t.name}: node ${i} reserves ${huge} MiB of huge pages, more than half its ${node.memMiB} MiB`);
    if (t.hmat && !node.cpus?.length && node.initiator === undefined) {
      throw new TopologyError(`${t.name}: CPU-less node ${i} needs an initiator when HMAT is on (QEMU requires it)`);
    }
  });
  if (t.distances.length !== n || t.distances.some((row) => row.length !== n)) {
    throw new TopologyError(`${t.name}: distances must be a ${n}x${n} matrix`);
  }
  if (!vcpus(t)) throw new TopologyError(`${t.name}: no node has CPUs`);
  return t;
}

export function vcpus(t: Topology): number {
  return t.nodes.reduce((k, node) => k + (node.cpus?.length ?? 0), 0);
}

export function memoryMiB(t: Topology): number {
  return t.nodes.reduce((k, node) => k + node.memMiB, 0);
}

/** The kernel command line's part for this topology: the huge pages to reserve per node, read
 *  by the guest's init before libvirtd starts ("lvh.hugepages=NODE:SIZE_KIB:COUNT,..."). */
export function kernelParams(t: Topology): string[] {
  const huge = t.nodes.flatMap((n) => Object.entries(n.hugepages ?? {}).filter(([, c]) => c > 0).map(([size, c]) => `${n.id}:${size}:${c}`));
  return huge.length ? [`lvh.hugepages=${huge.join(',')}`] : [];
}

/**
 * Guest RAM in files, one per NUMA node (DIR/m0, DIR/m1, ...), for saved states (vm.ts):
 * `share: true` for the boot that is saved (the guest's memory is written through to the files,
 * and migration with x-ignore-shared leaves it out of the state), `share: false` for a restore
 * (MAP_PRIVATE: a page is read from the file when the guest first touches it, and the guest's
 * writes stay in this QEMU's memory, never in the saved files).
 */
export interface GuestRam { dir: string; share: boolean }

/** The file holding node N's memory under GuestRam's dir. */
export function ramFileName(nodeId: number): string {
  return `m${nodeId}`;
}

/** The -machine/-smp/-m/-object/-numa flags for this topology; memory-backend-ram per node
 *  unless `ram` puts the nodes' memory in files. */
export function topologyFlags(t: Topology, ram?: GuestRam): string[] {
  const cpus = vcpus(t);
  // QEMU's option syntax: a comma in the path would end mem-path (it would need doubling).
  if (ram && /[,\s]/.test(ram.dir)) throw new TopologyError(`guest RAM directory ${ram.dir} has a comma or a space`);
  const f = ['-machine', t.hmat ? 'q35,hmat=on' : 'q35', '-smp', `${cpus},sockets=${cpus},cores=1,threads=1`, '-m', `${memoryMiB(t)}M`];
  for (const node of t.nodes) {
    f.push('-object', ram
      ? `memory-backend-file,id=m${node.id},size=${node.memMiB}M,mem-path=${ram.dir}/${ramFileName(node.id)},share=${ram.share ? 'on' : 'off'}`
      : `memory-backend-ram,id=m${node.id},size=${node.memMiB}M`);
    let spec = `node,nodeid=${node.id},memdev=m${node.id}`;
    for (const c of node.cpus ?? []) spec += `,cpus=${c}`;
    if (t.hmat && node.initiator !== undefined) spec += `,initiator=${node.initiator}`;
    f.push('-numa', spec);
  }
  t.distances.forEach((row, i) => row.forEach((v, j) => {
    // QEMU fills the symmetric entry itself; giving both is allowed but i<j suffices.
    if (i < j) f.push('-numa', `dist,src=${i},dst=${j},val=${v}`);
  }));
  for (const h of t.hmat ?? []) {
    f.push('-numa', `hmat-lb,initiator=${h.initiator},target=${h.target},hierarchy=memory,data-type=access-latency,latency=${h.latencyNs}`);
    f.push('-numa', `hmat-lb,initiator=${h.initiator},target=${h.target},hierarchy=memory,data-type=access-bandwidth,bandwidth=${h.bandwidth}`);
  }
  return f;
}
