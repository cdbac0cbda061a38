// Every guest memory backend, as qemuBuildMemoryBackendProps builds it (src/qemu/qemu_command.c):
// the initial RAM (pc.ram), each NUMA cell (ram-nodeN) and each memory device (memALIAS). The
// choice of backend (ram, file, memfd), mem-path (hugetlbfs mounts and page sizes are profile
// facts), prealloc and its threads, the thread-context that preallocates near the memory, and
// how each numatune mode applies: strict/preferred/interleave give host-nodes + policy, the
// series' restrictive gives neither (cgroups alone restrict the nodes).
import type { Bitmap } from './bitmap.js';
import { fail, notModelled } from './errors.js';
import type { Domain, MemAccess, MemoryDevice, NumaMode } from './domain.js';
import type { Profile } from './profile.js';

export type Json = string | number | boolean | number[] | { [k: string]: Json };
export type Props = [string, Json][];

const POLICY: Record<Exclude<NumaMode, 'restrictive'>, string> = { strict: 'bind', preferred: 'preferred', interleave: 'interleave' };

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** virDomainDefGetShortName: per-domain paths use the first 20 characters of the name, as the
 *  daemon's locale counts them. Under a UTF-8 locale 20 code points; under LC_ALL=C (how the
 *  harness's daemons run) mbstowcs fails on a non-ASCII name (EILSEQ) and libvirt cuts 20 bytes,
 *  which may end inside a character. */
export function shortName(d: Domain, profile: Profile): string {
  // At most 20 UTF-16 units is at most 20 characters, and ASCII's bytes are its characters.
  if (d.name.length <= 20 && (profile.shortNameChars || /^[\x00-\x7f]*$/.test(d.name))) return d.name;
  if (profile.shortNameChars) return Array.from(d.name).slice(0, 20).join('');
  const bytes = utf8.encode(d.name);
  if (bytes.length <= 20) return d.name;
  try {
    return strictUtf8.decode(bytes.subarray(0, 20));
  } catch {
    // 9.0.0 then fails to write the path into a JSON argument; later releases write the bytes.
    return notModelled('a domain name whose first 20 bytes end inside a character (its short name, under a daemon that cuts bytes)');
  }
}

/** virNumaNodesetIsAvailable: the first node (ascending) the host lacks is reported. */
export function checkAvailable(nodeset: Bitmap | null | undefined, profile: Profile): void {
  if (!nodeset) return;
  for (const bit of nodeset) {
    if (!profile.hostNodes.includes(bit)) {
      const detail = profile.unavailableNode.detail.replace('{bit}', String(bit));
      fail(profile.unavailableNode.code, detail);
    }
  }
}

/** virDomainNumatuneGetNodeset: which host nodes back guest cell `cell` (-1: the whole guest). */
export function nodesetFor(d: Domain, profile: Profile, cell: number): Bitmap | null {
  const nt = d.numatune;
  if (!nt) return null;
  if (nt.memory?.placement === 'auto') return profile.autoNodeset;
  const mn = cell >= 0 ? nt.memnodes.get(cell) : undefined;
  if (mn) return mn.nodeset;
  return nt.memory?.nodeset ?? null;
}

/** virDomainNumatuneGetMode for the cell, else for the guest, else strict. */
export function modeFor(d: Domain, cell: number): NumaMode {
  return d.numatune?.memnodes.get(cell)?.mode ?? d.numatune?.memory?.mode ?? 'strict';
}

/** The memory one backend stands for (virDomainMemoryDef as qemuBuildMemoryBackendProps reads it). */
export interface BackendMemory {
  alias: string;
  /** The device's own alias, which names its file under the memory backing directory
   *  (mem->info.alias: "dimm1" for the backend "memdimm1"); the backend alias otherwise. */
  pathAlias?: string;
  sizeKiB: number;
  /** Guest NUMA cell, -1 for none. */
  targetNode: number;
  device?: MemoryDevice;
}

/** What the command line builder carries between backends (qemuDomainObjPrivate). */
export interface BackendState {
  /** -mem-prealloc was given (qemuBuildMemPathStr): backends then say nothing about prealloc. */
  memPrealloc: boolean;
}

/** virFileGetDefaultHugepage: the mount flagged default, else the first one. */
export function defaultPageSize(profile: Profile): number {
  const mounts = profile.hugetlbfs ?? [];
  if (!mounts.length) fail('INTERNAL_ERROR', 'hugetlbfs filesystem is not mounted or disabled by administrator config');
  return (mounts.find((m) => m.default) ?? mounts[0]).sizeKiB;
}

/** qemuGetDomainHupageMemPath: the mount of that page size, then libvirt/qemu/<short name>. */
export function hugepagePath(d: Domain, profile: Profile, pagesizeKiB: number): string {
  const mounts = profile.hugetlbfs ?? [];
  if (!mounts.length) fail('INTERNAL_ERROR', 'hugetlbfs filesystem is not mounted or disabled by administrator config');
  const m = mounts.find((x) => x.sizeKiB === pagesizeKiB);
  if (!m) fail('INTERNAL_ERROR', `Unable to find any usable hugetlbfs mount for ${pagesizeKiB} KiB`);
  return `${m!.mount}/libvirt/qemu/-1-${shortName(d, profile)}`;
}

/** qemuGetMemoryBackingPath: cfg->memoryBackingDir/<short name>/<alias>. */
export function memoryBackingPath(d: Domain, profile: Profile, alias: string): string {
  if (!profile.memoryBackingDir) notModelled(`file-backed memory with profile ${profile.name} (memory backing directory unknown)`);
  return `${profile.memoryBackingDir}/-1-${shortName(d, profile)}/${alias}`;
}

/** qemuBuildMemoryGetPagesize: the page size a backend uses and whether it preallocates. */
export function pagesizeOf(d: Domain, profile: Profile, mem: BackendMemory): { pagesize: number; needHugepage: boolean; useHugepage: boolean; prealloc: boolean } {
  const dev = mem.device;
  let pagesize = dev?.model === 'dimm' || dev?.model === 'virtio-mem' ? dev.source.pagesizeKiB ?? 0 : 0;
  const nvdimmPath = dev?.model === 'nvdimm' || dev?.model === 'virtio-pmem' ? dev.source.path : undefined;
  let needHugepage = !!pagesize;
  let useHugepage = !!pagesize;
  const pages = d.memoryBacking?.hugepages ?? [];
  if (!pagesize) {
    let master: (typeof pages)[number] | undefined;
    let found: (typeof pages)[number] | undefined;
    for (const p of pages) {
      if (!p.nodeset) { master = p; continue; }
      if (mem.targetNode < 0) continue;
      if (p.nodeset.includes(mem.targetNode)) { needHugepage = true; found = p; break; }
    }
    const page = found ?? master;
    if (page) { pagesize = page.sizeKiB; useHugepage = true; }
  }
  if (pagesize === profile.systemPageSizeKiB) {
    // A "huge" page of the system page size is no huge page at all.
    pagesize = 0; needHugepage = false; useHugepage = false;
  } else if (useHugepage && pagesize === 0) pagesize = defaultPageSize(profile);
  let prealloc = d.memoryBacking?.allocation === 'immediate';
  if (nvdimmPath) {
    if (dev!.model === 'nvdimm' && !dev!.source.pmem) prealloc = true;
  } else if (useHugepage) prealloc = true;
  return { pagesize, needHugepage, useHugepage, prealloc };
}

/** virDomainNumatuneMaybeGetNodeset for a cell (-1: the guest as a whole). */
function numatuneNodeset(d: Domain, profile: Profile, cell: number): Bitmap | null {
  const nt = d.numatune;
  if (!nt) return null;
  const specified = cell >= 0 && nt.memnodes.has(cell);
  if (!specified && !nt.memory) return null;
  if (nt.memory?.placement === 'auto' && !profile.autoNodeset)
    fail('INTERNAL_ERROR', 'Advice from numad is needed in case of automatic numa placement');
  return nodesetFor(d, profile, cell);
}

export interface Backend {
  props: Props;
  /** qemuBuildMemoryBackendProps returned 0: something needs the object (else 1: plain -numa mem=). */
  needed: boolean;
  /** Where the memory should be allocated (source nodemask or numatune), for the thread context. */
  nodemask: Bitmap | null;
}

/** qemuBuildMemoryBackendProps. `force`: memory devices always get their object; `systemMemory`:
 *  the machine's default RAM (pc.ram), which keeps QEMU's non-canonical ramblock id. */
export function memoryBackend(d: Domain, profile: Profile, mem: BackendMemory, force: boolean, systemMemory: boolean, state: BackendState): Backend {
  const f = profile.flags;
  const mb = d.memoryBacking;
  const dev = mem.device;
  const cell = mem.targetNode >= 0 ? d.cpu?.cells[mem.targetNode] : undefined;
  let memAccess: MemAccess | undefined = dev?.access;
  let discard: boolean | undefined = dev?.discard;
  if (cell) {
    memAccess ??= cell.memAccess;
    discard ??= cell.discard;
  }
  memAccess ??= mb?.access;
  // def->mem.discard is YES or ABSENT: <discard/> cannot say no.
  if (discard === undefined && mb?.discard) discard = true;
  const mode = modeFor(d, mem.targetNode);
  const nodeSpecified = mem.targetNode >= 0 && !!d.numatune?.memnodes.has(mem.targetNode);
  const { pagesize, needHugepage, useHugepage, prealloc: wantPrealloc } = pagesizeOf(d, profile, mem);
  let prealloc = wantPrealloc;
  const sourceNodes = dev && (dev.model === 'dimm' || dev.model === 'virtio-mem' || dev.model === 'sgx-epc') ? dev.source.nodemask : undefined;
  const nvdimmPath = dev && (dev.model === 'nvdimm' || dev.model === 'virtio-pmem') ? dev.source.path : undefined;
  const props: Props = [];
  let type = 'memory-backend-file';
  let disableCanonicalPath = false;
  const share = (): void => { if (memAccess) props.push(['share', memAccess === 'shared']); };
  if (dev?.model === 'sgx-epc') {
    type = 'memory-backend-epc';
    if (!state.memPrealloc) prealloc = true;
  } else if (!nvdimmPath && mb?.source === 'memfd') {
    type = 'memory-backend-memfd';
    if (useHugepage) props.push(['hugetlb', true], ['hugetlbsize', pagesize * 1024]);
    share();
    if (systemMemory) disableCanonicalPath = true;
  } else if (useHugepage || nvdimmPath || memAccess || mb?.source === 'file') {
    // Huge pages are more specific than <source type='file'>: they win.
    const path = nvdimmPath ?? (useHugepage ? hugepagePath(d, profile, pagesize) : memoryBackingPath(d, profile, mem.pathAlias ?? mem.alias));
    props.push(['mem-path', path]);
    if (!nvdimmPath && discard !== undefined) props.push(['discard-data', discard]);
    share();
    if (systemMemory) disableCanonicalPath = true;
  } else type = 'memory-backend-ram';
  if (disableCanonicalPath && f.canonicalPathRamblockId) props.push(['x-use-canonical-path-for-ramblock-id', false]);
  if (dev?.model === 'virtio-mem') {
    // Without virtio-mem-pci.prealloc the backend must not preallocate (QEMU would do it all at once).
    if (!f.virtioMemPrealloc && state.memPrealloc) props.push(['prealloc', false]);
    if (f.memoryBackendReserve) props.push(['reserve', false]);
  } else if (!state.memPrealloc) {
    if (prealloc) props.push(['prealloc', true]);
    if (mb?.allocationThreads) props.push(['prealloc-threads', mb.allocationThreads]);
  }
  props.push(['size', mem.sizeKiB * 1024]);
  if (dev?.model === 'nvdimm' && dev.source.alignsizeKiB) props.push(['align', dev.source.alignsizeKiB * 1024]);
  if (dev?.model === 'nvdimm' && dev.source.pmem) {
    if (!f.memoryFilePmem) fail('CONFIG_UNSUPPORTED', 'nvdimm pmem property is not available with this QEMU binary');
    props.push(['pmem', true]);
  }
  const nodemask = sourceNodes ?? numatuneNodeset(d, profile, mem.targetNode);
  checkAvailable(nodemask, profile);
  // The series: restrictive leaves the policy to the kernel (cgroups restrict the nodes).
  // 12.x: a memory device's own nodemask is always a strict binding (memoryDeviceNodemaskStrict).
  if (sourceNodes && profile.behaviour.memoryDeviceNodemaskStrict) props.push(['host-nodes', [...sourceNodes]], ['policy', 'bind']);
  else if (nodemask && mode !== 'restrictive') props.push(['host-nodes', [...nodemask]], ['policy', POLICY[mode]]);
  const plain = !needHugepage && !sourceNodes && !nodeSpecified && !nvdimmPath && !memAccess
    && mb?.source !== 'file' && mb?.source !== 'memfd' && !force;
  if (!plain && type === 'memory-backend-memfd' && !f.memfd)
    fail('CONFIG_UNSUPPORTED', "this qemu doesn't support the memory-backend-memfd object");
  return { props: [['qom-type', type], ['id', mem.alias], ...props], needed: !plain, nodemask };
}

/** qemuBuildThreadContextProps: a thread-context object pinned to the memory's nodes, which
 *  preallocates it there. libvirt 9.0.0 reads the nodes from the backend's host-nodes (so a
 *  restrictive backend gets none); later releases take the nodemask itself
 *  (behaviour.threadContextFromNodemask), narrowed to the nodes of the emulator's CPUs. */
export function threadContext(d: Domain, profile: Profile, backend: Backend): Props | null {
  if (!profile.flags.threadContext) return null;
  const props = backend.props;
  const hostNodes = props.find(([k]) => k === 'host-nodes')?.[1] as number[] | undefined;
  let nodes: number[] | undefined;
  if (profile.behaviour.threadContextFromNodemask) nodes = backend.nodemask ? [...backend.nodemask] : undefined;
  else nodes = hostNodes;
  if (!nodes) return null;
  if (props.find(([k]) => k === 'prealloc')?.[1] !== true) return null;
  if (profile.behaviour.threadContextFromNodemask) {
    const emulator = emulatorCpus(d, profile);
    if (emulator) {
      const near = new Set(emulator.map((cpu) => nodeOfCpu(profile, cpu)));
      nodes = nodes.filter((n) => near.has(n));
      if (!nodes.length) return null;
    }
  }
  const alias = `tc-${mem(props)}`;
  props.push(['prealloc-context', alias]);
  return [['qom-type', 'thread-context'], ['id', alias], ['node-affinity', nodes]];
}

/** qemuDomainEvaluateCPUMask(def, emulatorpin, priv->autoNodeset) as the thread context asks it:
 *  <emulatorpin>, else numad's advice under placement auto (a nodeset, read as CPUs: libvirt
 *  passes it where the others pass a CPU set), else <vcpu cpuset>. */
function emulatorCpus(d: Domain, profile: Profile): Bitmap | undefined {
  if (d.cputune.emulatorpin) return d.cputune.emulatorpin;
  if (d.vcpu.placement === 'auto' && profile.autoNodeset) return profile.autoNodeset;
  return d.vcpu.cpuset;
}

/** virNumaGetNodeOfCPU over the profile's host topology. */
function nodeOfCpu(profile: Profile, cpu: number): number {
  if (!profile.hostNodeCpus) return notModelled(`a preallocated backend with emulator CPUs under profile ${profile.name} (the host's CPUs per NUMA node are not known)`);
  for (const [node, cpus] of Object.entries(profile.hostNodeCpus)) if (cpus.includes(cpu)) return Number(node);
  // libvirt: virReportSystemError(errno, "Unable to get NUMA node of cpu %zd") — errno's words vary.
  return notModelled(`emulator CPU ${cpu}, which the host's NUMA topology does not have`);
}

const mem = (props: Props): string => String(props.find(([k]) => k === 'id')![1]);
