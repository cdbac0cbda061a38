// <maxMemory> and <memory model=…> devices after parsing: the memory totals
// (virDomainDefPostParseMemory), device defaults (virDomainMemoryDefPostParse), dimm slots
// (qemuDomainAssignMemorySlots), the checks of validation in libvirt's order and words
// (virDomainDefMemtuneValidate, virDomainMemoryDefValidate, qemuValidateDomainDeviceDefMemory,
// qemuDomainDefValidateMemoryHotplug, qemuValidateDomainDefMemory) and, for the command line,
// aliases and sizes aligned as qemuDomainAlignMemorySizes does.
import { fail, notModelled } from './errors.js';
import type { Domain, MemoryDevice } from './domain.js';
import type { Profile } from './profile.js';

const hotplugKiB = (d: Domain): number => d.devices.memories.reduce((s, m) => s + m.target.sizeKiB, 0);

/** virDomainDefGetMemoryInitial: the total without the memory devices. */
export const initialMemoryKiB = (d: Domain): number => d.memoryKiB - hotplugKiB(d);

/** virDomainDefHasMemoryHotplug */
export const hasMemoryHotplug = (d: Domain): boolean => !!d.maxMemory && (d.maxMemory.kib > 0 || d.maxMemory.slots > 0);

/** virDomainMemoryDefPostParse: virtio-pmem needs shared access to reach the file. */
export function memoryDevicesPostParse(d: Domain): void {
  for (const m of d.devices.memories) {
    if (m.model === 'virtio-pmem') m.access ??= 'shared';
  }
}

/** qemuDomainDefNumaAutoAdd (behaviour.numaAutoAddForHotplug): when the definition may change the
 *  guest ABI (define), memory hotplug without NUMA cells gets one cell holding the initial memory,
 *  and devices without a node go to it. Returns whether it added the cell. */
export function numaAutoAdd(d: Domain, profile: Profile): boolean {
  if (!profile.behaviour.numaAutoAddForHotplug || !profile.abiUpdate || !hasMemoryHotplug(d) || d.cpu?.cells.length) return false;
  let nodeKiB = d.memoryKiB;
  for (const m of d.devices.memories) {
    if (m.target.sizeKiB > nodeKiB) fail('XML_ERROR', 'Total size of memory devices exceeds the total memory size');
    nodeKiB -= m.target.sizeKiB;
    if (m.model === 'dimm' || m.model === 'nvdimm' || m.model === 'virtio-mem') if (m.target.node === -1) m.target.node = 0;
  }
  d.cpu ??= { cells: [], interconnects: [] };
  d.cpu.cells.push({ id: 0, memoryKiB: nodeKiB, caches: [] });
  return true;
}

/** virDomainDefPostParseMemory (NUMA cells and devices make the total) and
 *  virDomainDefPostParseMemtune; `numaKiB` is the cells' sum. */
export function memoryTotalsPostParse(d: Domain, profile: Profile, numaKiB: number): void {
  const hot = hotplugKiB(d);
  const useNuma = numaKiB && (profile.abiUpdate || d.memoryKiB === 0);
  if (useNuma) d.memoryKiB = numaKiB + hot;
  else if (hot > d.memoryKiB) fail('XML_ERROR', 'Total size of memory devices exceeds the total memory size');
  if (initialMemoryKiB(d) === 0) fail('XML_ERROR', 'Memory size must be specified via <memory> or in the <numa> configuration');
  if (d.currentMemoryKiB > d.memoryKiB || d.currentMemoryKiB === 0) d.currentMemoryKiB = d.memoryKiB;
  const mx = d.maxMemory;
  if (mx) {
    if (profile.behaviour.memorySlotsForDimmsOnly) {
      if (mx.kib === 0 && mx.slots > 0) fail('XML_ERROR', 'maximum memory size must be specified when specifying number of memory slots');
    } else if (!(mx.kib && mx.slots)) fail('XML_ERROR', 'both maximum memory size and memory slot count must be specified');
    if (mx.kib && mx.kib < d.memoryKiB) fail('XML_ERROR', 'maximum memory size must be equal or greater than the actual memory size');
  }
  // A per-node page whose nodeset names only node 0 means "all" on a guest without NUMA cells.
  const pages = d.memoryBacking?.hugepages;
  if (pages && !(d.cpu?.cells.length)) {
    for (const p of pages) if (p.nodeset && p.nodeset.length === 1 && p.nodeset[0] === 0) delete p.nodeset;
  }
}

/** qemuDomainAssignMemorySlots: dimm and nvdimm devices without an address take the first free slot. */
export function assignMemorySlots(d: Domain): void {
  if (!hasMemoryHotplug(d)) return;
  const used = new Set<number>();
  for (const m of d.devices.memories) if (m.address?.type === 'dimm') used.add(m.address.slot);
  for (const m of d.devices.memories) {
    if ((m.model !== 'dimm' && m.model !== 'nvdimm') || m.address?.type === 'dimm') continue;
    // libvirt turns the address into a dimm slot in place, and the PCI fields' bits become the
    // slot and base of the dimm address (one union): a quirk the model does not reproduce.
    if (m.address) notModelled(`a ${m.model} with a ${m.address.type} address (libvirt reads its fields as a dimm slot and base)`);
    let slot = 0;
    while (used.has(slot)) slot++;
    if (slot >= d.maxMemory!.slots) fail('INTERNAL_ERROR', 'failed to find an empty memory slot');
    used.add(slot);
    m.address = { type: 'dimm', slot };
  }
}

/** The bytes a device occupies in the guest's address space (virDomainMemoryGetMappedSize): an
 *  NVDIMM's label is mapped elsewhere, its size rounded up to the alignment (else the page size). */
function mappedBytes(m: MemoryDevice, profile: Profile): bigint {
  let kib = m.target.sizeKiB;
  if (m.model === 'nvdimm') {
    const align = m.source.alignsizeKiB || profile.systemPageSizeKiB;
    kib -= Math.ceil((m.target.labelKiB ?? 0) / align) * align;
  }
  return BigInt(kib) * 1024n;
}
const startOf = (m: MemoryDevice): bigint =>
  m.model === 'virtio-mem' || m.model === 'virtio-pmem' ? BigInt(m.target.addressKiB ?? 0) * 1024n
    : m.address?.type === 'dimm' ? m.address.base ?? 0n : 0n;

/** virDomainMemoryDefCheckConflict */
function checkConflict(d: Domain, profile: Profile, mem: MemoryDevice): void {
  const dimm = (mem.model === 'dimm' || mem.model === 'nvdimm') && mem.address?.type === 'dimm' ? mem.address : undefined;
  const start = startOf(mem);
  if (start === 0n && !dimm) return;
  const end = start + mappedBytes(mem, profile);
  for (const other of d.devices.memories) {
    if (other === mem) continue;
    if (dimm && other.address?.type === 'dimm' && other.address.slot === dimm.slot)
      fail('CONFIG_UNSUPPORTED', `memory device slot '${dimm.slot}' is already being used by another memory device`);
    const os = startOf(other);
    if (start === 0n || os === 0n) continue;
    const oe = os + mappedBytes(other, profile);
    if ((start <= os && end > os) || (os <= start && oe > start))
      fail('CONFIG_UNSUPPORTED', `memory device address [0x${start.toString(16)}:0x${end.toString(16)}] overlaps with other memory device (0x${os.toString(16)})`);
  }
}

/** virDomainMemoryDefValidate, per device (virDomainDefValidate's device iteration). */
export function validateMemoryDevice(d: Domain, profile: Profile, m: MemoryDevice): void {
  const ncells = d.cpu?.cells.length ?? 0;
  if (m.target.node !== -1) {
    if (ncells === 0) fail('XML_DETAIL', "can't add memory backend as guest has no NUMA nodes configured");
    if (m.target.node >= ncells)
      fail('XML_DETAIL', `can't add memory backend for guest node '${m.target.node}' as the guest has only '${ncells}' NUMA nodes configured`);
  }
  switch (m.model) {
    case 'nvdimm':
      if (!m.source.path) fail('XML_DETAIL', "path is required for model 'nvdimm'");
      if (m.discard === true) fail('CONFIG_UNSUPPORTED', 'discard is not supported for nvdimms');
      if (m.uuid) fail('CONFIG_UNSUPPORTED', 'UUID is not supported for NVDIMM device');
      break;
    case 'virtio-pmem':
      if (!m.source.path) fail('XML_DETAIL', "path is required for model 'virtio-pmem'");
      if (m.discard === true) fail('CONFIG_UNSUPPORTED', "discard is not supported for model 'virtio-pmem'");
      if (m.access !== 'shared') fail('CONFIG_UNSUPPORTED', 'shared access mode required for virtio-pmem device');
      if (m.target.node !== -1) fail('CONFIG_UNSUPPORTED', 'virtio-pmem does not support NUMA nodes');
      if (((m.target.addressKiB ?? 0) * 1024) % (profile.systemPageSizeKiB * 1024))
        fail('CONFIG_UNSUPPORTED', `memory address must be aligned to ${profile.systemPageSizeKiB * 1024} bytes`);
      break;
    case 'virtio-mem': {
      const block = m.target.blockKiB ?? 0;
      const requested = m.target.requestedKiB ?? 0;
      if (requested > m.target.sizeKiB) fail('XML_DETAIL', `requested size must be smaller than or equal to @size (${m.target.sizeKiB}KiB)`);
      if (!block || (block & (block - 1))) fail('XML_DETAIL', 'block size must be a power of two');
      // virHostMemGetTHPSize: 2 MiB on x86_64.
      if (block < 2048) fail('XML_DETAIL', 'block size too small, must be at least 2048KiB');
      if (requested % block) fail('XML_DETAIL', 'requested size must be an integer multiple of block size');
      if ((m.target.addressKiB ?? 0) % block) fail('XML_DETAIL', 'memory device address must be aligned to blocksize');
      break;
    }
    case 'sgx-epc':
      if (m.address) fail('CONFIG_UNSUPPORTED', "memory device address is not supported for model 'sgx-epc'");
      break;
    default:
      break;
  }
  if (profile.behaviour.memoryAddressRanges) checkConflict(d, profile, m);
}

/** qemuValidateDomainDeviceDefMemory: what this QEMU has. */
export function validateMemoryDeviceCaps(profile: Profile, m: MemoryDevice): void {
  const f = profile.flags;
  if (m.model === 'dimm' && !f.pcDimm) fail('CONFIG_UNSUPPORTED', "memory hotplug isn't supported by this QEMU binary");
  if (m.model === 'nvdimm') {
    if (!f.nvdimm) fail('CONFIG_UNSUPPORTED', "nvdimm isn't supported by this QEMU binary");
    if (m.target.readonly && !f.nvdimmUnarmed) fail('CONFIG_UNSUPPORTED', 'nvdimm readonly property is not available with this QEMU binary');
  }
  if (m.model === 'virtio-pmem' && !f.virtioPmem) fail('CONFIG_UNSUPPORTED', "virtio-pmem isn't supported by this QEMU binary");
  if (m.model === 'sgx-epc') {
    if (!f.sgxEpc) fail('CONFIG_UNSUPPORTED', "sgx epc isn't supported by this QEMU binary");
    const sections = profile.sgxSections ?? [];
    if (!sections.length) fail('CONFIG_UNSUPPORTED', "this QEMU version didn't provide SGX EPC NUMA info");
    // The EPC comes from the source nodes, else from host node 0.
    for (const node of m.source.nodemask ?? [0]) {
      const section = sections[node];
      if (!section) notModelled(`an sgx-epc nodemask naming node ${node}, past QEMU's EPC sections (libvirt reads past its array)`);
      if (m.target.sizeKiB > section!.sizeKiB)
        fail('CONFIG_UNSUPPORTED', `sgx epc size ${section!.sizeKiB} on host node ${node} is less than requested size ${m.target.sizeKiB}`);
    }
  }
  if (m.model === 'virtio-mem' && m.address?.type === 'pci' && !f.virtioMem) fail('CONFIG_UNSUPPORTED', "virtio-mem isn't supported by this QEMU binary");
  if (m.model === 'virtio-mem' && m.target.dynamicMemslots && !f.virtioMemDynamicMemslots) fail('CONFIG_UNSUPPORTED', 'virtio-mem does not support dynamicMemslots');
}

/** qemuDomainDefValidateMemoryHotplugDevice */
function validateHotplugDevice(d: Domain, profile: Profile, m: MemoryDevice): void {
  const ncells = d.cpu?.cells.length ?? 0;
  const needsNode = (): void => {
    if (ncells && m.target.node === -1) fail('CONFIG_UNSUPPORTED', 'target NUMA node needs to be specified for memory device');
  };
  if (m.model === 'dimm' || m.model === 'nvdimm') {
    if (m.address && m.address.type !== 'dimm') fail('CONFIG_UNSUPPORTED', "only 'dimm' addresses are supported for the pc-dimm device");
    // 9.0.0 asks for the node first, later releases after the address checks (same words).
    if (!profile.behaviour.memorySlotsForDimmsOnly) needsNode();
    const a = m.address?.type === 'dimm' ? m.address : undefined;
    if (a && a.slot >= d.maxMemory!.slots)
      fail('CONFIG_UNSUPPORTED', `memory device slot '${a.slot}' exceeds slots count '${d.maxMemory!.slots}'`);
    // qemuCheckMemoryDimmConflict (9.0.0; later releases check address ranges per device).
    if (a && !profile.behaviour.memoryAddressRanges) {
      for (const o of d.devices.memories) {
        if (o === m || o.address?.type !== 'dimm') continue;
        if (o.address.slot === a.slot) fail('CONFIG_UNSUPPORTED', `memory device slot '${a.slot}' is already being used by another memory device`);
        if (a.base && a.base === o.address.base) fail('CONFIG_UNSUPPORTED', `memory device base '0x${a.base.toString(16)}' is already being used by another memory device`);
      }
    }
    if (profile.behaviour.memorySlotsForDimmsOnly) needsNode();
  } else if (m.model === 'virtio-pmem') {
    if (m.address && m.address.type !== 'pci') fail('CONFIG_UNSUPPORTED', "only 'pci' addresses are supported for the virtio-pmem device");
  } else if (m.model === 'virtio-mem') {
    if (m.address && m.address.type !== 'pci')
      fail('CONFIG_UNSUPPORTED', profile.behaviour.memorySlotsForDimmsOnly
        ? "only 'pci' and 'ccw' addresses are supported for the virtio-mem device"
        : "only 'pci' addresses are supported for the virtio-mem device");
    needsNode();
  }
}

/** qemuDomainDefValidateMemoryHotplug (at start-up: no device being hot-plugged). */
export function validateMemoryHotplug(d: Domain, profile: Profile): void {
  const mems = d.devices.memories;
  if (!hasMemoryHotplug(d)) {
    if (mems.length) fail('CONFIG_UNSUPPORTED', "cannot use/hotplug a memory device when domain 'maxMemory' is not defined");
    return;
  }
  if (!(d.cpu?.cells.length)) fail('CONFIG_UNSUPPORTED', 'At least one numa node has to be configured when enabling memory hotplug');
  const slots = d.maxMemory!.slots;
  // 9.0.0 counts every device against the slots before it looks at any of them.
  if (!profile.behaviour.memorySlotsForDimmsOnly && mems.length > slots)
    fail('CONFIG_UNSUPPORTED', `memory device count '${mems.length}' exceeds slots count '${slots}'`);
  let needed = 0;
  for (const m of mems) {
    if (m.model === 'dimm' || m.model === 'nvdimm') needed++;
    validateHotplugDevice(d, profile, m);
  }
  if (profile.behaviour.memorySlotsForDimmsOnly && needed > slots)
    fail('CONFIG_UNSUPPORTED', `count of memory devices requiring memory slots '${needed}' exceeds slots count '${slots}'`);
  if (hotplugKiB(d) > d.maxMemory!.kib - initialMemoryKiB(d)) fail('CONFIG_UNSUPPORTED', 'memory device total size exceeds hotplug space');
}

/** qemuValidateDomainDefMemory: what huge pages may be combined with. */
export function validateMemoryBacking(d: Domain, profile: Profile): void {
  const mb = d.memoryBacking;
  const pages = mb?.hugepages;
  if (!mb || !pages?.length) return;
  if (mb.allocation === 'ondemand') fail('CONFIG_UNSUPPORTED', 'hugepages are not allowed with memory allocation ondemand');
  if (mb.allocationThreads > 0 && !profile.flags.preallocThreads) fail('CONFIG_UNSUPPORTED', 'preallocation threads are unsupported with this QEMU');
  if (mb.source === 'anonymous') fail('CONFIG_UNSUPPORTED', 'hugepages are not allowed with anonymous memory source');
  if (mb.source === 'memfd' && !profile.flags.memfdHugetlb) fail('CONFIG_UNSUPPORTED', 'hugepages is not supported with memfd memory source');
  // Without a machine RAM id and without NUMA cells only -mem-path is there: no shared access.
  if (!profile.flags.machineMemoryBackend && pages[0].sizeKiB !== profile.systemPageSizeKiB && !(d.cpu?.cells.length)
      && mb.access !== undefined && mb.access !== 'private')
    fail('CONFIG_UNSUPPORTED', `memory access mode '${mb.access}' not supported without guest numa node`);
}

/** virDomainDefMemtuneValidate: per-node pages may not overlap, one page without nodeset at
 *  most, and every node named must be a guest cell. */
export function validateMemtune(d: Domain): void {
  const pages = d.memoryBacking?.hugepages;
  if (!pages) return; // most domains: no <hugepages>, nothing to compare
  const ncells = d.cpu?.cells.length ?? 0;
  pages.forEach((p, i) => {
    for (let j = 0; j < i; j++) {
      const q = pages[j];
      if (p.nodeset && q.nodeset && p.nodeset.some((n) => q.nodeset!.includes(n)))
        fail('XML_DETAIL', `nodeset attribute of hugepages of sizes ${p.sizeKiB} and ${q.sizeKiB} intersect`);
      else if (!p.nodeset && !q.nodeset) fail('XML_DETAIL', `two master hugepages detected: ${p.sizeKiB} and ${q.sizeKiB}`);
    }
    if (!p.nodeset) return;
    const beyond = p.nodeset.find((n) => n > ncells - 1);
    if (beyond !== undefined) fail('XML_DETAIL', `hugepages: node ${beyond} not found`);
  });
}

/** qemuAssignDeviceMemoryAlias: dimm/nvdimm after their slot, the others in order per prefix. */
export function memoryAliases(d: Domain): void {
  const prefix = { dimm: 'dimm', nvdimm: 'nvdimm', 'virtio-pmem': 'virtiopmem', 'virtio-mem': 'virtiomem', 'sgx-epc': 'epc' } as const;
  const next = new Map<string, number>();
  for (const m of d.devices.memories) {
    const p = prefix[m.model];
    if ((m.model === 'dimm' || m.model === 'nvdimm') && m.address?.type === 'dimm') { m.alias = `${p}${m.address.slot}`; continue; }
    const n = next.get(p) ?? 0;
    m.alias = `${p}${n}`;
    next.set(p, n + 1);
  }
}

/** The sizes the command line uses, as qemuDomainAlignMemorySizes leaves them (KiB). */
export interface AlignedSizes {
  cells: number[];
  initial: number;
  max: number;
  devices: number[];
}

/** qemuDomainAlignMemorySizes: cells and initial RAM to 1 MiB, <maxMemory> to 1 MiB, memory
 *  modules to 2 MiB; sizes past 2^63 bytes overflow with libvirt's words. */
export function alignMemorySizes(d: Domain, incoming = false): AlignedSizes {
  // An incoming migration keeps every size as the source had it (qemuProcessPrepareDomain aligns
  // only on a new start): initial memory is then the total less the devices.
  if (incoming) {
    return { cells: (d.cpu?.cells ?? []).map((c) => c.memoryKiB), initial: initialMemoryKiB(d), max: d.maxMemory?.kib ?? 0,
      devices: d.devices.memories.map((m) => m.target.sizeKiB) };
  }
  const MAX = 9007199254740991; // virMemoryMaxValue(false) >> 10
  const up = (kib: number, to: number): number => Math.ceil(kib / to) * to;
  const cells = (d.cpu?.cells ?? []).map((c, i) => {
    const v = up(c.memoryKiB, 1024);
    if (v > MAX) fail('CONFIG_UNSUPPORTED', `memory size of NUMA node '${i}' overflowed after alignment`);
    return v;
  });
  let initial = cells.reduce((s, v) => s + v, 0);
  if (initial === 0) initial = up(initialMemoryKiB(d), 1024);
  if (initial > MAX) fail('CONFIG_UNSUPPORTED', 'initial memory size overflowed after alignment');
  const max = up(d.maxMemory?.kib ?? 0, 1024);
  if (max > MAX) fail('CONFIG_UNSUPPORTED', 'maximum memory size overflowed after alignment');
  const devices = d.devices.memories.map((m, i) => {
    const v = up(m.target.sizeKiB, 2048);
    if (v > MAX) fail('CONFIG_UNSUPPORTED', `size of memory module '${i}' overflowed after alignment`);
    return v;
  });
  return { cells, initial, max, devices };
}
