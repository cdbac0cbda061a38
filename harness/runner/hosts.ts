// Goldens know their host: the facts a golden depends on are committed as golden/hosts/<id>.json
// and goldens are named NAME.<id>.EXT. At the start of a run the live probe is compared with
// them; a case whose output reads a fact that differs is skipped with that reason (or runs
// against this host's own fork once --regenerate has blessed one), never failed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HostFacts } from '../model/host-facts.js';
import { parseLibvirtNodeset } from '../backends/pages-outside.js';

/** The facts outputs depend on: everything the probe asks of libvirt that the model reads.
 *  Paths of the daemon's own environment are left out: named rules (rules.ts) already map them. */
export const FACT_KEYS = ['libvirtVersion', 'qemuVersion', 'machineAliases', 'emulators', 'numaNodes', 'hostCpu', 'virtTypes',
  'defaultCpuModels', 'kvmCpuModels', 'memoryBackingDir', 'hostCdroms', 'numad', 'runtime', 'stateDirTemplate', 'monitorTemplate', 'hugetlbfs',
  'shortNameChars', 'virtiofsdMissing'] as const;
export type FactKey = typeof FACT_KEYS[number];

export type CommittedFacts = Pick<HostFacts, Exclude<FactKey, 'numaNodes'>> & { numaNodes: { id: number; cpus: number[] }[] };

/** What is committed: the dependent facts only (node memory sizes vary by the hour). */
export function committedFacts(f: HostFacts): CommittedFacts {
  const out = {} as Record<string, unknown>;
  for (const k of FACT_KEYS) out[k] = f[k] ?? null;
  // No hugetlbfs mount is no fact at all: hosts committed before it was probed keep their ids.
  if (!f.hugetlbfs?.length) delete out.hugetlbfs;
  // Nor is a daemon that cuts names by bytes (the C locale every host so far runs it in).
  if (!f.shortNameChars) delete out.shortNameChars;
  // Nor is a daemon that finds a virtiofsd (every host with QEMU before 8.0, which shipped one).
  if (!f.virtiofsdMissing) delete out.virtiofsdMissing;
  out.numaNodes = f.numaNodes.map((n) => ({ id: n.id, cpus: n.cpus }));
  // A series build's private daemon keeps its state under /var/lib/lvh/KEY/, or its version's
  // slot /var/lib/lvh/vX.Y.Z/ (the rule series-daemon-paths maps it on both sides): the same
  // host for the goldens.
  for (const k of ['stateDirTemplate', 'monitorTemplate', 'memoryBackingDir'] as const)
    if (f[k] !== undefined) out[k] = String(f[k]).replace(/\/var\/lib\/lvh\/(?:[0-9a-f]+|v[0-9.]+)\/(lib\/)?/g, '/var/lib/').replace(/\/run\/lvh\/(?:[0-9a-f]+|v[0-9.]+)\//g, '/run/');
  // Machine types and capabilities follow QEMU's major.minor; Debian's micro updates do not count.
  out.qemuVersion = f.qemuVersion.split('.').slice(0, 2).join('.');
  return out as CommittedFacts;
}

/** Readable and exact: libvirt, QEMU major.minor, node count, then a hash of every fact. */
export function hostId(f: CommittedFacts): string {
  const qemu = f.qemuVersion.split('.').slice(0, 2).join('.');
  const hash = createHash('sha256').update(JSON.stringify(committedFacts(f as HostFacts))).digest('hex').slice(0, 6);
  return `lv${f.libvirtVersion}-q${qemu}-n${f.numaNodes.length}-${hash}`;
}

export function describeHost(f: CommittedFacts): string {
  const nodes = f.numaNodes.map((n) => `${n.id}${n.cpus.length ? '' : ' (no CPUs)'}`).join(', ');
  return `libvirt ${f.libvirtVersion}, QEMU ${f.qemuVersion}, NUMA nodes ${nodes}, CPU ${f.hostCpu?.vendor ?? '?'} ${f.hostCpu?.model ?? '?'}`;
}

export function differingFacts(a: CommittedFacts, b: CommittedFacts): FactKey[] {
  return FACT_KEYS.filter((k) => JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null));
}

const kvm = (x: string): boolean => /type\s*=\s*['"]kvm['"]/.test(x);

/** Which facts an input's output reads, judged from the input itself. Conservative: when in
 *  doubt a fact counts, so a difference skips rather than fails. */
const READS: Record<FactKey, (xml: string, op: string) => boolean> = {
  libvirtVersion: () => true,
  qemuVersion: () => true,
  machineAliases: () => true,
  stateDirTemplate: (_x, op) => op !== 'xml',
  monitorTemplate: (_x, op) => op !== 'xml',
  emulators: (x) => !/<emulator>/.test(x),
  numaNodes: (x, op) => op === 'runtime' || /nodeset\s*=|<numatune|placement\s*=\s*['"]auto|<memnode/.test(x),
  hostCpu: (x) => kvm(x) && /<cpu\b/.test(x),
  virtTypes: (x) => kvm(x),
  // The default CPU model goes into every output but the runtime facts.
  defaultCpuModels: (_x, op) => op !== 'runtime',
  kvmCpuModels: (x) => kvm(x) && /<model\b/.test(x),
  memoryBackingDir: (x) => /memAccess|<memoryBacking/.test(x),
  hostCdroms: (x, op) => op !== 'xml' && /device\s*=\s*['"]cdrom/.test(x),
  numad: (x, op) => op === 'runtime' && /placement\s*=\s*['"]auto/.test(x),
  runtime: (_x, op) => op === 'runtime',
  // The command line names the mount of each huge page size (mem-path, hugetlbsize).
  hugetlbfs: (x, op) => op !== 'xml' && /<hugepages|<pagesize/.test(x),
  // A non-ASCII name's short form (the per-domain paths of the command line).
  shortNameChars: (x, op) => op !== 'xml' && /<name>[^<]*[^\x00-\x7f]/.test(x),
  // A virtiofs filesystem's virtiofsd is looked for when the command line is built.
  virtiofsdMissing: (x, op) => op !== 'xml' && /virtiofs/.test(x),
};

/** Facts an input reads through one part only: what it sees of the fact. Two hosts that differ
 *  in the fact but not in that view give the input the same output. */
const VIEW: Partial<Record<FactKey, (xml: string, op: string, f: CommittedFacts) => unknown>> = {
  // The default CPU of the input's virt type.
  defaultCpuModels: (x, _op, f) => (f.defaultCpuModels as Record<string, unknown> | null)?.[kvm(x) ? 'kvm' : 'qemu'] ?? null,
  // Command line and XML read the host nodes only where a nodeset names them (is each named node
  // there: virNumaNodesetIsAvailable); numad's advice and the runtime read every node.
  numaNodes: (x, op, f) => {
    const named = op === 'runtime' || /placement\s*=\s*['"]auto/.test(x) ? null : namedNodes(x);
    return named ? named.map((n) => f.numaNodes.some((h) => h.id === n)) : f.numaNodes;
  },
};

/** Host nodes the input's nodesets name (numatune, memnodes, memory devices' nodemasks), or null
 *  when one cannot be read (then every node counts). */
function namedNodes(xml: string): number[] | null {
  const texts = [...xml.matchAll(/\bnodeset\s*=\s*(['"])(.*?)\1/g)].map((m) => m[2])
    .concat([...xml.matchAll(/<nodemask>([^<]*)<\/nodemask>/g)].map((m) => m[1]));
  const out = new Set<number>();
  try {
    for (const t of texts) for (const n of parseLibvirtNodeset(t)) out.add(n);
  } catch {
    return null;
  }
  return [...out].sort((a, b) => a - b);
}

/** Which of the differing facts between two hosts the input's output reads (a fact read through
 *  a view counts only when that view differs). */
export function factsRead(xml: string, op: string, a: CommittedFacts, b: CommittedFacts): FactKey[] {
  // Where either host lacks KVM, a KVM guest is refused before its CPU meets the host CPU.
  const bothKvm = [a, b].every((f) => (f.virtTypes ?? []).includes('kvm'));
  return differingFacts(a, b).filter((k) => {
    if (!READS[k](xml, op)) return false;
    if ((k === 'hostCpu' || k === 'kvmCpuModels') && !bothKvm) return false;
    const view = VIEW[k];
    return !view || JSON.stringify(view(xml, op, a)) !== JSON.stringify(view(xml, op, b));
  });
}

/** The profile of libvirt's own tests whose expected files were made for this host's QEMU
 *  (9.0.0's "latest" capabilities are QEMU 7.2's). */
const REAL_PROFILES: { libvirt: string; qemu: string; profile: string }[] = [
  { libvirt: '9.0.0', qemu: '7.2', profile: 'x86_64-latest' },
];

export function realProfileOf(f: CommittedFacts): string {
  return REAL_PROFILES.find((r) => r.libvirt === f.libvirtVersion && r.qemu === f.qemuVersion)?.profile ?? 'none';
}

/** The id of the host the probe (scripts/probe-host.mjs) last described. */
export function liveHostId(factsFile: string): string {
  return hostId(committedFacts(JSON.parse(readFileSync(factsFile, 'utf8')) as HostFacts));
}
