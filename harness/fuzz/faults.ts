// Faults: one deliberate mistake, aimed at one of the model's error messages, put into an
// otherwise tame domain (tame.ts). Raw domains reach the common messages by chance; the rare
// ones (a full PCI bus, a second latency for the same link, a bootmenu timeout over 65535) are
// met in thousands of domains only when aimed at. Every message of the model's catalogue
// (reach.ts) has a fault here or an exemption there; the unit tests hold both lists to the
// catalogue, so a message added to the model needs a way to be reached.
//
// A fault is a rewrite of the structured spec, so what it produces shrinks like anything else.
import type { CellSpec, DevicesSpec, DomainSpec, InterconnectSpec, MemSpec } from './spec.js';
import { DEVICE_FAULTS } from './faults-devices.js';

export interface Fault {
  /** The message (reach.ts template text) this fault makes libvirt say. */
  aim: string;
  /** k: a small number (0..7) the fault may use to vary what it writes. */
  apply: (s: DomainSpec, k: number) => DomainSpec;
}

const cell = (cpus = 'auto'): CellSpec => ({ id: 'index', cpus, memory: { value: '131072', unit: 'KiB' }, caches: [] });
const DEVICES: DevicesSpec = { emulator: true, disks: [], usb: 'default', pciRoot: 'match', extra: [], inputs: true, audio: false, memballoon: 'virtio' };

/** At least n vCPUs (static placement, no cpuset that could say more). */
function vcpus(s: DomainSpec, n: number): DomainSpec {
  const have = s.vcpu && /^\d+$/.test(s.vcpu.count) ? Number(s.vcpu.count) : 1;
  return { ...s, vcpu: { ...(s.vcpu ?? { count: '1' }), count: String(Math.max(have, n)), current: undefined } };
}

/** Guest NUMA cells: the spec's own when it has at least n, else n plain ones; enough vCPUs for them. */
function cells(s: DomainSpec, n: number, change: (c: CellSpec[]) => CellSpec[] = (c) => c): DomainSpec {
  const t = vcpus(s, n);
  const own = t.cpu?.numa?.cells ?? [];
  const list = change(own.length >= n ? own.map((c) => ({ ...c })) : Array.from({ length: n }, () => cell()));
  const cpu = t.cpu ?? { mode: 'custom', match: 'exact', check: 'none', model: 'qemu64' };
  return { ...t, cpu: { ...cpu, numa: { cells: list, reverse: false, interconnects: t.cpu?.numa?.interconnects ?? [] } } };
}

const devices = (s: DomainSpec, change: (d: DevicesSpec) => DevicesSpec): DomainSpec => ({ ...s, devices: change({ ...(s.devices ?? DEVICES), emulator: true }) });
const q35 = (s: DomainSpec): DomainSpec => ({ ...s, machine: 'q35', devices: s.devices && { ...s.devices, pciRoot: s.devices.pciRoot && 'match' } });
const pc = (s: DomainSpec): DomainSpec => ({ ...s, machine: 'pc', devices: s.devices && { ...s.devices, pciRoot: s.devices.pciRoot && 'match' } });
const withInterconnects = (s: DomainSpec, ics: InterconnectSpec[]): DomainSpec =>
  ({ ...s, cpu: { ...s.cpu!, numa: { ...s.cpu!.numa!, interconnects: ics } } });
const latency = (initiator: string, target: string, value = '5'): InterconnectSpec => ({ kind: 'latency', initiator, target, type: 'access', value });
const numatune = (s: DomainSpec, nt: NonNullable<DomainSpec['numatune']>): DomainSpec => ({ ...s, numatune: nt });
const pin = (s: DomainSpec, change: (ct: NonNullable<DomainSpec['cputune']>) => NonNullable<DomainSpec['cputune']>): DomainSpec =>
  ({ ...s, cputune: change(s.cputune ?? { vcpupins: [], emulatorpins: [], iothreadpins: [] }) });
const pciAt = (slot: number, bus = 0, fn = 0): DevicesSpec['usbAddress'] =>
  ({ type: 'pci', domain: '0x0000', bus: `0x${bus.toString(16).padStart(2, '0')}`, slot: `0x${slot.toString(16).padStart(2, '0')}`, function: `0x${fn.toString(16)}` });


// --- the memory territory (issue 20): a guest of plain cells, its memory given, no numatune (a
// host node it names would be checked first), the elements written as libvirt's tests write them.
const kib = (v: number | string): MemSpec => ({ value: String(v), unit: 'KiB' });
function memGuest(s: DomainSpec, o: { cells?: number; cellKiB?: number; memory?: number | string; maxMemory?: string; backing?: string; devices?: string[]; idmap?: string }): DomainSpec {
  const n = o.cells ?? 1;
  const cellKiB = o.cellKiB ?? 131072;
  const t = n
    ? cells(s, n, () => Array.from({ length: n }, () => ({ ...cell(), memory: kib(cellKiB) })))
    : { ...s, cpu: s.cpu && { ...s.cpu, numa: undefined } };
  const withNuma = t.cpu?.numa ? { ...t, cpu: { ...t.cpu, numa: { ...t.cpu.numa, interconnects: [] } } } : t;
  const out: DomainSpec = { ...withNuma, memory: kib(o.memory ?? (n ? n * cellKiB : 131072)), currentMemory: undefined, numatune: undefined,
    maxMemory: o.maxMemory, memoryBacking: o.backing && `<memoryBacking>${o.backing}</memoryBacking>`, idmap: o.idmap };
  return o.devices ? devices(out, (d) => ({ ...d, extra: [...o.devices!] })) : out;
}
const maxMem = (kibs: number | string, slots?: number): string => `<maxMemory${slots === undefined ? '' : ` slots='${slots}'`} unit='KiB'>${kibs}</maxMemory>`;
const pages = (...p: string[]): string => `<hugepages>${p.map((x) => `<page ${x}/>`).join('')}</hugepages>`;
/** A memory device: model, attributes, <source>, <target> contents, and what follows (<address>, <uuid>). */
const memdev = (model: string, target: string, o: { attrs?: string; source?: string; after?: string; before?: string } = {}): string =>
  `<memory model='${model}'${o.attrs ?? ''}>${o.before ?? ''}${o.source ? `<source>${o.source}</source>` : ''}<target>${target}</target>${o.after ?? ''}</memory>`;
const dimm = (extra = '<node>0</node>', o: { attrs?: string; source?: string; after?: string } = {}): string => memdev('dimm', `<size unit='KiB'>131072</size>${extra}`, o);
const vmem = (target: string, o: { after?: string } = {}): string => memdev('virtio-mem', `<size unit='KiB'>262144</size><node>0</node>${target}`, o);
const pmem = (target = '', o: { attrs?: string; after?: string; path?: boolean } = {}): string =>
  memdev('virtio-pmem', `<size unit='KiB'>131072</size>${target}`, { attrs: o.attrs, source: o.path === false ? undefined : '<path>/tmp/lvh-pmem</path>', after: o.after });
const nvdimm = (target = '<node>0</node>', o: { attrs?: string; path?: boolean; before?: string } = {}): string =>
  memdev('nvdimm', `<size unit='KiB'>262144</size>${target}`, { attrs: o.attrs, source: o.path === false ? undefined : '<path>/tmp/lvh-nvdimm</path>', before: o.before });
const HOT = maxMem(4194304, 4);
const dimmAt = (slot: number, base?: string): string => `<address type='dimm' slot='${slot}'${base ? ` base='${base}'` : ''}/>`;

export const FAULTS: readonly Fault[] = [
  // --- the domain element and its basics
  { aim: "XML error: expecting root element of 'domain', not '…'", apply: (s, k) => ({ ...s, root: ['numatune', 'domains', 'vm'][k % 3] }) },
  { aim: 'internal error: missing domain type attribute', apply: (s) => ({ ...s, type: undefined as unknown as string }) },
  { aim: 'unsupported configuration: invalid domain type …', apply: (s, k) => ({ ...s, type: ['bogus', 'QEMU', 'kvm2'][k % 3] }) },
  // Host facts: a virt type the host's capabilities lack (reach.ts exempts these on KVM hosts).
  { aim: "unsupported configuration: Emulator '…' does not support virt type '…'", apply: (s) => ({ ...s, type: 'kvm', cpu: s.cpu && { ...s.cpu, check: s.cpu.model ? s.cpu.check : undefined } }) },
  { aim: 'invalid argument: could not get preferred machine for … type=…', apply: (s) => ({ ...s, type: 'kvm', machine: undefined as unknown as string }) },
  { aim: 'unsupported configuration: check attribute specified for CPU with no model', apply: (s, k) => ({ ...s, type: 'kvm', cpu: { ...(s.cpu ?? {}), mode: undefined, model: undefined, check: ['partial', 'full', 'none'][k % 3] } }) },
  { aim: 'missing name information', apply: (s) => ({ ...s, name: '' }) },
  { aim: 'internal error: malformed uuid element', apply: (s, k) => ({ ...s, uuid: ['not-a-uuid', '6c766863-f022-4a11-9e00', '6c766863-f022-4a11-9e00-00000000000g'][k % 3] }) },
  { aim: 'XML error: Memory size must be specified via <memory> or in the <numa> configuration', apply: (s) => ({ ...s, memory: undefined, cpu: s.cpu && { ...s.cpu, numa: undefined }, numatune: undefined }) },
  // Not 'kb' (1000-based, valid): 'xb' has a valid shape and no such power, libvirt's second refusal.
  { aim: "invalid argument: unknown suffix '…'", apply: (s, k) => ({ ...s, memory: { value: '131072', unit: ['foo', 'GiBi', 'xb'][k % 3] } }) },
  // At most LLONG_MAX bytes, but LLONG_MAX / 1024 KiB or more once rounded up: 'size value too large'.
  { aim: 'numerical overflow: size value too large', apply: (s, k) => ({ ...s, memory: { value: ['9223372036854775807', '9223372036854775000'][k % 2], unit: 'b' } }) },
  // Over LLONG_MAX bytes once scaled by the unit: 'value too large'.
  { aim: 'numerical overflow: value too large: ……', apply: (s, k) => ({ ...s, memory: { value: ['18446744073709551615', '9223372036854775807'][k % 2], unit: ['KiB', 'MiB'][k % 2] } }) },
  { aim: "XML error: Invalid value '…' for element or attribute '…'", apply: (s, k) => ({ ...s, memory: { value: ['lots', '1.5', '-1'][k % 3], unit: 'MiB' } }) },
  // A cache <size> without its value (MemSpec.value left out on purpose).
  { aim: "XML error: missing element or attribute '…'", apply: (s) => cells(s, 1, (c) => [{ ...c[0], caches: [{ level: '1', associativity: 'direct', policy: 'writeback', size: { unit: 'KiB' } as MemSpec, line: { value: '8', unit: 'B' } }] }, ...c.slice(1)]) },
  // --- vCPUs, iothreads, pins
  { aim: 'XML error: maximum vcpus count must be an integer', apply: (s, k) => ({ ...s, vcpu: { count: ['x', '2.5', ''][k % 3], placement: 'static' } }) },
  { aim: 'unsupported configuration: maximum vCPU count must not be less than current vCPU count', apply: (s) => { const t = vcpus(s, 2); return { ...t, vcpu: { ...t.vcpu!, current: 'over' } }; } },
  { aim: "unsupported configuration: vcpu 0 can't be offline", apply: (s) => ({ ...s, vcpu: { ...(s.vcpu ?? { count: '2' }), current: '0' } }) },
  { aim: "XML error: Invalid value for attribute '…' in element '…': '…'.", apply: (s, k) => ({ ...s, vcpu: { ...(s.vcpu ?? { count: '2' }), placement: ['bogus', 'Static', 'dynamic'][k % 3] } }) },
  { aim: "XML error: invalid iothreads count '…'", apply: (s, k) => ({ ...s, iothreads: ['x', '-1', '1.5'][k % 3] }) },
  { aim: "unsupported configuration: Cannot find 'iothread' : …", apply: (s, k) => pin({ ...s, iothreads: '1' }, (ct) => ({ ...ct, iothreadpins: [{ id: String(2 + (k % 3)), cpuset: '0' }] })) },
  { aim: 'internal error: missing cpuset for vcpupin', apply: (s) => pin(s, (ct) => ({ ...ct, vcpupins: [{ id: '0' }] })) },
  { aim: "internal error: duplicate vcpupin for vcpu '…'", apply: (s) => pin(vcpus(s, 1), (ct) => ({ ...ct, vcpupins: [{ id: '0', cpuset: '0' }, { id: '0', cpuset: '1' }] })) },
  { aim: 'XML error: only one emulatorpin is supported', apply: (s) => pin(s, (ct) => ({ ...ct, emulatorpins: [{ cpuset: '0' }, { cpuset: '1' }] })) },
  { aim: 'internal error: missing cpuset for emulatorpin', apply: (s) => pin(s, (ct) => ({ ...ct, emulatorpins: [{}] })) },
  { aim: 'internal error: missing cpuset for iothreadpin', apply: (s) => pin({ ...s, iothreads: '1' }, (ct) => ({ ...ct, iothreadpins: [{ id: '1' }] })) },
  { aim: "internal error: duplicate iothreadpin for same iothread '…'", apply: (s) => pin({ ...s, iothreads: '2' }, (ct) => ({ ...ct, iothreadpins: [{ id: '1', cpuset: '0' }, { id: '1', cpuset: '1' }] })) },
  { aim: "XML error: Invalid value for attribute '…' in element '…': Zero is not permitted", apply: (s) => pin({ ...s, iothreads: '1' }, (ct) => ({ ...ct, iothreadpins: [{ id: '0', cpuset: '0' }] })) },
  { aim: "XML error: Missing required attribute '…' in element '…'", apply: (s) => pin(s, (ct) => ({ ...ct, vcpupins: [{ cpuset: '0' }] })) },
  { aim: "XML error: Invalid value for attribute '…' in element '…': '…'. Expected non-negative integer value", apply: (s, k) => pin(s, (ct) => ({ ...ct, vcpupins: [{ id: ['x', '-1', '1.0'][k % 3], cpuset: '0' }] })) },
  { aim: "invalid argument: Failed to parse bitmap '…'", apply: (s, k) => pin(vcpus(s, 1), (ct) => ({ ...ct, vcpupins: [{ id: '0', cpuset: ['0,,1', 'x', ',0'][k % 3] }] })) },
  { aim: "unsupported configuration: Invalid value of '…': …", apply: (s, k) => ({ ...s, vcpu: { ...(s.vcpu ?? { count: '2' }), cpuset: ['^0,^1', '0,^0', '1,^1'][k % 3] } }) },
  // --- guest NUMA cells, distances, caches, interconnects
  { aim: 'XML error: NUMA topology defined without NUMA cells', apply: (s) => cells(s, 1, () => []) },
  { aim: "XML error: Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed", apply: (s) => cells(s, 2, (c) => c.map((x, i) => (i === 0 ? { ...x, id: String(c.length) } : x))) },
  { aim: "XML error: Duplicate NUMA cell info for cell id '…'", apply: (s) => cells(s, 2, (c) => c.map((x) => ({ ...x, id: '0' }))) },
  { aim: 'unsupported configuration: NUMA cells … and … have overlapping vCPU ids', apply: (s) => cells(s, 2, (c) => c.map((x) => ({ ...x, cpus: '0' }))) },
  { aim: 'internal error: Number of CPUs in <numa> exceeds the <vcpu> count', apply: (s) => { const t = cells(s, 2, (c) => c.map((x, i) => ({ ...x, cpus: i ? '16-17' : '0' }))); return { ...t, vcpu: { ...t.vcpu!, count: '2' } }; } },
  { aim: 'internal error: CPU IDs in <numa> exceed the <vcpu> count', apply: (s) => { const t = cells(s, 1, (c) => c.map((x, i) => ({ ...x, cpus: i ? 'none' : '1' }))); return { ...t, vcpu: { ...t.vcpu!, count: '1' }, cpu: { ...t.cpu!, numa: { ...t.cpu!.numa!, cells: t.cpu!.numa!.cells.slice(0, 1) } } }; } },
  { aim: 'XML error: NUMA distances defined without siblings', apply: (s) => cells(s, 1, (c) => c.map((x, i) => (i ? x : { ...x, distances: [] }))) },
  { aim: "XML error: 'sibling_id …' does not refer to a valid cell within NUMA 'cell id …'", apply: (s) => cells(s, 2, (c) => c.map((x) => ({ ...x, distances: [{ id: '0', value: '10' }, { id: String(c.length + 3), value: '20' }] }))) },
  { aim: "XML error: 'value …' is invalid for 'sibling id …' under NUMA 'cell id …'", apply: (s, k) => cells(s, 2, (c) => c.map((x, i) => ({ ...x, distances: c.map((_, j) => ({ id: String(j), value: i === j ? '10' : ['256', '9', '0'][k % 3] })) }))) },
  { aim: "XML error: Missing 'level' attribute in cache element for NUMA node …", apply: (s) => cells(s, 1, (c) => [{ ...c[0], caches: [{ associativity: 'direct', policy: 'writeback', size: { value: '10', unit: 'KiB' }, line: { value: '8', unit: 'B' } }] }, ...c.slice(1)]) },
  { aim: "XML error: Invalid 'level' attribute in cache element for NUMA node …", apply: (s) => cells(s, 1, (c) => [{ ...c[0], caches: [{ level: 'x', associativity: 'direct', policy: 'writeback', size: { value: '10', unit: 'KiB' }, line: { value: '8', unit: 'B' } }] }, ...c.slice(1)]) },
  { aim: "XML error: Ain't nobody heard of that much cache level", apply: (s, k) => cells(s, 1, (c) => [{ ...c[0], caches: [{ level: String(4 + (k % 3)), associativity: 'direct', policy: 'writeback', size: { value: '10', unit: 'KiB' }, line: { value: '8', unit: 'B' } }] }, ...c.slice(1)]) },
  { aim: "XML error: Cache level '…' already defined", apply: (s) => cells(s, 1, (c) => [{ ...c[0], caches: [1, 1].map(() => ({ level: '1', associativity: 'direct', policy: 'writeback', size: { value: '10', unit: 'KiB' }, line: { value: '8', unit: 'B' } })) }, ...c.slice(1)]) },
  { aim: "XML error: Missing 'associativity' attribute in cache element for NUMA node …", apply: (s) => cells(s, 1, (c) => [{ ...c[0], caches: [{ level: '1', policy: 'writeback', size: { value: '10', unit: 'KiB' }, line: { value: '8', unit: 'B' } }] }, ...c.slice(1)]) },
  { aim: "XML error: Invalid cache associativity '…'", apply: (s) => cells(s, 1, (c) => [{ ...c[0], caches: [{ level: '1', associativity: 'odd', policy: 'writeback', size: { value: '10', unit: 'KiB' }, line: { value: '8', unit: 'B' } }] }, ...c.slice(1)]) },
  { aim: "XML error: Invalid cache policy '…'", apply: (s) => cells(s, 1, (c) => [{ ...c[0], caches: [{ level: '1', associativity: 'direct', policy: 'odd', size: { value: '10', unit: 'KiB' }, line: { value: '8', unit: 'B' } }] }, ...c.slice(1)]) },
  { aim: "XML error: Missing required attribute 'value' in element 'latency'", apply: (s) => withInterconnects(cells(s, 2), [{ ...latency('0', '1'), value: undefined }]) },
  { aim: "XML error: Invalid value for attribute 'value' in element 'latency': '…'. Expected non-negative integer value", apply: (s, k) => withInterconnects(cells(s, 2), [latency('0', '1', ['x', '-5', '1.5'][k % 3])]) },
  { aim: "XML error: 'initiator' refers to a non-existent NUMA node", apply: (s) => withInterconnects(cells(s, 2), [latency('5', '0')]) },
  { aim: "XML error: 'target' refers to a non-existent NUMA node", apply: (s) => withInterconnects(cells(s, 2), [latency('0', '5')]) },
  { aim: "XML error: NUMA nodes without CPUs can't be initiator", apply: (s) => withInterconnects(cells(s, 2, (c) => c.map((x, i) => (i === 1 ? { ...x, cpus: 'none' } : x))), [latency('1', '0')]) },
  { aim: "XML error: 'cache' refers to a non-existent NUMA node cache", apply: (s) => withInterconnects(cells(s, 2, (c) => c.map((x) => ({ ...x, caches: [] }))), [{ ...latency('0', '1'), cache: '1' }]) },
  { aim: 'XML error: Duplicate info for NUMA latencies', apply: (s) => withInterconnects(cells(s, 2), [latency('0', '1'), latency('0', '1', '7')]) },
  { aim: 'XML error: Link already defined', apply: (s) => withInterconnects(cells(s, 2), [latency('0', '1'), latency('1', '0')]) },
  // --- numatune
  { aim: 'XML error: only one numatune is supported', apply: (s) => ({ ...numatune(s, s.numatune ?? { memory: { mode: 'strict', nodeset: '0' }, memnodes: [] }), numatuneTwice: true }) },
  { aim: "unsupported configuration: Unsupported NUMA memory tuning mode '…'", apply: (s, k) => numatune(s, { memory: { mode: ['bogus', 'Strict', 'bind'][k % 3], nodeset: '0' }, memnodes: [] }) },
  { aim: "unsupported configuration: Unsupported NUMA memory placement mode '…'", apply: (s, k) => numatune(s, { memory: { mode: 'strict', placement: ['bogus', 'Auto'][k % 2], nodeset: '0' }, memnodes: [] }) },
  { aim: "unsupported configuration: nodeset for NUMA memory tuning must be set if 'placement' is 'static'", apply: (s, k) => numatune(s, { memory: { mode: ['strict', 'restrictive', 'interleave'][k % 3], placement: 'static' }, memnodes: [] }) },
  { aim: 'internal error: Advice from numad is needed in case of automatic numa placement', apply: (s, k) => numatune(s, { memory: { mode: ['strict', 'restrictive', 'preferred'][k % 3], placement: 'auto' }, memnodes: [] }) },
  { aim: 'unsupported configuration: Per-node binding is not compatible with automatic NUMA placement.', apply: (s) => numatune(cells(s, 1), { memory: { mode: 'strict', placement: 'auto' }, memnodes: [{ cellid: '0', mode: 'strict', nodeset: '0' }] }) },
  { aim: "XML error: Element 'memnode' is invalid without any guest NUMA cells", apply: (s) => numatune({ ...s, cpu: s.cpu && { ...s.cpu, numa: undefined } }, { memory: s.numatune?.memory, memnodes: [{ cellid: '0', mode: 'strict', nodeset: '0' }] }) },
  { aim: "XML error: Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell", apply: (s, k) => numatune(cells(s, 1), { memnodes: [{ cellid: String(4 + k), mode: 'strict', nodeset: '0' }] }) },
  { aim: 'XML error: Multiple memnode elements with cellid …', apply: (s) => numatune(cells(s, 1), { memnodes: [{ cellid: '0', mode: 'strict', nodeset: '0' }, { cellid: '0', mode: 'preferred', nodeset: '0' }] }) },
  { aim: "XML error: 'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element", apply: (s, k) => numatune(cells(s, 1), { memory: { mode: 'restrictive', nodeset: '0' }, memnodes: [{ cellid: '0', mode: ['strict', 'preferred', 'interleave', undefined][k % 4], nodeset: '0' }] }) },
  { aim: "XML error: 'restrictive' mode is required in memory element when mode is 'restrictive' in memnode element", apply: (s, k) => numatune(cells(s, 1), { memory: { mode: ['strict', 'preferred', 'interleave'][k % 3], nodeset: '0' }, memnodes: [{ cellid: '0', mode: 'restrictive', nodeset: '0' }] }) },
  { aim: 'XML error: Missing required nodeset attribute in memnode element', apply: (s) => numatune(cells(s, 1), { memnodes: [{ cellid: '0', mode: 'strict' }] }) },
  { aim: 'unsupported configuration: NUMA node … is unavailable', apply: (s, k) => numatune(s, { memory: { mode: 'strict', nodeset: String([1, 3, 7, 63][k % 4]) }, memnodes: [] }) },
  // --- the memory territory: <memoryBacking>, huge pages, <maxMemory>, memory devices, <idmap>
  { aim: "hugepage size can't be zero", apply: (s) => memGuest(s, { cells: 0, backing: pages("size='0' unit='KiB'") }) },
  { aim: "unsupported configuration: Parameter 'min_guarantee' not supported by QEMU.", apply: (s, k) => ({ ...memGuest(s, {}), memtune: `<memtune>${['<hard_limit>1048576</hard_limit>', '', "<soft_limit unit='M'>64</soft_limit>"][k % 3]}<min_guarantee unit='KiB'>${1 + k}</min_guarantee></memtune>` }) },
  { aim: "unsupported configuration: unknown memoryBacking/… '…'", apply: (s, k) => memGuest(s, { backing: ["<source type='hugetlbfs'/>", "<access mode='default'/>", "<allocation mode='lazy'/>"][k % 3] }) },
  { aim: 'two master hugepages detected: … and …', apply: (s) => memGuest(s, { backing: pages("size='2048' unit='KiB'", "size='1048576' unit='KiB'") }) },
  { aim: 'nodeset attribute of hugepages of sizes … and … intersect', apply: (s) => memGuest(s, { backing: pages("size='2048' unit='KiB' nodeset='0'", "size='1048576' unit='KiB' nodeset='0'") }) },
  { aim: 'hugepages: node … not found', apply: (s, k) => memGuest(s, { backing: pages(`size='2048' unit='KiB' nodeset='${1 + (k % 3)}'`) }) },
  { aim: 'unsupported configuration: hugepages are not allowed with memory allocation ondemand', apply: (s) => memGuest(s, { backing: `${pages("size='2048' unit='KiB'")}<allocation mode='ondemand'/>` }) },
  { aim: 'unsupported configuration: hugepages are not allowed with anonymous memory source', apply: (s) => memGuest(s, { backing: `${pages("size='2048' unit='KiB'")}<source type='anonymous'/>` }) },
  { aim: 'internal error: hugetlbfs filesystem is not mounted or disabled by administrator config', apply: (s, k) => memGuest(s, { cells: k % 2, backing: '<hugepages/>' }) },
  { aim: 'internal error: Unable to find any usable hugetlbfs mount for … KiB', apply: (s, k) => memGuest(s, { cells: k % 2, backing: pages(`size='${[3, 5, 7][k % 3]}' unit='MiB'`) }) },
  { aim: 'XML error: Total size of memory devices exceeds the total memory size', apply: (s) => memGuest(s, { cells: 0, memory: 131072, maxMemory: HOT, devices: [dimm('<node>0</node>').replace('131072', '262144')] }) },
  { aim: 'XML error: both maximum memory size and memory slot count must be specified', apply: (s, k) => memGuest(s, { maxMemory: [maxMem(0, 2), maxMem(4194304)][k % 2] }) },
  { aim: 'XML error: maximum memory size must be specified when specifying number of memory slots', apply: (s) => memGuest(s, { maxMemory: maxMem(0, 2) }) },
  { aim: 'XML error: maximum memory size must be equal or greater than the actual memory size', apply: (s) => memGuest(s, { maxMemory: maxMem(65536, 2) }) },
  { aim: 'internal error: failed to find an empty memory slot', apply: (s) => memGuest(s, { memory: 393216, maxMemory: maxMem(4194304, 1), devices: [dimm(), dimm()] }) },
  { aim: "unsupported configuration: memory device slot '…' is already being used by another memory device", apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [dimm(undefined, { after: dimmAt(0) }), dimm(undefined, { after: dimmAt(0) })] }) },
  { aim: "unsupported configuration: memory device base '0x…' is already being used by another memory device", apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [dimm(undefined, { after: dimmAt(0, '0x100000000') }), dimm(undefined, { after: dimmAt(1, '0x100000000') })] }) },
  { aim: 'unsupported configuration: memory device address [0x…:0x…] overlaps with other memory device (0x…)', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [dimm(undefined, { after: dimmAt(0, '0x100000000') }), dimm(undefined, { after: dimmAt(1, '0x104000000') })] }) },
  { aim: "can't add memory backend for guest node '…' as the guest has only '…' NUMA nodes configured", apply: (s, k) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [dimm(`<node>${1 + (k % 3)}</node>`)] }) },
  { aim: "path is required for model 'nvdimm'", apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [nvdimm(undefined, { path: false })] }) },
  { aim: 'unsupported configuration: discard is not supported for nvdimms', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [nvdimm(undefined, { attrs: " discard='yes'" })] }) },
  { aim: 'unsupported configuration: UUID is not supported for NVDIMM device', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [nvdimm(undefined, { before: '<uuid>6c766863-f022-4a11-9e00-000000000001</uuid>' })] }) },
  { aim: "path is required for model 'virtio-pmem'", apply: (s) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [pmem('', { path: false })] }) },
  { aim: "unsupported configuration: discard is not supported for model 'virtio-pmem'", apply: (s) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [pmem('', { attrs: " discard='yes'" })] }) },
  { aim: 'unsupported configuration: shared access mode required for virtio-pmem device', apply: (s) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [pmem('', { attrs: " access='private'" })] }) },
  { aim: 'unsupported configuration: virtio-pmem does not support NUMA nodes', apply: (s) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [pmem('<node>0</node>')] }) },
  { aim: 'unsupported configuration: memory address must be aligned to … bytes', apply: (s) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [pmem("<address base='0x100000400'/>")] }) },
  { aim: 'requested size must be smaller than or equal to @size (…KiB)', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [vmem("<block unit='KiB'>2048</block><requested unit='KiB'>524288</requested>")] }) },
  { aim: 'block size must be a power of two', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [vmem("<block unit='KiB'>3072</block><requested unit='KiB'>0</requested>")] }) },
  { aim: 'block size too small, must be at least 2048KiB', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [vmem("<block unit='KiB'>1024</block><requested unit='KiB'>0</requested>")] }) },
  { aim: 'requested size must be an integer multiple of block size', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [vmem("<block unit='KiB'>2048</block><requested unit='KiB'>3072</requested>")] }) },
  { aim: 'memory device address must be aligned to blocksize', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [vmem("<block unit='KiB'>2048</block><requested unit='KiB'>0</requested><address base='0x100100000'/>")] }) },
  { aim: 'unsupported configuration: target NUMA node needs to be specified for memory device', apply: (s) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [dimm('')] }) },
  { aim: "unsupported configuration: memory device slot '…' exceeds slots count '…'", apply: (s, k) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [dimm(undefined, { after: dimmAt(4 + (k % 3)) })] }) },
  { aim: "unsupported configuration: only 'pci' addresses are supported for the virtio-pmem device", apply: (s) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [pmem('', { after: dimmAt(0) })] }) },
  { aim: "unsupported configuration: only 'pci' and 'ccw' addresses are supported for the virtio-mem device", apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [vmem("<block unit='KiB'>2048</block><requested unit='KiB'>0</requested>", { after: dimmAt(0) })] }) },
  { aim: "unsupported configuration: only 'pci' addresses are supported for the virtio-mem device", apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [vmem("<block unit='KiB'>2048</block><requested unit='KiB'>0</requested>", { after: dimmAt(0) })] }) },
  { aim: "unsupported configuration: cannot use/hotplug a memory device when domain 'maxMemory' is not defined", apply: (s) => memGuest(s, { memory: 262144, devices: [dimm()] }) },
  { aim: 'unsupported configuration: At least one numa node has to be configured when enabling memory hotplug', apply: (s) => memGuest(s, { cells: 0, maxMemory: HOT }) },
  { aim: "unsupported configuration: count of memory devices requiring memory slots '…' exceeds slots count '…'", apply: (s) => memGuest(s, { memory: 393216, maxMemory: maxMem(4194304, 1), devices: [dimm(undefined, { after: dimmAt(0) }), dimm(undefined, { after: dimmAt(0) })] }) },
  { aim: "unsupported configuration: memory device count '…' exceeds slots count '…'", apply: (s) => memGuest(s, { memory: 524288, maxMemory: maxMem(4194304, 1), devices: [dimm(), vmem("<block unit='KiB'>2048</block><requested unit='KiB'>0</requested>")] }) },
  { aim: "unsupported configuration: memory size of NUMA node '…' overflowed after alignment", apply: (s) => memGuest(s, { cellKiB: 9007199254740991 }) },
  { aim: 'unsupported configuration: initial memory size overflowed after alignment', apply: (s) => memGuest(s, { cells: 0, memory: 9007199254740991 }) },
  { aim: 'unsupported configuration: maximum memory size overflowed after alignment', apply: (s) => memGuest(s, { maxMemory: maxMem(9007199254740991, 2) }) },
  { aim: "XML error: Invalid value for attribute 'base' in element 'address': '…'. Expected non-negative integer value", apply: (s, k) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [dimm(undefined, { after: dimmAt(0, ['0xZZ', 'base', '-0x10'][k % 3]) })] }) },
  { aim: 'XML error: missing <target> element for <memory> device', apply: (s) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: ["<memory model='dimm'><source><pagesize unit='KiB'>4</pagesize></source></memory>"] }) },
  { aim: 'XML error: invalid value of memory device node', apply: (s, k) => memGuest(s, { memory: 262144, maxMemory: HOT, devices: [dimm(`<node>${['-1', 'x', '1.5'][k % 3]}</node>`)] }) },
  { aim: 'XML error: nvdimm label must be at least 128KiB', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [nvdimm("<node>0</node><label><size unit='KiB'>64</size></label>")] }) },
  { aim: 'XML error: label size must be smaller than NVDIMM size', apply: (s) => memGuest(s, { memory: 393216, maxMemory: HOT, devices: [nvdimm("<node>0</node><label><size unit='KiB'>262144</size></label>")] }) },
  { aim: 'XML error: invalid idmap start/target/count settings', apply: (s, k) => memGuest(s, { idmap: ["<idmap><uid start='0' target='1000'/><gid start='0' target='1000' count='10'/></idmap>", "<idmap><uid start='x' target='1000' count='10'/><gid start='0' target='1000' count='10'/></idmap>"][k % 2] }) },
  { aim: 'unsupported configuration: uid and gid should be mapped both', apply: (s) => memGuest(s, { idmap: "<idmap><uid start='0' target='1000' count='10'/></idmap>" }) },
  { aim: 'unsupported configuration: You must map the root user of container', apply: (s) => memGuest(s, { idmap: "<idmap><uid start='1' target='1000' count='10'/><gid start='0' target='1000' count='10'/></idmap>" }) },
  // --- os: boot menu
  { aim: 'unsupported configuration: invalid value for boot menu timeout, must be in range [0,65535]', apply: (s, k) => ({ ...s, bootmenu: { enable: 'yes', timeout: ['65536', '100000', '4294967295'][k % 3] } }) },
  // --- devices: disks, controllers, PCI addresses
  { aim: 'missing target information for device …', apply: (s) => devices(s, (d) => ({ ...d, disks: [{ bus: undefined, target: undefined }] })) },
  { aim: "XML error: target '…' duplicated for disk sources '…' and '…'", apply: (s) => devices(s, (d) => ({ ...d, disks: [{ target: 'vda', bus: 'virtio' }, { target: 'vda', bus: 'virtio' }] })) },
  { aim: "unsupported configuration: virtio disk cannot have an address of type '…'", apply: (s) => devices(s, (d) => ({ ...d, disks: [{ target: 'vda', bus: 'virtio', address: { type: 'drive', controller: '0', bus: '0', target: '0', unit: '0' } }] })) },
  { aim: "unsupported configuration: Invalid address type '…' for the disk '…' with the bus type '…'", apply: (s) => devices(pc(s), (d) => ({ ...d, disks: [{ target: 'hda', bus: 'ide', address: pciAt(5) }] })) },
  { aim: 'internal error: Only 1 IDE controller is supported', apply: (s) => devices(pc(s), (d) => ({ ...d, disks: [{ target: 'hda', bus: 'ide', address: { type: 'drive', controller: '1', bus: '0', target: '0', unit: '0' } }] })) },
  { aim: 'unsupported configuration: target must be 0 for ide controller', apply: (s) => devices(pc(s), (d) => ({ ...d, disks: [{ target: 'hda', bus: 'ide', address: { type: 'drive', controller: '0', bus: '0', target: '1', unit: '0' } }] })) },
  { aim: "unsupported configuration: Found duplicate drive address for disk with target name '…' controller='…' bus='…' target='…' unit='…'", apply: (s) => devices(pc(s), (d) => ({ ...d, disks: ['hda', 'hdb'].map((target) => ({ target, bus: 'ide', address: { type: 'drive', controller: '0', bus: '0', target: '0', unit: '0' } })) })) },
  { aim: "XML error: Invalid PCI address bus='0x…', must be <= 0xFF", apply: (s, k) => devices(s, (d) => ({ ...d, memballoon: 'virtio', memballoonAddress: { ...pciAt(5)!, bus: ['0x100', '0x1ff'][k % 2] } })) },
  { aim: "XML error: Invalid PCI address slot='0x…', must be <= 0x1F", apply: (s) => devices(s, (d) => ({ ...d, memballoon: 'virtio', memballoonAddress: pciAt(0x20) })) },
  { aim: 'XML error: Invalid PCI address function=0x…, must be <= 7', apply: (s) => devices(s, (d) => ({ ...d, memballoon: 'virtio', memballoonAddress: pciAt(5, 0, 8) })) },
  { aim: 'XML error: pci-root and pcie-root controllers should have index 0', apply: (s) => devices(pc(s), (d) => ({ ...d, extra: ["<controller type='pci' index='1' model='pci-root'/>"] })) },
  { aim: "XML error: The PCI controller with index='0' must be model='…' for this machine type, but model='…' was found instead", apply: (s) => devices(pc(s), (d) => ({ ...d, pciRoot: 'pcie-root' })) },
  { aim: "Can't add another USB controller: USB is disabled for this domain", apply: (s) => devices(s, (d) => ({ ...d, usb: 'none', extra: ["<controller type='usb' index='1'/>"] })) },
  { aim: 'internal error: Bus 0 must be PCI for integrated PIIX3 USB or IDE controllers', apply: (s) => devices(q35(s), (d) => ({ ...d, usb: 'piix3-uhci', usbAddress: pciAt(1, 0, 2) })) },
  { aim: 'internal error: Primary SATA controller must have PCI address 0:0:1f.2', apply: (s, k) => devices(q35(s), (d) => ({ ...d, extra: [`<controller type='sata' index='0'><address type='pci' domain='0x0000' bus='0x00' slot='0x${(3 + k).toString(16).padStart(2, '0')}' function='0x0'/></controller>`] })) },
  // q35's bus 0 filled with disks (slot 0x1f is the chipset's): the balloon needs a root port, which needs a slot.
  { aim: "internal error: a PCI slot is needed to connect a PCI controller model='…', but none is available, and it cannot be automatically added", apply: (s) => devices(q35(s), (d) => ({ ...d, usb: 'none', usbAddress: undefined, memballoon: 'virtio', memballoonAddress: undefined, disks: Array.from({ length: 30 }, (_, i) => ({ target: `vd${String.fromCharCode(97 + (i % 26))}${i >= 26 ? 'a' : ''}`, bus: 'virtio', address: pciAt(1 + i) })) })) },
  { aim: "{XML error:|internal error:} Invalid PCI address …. Only PCI domain 0 is available", apply: (s) => devices(s, (d) => ({ ...d, memballoon: 'virtio', memballoonAddress: { ...pciAt(5)!, domain: '0x0001' } })) },
  { aim: '{XML error:|internal error:} Invalid PCI address …. slot must be <= …', apply: (s) => devices(q35(s), (d) => ({ ...d, memballoon: 'virtio', memballoonAddress: pciAt(1, 1) })) },
  { aim: "{XML error:|internal error:} The device at PCI address … cannot be plugged into the PCI controller with index='…'. It requires a controller that accepts a ….", apply: (s) => devices(pc(s), (d) => ({ ...d, extra: ["<controller type='pci' index='1' model='pcie-root-port'><address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></controller>"] })) },
  { aim: '{XML error:|internal error:} Attempted double use of PCI Address …', apply: (s) => devices(pc(s), (d) => ({ ...d, usb: 'default', usbAddress: undefined, memballoon: 'virtio', memballoonAddress: pciAt(1, 0, 2) })) },
  { aim: 'internal error: Primary IDE controller must have PCI address 0:0:1.1', apply: (s, k) => devices(pc(s), (d) => ({ ...d, extra: [`<controller type='ide' index='0'><address type='pci' domain='0x0000' bus='0x00' slot='0x${(5 + (k % 3)).toString(16).padStart(2, '0')}' function='0x0'/></controller>`] })) },
  { aim: 'internal error: PIIX3 USB controller at index 0 must have PCI address 0:0:1.2', apply: (s, k) => devices(pc(s), (d) => ({ ...d, usb: 'default', usbAddress: pciAt(5 + (k % 3)) })) },
  { aim: 'unsupported configuration: Only a single IDE controller is supported for this machine type', apply: (s) => devices(pc(s), (d) => ({ ...d, extra: ["<controller type='ide' index='1'/>"] })) },
  { aim: 'unsupported configuration: IDE controllers are unsupported for this QEMU binary or machine type', apply: (s) => devices(q35(s), (d) => ({ ...d, extra: ["<controller type='ide' index='0'/>"] })) },
  // KVM compares a custom CPU with the host's (check='partial', the default under KVM).
  { aim: 'the CPU is incompatible with host CPU: …', apply: (s) => ({ ...s, type: 'kvm', cpu: { ...(s.cpu ?? {}), mode: 'custom', match: 'exact', check: undefined, model: 'qemu64' } }) },
  { aim: "unsupported configuration: unknown watchdog model '…'", apply: (s, k) => devices(s, (d) => ({ ...d, extra: [`<watchdog model='${['itco', 'bogus', ''][k % 3]}' action='reset'/>`] })) },
  { aim: 'internal error: watchdog must contain model name', apply: (s) => devices(s, (d) => ({ ...d, extra: ["<watchdog action='reset'/>"] })) },
  { aim: "unsupported configuration: unknown watchdog action '…'", apply: (s, k) => devices(s, (d) => ({ ...d, extra: [`<watchdog model='i6300esb' action='${['bogus', 'Reset', ''][k % 3]}'/>`] })) },
  // --- CPU model fallback, lifecycle actions
  { aim: 'unsupported configuration: Invalid fallback attribute', apply: (s, k) => ({ ...s, cpu: { ...(s.cpu ?? {}), mode: 'custom', model: 'qemu64', fallback: ['bogus', 'Allow', '-1'][k % 3] } }) },
  { aim: 'internal error: Unknown CPU model …', apply: (s, k) => ({ ...s, type: 'qemu', cpu: { ...(s.cpu ?? {}), mode: 'custom', model: ['bogus', 'QEMU64', 'qemu65', 'Haswell-v9'][k % 4] } }) },
  { aim: 'unsupported configuration: unknown … action: …', apply: (s, k) => ({ ...s, onCrash: ['bogus', ' destroy', 'coredump'][k % 3] }) },
  { aim: 'unsupported configuration: itco model of watchdog is only part of q35 machine', apply: (s) => devices(pc(s), (d) => ({ ...d, extra: ["<watchdog model='itco' action='reset'/>"] })) },
  // --- CPU topology
  { aim: "unsupported configuration: CPU topology doesn't match maximum vcpu count", apply: (s) => ({ ...vcpus(s, 3), cpu: { ...(s.cpu ?? { mode: 'custom' }), topology: { kind: 'explicit', sockets: '1', dies: '1', cores: '1', threads: '1' } } }) },
  // --- the devices around shared guest memory, PCI controllers, boot order (faults-devices.ts)
  ...DEVICE_FAULTS,
];
