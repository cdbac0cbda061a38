// Domain XML -> Domain, in the order libvirt 9.0.0's virDomainDefParseXML reads it, so the
// first error reported is the one libvirt reports. Anything outside the vocabulary is refused.
import { parseBitmap, bitmapIsEmpty, bitmapOverlaps, bitmapLast, CPUMASK_LEN, type Bitmap } from './bitmap.js';
import { fail, notModelled } from './errors.js';
import { parseMemoryKiB, parseScaled } from './units.js';
import { attr, child, childrenNamed, type XmlElement } from './xml-tree.js';
import { BEHAVIOUR_9_0_0, type Behaviour } from './profile.js';
import type {
  BootDev, CpuDef, Disk, Controller, Domain, Interconnect, MemnodeTune, NumaCache, NumaCell, NumaMode,
  Numatune, PciAddress, DriveAddress, Placement, Input,
} from './domain.js';

const NUMA_MODES: readonly NumaMode[] = ['strict', 'preferred', 'interleave', 'restrictive'];

/** Elements and attributes the model reproduces; anything else is "not modelled". */
const VOCABULARY: Record<string, readonly string[]> = {
  domain: ['type'],
  'domain/name': [], 'domain/uuid': [],
  'domain/memory': ['unit'], 'domain/currentMemory': ['unit'],
  'domain/vcpu': ['placement', 'cpuset', 'current'],
  'domain/iothreads': [],
  'domain/cputune': [], 'domain/cputune/vcpupin': ['vcpu', 'cpuset'],
  'domain/cputune/emulatorpin': ['cpuset'], 'domain/cputune/iothreadpin': ['iothread', 'cpuset'],
  'domain/numatune': [], 'domain/numatune/memory': ['mode', 'nodeset', 'placement'],
  'domain/numatune/memnode': ['cellid', 'mode', 'nodeset'],
  'domain/os': [], 'domain/os/type': ['arch', 'machine'], 'domain/os/boot': ['dev'], 'domain/os/bootmenu': ['enable', 'timeout'],
  'domain/features': [], 'domain/features/acpi': [], 'domain/features/apic': [], 'domain/features/pae': [],
  'domain/cpu': ['mode', 'match', 'check'], 'domain/cpu/model': ['fallback'],
  'domain/cpu/topology': ['sockets', 'dies', 'clusters', 'cores', 'threads'],
  'domain/cpu/numa': [], 'domain/cpu/numa/cell': ['id', 'cpus', 'memory', 'unit', 'memAccess', 'discard'],
  'domain/cpu/numa/cell/distances': [], 'domain/cpu/numa/cell/distances/sibling': ['id', 'value'],
  'domain/cpu/numa/cell/cache': ['level', 'associativity', 'policy'],
  'domain/cpu/numa/cell/cache/size': ['value', 'unit'], 'domain/cpu/numa/cell/cache/line': ['value', 'unit'],
  'domain/cpu/numa/interconnects': [],
  'domain/cpu/numa/interconnects/latency': ['initiator', 'target', 'cache', 'type', 'value'],
  'domain/cpu/numa/interconnects/bandwidth': ['initiator', 'target', 'cache', 'type', 'value', 'unit'],
  'domain/clock': ['offset'],
  'domain/on_poweroff': [], 'domain/on_reboot': [], 'domain/on_crash': [],
  'domain/devices': [], 'domain/devices/emulator': [],
  'domain/devices/disk': ['type', 'device'], 'domain/devices/disk/source': ['dev'],
  'domain/devices/disk/target': ['dev', 'bus'], 'domain/devices/disk/driver': ['name', 'type'], 'domain/devices/disk/readonly': [],
  'domain/devices/disk/address': ['type', 'controller', 'bus', 'target', 'unit', 'domain', 'slot', 'function'],
  'domain/devices/controller': ['type', 'index', 'model'],
  'domain/devices/controller/address': ['type', 'domain', 'bus', 'slot', 'function', 'multifunction'],
  'domain/devices/controller/model': ['name'], 'domain/devices/controller/target': ['chassis', 'port'],
  'domain/devices/watchdog': ['model', 'action'],
  'domain/devices/input': ['type', 'bus'],
  'domain/devices/memballoon': ['model'],
  'domain/devices/memballoon/address': ['type', 'domain', 'bus', 'slot', 'function'],
  'domain/devices/audio': ['id', 'type'],
};

interface VocabNode { attrs: Set<string>; children: Map<string, VocabNode> }

/** The flat table as a tree, built once, so checking a document allocates nothing. */
const VOCAB_TREE: VocabNode = (() => {
  const root: VocabNode = { attrs: new Set(VOCABULARY.domain), children: new Map() };
  for (const [path, attrs] of Object.entries(VOCABULARY)) {
    let node = root;
    for (const part of path.split('/').slice(1)) {
      let next = node.children.get(part);
      if (!next) { next = { attrs: new Set(), children: new Map() }; node.children.set(part, next); }
      node = next;
    }
    for (const a of attrs) node.attrs.add(a);
  }
  return root;
})();

/** Refuse anything outside the vocabulary; `path` is a shared stack, spelled out only for errors. */
function checkVocabulary(el: XmlElement, node: VocabNode, path: string[]): void {
  path.push(el.name);
  for (let i = 0; i < el.attrs.length; i++) {
    const name = el.attrs[i][0];
    if (!node.attrs.has(name) && !name.startsWith('xmlns')) notModelled(`attribute '${name}' of <${el.name}> (at ${path.join('/')})`);
  }
  for (let i = 0; i < el.children.length; i++) {
    const c = el.children[i];
    const next = node.children.get(c.name);
    if (!next) notModelled(`element <${c.name}> (at ${path.join('/')}/${c.name})`);
    checkVocabulary(c, next!, path);
  }
  path.pop();
}

/** virStrToLong_uip-style unsigned parse: digits only after optional spaces, no sign. */
function parseUInt(s: string): number | null {
  const m = /^[ \t\n\r\f\v]*(\+?)(\d+)$/.exec(s);
  if (!m) return null;
  const v = Number(m[2]);
  return v > 4294967295 ? null : v;
}

/** virXMLPropUInt: returns undefined when absent and not required. */
function propUInt(el: XmlElement, name: string, required: boolean, nonzero = false): number | undefined {
  const v = attr(el, name);
  if (v === undefined) {
    if (!required) return undefined;
    return fail('XML_ERROR', `Missing required attribute '${name}' in element '${el.name}'`);
  }
  const n = parseUInt(v);
  if (n === null) fail('XML_ERROR', `Invalid value for attribute '${name}' in element '${el.name}': '${v}'. Expected non-negative integer value`);
  if (nonzero && n === 0) fail('XML_ERROR', `Invalid value for attribute '${name}' in element '${el.name}': Zero is not permitted`);
  return n!;
}

/** virXMLPropEnum: unknown values use libvirt's generic wording. */
function propEnum<T extends string>(el: XmlElement, name: string, values: readonly T[], required = false, nonzeroFirst = false): T | undefined {
  const v = attr(el, name);
  if (v === undefined) {
    if (!required) return undefined;
    return fail('XML_ERROR', `Missing required attribute '${name}' in element '${el.name}'`);
  }
  const idx = values.indexOf(v as T);
  if (idx < 0 || (nonzeroFirst && idx === 0)) fail('XML_ERROR', `Invalid value for attribute '${name}' in element '${el.name}': '${v}'.`);
  return v as T;
}

function propTristate(el: XmlElement, name: string): boolean | undefined {
  const v = propEnum(el, name, ['absent', 'yes', 'no'] as const, false, true);
  return v === undefined ? undefined : v === 'yes';
}

function parseUuid(text: string): string {
  // virUUIDParse: 32 hex digits, '-' allowed between byte pairs, surrounding spaces tolerated.
  const hex = text.trim().replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) fail('INTERNAL_ERROR', 'malformed uuid element');
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function nonEmptyBitmap(value: string, what: string): Bitmap {
  const map = parseBitmap(value, CPUMASK_LEN);
  if (bitmapIsEmpty(map)) fail('CONFIG_UNSUPPORTED', `Invalid value of '${what}': ${value}`);
  return map;
}

function parsePciAddress(el: XmlElement): PciAddress {
  const t = attr(el, 'type');
  if (t !== 'pci') notModelled(`address type '${t ?? ''}' here`);
  const num = (n: string): number => {
    const v = attr(el, n);
    if (v === undefined) return 0;
    const x = /^0x[0-9a-fA-F]+$/.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? parseInt(v, 10) : NaN;
    if (Number.isNaN(x)) notModelled(`address ${n}='${v}'`);
    return x;
  };
  const a: PciAddress = { type: 'pci', domain: num('domain'), bus: num('bus'), slot: num('slot'), function: num('function') };
  const multi = propEnum(el, 'multifunction', ['default', 'on', 'off'] as const, false, true);
  if (multi) a.multifunction = multi === 'on';
  // virPCIDeviceAddressParseXML checks an address at parse time unless domain, bus and slot are
  // all zero (virPCIDeviceAddressIsEmpty ignores the function).
  if (a.domain || a.bus || a.slot) {
    if (a.bus > 0xff) fail('XML_ERROR', `Invalid PCI address bus='0x${a.bus.toString(16)}', must be <= 0xFF`);
    if (a.slot > 0x1f) fail('XML_ERROR', `Invalid PCI address slot='0x${a.slot.toString(16)}', must be <= 0x1F`);
    if (a.function > 7) fail('XML_ERROR', `Invalid PCI address function=0x${a.function.toString(16)}, must be <= 7`);
  }
  return a;
}

function parseDriveAddress(el: XmlElement): DriveAddress {
  const n = (k: string): number => propUInt(el, k, false) ?? 0;
  return { type: 'drive', controller: n('controller'), bus: n('bus'), target: n('target'), unit: n('unit') };
}

function parseVcpu(root: XmlElement): Domain['vcpu'] {
  const el = child(root, 'vcpu');
  let max = 1;
  let current = 1;
  let placement: Placement = 'static';
  let cpuset: Bitmap | undefined;
  if (el) {
    // virStrToLong_ui takes '-N' as 2^32 - N: the attributes are still read, then libvirt tries
    // to allocate that many vCPUs and dies (cases/crashes/crash-virDomainDefSetVcpusMax).
    const neg = /^[ \t\n\r\f\v]*-(\d+)$/.exec(el.text);
    const n = neg && Number(neg[1]) <= 4294967295 ? (4294967296 - Number(neg[1])) % 4294967296 : parseUInt(el.text);
    if (n === null) fail('XML_ERROR', 'maximum vcpus count must be an integer');
    max = n!;
    current = propUInt(el, 'current', false) ?? max;
    placement = propEnum(el, 'placement', ['static', 'auto'] as const) ?? 'static';
    if (placement !== 'auto') {
      const s = attr(el, 'cpuset');
      if (s !== undefined) cpuset = nonEmptyBitmap(s, 'cpuset');
    }
    if (neg && max > 0) notModelled(`a negative <vcpu> count ('${el.text.trim()}' is ${max} to libvirt, which it fails to allocate)`);
  }
  // virDomainDefSetVcpus; a zero count is checked after the cells (postParse), as libvirt does.
  if (current > max) fail('CONFIG_UNSUPPORTED', 'maximum vCPU count must not be less than current vCPU count');
  return { max, current, placement, cpuset };
}

function parseCputune(root: XmlElement, d: Pick<Domain, 'vcpu' | 'iothreads'>): Domain['cputune'] {
  const out: Domain['cputune'] = { vcpupin: new Map(), iothreadpin: new Map() };
  const ct = child(root, 'cputune');
  if (!ct) return out;
  for (const pin of childrenNamed(ct, 'vcpupin')) {
    const id = propUInt(pin, 'vcpu', true)!;
    if (id >= d.vcpu.max) continue; // libvirt: "Ignoring vcpupin for missing vcpus"
    const s = attr(pin, 'cpuset');
    if (s === undefined) fail('INTERNAL_ERROR', 'missing cpuset for vcpupin');
    if (out.vcpupin.has(id)) fail('INTERNAL_ERROR', `duplicate vcpupin for vcpu '${id}'`);
    out.vcpupin.set(id, nonEmptyBitmap(s!, 'cpuset'));
  }
  const emu = childrenNamed(ct, 'emulatorpin');
  if (emu.length > 1) fail('XML_ERROR', 'only one emulatorpin is supported');
  if (emu.length === 1) {
    const s = attr(emu[0], 'cpuset');
    if (s === undefined) fail('INTERNAL_ERROR', 'missing cpuset for emulatorpin');
    out.emulatorpin = nonEmptyBitmap(s!, 'cpuset');
  }
  for (const pin of childrenNamed(ct, 'iothreadpin')) {
    const id = propUInt(pin, 'iothread', true, true)!;
    if (id > d.iothreads) fail('CONFIG_UNSUPPORTED', `Cannot find 'iothread' : ${id}`);
    const s = attr(pin, 'cpuset');
    if (s === undefined) fail('INTERNAL_ERROR', 'missing cpuset for iothreadpin');
    const map = nonEmptyBitmap(s!, 'cpuset');
    if (out.iothreadpin.has(id)) fail('INTERNAL_ERROR', `duplicate iothreadpin for same iothread '${id}'`);
    out.iothreadpin.set(id, map);
  }
  return out;
}

function parseCaches(cellEl: XmlElement, cellId: number, behaviour: Behaviour): NumaCache[] {
  return childrenNamed(cellEl, 'cache').map((c) => {
    if (behaviour.numaCachePlainProps) {
      const level = propUInt(c, 'level', true, true)!;
      const associativity = propEnum(c, 'associativity', ['none', 'direct', 'full'] as const, true)!;
      const policy = propEnum(c, 'policy', ['none', 'writeback', 'writethrough'] as const, true)!;
      return { level, associativity, policy, ...cacheSizes(c) };
    }
    const lv = attr(c, 'level');
    if (lv === undefined) fail('XML_ERROR', `Missing 'level' attribute in cache element for NUMA node ${cellId}`);
    const level = parseUInt(lv!);
    if (level === null || level === 0) fail('XML_ERROR', `Invalid 'level' attribute in cache element for NUMA node ${cellId}`);
    const assoc = attr(c, 'associativity');
    if (assoc === undefined) fail('XML_ERROR', `Missing 'associativity' attribute in cache element for NUMA node ${cellId}`);
    if (!['none', 'direct', 'full'].includes(assoc!)) fail('XML_ERROR', `Invalid cache associativity '${assoc}'`);
    // libvirt reports a missing policy, then goes on and reports it as invalid: the last word wins.
    const pol = attr(c, 'policy');
    if (!['none', 'writeback', 'writethrough'].includes(pol ?? '')) fail('XML_ERROR', `Invalid cache policy '${pol ?? '(null)'}'`);
    return { level: level!, associativity: assoc as NumaCache['associativity'], policy: pol as NumaCache['policy'], ...cacheSizes(c) };
  });
}

/** libvirt (9.0.0 and 11.3.0) reads the units from ./size/unit and ./line/unit *elements*, which
 *  the schema does not have: unit attributes are ignored (size in KiB, line in bytes). */
function cacheSizes(c: XmlElement): { sizeKiB: number; lineBytes: number } {
  const size = child(c, 'size');
  const line = child(c, 'line');
  const sizeKiB = parseMemoryKiB(size ? attr(size, 'value') : undefined, undefined, './size/@value', true)!;
  const lineBytes = Number(parseScaled(line ? attr(line, 'value') : undefined, undefined, 1n, './line/@value', true, 18446744073709551615n));
  return { sizeKiB, lineBytes };
}

function parseCells(numaEl: XmlElement, behaviour: Behaviour): { cells: NumaCell[]; interconnects: Interconnect[] } {
  const cellEls = childrenNamed(numaEl, 'cell');
  const n = cellEls.length;
  if (n === 0) fail('XML_ERROR', 'NUMA topology defined without NUMA cells');
  const cells: (NumaCell | undefined)[] = new Array(n).fill(undefined);
  const distanceRows: (number[] | undefined)[] = new Array(n).fill(undefined);
  cellEls.forEach((el, i) => {
    const id = propUInt(el, 'id', false) ?? i;
    if (id >= n)
      fail('XML_ERROR', "Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed");
    // libvirt notices a duplicate only through the first one's memory (mem_nodes[id].mem).
    if (cells[id]?.memoryKiB) fail('XML_ERROR', `Duplicate NUMA cell info for cell id '${id}'`);
    let cpus: Bitmap | undefined;
    const cpuStr = attr(el, 'cpus');
    if (cpuStr !== undefined) {
      const map = parseBitmap(cpuStr, CPUMASK_LEN);
      if (!bitmapIsEmpty(map)) cpus = map;
    }
    if (cpus) {
      for (let j = 0; j < n; j++) {
        const other = cells[j];
        if (j === id || !other?.cpus) continue;
        if (bitmapOverlaps(other.cpus, cpus)) fail('CONFIG_UNSUPPORTED', `NUMA cells ${id} and ${j} have overlapping vCPU ids`);
      }
    }
    const memoryKiB = parseMemoryKiB(attr(el, 'memory'), attr(el, 'unit'), './@memory', true)!;
    const memAccess = propEnum(el, 'memAccess', ['default', 'shared', 'private'] as const, false, true) as NumaCell['memAccess'];
    const discard = propTristate(el, 'discard');
    const cell: NumaCell = { id, cpus, memoryKiB, memAccess, discard, caches: [] };
    cells[id] = cell;
    // Distances: libvirt fills a row per cell and mirrors values into the sibling's row.
    const dist = child(el, 'distances');
    if (dist) {
      const sibs = childrenNamed(dist, 'sibling');
      if (sibs.length === 0) fail('XML_ERROR', 'NUMA distances defined without siblings');
      for (const s of sibs) {
        const sid = propUInt(s, 'id', true)!;
        if (sid >= n) fail('XML_ERROR', `'sibling_id ${sid}' does not refer to a valid cell within NUMA 'cell id ${id}'`);
        const value = propUInt(s, 'value', true)!;
        if (value < 10 || value > 255 || (sid === id && value !== 10) || (sid !== id && value === 10))
          fail('XML_ERROR', `'value ${value}' is invalid for 'sibling id ${sid}' under NUMA 'cell id ${id}'`);
        let l = distanceRows[id];
        if (!l) { l = new Array(n).fill(0); l[id] = 10; distanceRows[id] = l; }
        l[sid] = value;
        let r = distanceRows[sid];
        if (!r) { r = new Array(n).fill(0); r[sid] = 10; distanceRows[sid] = r; }
        if (!r[id]) r[id] = value;
      }
    }
    cell.caches = parseCaches(el, id, behaviour);
  });
  // An id given twice leaves another slot as libvirt allocated it: no cpus, no memory.
  const finalCells = cells.map((c, i) => c ?? { id: i, memoryKiB: 0, caches: [] }) as NumaCell[];
  finalCells.forEach((c, i) => { if (distanceRows[i]) c.distances = distanceRows[i]; });

  const interconnects: Interconnect[] = [];
  const ic = child(numaEl, 'interconnects');
  for (const el of ic?.children ?? []) {
    let value: number;
    if (el.name === 'latency') {
      const v = attr(el, 'value');
      if (v === undefined) fail('XML_ERROR', `Missing required attribute 'value' in element 'latency'`);
      const x = parseUInt(v!);
      if (x === null) fail('XML_ERROR', `Invalid value for attribute 'value' in element 'latency': '${v}'. Expected non-negative integer value`);
      value = x!;
    } else if (el.name === 'bandwidth') {
      value = parseMemoryKiB(attr(el, 'value'), attr(el, 'unit'), './@value', true)!;
    } else continue;
    const initiator = propUInt(el, 'initiator', true)!;
    const target = propUInt(el, 'target', true)!;
    const cache = propUInt(el, 'cache', false) ?? 0;
    const type = propEnum(el, 'type', ['none', 'access', 'read', 'write'] as const, true, true) as Interconnect['type'];
    interconnects.push({ kind: el.name, initiator, target, cache, type, value });
  }
  return { cells: finalCells, interconnects };
}

function parseCpu(root: XmlElement, behaviour: Behaviour): CpuDef | undefined {
  const el = child(root, 'cpu');
  if (!el) return undefined;
  const cpu: CpuDef = {
    mode: attr(el, 'mode'), match: attr(el, 'match'), check: attr(el, 'check'), cells: [], interconnects: [],
  };
  if (cpu.mode !== undefined && cpu.mode !== 'custom') notModelled(`cpu mode '${cpu.mode}'`);
  const model = child(el, 'model');
  if (model) cpu.model = { name: model.text.trim(), fallback: attr(model, 'fallback') };
  const topo = child(el, 'topology');
  if (topo) {
    const get = (k: string, dflt?: number): number => propUInt(topo, k, dflt === undefined, true) ?? dflt!;
    // clusters= is read only by releases that know it (libvirt >= 10); older ones would ignore it.
    if (!behaviour.topologyClusters && attr(topo, 'clusters') !== undefined) notModelled('<topology clusters> with a libvirt release that has no clusters');
    cpu.topology = { sockets: get('sockets'), dies: get('dies', 1), cores: get('cores'), threads: get('threads') };
    if (behaviour.topologyClusters) cpu.topology.clusters = get('clusters', 1);
  }
  return cpu;
}

function parseNumatune(root: XmlElement, placementStatic: boolean, ncells: number, behaviour: Behaviour): Numatune | undefined {
  const nt = childrenNamed(root, 'numatune');
  if (nt.length > 1) fail('XML_ERROR', 'only one numatune is supported');
  const memEl = nt[0] ? child(nt[0], 'memory') : undefined;
  let mode: NumaMode | undefined;
  let placement: Placement | 'default' | undefined;
  let nodeset: Bitmap | undefined;
  if (!placementStatic && !memEl) placement = 'auto';
  if (memEl) {
    const m = attr(memEl, 'mode');
    if (m !== undefined) {
      if (!NUMA_MODES.includes(m as NumaMode)) fail('CONFIG_UNSUPPORTED', `Unsupported NUMA memory tuning mode '${m}'`);
      mode = m as NumaMode;
    }
    const p = attr(memEl, 'placement');
    if (p !== undefined) {
      if (!['default', 'static', 'auto'].includes(p)) fail('CONFIG_UNSUPPORTED', `Unsupported NUMA memory placement mode '${p}'`);
      placement = p as Placement | 'default';
    }
    const ns = attr(memEl, 'nodeset');
    if (ns !== undefined) nodeset = nonEmptyBitmap(ns, 'nodeset');
  }
  const tune: Numatune = { memnodes: new Map() };
  // virDomainNumatuneSet
  if (mode !== undefined || placement !== undefined || nodeset) {
    const m = mode ?? 'strict';
    let pl = placement ?? 'default';
    if (nodeset && placement === undefined) pl = 'static';
    if (pl === 'default') pl = nodeset || placementStatic ? 'static' : 'auto';
    if (pl === 'static' && !nodeset) fail('CONFIG_UNSUPPORTED', "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
    tune.memory = { mode: m, placement: pl, nodeset: pl === 'auto' ? undefined : nodeset };
  }
  const memnodes = nt[0] ? childrenNamed(nt[0], 'memnode') : [];
  if (memnodes.length) {
    if (tune.memory?.placement === 'auto') fail('CONFIG_UNSUPPORTED', 'Per-node binding is not compatible with automatic NUMA placement.');
    if (!ncells) fail('XML_ERROR', "Element 'memnode' is invalid without any guest NUMA cells");
    for (const el of memnodes) {
      const cellid = propUInt(el, 'cellid', true)!;
      if (cellid >= ncells) fail('XML_ERROR', "Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell");
      if (tune.memnodes.has(cellid)) fail('XML_ERROR', `Multiple memnode elements with cellid ${cellid}`);
      const mode = propEnum(el, 'mode', NUMA_MODES) ?? 'strict';
      if (tune.memory?.mode === 'restrictive' && mode !== 'restrictive')
        fail('XML_ERROR', "'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element");
      if (behaviour.restrictiveMemnodeNeedsRestrictiveMemory && tune.memory?.mode !== 'restrictive' && mode === 'restrictive')
        fail('XML_ERROR', "'restrictive' mode is required in memory element when mode is 'restrictive' in memnode element");
      const ns = attr(el, 'nodeset');
      if (ns === undefined) fail('XML_ERROR', 'Missing required nodeset attribute in memnode element');
      const node: MemnodeTune = { mode, nodeset: nonEmptyBitmap(ns!, 'nodeset') };
      tune.memnodes.set(cellid, node);
    }
  }
  return tune.memory || tune.memnodes.size ? tune : undefined;
}

/** virDomainControllerInsertPreAlloced: a controller joins others of its type, in index order. */
export function insertController(list: Controller[], c: Controller): void {
  let insertAt = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].type !== c.type) continue;
    if (list[i].index > c.index) insertAt = i;
    else if (insertAt === -1) { insertAt = i + 1; break; }
  }
  if (insertAt === -1) list.push(c);
  else list.splice(insertAt, 0, c);
}

/** An explicit pcie-root-port: its <model name> (only the generic device) and <target>. */
function parseRootPort(el: XmlElement, c: Controller): void {
  const model = child(el, 'model');
  const name = model ? attr(model, 'name') : undefined;
  if (name !== undefined && name !== 'pcie-root-port') notModelled(`pcie-root-port model name '${name}'`);
  if (name) c.modelName = name;
  const target = child(el, 'target');
  if (target) {
    const chassis = attr(target, 'chassis');
    const port = attr(target, 'port');
    const n = (v: string | undefined): number | undefined => (v === undefined ? undefined : /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : notModelled(`controller target value '${v}'`));
    const ch = n(chassis);
    const p = n(port);
    if (ch === undefined || p === undefined || ch > 255 || p > 255) notModelled('a pcie-root-port <target> without both chassis and port in 0-255');
    c.target = { chassis: ch!, port: p! };
  }
}

function parseDevices(root: XmlElement, behaviour: Behaviour): Domain['devices'] {
  const devs: Domain['devices'] = { disks: [], controllers: [], inputs: [], audios: [], missingTargets: [], watchdogs: [] };
  let usbNone = false;
  let usbOther = false;
  const el = child(root, 'devices');
  if (!el) return devs;
  for (const d of el.children) {
    switch (d.name) {
      case 'emulator':
        devs.emulator = d.text.trim();
        break;
      case 'disk': {
        if (attr(d, 'type') !== 'block') notModelled(`disk type '${attr(d, 'type') ?? 'file'}'`);
        const device = attr(d, 'device') ?? 'disk';
        if (device !== 'disk' && device !== 'cdrom') notModelled(`disk device '${device}'`);
        // libvirt refuses read-only IDE disks and has rules for virtio ones: only cdroms here.
        if (device === 'disk' && child(d, 'readonly')) notModelled("a read-only disk of device 'disk'");
        const src = child(d, 'source');
        const tgt = child(d, 'target');
        // libvirt notices a missing target name only when it validates the disk, after post-parse
        // and address assignment (fuzz-29e777fcf5, fuzz-d19fb0eb6b): remember the complaint.
        if (!tgt || attr(tgt, 'dev') === undefined) {
          devs.missingTargets.push(src ? attr(src, 'dev') ?? '' : '');
          // With no <target> at all it is an IDE disk nobody looks at before; with a bus it
          // still takes part in address assignment.
          if (!tgt || attr(tgt, 'bus') === undefined) break;
        }
        const busAttr = attr(tgt!, 'bus');
        const dev = attr(tgt!, 'dev') ?? '';
        const bus = busAttr ?? (dev.startsWith('vd') ? 'virtio' : dev.startsWith('hd') ? 'ide' : '');
        if (bus !== 'ide' && bus !== 'virtio') notModelled(`disk bus '${bus}'`);
        if (device === 'cdrom' && bus !== 'ide') notModelled(`a cdrom on bus '${bus}'`);
        const drv = child(d, 'driver');
        const addrEl = child(d, 'address');
        const disk: Disk = {
          ...(device === 'cdrom' ? { device } : {}),
          source: src ? attr(src, 'dev') ?? '' : '',
          target: dev,
          bus: bus as Disk['bus'],
          busWritten: busAttr !== undefined,
          driver: drv ? { name: attr(drv, 'name') ?? 'qemu', type: attr(drv, 'type') ?? 'raw' } : undefined,
          address: addrEl ? (attr(addrEl, 'type') === 'drive' ? parseDriveAddress(addrEl) : parsePciAddress(addrEl)) : undefined,
        };
        if (!src) notModelled('disk without <source>');
        if (disk.driver && (disk.driver.name !== 'qemu' || disk.driver.type !== 'raw')) notModelled(`disk driver ${disk.driver.name}/${disk.driver.type}`);
        devs.disks.push(disk);
        break;
      }
      case 'controller': {
        const type = attr(d, 'type');
        if (type !== 'usb' && type !== 'pci' && type !== 'ide' && type !== 'sata') notModelled(`controller type '${type}'`);
        const idx = attr(d, 'index');
        let index = 0;
        // libvirt numbers controllers without an index itself; the model only knows a lone one is 0.
        if (idx === undefined && el.children.filter((x) => x.name === 'controller' && attr(x, 'type') === type).length > 1)
          notModelled(`${type} controllers without an index`);
        if (idx !== undefined) {
          const n = parseUInt(idx);
          if (n === null) fail('XML_ERROR', `Invalid value for attribute 'index' in element 'controller': '${idx}'. Expected integer value`);
          index = n!;
        }
        const addrEl = child(d, 'address');
        const model = attr(d, 'model');
        // A USB controller of model 'none' is no device: libvirt does not read its address.
        const address = addrEl && !(type === 'usb' && model === 'none') ? parsePciAddress(addrEl) : undefined;
        const c: Controller = { type: type as Controller['type'], index, model, address };
        if (c.type === 'usb') {
          // virDomainDefControllersParse: 'none' excludes every other USB controller.
          if (model === 'none' ? usbNone || usbOther : usbNone) fail('XML_DETAIL', "Can't add another USB controller: USB is disabled for this domain");
          if (model === 'none') usbNone = true; else usbOther = true;
        }
        if (c.type === 'usb' && c.model !== undefined && c.model !== 'piix3-uhci' && c.model !== 'none' && c.model !== 'qemu-xhci') notModelled(`usb controller model '${c.model}'`);
        if (c.type === 'pci' && c.model === 'pcie-root-port') parseRootPort(d, c);
        else if (c.type === 'pci' && c.model !== undefined && c.model !== 'pci-root' && c.model !== 'pcie-root') notModelled(`pci controller model '${c.model}'`);
        else if (child(d, 'model') || child(d, 'target')) notModelled(`<model>/<target> of a ${c.type} controller`);
        insertController(devs.controllers, c);
        break;
      }
      case 'input': {
        const type = propEnum(d, 'type', ['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'] as const, true)!;
        if (type !== 'mouse' && type !== 'keyboard') notModelled(`input type '${type}'`);
        const bus = attr(d, 'bus') ?? 'ps2';
        if (bus !== 'ps2') notModelled(`input bus '${bus}'`);
        devs.inputs.push({ type, bus: 'ps2' } as Input);
        break;
      }
      case 'audio': {
        const id = propUInt(d, 'id', true)!;
        if (attr(d, 'type') !== 'none') notModelled(`audio type '${attr(d, 'type')}'`);
        devs.audios.push({ id, type: 'none' });
        break;
      }
      case 'watchdog': {
        // 9.0.0 reads the model with its own check and does not know 'itco' yet.
        if (!behaviour.q35ItcoWatchdog && attr(d, 'model') === 'itco') fail('CONFIG_UNSUPPORTED', "unknown watchdog model 'itco'");
        const model = propEnum(d, 'model', ['i6300esb', 'ib700', 'diag288', 'itco'] as const, true)!;
        const action = propEnum(d, 'action', ['reset', 'shutdown', 'poweroff', 'pause', 'dump', 'none', 'inject-nmi'] as const) ?? 'reset';
        // Only the iTCO watchdog built into q35, which libvirt >= 9.1 knows (behaviour.q35ItcoWatchdog).
        if (model !== 'itco' || !behaviour.q35ItcoWatchdog) notModelled(`watchdog model '${model}'`);
        if (devs.watchdogs.length) notModelled('more than one watchdog');
        devs.watchdogs.push({ model: 'itco', action });
        break;
      }
      case 'memballoon': {
        const model = propEnum(d, 'model', ['virtio', 'xen', 'none', 'virtio-transitional', 'virtio-non-transitional'] as const, true)!;
        if (model !== 'virtio' && model !== 'none') notModelled(`memballoon model '${model}'`);
        const addrEl = child(d, 'address');
        // model='none' is no device: libvirt does not even read its address.
        const address = addrEl && model !== 'none' ? parsePciAddress(addrEl) : undefined;
        devs.memballoon = { model: model as 'virtio' | 'none', address: model === 'none' ? undefined : address };
        break;
      }
      default:
        notModelled(`device <${d.name}>`);
    }
  }
  return devs;
}

const BOOT_DEVS: readonly BootDev[] = ['fd', 'cdrom', 'hd', 'network'];

/**
 * virDomainDefParseBootXML (after <clock>, before the devices). Only the first four <boot> are
 * read, unchecked beyond that; repeats are kept. No <boot> at all means the first disk
 * (virDomainDefBootOrderPostParse; per-device <boot order> is outside the vocabulary). The menu
 * timeout is read only when the menu is enabled; its range is checked at validation.
 */
function parseBoot(osEl: XmlElement): Pick<Domain['os'], 'boot' | 'bootmenu'> {
  const els = childrenNamed(osEl, 'boot');
  const boot: BootDev[] = [];
  for (let i = 0; i < els.length && i < BOOT_DEVS.length; i++) boot.push(propEnum(els[i], 'dev', BOOT_DEVS, true)!);
  if (!boot.length) boot.push('hd');
  const menuEl = child(osEl, 'bootmenu');
  // virXMLPropTristateBool: 'default' is refused like any unknown word; no enable, no menu.
  const enable = menuEl ? propEnum(menuEl, 'enable', ['default', 'yes', 'no'] as const, false, true) as 'yes' | 'no' | undefined : undefined;
  if (!enable) return { boot };
  return { boot, bootmenu: enable === 'yes' ? { enable, timeout: propUInt(menuEl!, 'timeout', false) } : { enable } };
}

/** Parse a domain tree; throws LibvirtError (libvirt's words) or NotModelledError. */
export function parseDomain(root: XmlElement, behaviour: Behaviour = BEHAVIOUR_9_0_0): Domain {
  if (root.name !== 'domain') fail('XML_ERROR', `expecting root element of 'domain', not '${root.name}'`);
  checkVocabulary(root, VOCAB_TREE, []);

  const typeAttr = attr(root, 'type');
  if (typeAttr === undefined) fail('INTERNAL_ERROR', 'missing domain type attribute');
  const VIRT_TYPES = ['none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz', 'hvf'];
  if (!VIRT_TYPES.includes(typeAttr!)) fail('CONFIG_UNSUPPORTED', `invalid domain type ${typeAttr}`);
  const type = typeAttr!;
  if (type !== 'qemu' && type !== 'kvm') notModelled(`domain type '${type}'`);
  const nameEl = child(root, 'name');
  if (!nameEl || nameEl.text === '') fail('XML_DETAIL', 'missing name information');
  const uuidEl = child(root, 'uuid');
  if (!uuidEl) notModelled('a domain without <uuid> (libvirt generates a random one)');
  const uuid = parseUuid(uuidEl!.text);

  const osEl = child(root, 'os');
  const typeEl = osEl ? child(osEl, 'type') : undefined;
  if (!typeEl || typeEl.text.trim() !== 'hvm') notModelled('os type other than hvm');
  const arch = attr(typeEl!, 'arch') ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'i686') notModelled(`arch '${arch}'`);
  const machine = attr(typeEl!, 'machine') ?? 'pc';
  // Only the i440fx and q35 machine families (isapc, microvm, … have other default devices).
  if (!/^(pc|q35|pc-i440fx-.+|pc-q35-.+)$/.test(machine)) notModelled(`machine type '${machine}'`);

  const memEl = child(root, 'memory');
  const curEl = child(root, 'currentMemory');
  const memoryKiB = memEl ? parseMemoryKiB(memEl.text, attr(memEl, 'unit'), './memory[1]', false) ?? 0 : 0;
  const currentMemoryKiB = curEl ? parseMemoryKiB(curEl.text, attr(curEl, 'unit'), './currentMemory[1]', false) ?? 0 : 0;

  const vcpu = parseVcpu(root);
  const ioEl = child(root, 'iothreads');
  let iothreads = 0;
  if (ioEl) {
    if (ioEl.text !== '') {
      const n = parseUInt(ioEl.text);
      if (n === null) fail('XML_ERROR', `invalid iothreads count '${ioEl.text}'`);
      iothreads = n!;
    }
  }
  const cputune = parseCputune(root, { vcpu, iothreads });

  const cpu = parseCpu(root, behaviour);
  const numaEl = cpu ? child(child(root, 'cpu')!, 'numa') : undefined;
  if (cpu && numaEl) Object.assign(cpu, parseCells(numaEl, behaviour));
  const cells = cpu?.cells ?? [];
  const cpuCount = cells.reduce((s, c) => s + (c.cpus?.length ?? 0), 0);
  if (cpuCount > vcpu.max) fail('INTERNAL_ERROR', 'Number of CPUs in <numa> exceeds the <vcpu> count');
  // virDomainNumaGetMaxCPUID starts from 0, so <vcpu>0</vcpu> always fails here.
  const maxId = cells.reduce((m, c) => Math.max(m, c.cpus ? bitmapLast(c.cpus) : 0), 0);
  if (maxId >= vcpu.max) fail('INTERNAL_ERROR', 'CPU IDs in <numa> exceed the <vcpu> count');

  const numatune = parseNumatune(root, vcpu.placement === 'static', cells.length, behaviour);
  if (numatune?.memory?.placement === 'auto' && !vcpu.cpuset && cputune.vcpupin.size === 0 && !cputune.emulatorpin && cputune.iothreadpin.size === 0)
    vcpu.placement = 'auto';

  const feat = child(root, 'features');
  const features = { acpi: !!(feat && child(feat, 'acpi')), apic: !!(feat && child(feat, 'apic')), pae: !!(feat && child(feat, 'pae')) };
  const clockEl = child(root, 'clock');
  const clock = clockEl ? { offset: attr(clockEl, 'offset') ?? 'utc' } : undefined;
  if (clock && clock.offset !== 'utc') notModelled(`clock offset '${clock.offset}'`);
  const lifecycle = (n: string): string | undefined => child(root, n)?.text.trim();
  const boot = parseBoot(osEl!);

  return {
    type: type as Domain['type'], name: nameEl!.text, uuid, memoryKiB, currentMemoryKiB, vcpu, iothreads, cputune, numatune,
    os: { arch, machine, ...boot }, features, cpu, clock,
    onPoweroff: lifecycle('on_poweroff'), onReboot: lifecycle('on_reboot'), onCrash: lifecycle('on_crash'),
    devices: parseDevices(root, behaviour),
  };
}
