// The series' memory territory as libvirt reads it: <maxMemory>, <memoryBacking>
// (virDomainDefParseMemory, virDomainHugepagesParseXML) and <memory model=…> devices
// (virDomainMemoryDefParseXML with its <source> and <target>), in libvirt's order and words.
import type { Bitmap } from './bitmap.js';
import { fail, notModelled } from './errors.js';
import type { HugePage, MemoryBacking, MemoryDevice, MemoryModel, Memtune, PciAddress } from './domain.js';
import { nonEmptyBitmap, parseUInt, parseUuid, propEnum, propSwitch, propTristate, propUInt } from './props.js';
import { parseMemoryKiB, parseMemoryLimitKiB } from './units.js';
import type { Behaviour } from './profile.js';
import { attr, child, childrenNamed, firstAttr, select, type XmlElement } from './xml-tree.js';

/** virXPathUInt on an attribute's value: -2 (not an unsigned int) gets the caller's words. */
function xpathUInt(v: string | undefined, words: string): number {
  if (v === undefined || v === '') return 0;
  const n = parseUInt(v);
  if (n === null) fail('XML_ERROR', words);
  return n!;
}

/** virDomainHugepagesParseXML */
function parseHugePage(el: XmlElement): HugePage {
  const sizeKiB = parseMemoryKiB(attr(el, 'size'), attr(el, 'unit'), './@size', true)!;
  if (!sizeKiB) fail('XML_DETAIL', "hugepage size can't be zero");
  const page: HugePage = { sizeKiB };
  const ns = attr(el, 'nodeset');
  if (ns !== undefined) page.nodeset = nonEmptyBitmap(ns, 'nodeset');
  return page;
}

const NO_MEMORY_TERRITORY = Object.freeze({});

/** The part of virDomainDefParseMemory after <memory>/<currentMemory>: <maxMemory> and the
 *  memory backing. libvirt reads the backing by XPath without [1] (./memoryBacking/source/@type,
 *  boolean(./memoryBacking/locked), …): every <memoryBacking> and every repeated child counts,
 *  each attribute from the first element that has it, the pages of every <hugepages>. */
export function parseMemoryBacking(root: XmlElement): { maxMemory?: { kib: number; slots: number }; memoryBacking?: MemoryBacking; dumpCore?: boolean } {
  const maxEl = child(root, 'maxMemory');
  // <memory dumpCore>, read between <maxMemory> and the backing (virXMLPropTristateSwitch).
  const memEl = child(root, 'memory');
  const dumpCoreOf = (): boolean | undefined => (memEl ? propSwitch(memEl, 'dumpCore') : undefined);
  // Neither is there in most domains: no reads, and one answer shared by all of them.
  if (!maxEl && !child(root, 'memoryBacking')) {
    const dumpCore = dumpCoreOf();
    return dumpCore === undefined ? NO_MEMORY_TERRITORY : { dumpCore };
  }
  const maxKiB = maxEl ? parseMemoryKiB(maxEl.text, attr(maxEl, 'unit'), './maxMemory[1]', false) ?? 0 : 0;
  const slots = xpathUInt(maxEl && attr(maxEl, 'slots'), 'Failed to parse memory slot count');
  const maxMemory = maxKiB || slots ? { kib: maxKiB, slots } : undefined;
  const dumpCore = dumpCoreOf();
  if (!child(root, 'memoryBacking')) return { maxMemory, dumpCore };
  const under = (name: string): XmlElement[] => select(root, 'memoryBacking', name);
  const enumOf = <T extends string>(v: string | undefined, values: readonly T[], what: string): T | undefined => {
    if (v === undefined || v === '') return undefined;
    // virDomain…TypeFromString(tmp) <= 0: the 'default'/'none' first word is refused too.
    if (!values.includes(v as T)) fail('CONFIG_UNSUPPORTED', `unknown memoryBacking/${what} '${v}'`);
    return v as T;
  };
  const source = enumOf(firstAttr(under('source'), 'type'), ['file', 'anonymous', 'memfd'] as const, 'source/type');
  const access = enumOf(firstAttr(under('access'), 'mode'), ['shared', 'private'] as const, 'access/mode');
  const allocs = under('allocation');
  const allocation = enumOf(firstAttr(allocs, 'mode'), ['immediate', 'ondemand'] as const, 'allocation/mode');
  const allocationThreads = xpathUInt(firstAttr(allocs, 'threads'), 'Failed to parse memory allocation threads');
  const backing: MemoryBacking = {
    nosharepages: under('nosharepages').length > 0, locked: under('locked').length > 0, discard: under('discard').length > 0,
    source, access, allocation, allocationThreads,
  };
  if (under('hugepages').length) {
    const pages = select(root, 'memoryBacking', 'hugepages', 'page');
    backing.hugepages = pages.length ? pages.map(parseHugePage) : [{ sizeKiB: 0 }];
  }
  return { maxMemory, memoryBacking: backing, dumpCore };
}

/** The <memtune> part of virDomainDefTunablesParse. Each value is read as string(./memtune/X[1])
 *  and its unit as string(./memtune/X[1]/@unit): the first X of every <memtune>, the number from
 *  the first of them, the unit from the first that has one. The limits are capped at "unlimited";
 *  min_guarantee is an ordinary memory size. */
export function parseMemtune(root: XmlElement): Memtune | undefined {
  const tunes = childrenNamed(root, 'memtune');
  if (!tunes.length) return undefined;
  const read = (name: string): { text?: string; unit?: string } => {
    const els = tunes.flatMap((t) => child(t, name) ?? []);
    return { text: els[0]?.text, unit: firstAttr(els, 'unit') };
  };
  const limit = (name: string): number | undefined => {
    const v = read(name);
    return parseMemoryLimitKiB(v.text, v.unit, `./memtune/${name}[1]`);
  };
  const hardLimitKiB = limit('hard_limit');
  const softLimitKiB = limit('soft_limit');
  const g = read('min_guarantee');
  const minGuaranteeKiB = parseMemoryKiB(g.text, g.unit, './memtune/min_guarantee[1]', false) ?? 0;
  const swapHardLimitKiB = limit('swap_hard_limit');
  return { hardLimitKiB, softLimitKiB, minGuaranteeKiB, swapHardLimitKiB };
}

const MODELS: readonly MemoryModel[] = ['dimm', 'nvdimm', 'virtio-pmem', 'virtio-mem', 'sgx-epc'];

/** A size read as virDomainParseMemory reads "./A/B" with "./A/B/@unit", in KiB: the number from
 *  the first such element, the unit from the first one that has a unit (two XPath reads). */
function sizeOf(parent: XmlElement, path: readonly string[], xpath: string, required: boolean): number | undefined {
  const els = select(parent, ...path);
  return parseMemoryKiB(els[0]?.text, firstAttr(els, 'unit'), xpath, required);
}

function nodemaskOf(src: XmlElement): Bitmap | undefined {
  const el = child(src, 'nodemask');
  if (!el || el.text === '') return undefined;
  return nonEmptyBitmap(el.text, 'nodemask');
}

/** <address type='dimm' slot base> or a PCI address; base is hexadecimal (virXMLPropULongLong, base 16). */
function parseMemoryAddress(el: XmlElement, parsePci: (el: XmlElement) => PciAddress): MemoryDevice['address'] {
  const type = attr(el, 'type');
  if (type === 'pci') return parsePci(el);
  if (type !== 'dimm') notModelled(`memory device address type '${type ?? ''}'`);
  const slot = propUInt(el, 'slot', false) ?? 0;
  const b = attr(el, 'base');
  if (b === undefined) return { type: 'dimm', slot };
  const m = /^[ \t\n]*(?:0x)?([0-9a-fA-F]+)$/.exec(b);
  if (!m || BigInt(`0x${m[1]}`) > 0xffffffffffffffffn)
    fail('XML_ERROR', `Invalid value for attribute 'base' in element 'address': '${b}'. Expected non-negative integer value`);
  return { type: 'dimm', slot, base: BigInt(`0x${m![1]}`) };
}

/** virDomainMemoryDefParseXML (x86_64: dimm, nvdimm, virtio-pmem, virtio-mem, sgx-epc). */
export function parseMemoryDevice(el: XmlElement, parsePci: (el: XmlElement) => PciAddress, behaviour: Behaviour): MemoryDevice {
  const model = propEnum(el, 'model', ['', ...MODELS] as readonly string[], true, true) as MemoryModel;
  const access = propEnum(el, 'access', ['default', 'shared', 'private'] as const, false, true) as MemoryDevice['access'];
  const discard = propTristate(el, 'discard');
  const dev: MemoryDevice = { model, source: {}, target: { sizeKiB: 0, node: -1 } };
  if (access) dev.access = access;
  if (discard !== undefined) dev.discard = discard;
  if (model === 'nvdimm') {
    const u = child(el, 'uuid');
    if (u) dev.uuid = parseUuid(u.text);
  }
  const src = child(el, 'source');
  if (src) {
    if (model === 'dimm' || model === 'virtio-mem') {
      const page = sizeOf(src, ['pagesize'], './pagesize', false);
      if (page) dev.source.pagesizeKiB = page;
      dev.source.nodemask = nodemaskOf(src);
    } else if (model === 'nvdimm' || model === 'virtio-pmem') {
      const p = child(src, 'path');
      if (p && p.text !== '') dev.source.path = p.text;
      if (model === 'nvdimm') {
        const align = sizeOf(src, ['alignsize'], './alignsize', false);
        if (align) dev.source.alignsizeKiB = align;
        if (child(src, 'pmem')) dev.source.pmem = true;
      }
    } else dev.source.nodemask = nodemaskOf(src);
    if (dev.source.nodemask === undefined) delete dev.source.nodemask;
  }
  const tgt = child(el, 'target');
  if (!tgt) fail('XML_ERROR', 'missing <target> element for <memory> device');
  const nodeEl = child(tgt!, 'node');
  if (nodeEl && nodeEl.text !== '') {
    const m = /^[ \t\n]*([+-]?\d+)$/.exec(nodeEl.text);
    const n = m ? Number(m[1]) : NaN;
    if (!m || n < 0 || n > 2147483647) fail('XML_ERROR', 'invalid value of memory device node');
    dev.target.node = n;
  }
  dev.target.sizeKiB = sizeOf(tgt!, ['size'], './size', true)!;
  if (model === 'nvdimm') {
    const lsize = sizeOf(tgt!, ['label', 'size'], './label/size', false) ?? 0;
    if (lsize && lsize < 128) fail('XML_ERROR', 'nvdimm label must be at least 128KiB');
    if (lsize >= dev.target.sizeKiB) fail('XML_ERROR', 'label size must be smaller than NVDIMM size');
    if (lsize) dev.target.labelKiB = lsize;
    if (child(tgt!, 'readonly')) dev.target.readonly = true;
  }
  if (model === 'virtio-mem') {
    const block = sizeOf(tgt!, ['block'], './block', false);
    const requested = sizeOf(tgt!, ['requested'], './requested', false);
    if (block) dev.target.blockKiB = block;
    if (requested !== undefined) dev.target.requestedKiB = requested;
    // Older releases do not know the attribute and ignore it (behaviour.virtioMemDynamicMemslots).
    if (behaviour.virtioMemDynamicMemslots) {
      const dyn = propTristate(tgt!, 'dynamicMemslots');
      if (dyn !== undefined) dev.target.dynamicMemslots = dyn;
    }
  }
  // Older releases do not read <target><address> at all (behaviour.memoryTargetAddress).
  if ((model === 'virtio-mem' || model === 'virtio-pmem') && behaviour.memoryTargetAddress) {
    const a = child(tgt!, 'address');
    if (a) {
      const b = attr(a, 'base');
      if (b !== undefined) {
        const m = /^[ \t\n]*(?:0x)?([0-9a-fA-F]+)$/.exec(b);
        if (!m) fail('XML_ERROR', `Invalid value for attribute 'base' in element 'address': '${b}'. Expected non-negative integer value`);
        const v = BigInt(`0x${m![1]}`);
        if (v % 1024n) notModelled('a memory device target address that is not a whole KiB');
        dev.target.addressKiB = Number(v / 1024n);
      }
    }
  }
  const addr = child(el, 'address');
  if (addr) dev.address = parseMemoryAddress(addr, parsePci);
  return dev;
}

