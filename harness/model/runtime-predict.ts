// Runtime truth, predicted: what the kernel and QEMU will show once libvirt 9.0.0 has started a
// (paused) guest, computed from the parsed + post-parsed domain and a profile. Pure, no I/O.
//
// Sources (libvirt 9.0.0, QEMU 7.2, Linux):
// - Memory backends are the model's own argv (`-object memory-backend-*`, qemuBuildMemoryBackendProps):
//   `host-nodes` + `policy` when the cell's mode is strict/interleave/preferred, nothing for
//   restrictive. QEMU mbind()s each backend's mapping with that policy (hostmem.c); a mapping
//   without a VMA policy shows the *task* policy in /proc/PID/numa_maps (show_numa_map).
//   QEMU 7.2 passes `preferred` as MPOL_PREFERRED: the kernel keeps the first node only.
// - The task policy is set in qemuProcessHook between fork and exec: nothing when the
//   <memory> mode is strict/restrictive and the cpuset controller is in use ("Relying on CGroups
//   for memory binding"), else virNumaSetupMemoryPolicy(<memory> mode, nodeset): bind,
//   interleave, preferred (numa_set_preferred_many when libnuma and the kernel have it: the
//   kernel calls that "prefer (many)"), restrictive: nothing. No <memory> element: nothing.
// - cpuset.mems per thread group is qemuProcessSetupPid: the <memory> nodeset when its mode is
//   strict or restrictive (emulator, each vCPU, each iothread); a vCPU whose guest cell's mode
//   (memnode, else <memory>) is restrictive gets that cell's nodeset instead. Otherwise libvirt
//   writes nothing and the group keeps what it inherited (cgroup v1: the parent's mems, which
//   here are all host memory nodes). There is no domain-level cpuset.mems write in 9.0.0.
//   libvirt 11.x writes the union of the <memory> and every memnode nodeset for strict
//   (behaviour.strictCpusetMemsUnion): QEMU allocates every cell's memory from its threads.
// - placement='auto' (of <vcpu> or <numatune><memory>) asks numad at start
//   (qemuProcessPrepareDomainNUMAPlacement). A profile without numad's advice (autoNodeset null)
//   predicts the start failure libvirt reports when /usr/bin/numad cannot be run.
import { buildArgs } from './argv.js';
import { formatBitmap, type Bitmap } from './bitmap.js';
import type { Domain, NumaMode } from './domain.js';
import { LibvirtError, NotModelledError } from './errors.js';
import { parseDomain } from './parse.js';
import { keptNodes, startRefusal } from './runtime-start.js';
import { postParse } from './postparse.js';
import type { Profile } from './profile.js';
import type { XmlElement } from './xml-tree.js';

import type { BackendFact, MemdevFact, PolicyFact, RuntimeFacts } from '../neutral/runtime-facts.js';
import { naturalCompare } from '../neutral/bitmap-text.js';
import { stableJson } from '../neutral/runtime-facts.js';

export type { BackendFact, MemdevFact, PolicyFact, RuntimeFacts };
export { naturalCompare, stableJson };

export type RuntimeOutcome =
  /** `pageKiB`: the kernel page size of each backend's memory (4, or the huge page size). */
  | { kind: 'facts'; facts: RuntimeFacts; pageKiB: Record<string, number> }
  /** libvirt refuses to start the guest: the message `virsh create` prints after "error: ". */
  | { kind: 'error'; message: string };

/** What the runtime depends on beyond the command line: facts a paused guest showed on the
 *  profile's host (scripts/probe-host.mjs), never assumed. */
export interface RuntimeTraits {
  /** libvirt's cgroup has the cpuset controller (cgroup v1 or v2): strict/restrictive rely on it. */
  cpusetController: boolean;
  /** libvirt was built with numa_set_preferred_many and the kernel has MPOL_PREFERRED_MANY. */
  preferredMany: boolean;
}

/** The profile's probed runtime facts; a profile without them cannot predict a start. */
export function traitsOf(profile: Profile): RuntimeTraits {
  if (!profile.runtime) throw new NotModelledError(`runtime facts of profile ${profile.name} (no paused guest was probed on its host)`);
  return { cpusetController: profile.runtime.cpusetController, preferredMany: profile.runtime.preferredMany };
}

/** Error text of virNumaGetAutoPlacementAdvice when numad cannot be run (VIR_ERR_OPERATION_FAILED). */
export const NUMAD_FAILED = 'operation failed: Failed to query numad for the advisory nodeset';

/** The runtime backend starts every guest with the accelerator the host has (its input's type is
 *  replaced): KVM where the host's capabilities list it, else TCG. */
export function runtimeVirtType(profile: Profile): Domain['type'] {
  return (profile.virtTypes ?? ['qemu']).includes('kvm') ? 'kvm' : 'qemu';
}

/** numa_maps words (mm/mempolicy.c policy_modes) for QEMU's backend policies (QEMU 7.2). */
const QEMU_TO_KERNEL: Record<string, string> = { bind: 'bind', interleave: 'interleave', preferred: 'prefer' };

/** Natural order: "ram-node2" before "ram-node10", "emulator" before "iothread1" before "vcpu0". */
function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => naturalCompare(a, b)));
}

/** virDomainDefNeedsPlacementAdvice. */
export function needsPlacementAdvice(d: Domain): boolean {
  return d.vcpu.placement === 'auto' || d.numatune?.memory?.placement === 'auto';
}

/** The memory backends of the command line, as QEMU will report them. */
type ArgvMemdev = MemdevFact & { nodes: number[]; pageKiB: number };

/** The page size a backend's memory gets from the kernel: hugetlb memfd pages of its
 *  hugetlbsize (the default huge page size without one), a mem-path under a hugetlbfs mount
 *  that mount's size, anything else (anonymous RAM, a file in memory_backing_dir) base pages. */
function pageKiBOf(o: Record<string, unknown>, profile: Profile): number {
  const dflt = (): number => {
    const d = (profile.hugetlbfs ?? []).find((m) => m.default);
    if (!d) throw new NotModelledError('a hugetlb memfd without hugetlbsize on a host whose default huge page size was not probed');
    return d.sizeKiB;
  };
  if (o['qom-type'] === 'memory-backend-memfd' && o.hugetlb === true) return typeof o.hugetlbsize === 'number' ? o.hugetlbsize / 1024 : dflt();
  const path = o['mem-path'];
  if (o['qom-type'] === 'memory-backend-file' && typeof path === 'string') {
    const m = (profile.hugetlbfs ?? []).find((h) => path === h.mount || path.startsWith(`${h.mount}/`));
    if (m) return m.sizeKiB;
  }
  return 4;
}

function memdevsFromArgv(argv: string[], profile: Profile): ArgvMemdev[] {
  const out: ArgvMemdev[] = [];
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] !== '-object') continue;
    const arg = argv[i + 1];
    if (!arg.startsWith('{')) {
      if (/^memory-backend-/.test(arg)) throw new NotModelledError('runtime prediction with key=value -object syntax (profile without OBJECT_JSON)');
      continue;
    }
    const o = JSON.parse(arg) as Record<string, unknown>;
    if (typeof o['qom-type'] !== 'string' || !o['qom-type'].startsWith('memory-backend-')) continue;
    out.push({
      id: String(o.id),
      size: Number(o.size),
      policy: typeof o.policy === 'string' ? o.policy : 'default',
      host_nodes: formatBitmap((o['host-nodes'] as number[] | undefined) ?? []),
      nodes: (o['host-nodes'] as number[] | undefined) ?? [],
      pageKiB: pageKiBOf(o, profile),
    });
  }
  return out;
}

/** The task policy qemuProcessHook sets (virNumaSetupMemoryPolicy), as numa_maps prints it. */
function processPolicy(d: Domain, auto: Bitmap | null, traits: RuntimeTraits): PolicyFact {
  const mem = d.numatune?.memory;
  if (!mem) return { policy: 'default', nodes: '' };
  if ((mem.mode === 'strict' || mem.mode === 'restrictive') && traits.cpusetController) return { policy: 'default', nodes: '' };
  const nodeset = mem.placement === 'auto' ? auto : mem.nodeset ?? null;
  if (!nodeset) return { policy: 'default', nodes: '' };
  const nodes = formatBitmap(nodeset);
  switch (mem.mode) {
    case 'strict': return { policy: 'bind', nodes };
    case 'interleave': return { policy: 'interleave', nodes };
    case 'preferred':
      if (traits.preferredMany) return { policy: 'prefer (many)', nodes };
      if (nodeset.length !== 1) throw new LibvirtError('INTERNAL_ERROR', "NUMA memory tuning in 'preferred' mode only supports single node");
      return { policy: 'prefer', nodes };
    case 'restrictive': return { policy: 'default', nodes: '' };
  }
}

/** virDomainNumatuneGetMode(numatune, cell). */
function modeOf(d: Domain, cell: number): NumaMode | null {
  const nt = d.numatune;
  if (!nt) return null;
  return (cell >= 0 ? nt.memnodes.get(cell)?.mode : undefined) ?? nt.memory?.mode ?? null;
}

/** virDomainNumatuneGetNodeset(numatune, autoNodeset, cell). */
function nodesetOf(d: Domain, auto: Bitmap | null, cell: number): Bitmap | null {
  const nt = d.numatune;
  if (!nt) return null;
  if (nt.memory?.placement === 'auto') return auto;
  const mn = cell >= 0 ? nt.memnodes.get(cell) : undefined;
  if (mn) return mn.nodeset;
  return nt.memory?.nodeset ?? null;
}

/** cpuset.mems per thread group after qemuProcessSetupPid. */
/** The mask libvirt writes for the emulator (and every thread group not narrowed further), or
 *  null when it writes none. */
function domainMaskOf(d: Domain, profile: Profile, auto: Bitmap | null): Bitmap | null {
  const memMode = d.numatune?.memory ? d.numatune.memory.mode : null;
  const domainMask = memMode === 'strict' || memMode === 'restrictive' ? nodesetOf(d, auto, -1) : null;
  if (memMode !== 'strict' || !profile.behaviour.strictCpusetMemsUnion) return domainMask;
  const all = new Set<number>(domainMask ?? []);
  (d.cpu?.cells ?? []).forEach((_, i) => { for (const n of nodesetOf(d, auto, i) ?? []) all.add(n); });
  return [...all].sort((a, b) => a - b);
}

/** The emulator's cpuset.mems as numbers: libvirt's mask, else what it inherits (every node). */
function emulatorMask(d: Domain, profile: Profile, auto: Bitmap | null): Bitmap {
  return domainMaskOf(d, profile, auto) ?? profile.hostNodes;
}

function cpusetMems(d: Domain, profile: Profile, auto: Bitmap | null): Record<string, string> {
  const inherited = formatBitmap(profile.hostNodes);
  const domainMask = domainMaskOf(d, profile, auto);
  const out: Record<string, string> = {};
  out.emulator = domainMask ? formatBitmap(domainMask) : inherited;
  const cells = d.cpu?.cells ?? [];
  // Only online vCPUs have threads (and thread groups): 0..current-1 without <vcpus>.
  for (let v = 0; v < d.vcpu.current; v++) {
    let mask = domainMask;
    const cell = cells.findIndex((c) => (c.cpus ?? []).includes(v));
    if (cell >= 0 && modeOf(d, cell) === 'restrictive') mask = nodesetOf(d, auto, cell);
    out[`vcpu${v}`] = mask ? formatBitmap(mask) : inherited;
  }
  for (let i = 1; i <= d.iothreads; i++) out[`iothread${i}`] = domainMask ? formatBitmap(domainMask) : inherited;
  return sortedRecord(out);
}

/**
 * The facts of a post-parsed domain once started. Throws LibvirtError for what libvirt refuses
 * while building the command line (e.g. an unavailable host node), NotModelledError outside
 * the vocabulary.
 */
export function predictRuntime(d: Domain, profile: Profile, traits: RuntimeTraits = traitsOf(profile)): RuntimeOutcome {
  if (needsPlacementAdvice(d) && !profile.autoNodeset) {
    // What starting such a guest gave on this host: libvirt's error, or numad's live advice.
    const numad = profile.numad;
    if (!numad) throw new NotModelledError(`placement='auto' with profile ${profile.name} (what numad answers on its host was not probed)`);
    if ('error' in numad) return { kind: 'error', message: numad.error };
    throw new NotModelledError("placement='auto' on a host where numad answers (its advice depends on the host's load at start)");
  }
  // numad's nodeset keeps only nodes with memory (virBitmapIntersect with the host's memory nodes).
  const auto = profile.autoNodeset ? profile.autoNodeset.filter((n) => profile.hostNodes.includes(n)) : null;
  const argvProfile: Profile = { ...profile, autoNodeset: auto };
  const argv = buildArgs(d, argvProfile).argv;
  const memdevs = memdevsFromArgv(argv, profile).sort((a, b) => naturalCompare(a.id, b.id));
  if (!memdevs.length) throw new NotModelledError('guest RAM without a memory backend object (-numa mem= / -m only)');
  const proc = processPolicy(d, auto, traits);
  const cpuset = traits.cpusetController ? cpusetMems(d, profile, auto) : {};
  // QEMU's main thread runs in the emulator group: its cpuset is what mbind is cut to.
  const memsAllowed = traits.cpusetController ? emulatorMask(d, profile, auto) : profile.hostNodes;
  const refused = startRefusal(argv, profile, memsAllowed);
  if (refused) return { kind: 'error', message: refused };
  const backends: BackendFact[] = memdevs.map((m) => {
    if (m.policy === 'default') return { id: m.id, ...proc }; // no VMA policy: the task's shows
    const word = QEMU_TO_KERNEL[m.policy];
    if (!word) throw new NotModelledError(`QEMU backend policy '${m.policy}'`);
    const kept = keptNodes(m.nodes, memsAllowed);
    // MPOL_PREFERRED keeps a single node: the first of the mask.
    return { id: m.id, policy: word, nodes: formatBitmap(m.policy === 'preferred' ? kept.slice(0, 1) : kept) };
  });
  return {
    kind: 'facts',
    facts: {
      backends,
      cpuset_mems: cpuset,
      mems_allowed: cpuset.emulator ?? formatBitmap(profile.hostNodes),
      process_policy: proc,
      qemu_memdev: memdevs.map(({ nodes: _n, pageKiB: _p, ...m }) => m),
    },
    pageKiB: Object.fromEntries(memdevs.map((m) => [m.id, m.pageKiB])),
  };
}

/** parseDomain + postParse + predictRuntime; every libvirt-side refusal becomes an error outcome. */
export function predictRuntimeXml(root: XmlElement, profile: Profile, traits?: RuntimeTraits): RuntimeOutcome {
  try {
    const d = parseDomain(root, profile.behaviour);
    d.type = runtimeVirtType(profile);
    return predictRuntime(postParse(d, profile), profile, traits ?? traitsOf(profile));
  } catch (e) {
    if (e instanceof LibvirtError) return { kind: 'error', message: e.message.split('\n')[0] };
    throw e;
  }
}

/** The comparable document of an outcome: the facts, or {"error": message}. */
export function outcomeDocument(o: RuntimeOutcome): unknown {
  return o.kind === 'facts' ? o.facts : { error: o.message };
}
