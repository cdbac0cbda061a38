// fast-check arbitraries for domain XML over the model's vocabulary (harness/model/parse.ts
// VOCABULARY), biased toward the edges of libvirt 9.0.0's NUMA tuning on a host with ONE NUMA
// node (node 0): every numatune mode and placement, nodesets with ranges, ^ exclusions, repeats,
// spaces and nodes the host lacks, memnodes on some/all/no cells, cells with and without cpus,
// distances, odd memory sizes and units, vcpu placement and pins, iothreads, boot order and
// menu, controllers and disk addresses, pc and q35.
//
// A value is a structured DomainSpec (spec.ts, what shrinks), rendered to text by render.ts.
// Every choice list starts with its most ordinary entry, and every optional part shrinks to
// absent, so a shrunk counterexample reads like a hand-written case.
import fc from 'fast-check';
import { FAULTS } from './faults.js';
import { tame, type TameHost } from './tame.js';
import type { AddressSpec, CacheSpec, CellSpec, CpuSpec, CputuneSpec, DevicesSpec, DiskSpec, DomainSpec, InterconnectSpec, MemSpec, MemnodeSpec, NumaSpec, NumatuneSpec, PinSpec, SiblingSpec, TopologySpec, VcpuSpec } from './spec.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** A weighted choice that shrinks toward the first entry (uniform index, no edge bias). */
export function weighted<T>(choices: readonly (readonly [number, T])[]): fc.Arbitrary<T> {
  const total = choices.reduce((s, [w]) => s + w, 0);
  return fc.noBias(fc.integer({ min: 0, max: total - 1 })).map((i) => {
    for (const [w, v] of choices) {
      if (i < w) return v;
      i -= w;
    }
    return choices[choices.length - 1][1];
  });
}

/** Weighted union of arbitraries; shrinks across to the first one. */
function oneOf<T>(...items: [number, fc.Arbitrary<T>][]): fc.Arbitrary<T> {
  return fc.oneof({ withCrossShrink: true }, ...items.map(([weight, arbitrary]) => ({ weight, arbitrary })));
}

/** Present with weight `present` against `absent` (default 1); shrinks to absent. */
const opt = <T>(arb: fc.Arbitrary<T>, present: number, absent = 1): fc.Arbitrary<T | undefined> =>
  oneOf<T | undefined>([absent, fc.constant(undefined)], [present, arb]);

const bool = (pTrue: number): fc.Arbitrary<boolean> => weighted([[Math.round((1 - pTrue) * 100), false], [Math.round(pTrue * 100), true]]);

// ---------------------------------------------------------------------------------------------
// Bitmaps (nodesets, cpusets): libvirt's "N", "N-M", "^N", comma separated, spaces around tokens.
// Every domain carries several of them, so the syntax errors are rare per bitmap.

/** Host NUMA nodes: mostly 0 (the only one here), sometimes 1-7, rarely the bitmap's edge. */
const nodeId = weighted<number>([[40, 0], [4, 1], [2, 2], [1, 3], [2, 7], [1, 16383], [1, 16384]]);
/** Host CPUs for pins (the host has 0-1). */
const cpuId = weighted<number>([[20, 0], [16, 1], [3, 2], [1, 3], [1, 7], [1, 16383], [1, 16384]]);

function bitmapToken(id: fc.Arbitrary<number>): fc.Arbitrary<string> {
  return oneOf<string>(
    [30, id.map(String)],
    [8, fc.tuple(id, id, weighted([[6, '-'], [1, ' - '], [1, '- ']])).map(([a, b, dash]) => `${Math.min(a, b)}${dash}${Math.max(a, b)}`)],
    [8, id.map((n) => `^${n}`)],
    [1, fc.tuple(id, id).map(([a, b]) => `${Math.max(a, b) + 1}-${Math.min(a, b)}`)], // reversed: an error
    [1, fc.tuple(id, id).map(([a, b]) => `^${a}-${b}`)], // a negated range: an error
  );
}

const GARBAGE_BITMAPS = ['', ' ', ',', '0,', ',0', '-1', '0-', 'x', '0 1', '0,,1', '^', '+0', '0x1', '2147483648', '99999999999'] as const;

export function bitmap(id: fc.Arbitrary<number>, garbage = 1): fc.Arbitrary<string> {
  const list = fc.tuple(
    fc.array(fc.tuple(bitmapToken(id), weighted([[10, ','], [1, ', '], [1, ' ,'], [1, ' , ']])), { minLength: 2, maxLength: 4 }),
    weighted([[15, ''], [1, ' ']]),
    weighted([[15, ''], [1, ' ']]),
  ).map(([toks, lead, trail]) => lead + toks.map(([t, sep], i) => (i ? sep : '') + t).join('') + trail);
  return oneOf<string>([50, id.map(String)], [20, list], [garbage, fc.constantFrom(...GARBAGE_BITMAPS)]);
}

export const nodeset = bitmap(nodeId);
export const cpuset = bitmap(cpuId);

// ---------------------------------------------------------------------------------------------
// Numbers and memory

const ODD_UINTS = ['-1', 'x', '', ' 1', '+1', '1.0', '4294967296'] as const;
/** An unsigned attribute: mostly ordinary, rarely libvirt's edge cases. */
function uintText(common: fc.Arbitrary<number>, odd = 1): fc.Arbitrary<string> {
  return oneOf<string>([60, common.map(String)], [odd, fc.constantFrom(...ODD_UINTS)]);
}

const UNITS = ['KiB', 'MiB', 'M', 'k', 'KB', 'MB', 'GiB', 'G', 'b', 'bytes', 'kib', 'GB'] as const;
function toUnit(kib: number, unit: string | undefined): string {
  const factor: Record<string, number> = { KiB: 1024, k: 1024, kib: 1024, KB: 1000, MiB: 1024 ** 2, M: 1024 ** 2, MB: 1000 ** 2, GiB: 1024 ** 3, G: 1024 ** 3, GB: 1000 ** 3, b: 1, bytes: 1 };
  const bytes = kib * 1024;
  const f = unit === undefined ? 1024 : factor[unit];
  return String(Math.max(1, Math.round(bytes / f)));
}

/** Sizes in KiB: MiB multiples mostly, odd ones sometimes; at most 2 GiB each. */
const sizeKiB = weighted<number>([
  [16, 131072], [10, 262144], [6, 65536], [3, 524288], [2, 1048576], [1, 2097152],
  [2, 131073], [2, 100000], [2, 196609], [1, 1000], [1, 1],
]);

export const memSpec: fc.Arbitrary<MemSpec> = oneOf<MemSpec>(
  [80, fc.tuple(sizeKiB, weighted<string | undefined>([[20, 'KiB'], [6, undefined], [2, 'MiB'], [1, 'M'], [1, 'k'], [2, 'KB'], [1, 'MB'], [1, 'GiB'], [1, 'b'], [1, 'bytes']]))
    .map(([kib, unit]) => ({ value: toUnit(kib, unit), unit }))],
  [2, fc.tuple(fc.constantFrom('1', '2', '128', '0'), fc.constantFrom(...UNITS)).map(([value, unit]) => ({ value, unit }))],
  [1, fc.constantFrom<MemSpec>(
    { value: '128', unit: 'foo' }, { value: '1.5', unit: 'GiB' }, { value: '-1', unit: 'KiB' }, { value: '', unit: 'KiB' },
    { value: 'lots', unit: 'MiB' }, { value: '18446744073709551615', unit: 'KiB' }, { value: '9007199254740993', unit: 'b' }, { value: '131072', unit: 'GiBi' }, { value: '9223372036854775807', unit: 'b' },
  )],
);

// ---------------------------------------------------------------------------------------------
// The parts of a domain

const mode = weighted<string | undefined>([[8, 'strict'], [4, undefined], [5, 'preferred'], [5, 'interleave'], [10, 'restrictive'], [1, 'bogus']]);
const memnodeMode = weighted<string | undefined>([[8, 'strict'], [5, undefined], [4, 'preferred'], [4, 'interleave'], [12, 'restrictive'], [1, 'foobar']]);
const placement = weighted<string | undefined>([[30, undefined], [10, 'static'], [6, 'auto'], [2, 'default'], [1, 'bogus']]);

const vcpuCount = weighted<number>([[6, 2], [5, 1], [5, 4], [3, 3], [2, 8], [1, 6], [1, 16]]);

export const vcpuSpec: fc.Arbitrary<VcpuSpec> = fc.record({
  // '-1' kills libvirt 9.0.0's daemon (a crash case): often enough to be met in 2,000 domains.
  count: oneOf<string>([100, vcpuCount.map(String)], [3, fc.constantFrom('0', 'x', '', '-1')]),
  placement: weighted<string | undefined>([[40, 'static'], [24, undefined], [8, 'auto'], [1, 'bogus']]),
  cpuset: opt(cpuset, 1, 4),
  // 'max', 'one', 'over' are relative to the count (see renderDomain); else the text.
  current: opt(oneOf<string>([20, weighted([[3, 'one'], [2, 'max'], [1, 'over']])], [1, uintText(fc.constant(0), 2)]), 1, 6),
}, { requiredKeys: ['count', 'placement'] });

const vcpuId = weighted([[6, 0], [5, 1], [2, 2], [1, 3], [1, 16]]);
export const cputuneSpec: fc.Arbitrary<CputuneSpec> = fc.record({
  vcpupins: oneOf<PinSpec[]>(
    [3, fc.constant([])],
    [10, fc.uniqueArray(fc.record({ id: opt(uintText(vcpuId), 80), cpuset: opt(cpuset, 80) }), { maxLength: 3, minLength: 1, selector: (p) => p.id })],
    [3, fc.array(fc.record({ id: opt(uintText(vcpuId), 80), cpuset: opt(cpuset, 80) }), { minLength: 2, maxLength: 4 })],
  ),
  emulatorpins: oneOf<PinSpec[]>([10, fc.constant([])], [10, fc.array(fc.record({ cpuset: opt(cpuset, 80) }), { minLength: 1, maxLength: 1 })], [3, fc.array(fc.record({ cpuset: opt(cpuset, 80) }), { minLength: 2, maxLength: 2 })]),
  iothreadpins: oneOf<PinSpec[]>(
    [16, fc.constant([])],
    [5, fc.uniqueArray(fc.record({ id: opt(uintText(weighted([[8, 1], [4, 2], [1, 0], [1, 3]])), 80), cpuset: opt(cpuset, 80) }), { maxLength: 2, minLength: 1, selector: (p) => p.id })],
    [3, fc.array(fc.record({ id: opt(uintText(weighted([[8, 1], [4, 2], [1, 0], [1, 3]])), 80), cpuset: opt(cpuset, 80) }), { minLength: 2, maxLength: 3 })],
  ),
});

const memnodeSpec: fc.Arbitrary<MemnodeSpec> = fc.record({
  cellid: opt(uintText(weighted([[12, 0], [10, 1], [5, 2], [1, 3], [1, 4], [1, 7]])), 80),
  mode: memnodeMode,
  nodeset: opt(nodeset, 40),
});

export const numatuneSpec: fc.Arbitrary<NumatuneSpec> = fc.record({
  memory: opt(fc.record({ mode, placement, nodeset: opt(nodeset, 10) }), 8),
  allCells: opt(fc.record({ order: weighted<'asc' | 'desc'>([[1, 'asc'], [1, 'desc']]), mode: memnodeMode, nodeset: opt(nodeset, 40) }), 1, 2),
  memnodes: oneOf<MemnodeSpec[]>([8, fc.constant([])], [4, fc.array(memnodeSpec, { minLength: 1, maxLength: 3 })]),
}, { requiredKeys: ['memory', 'allCells', 'memnodes'] });

const siblingValue = weighted<string>([[30, '20'], [10, '21'], [3, '10'], [1, '9'], [2, '255'], [1, '256'], [1, '0'], [1, 'x']]);
const siblingSpec: fc.Arbitrary<SiblingSpec> = fc.record({
  id: opt(uintText(weighted([[5, 0], [5, 1], [2, 2], [1, 3], [1, 5]])), 80),
  value: opt(siblingValue, 80),
});

const cacheSpec: fc.Arbitrary<CacheSpec> = fc.record({
  level: opt(weighted([[4, '1'], [2, '2'], [2, '3'], [1, '0']]), 40),
  associativity: opt(weighted([[8, 'direct'], [4, 'full'], [4, 'none'], [1, 'odd']]), 40),
  policy: opt(weighted([[8, 'writeback'], [4, 'writethrough'], [4, 'none'], [1, 'odd']]), 40),
  size: opt(fc.constantFrom<MemSpec>({ value: '10', unit: 'KiB' }, { value: '256', unit: 'KiB' }, { value: '1', unit: 'MiB' }), 15),
  line: opt(fc.constantFrom<MemSpec>({ value: '8', unit: 'B' }, { value: '64', unit: 'B' }, { value: '1', unit: 'KiB' }), 15),
});

const cellSpec: fc.Arbitrary<CellSpec> = fc.record({
  id: weighted<string>([[200, 'index'], [4, 'absent'], [2, '0'], [2, '1'], [1, '2'], [1, '3'], [1, '5'], [1, 'x']]),
  cpus: oneOf<string>([60, fc.constant('auto')], [10, fc.constant('none')], [1, fc.constant('')], [3, bitmap(weighted([[4, 0], [4, 1], [3, 2], [2, 3], [1, 4], [1, 7], [1, 8]]), 0)]),
  memory: opt(memSpec, 100),
  memAccess: opt(weighted([[10, 'shared'], [10, 'private'], [1, 'default'], [1, 'bogus']]), 1, 20),
  discard: opt(weighted([[10, 'yes'], [10, 'no'], [1, 'absent'], [1, 'maybe']]), 1, 25),
  distances: opt(oneOf<'full' | SiblingSpec[]>([8, fc.constant('full' as const)], [1, fc.array(siblingSpec, { maxLength: 3 })]), 1, 6),
  caches: oneOf<CacheSpec[]>([50, fc.constant([])], [3, fc.array(cacheSpec, { minLength: 1, maxLength: 2 })]),
}, { requiredKeys: ['id', 'cpus', 'memory', 'memAccess', 'discard', 'distances', 'caches'] });

const interconnectSpec: fc.Arbitrary<InterconnectSpec> = fc.record({
  kind: weighted<'latency' | 'bandwidth'>([[1, 'latency'], [1, 'bandwidth']]),
  initiator: opt(weighted([[3, '0'], [2, '1'], [1, '5']]), 40),
  target: opt(weighted([[3, '0'], [2, '1'], [1, '5']]), 40),
  cache: opt(weighted([[3, '1'], [1, '0'], [1, '4']]), 1, 2),
  type: opt(weighted([[6, 'access'], [3, 'read'], [3, 'write'], [1, 'none'], [1, 'odd']]), 40),
  value: opt(weighted([[6, '5'], [3, '204800'], [1, 'x']]), 15),
  unit: opt(weighted([[3, 'KiB'], [1, 'MiB']]), 3),
}, { requiredKeys: ['kind', 'initiator', 'target', 'cache', 'type', 'value', 'unit'] });

const numaSpec: fc.Arbitrary<NumaSpec> = fc.record({
  cells: oneOf<CellSpec[]>([100, fc.array(cellSpec, { minLength: 1, maxLength: 4 })], [1, fc.constant([])]),
  reverse: bool(0.05),
  interconnects: oneOf<InterconnectSpec[]>([50, fc.constant([])], [3, fc.array(interconnectSpec, { minLength: 1, maxLength: 2 })]),
});

const topologySpec: fc.Arbitrary<TopologySpec> = oneOf<TopologySpec>(
  [8, fc.constant({ kind: 'match' as const })],
  [2, fc.record({
    kind: fc.constant('explicit' as const),
    sockets: opt(weighted([[8, '1'], [6, '2'], [1, '0'], [2, '4']]), 40),
    dies: opt(weighted([[8, '1'], [1, '2'], [1, '0']]), 1, 1),
    cores: opt(weighted([[8, '1'], [6, '2'], [1, '0']]), 40),
    threads: opt(weighted([[8, '1'], [4, '2'], [1, '0']]), 40),
  }, { requiredKeys: ['kind', 'sockets', 'dies', 'cores', 'threads'] })],
);

export const cpuSpec: fc.Arbitrary<CpuSpec> = fc.record({
  mode: weighted<string | undefined>([[20, 'custom'], [10, undefined], [1, 'host-model']]),
  match: weighted<string | undefined>([[10, 'exact'], [6, undefined]]),
  check: weighted<string | undefined>([[10, 'none'], [6, undefined], [1, 'partial']]),
  model: weighted<string | undefined>([[20, 'qemu64'], [10, undefined], [1, 'qemu32']]),
  topology: opt(topologySpec, 1, 5),
  numa: opt(numaSpec, 8),
}, { requiredKeys: ['mode', 'match', 'check', 'model', 'topology', 'numa'] });

const hexByte = (choices: [number, number][]): fc.Arbitrary<string> => weighted(choices.map(([w, v]) => [w, `0x${v.toString(16).padStart(2, '0')}`] as const));
const pciAddress: fc.Arbitrary<AddressSpec> = fc.record({
  type: fc.constant('pci'),
  domain: weighted([[20, '0x0000'], [1, '0x0001']]),
  bus: hexByte([[20, 0], [1, 1]]),
  slot: hexByte([[6, 3], [4, 2], [4, 5], [2, 0x1f], [2, 1], [1, 0], [1, 0x20]]),
  function: weighted([[10, '0x0'], [1, '0x1'], [1, '0x8']]),
});
const driveAddress: fc.Arbitrary<AddressSpec> = fc.record({
  type: fc.constant('drive'),
  controller: weighted([[10, '0'], [2, '1']]),
  bus: weighted([[10, '0'], [3, '1']]),
  target: weighted([[10, '0'], [2, '1']]),
  unit: weighted([[10, '0'], [5, '1']]),
});
const diskSpec: fc.Arbitrary<DiskSpec> = fc.record({
  target: weighted<string | undefined>([[40, 'vda'], [20, 'vdb'], [30, 'hda'], [10, 'hdc'], [1, undefined]]),
  bus: weighted<string | undefined>([[6, undefined], [3, 'virtio'], [2, 'ide']]),
  address: opt(oneOf<AddressSpec>([3, pciAddress], [2, driveAddress]), 1, 5),
});
const EXTRA_DEVICES = [
  "<controller type='usb' index='1'/>", "<controller type='ide' index='0'/>", "<controller type='ide' index='1'/>",
  "<controller type='sata' index='0'/>", "<controller type='pci' index='1' model='pci-root'/>", "<controller type='usb' index='x'/>",
  "<controller type='usb' index='2' model='piix3-uhci'/>", "<watchdog model='itco' action='reset'/>",
] as const;

/** Boot order: mostly the disk, sometimes none, any combination of libvirt's four, rarely a bad one. */
const bootDev = weighted([[8, 'hd'], [4, 'cdrom'], [3, 'network'], [2, 'fd'], [1, 'floppy']]);
const bootSpec = oneOf<string[]>([60, fc.constant(['hd'])], [8, fc.constant([])], [20, fc.array(bootDev, { minLength: 1, maxLength: 5 })]);
const bootmenuSpec = fc.record({
  enable: weighted<string | undefined>([[10, 'yes'], [6, 'no'], [1, undefined], [1, 'maybe']]),
  timeout: opt(weighted([[6, '3000'], [2, '0'], [2, '65535'], [1, '65536'], [1, '-1'], [1, 'x']]), 1, 1),
}, { requiredKeys: ['enable', 'timeout'] });

export const devicesSpec: fc.Arbitrary<DevicesSpec> = fc.record({
  emulator: bool(0.99),
  disks: oneOf<DiskSpec[]>([10, fc.constant([])], [3, fc.array(diskSpec, { minLength: 1, maxLength: 2 })]),
  usb: weighted<string | undefined>([[40, 'default'], [5, undefined], [2, 'piix3-uhci'], [2, 'none']]),
  pciRoot: weighted<string | undefined>([[40, 'match'], [5, undefined], [1, 'pci-root'], [1, 'pcie-root']]),
  extra: oneOf<string[]>([40, fc.constant([])], [3, fc.subarray([...EXTRA_DEVICES], { minLength: 1, maxLength: 2 })]),
  usbAddress: opt(pciAddress, 3, 40),
  memballoonAddress: opt(pciAddress, 2, 15),
  inputs: bool(0.9),
  audio: bool(0.9),
  memballoon: weighted<string | undefined>([[40, 'virtio'], [5, undefined], [3, 'none']]),
});

const uuidSpec = oneOf<string>(
  [150, fc.noBias(fc.integer({ min: 0, max: 0xffffff })).map((n) => `6c766863-f022-4a11-9e00-${n.toString(16).padStart(12, '0')}`)],
  [1, fc.constantFrom('not-a-uuid', '6c766863f0224a119e00000000000001', ' 6c766863-f022-4a11-9e00-0000000000aa ')],
);

export const rawDomainSpec: fc.Arbitrary<DomainSpec> = fc.record({
  root: weighted([[400, 'domain'], [1, 'numatune']]),
  type: weighted([[120, 'qemu'], [25, 'kvm'], [1, 'bogus']]),
  // A name with XML, shell and replacement-pattern characters: it reaches argv's per-domain paths
  // (a '$&' there was read as a pattern until 2026-12-06; seed 1 then found 40 disagreements).
  name: weighted([[120, 'fuzz'], [25, 'fuzz-a-guest-name-longer-than-twenty'], [4, "fuzz$&'\"<>$$"], [1, '']]),
  uuid: uuidSpec,
  memory: opt(memSpec, 30),
  currentMemory: opt(memSpec, 3, 2),
  vcpu: opt(vcpuSpec, 40),
  iothreads: opt(uintText(weighted([[6, 1], [4, 2], [1, 0], [1, 4]])), 1, 2),
  cputune: opt(cputuneSpec, 1, 4),
  numatune: opt(numatuneSpec, 10),
  numatuneTwice: bool(0.005),
  arch: weighted<string | undefined>([[60, 'x86_64'], [12, undefined], [1, 'i686']]),
  machine: weighted([[48, 'pc'], [6, 'q35'], [2, 'pc-i440fx-7.2'], [1, 'pc-q35-7.2']]),
  boot: bootSpec,
  bootmenu: opt(bootmenuSpec, 1, 6),
  features: opt(fc.record({ acpi: bool(0.5), apic: bool(0.5), pae: bool(0.3) }), 1, 2),
  cpu: opt(cpuSpec, 8),
  clock: bool(0.8),
  lifecycle: bool(0.8),
  devices: opt(devicesSpec, 30),
  truncate: bool(0.004),
});

/**
 * What the fuzzer generates, in three shares (MIX): a raw domain (every edge, so the common error
 * messages by chance); the same domain tamed (tame.ts) so that libvirt renders it rather than
 * refuses it; or a tamed domain with one fault (faults.ts) aimed at one error message, so that
 * the rare messages are met too. Shrinks toward the raw one.
 */
export const MIX = { raw: 12, tame: 55, fault: 33 } as const;
export function domainSpecFor(host: TameHost): fc.Arbitrary<DomainSpec> {
  return fc.tuple(
    weighted<'raw' | 'tame' | 'fault'>([[MIX.raw, 'raw'], [MIX.tame, 'tame'], [MIX.fault, 'fault']]),
    fc.noBias(fc.nat(FAULTS.length - 1)), fc.noBias(fc.nat(7)), rawDomainSpec,
  ).map(([share, f, k, s]) => {
    if (share === 'raw') return { ...s, share };
    if (share === 'tame') return { ...tame(s, host), share };
    return { ...FAULTS[f].apply(tame(s, host), k), share, aim: FAULTS[f].aim };
  });
}


