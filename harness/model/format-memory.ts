// <maxMemory>, <memoryBacking> and <memory model=…> devices as virDomainDefFormat prints them
// (virDomainMemorybackingFormat, virDomainMemoryDefFormat): empty containers are left out.
import { formatBitmap } from './bitmap.js';
import type { Domain, MemoryDevice, PciAddress } from './domain.js';
import { esc } from './escape.js';

/** The lines between <currentMemory> and <vcpu> (after <memory> for maxMemory: see formatMaxMemory). */
export function formatMemoryBacking(d: Domain, ind: string): string[] {
  const mb = d.memoryBacking;
  if (!mb) return [];
  const kids: string[] = [];
  const pages = mb.hugepages;
  if (pages) {
    // One page of size 0 is how libvirt keeps a bare <hugepages/>.
    if (pages.length !== 1 || pages[0].sizeKiB !== 0) {
      kids.push(`${ind}  <hugepages>`);
      for (const p of pages) kids.push(`${ind}    <page size='${p.sizeKiB}' unit='KiB'${p.nodeset ? ` nodeset='${formatBitmap(p.nodeset)}'` : ''}/>`);
      kids.push(`${ind}  </hugepages>`);
    } else kids.push(`${ind}  <hugepages/>`);
  }
  if (mb.nosharepages) kids.push(`${ind}  <nosharepages/>`);
  if (mb.locked) kids.push(`${ind}  <locked/>`);
  if (mb.source) kids.push(`${ind}  <source type='${mb.source}'/>`);
  if (mb.access) kids.push(`${ind}  <access mode='${mb.access}'/>`);
  let alloc = '';
  if (mb.allocation) alloc += ` mode='${mb.allocation}'`;
  if (mb.allocationThreads > 0) alloc += ` threads='${mb.allocationThreads}'`;
  if (alloc) kids.push(`${ind}  <allocation${alloc}/>`);
  if (mb.discard) kids.push(`${ind}  <discard/>`);
  return kids.length ? [`${ind}<memoryBacking>`, ...kids, `${ind}</memoryBacking>`] : [];
}

/** virDomainMemtuneFormat: the limits that are set, min_guarantee when nonzero; no empty element. */
export function formatMemtune(d: Domain, ind: string): string[] {
  const m = d.memtune;
  if (!m) return [];
  const kids: string[] = [];
  const line = (name: string, kib: number | undefined): void => { if (kib !== undefined) kids.push(`${ind}  <${name} unit='KiB'>${kib}</${name}>`); };
  line('hard_limit', m.hardLimitKiB);
  line('soft_limit', m.softLimitKiB);
  line('min_guarantee', m.minGuaranteeKiB || undefined);
  line('swap_hard_limit', m.swapHardLimitKiB);
  return kids.length ? [`${ind}<memtune>`, ...kids, `${ind}</memtune>`] : [];
}

/** <maxMemory>, printed before <memory> whenever memory hotplug is set up; releases where slots
 *  are optional leave out slots='0' (behaviour.memorySlotsForDimmsOnly). */
export function formatMaxMemory(d: Domain, ind: string, slotsOptional: boolean): string[] {
  const mx = d.maxMemory;
  if (!mx || !(mx.kib || mx.slots)) return [];
  const slots = slotsOptional && !mx.slots ? '' : ` slots='${mx.slots}'`;
  return [`${ind}<maxMemory${slots} unit='KiB'>${mx.kib}</maxMemory>`];
}

/** One <memory model=…> device; `address` formats a PCI address the way format.ts does. */
export function formatMemoryDevice(m: MemoryDevice, ind: string, address: (a: PciAddress) => string): string[] {
  const out: string[] = [];
  let head = `${ind}<memory model='${m.model}'`;
  if (m.access) head += ` access='${m.access}'`;
  if (m.discard !== undefined) head += ` discard='${m.discard ? 'yes' : 'no'}'`;
  out.push(`${head}>`);
  if (m.uuid) out.push(`${ind}  <uuid>${m.uuid}</uuid>`);
  const src: string[] = [];
  const s = m.source;
  if (m.model === 'dimm' || m.model === 'virtio-mem') {
    if (s.nodemask) src.push(`${ind}    <nodemask>${formatBitmap(s.nodemask)}</nodemask>`);
    if (s.pagesizeKiB) src.push(`${ind}    <pagesize unit='KiB'>${s.pagesizeKiB}</pagesize>`);
  } else if (m.model === 'nvdimm' || m.model === 'virtio-pmem') {
    if (s.path !== undefined) src.push(`${ind}    <path>${esc(s.path)}</path>`);
    if (s.alignsizeKiB) src.push(`${ind}    <alignsize unit='KiB'>${s.alignsizeKiB}</alignsize>`);
    if (s.pmem) src.push(`${ind}    <pmem/>`);
  } else if (s.nodemask) src.push(`${ind}    <nodemask>${formatBitmap(s.nodemask)}</nodemask>`);
  if (src.length) out.push(`${ind}  <source>`, ...src, `${ind}  </source>`);
  const t = m.target;
  out.push(`${ind}  <target${t.dynamicMemslots === undefined ? '' : ` dynamicMemslots='${t.dynamicMemslots ? 'yes' : 'no'}'`}>`);
  out.push(`${ind}    <size unit='KiB'>${t.sizeKiB}</size>`);
  if (t.node >= 0) out.push(`${ind}    <node>${t.node}</node>`);
  if (t.labelKiB) out.push(`${ind}    <label>`, `${ind}      <size unit='KiB'>${t.labelKiB}</size>`, `${ind}    </label>`);
  if (t.readonly) out.push(`${ind}    <readonly/>`);
  if (t.blockKiB) {
    out.push(`${ind}    <block unit='KiB'>${t.blockKiB}</block>`);
    out.push(`${ind}    <requested unit='KiB'>${t.requestedKiB ?? 0}</requested>`);
  }
  if (t.addressKiB) out.push(`${ind}    <address base='0x${(BigInt(t.addressKiB) * 1024n).toString(16)}'/>`);
  out.push(`${ind}  </target>`);
  const a = m.address;
  if (a?.type === 'dimm') out.push(`${ind}  <address type='dimm' slot='${a.slot}'${a.base ? ` base='0x${a.base.toString(16)}'` : ''}/>`);
  else if (a) out.push(`${ind}  ${address(a)}`);
  out.push(`${ind}</memory>`);
  return out;
}
