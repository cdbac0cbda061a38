// <cpu> with its guest NUMA cells (distances, caches, interconnects) and <numatune>, read in
// libvirt 9.0.0's order (virDomainNumaDefParseXML, virDomainNumatuneParseXML) or 11.3.0's where
// the behaviour switches say so.
import { parseBitmap, bitmapIsEmpty, bitmapOverlaps, CPUMASK_LEN, type Bitmap } from './bitmap.js';
import { fail, notModelled } from './errors.js';
import { parseMemoryKiB, parseScaled } from './units.js';
import { attr, child, childrenNamed, firstAttr, type XmlElement } from './xml-tree.js';
import type { Behaviour } from './profile.js';
import type { CpuDef, Interconnect, MemnodeTune, NumaCache, NumaCell, NumaMode, Numatune, Placement } from './domain.js';
import { nonEmptyBitmap, parseUInt, propEnum, propTristate, propUInt } from './props.js';

const NUMA_MODES: readonly NumaMode[] = ['strict', 'preferred', 'interleave', 'restrictive'];

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
  // string(./size/@value): the first <size> that has a value.
  const sizeKiB = parseMemoryKiB(firstAttr(childrenNamed(c, 'size'), 'value'), undefined, './size/@value', true)!;
  const lineBytes = Number(parseScaled(firstAttr(childrenNamed(c, 'line'), 'value'), undefined, 1n, './line/@value', true, 18446744073709551615n));
  return { sizeKiB, lineBytes };
}

export function parseCells(numaEl: XmlElement, behaviour: Behaviour): { cells: NumaCell[]; interconnects: Interconnect[] } {
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

/** virCPUCheck, in libvirt's enum order. */
const CPU_CHECKS = ['default', 'none', 'partial', 'full'] as const;

export function parseCpu(root: XmlElement, behaviour: Behaviour): CpuDef | undefined {
  const el = child(root, 'cpu');
  if (!el) return undefined;
  const cpu: CpuDef = {
    mode: attr(el, 'mode'), match: propEnum(el, 'match', ['minimum', 'exact', 'strict'] as const), cells: [], interconnects: [],
  };
  // virCPUCheck: 'default' is the enum's zero, i.e. the same as leaving it out.
  const check = propEnum(el, 'check', CPU_CHECKS);
  if (check && check !== 'default') cpu.check = check;
  if (cpu.mode !== undefined && cpu.mode !== 'custom') notModelled(`cpu mode '${cpu.mode}'`);
  // string(./model[1]) and string(./model[1]/@fallback): an empty one is none (the default
  // CPU model then comes at post-parse); an unknown fallback has its own words.
  const model = child(el, 'model');
  const fallback = model ? attr(model, 'fallback') || undefined : undefined;
  if (fallback !== undefined && fallback !== 'allow' && fallback !== 'forbid') fail('CONFIG_UNSUPPORTED', 'Invalid fallback attribute');
  if (model && model.text !== '') cpu.model = { name: model.text.trim(), fallback };
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

export function parseNumatune(root: XmlElement, placementStatic: boolean, ncells: number, behaviour: Behaviour): Numatune | undefined {
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
