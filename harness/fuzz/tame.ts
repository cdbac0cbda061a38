// A "tame" domain: the same generated structure with the values libvirt 9.0.0 refuses replaced
// by ordinary ones, so the domain reaches the renderer (QEMU argv, canonical XML) instead of the
// validator. Which values: those behind libvirt's most frequent refusals in fuzz runs (bad
// bitmaps, host nodes/CPUs this one-node, two-CPU host lacks, numad-only placement, memnodes
// without cells, pins of missing vCPUs/iothreads, explicit topologies, HMAT, odd devices).
// Structure (numatune modes, cells, memnodes, pins, machines) is kept: that is what the
// renderer's output depends on.
import type { CellSpec, CputuneSpec, DomainSpec, MemSpec, NumatuneSpec, PinSpec } from './spec.js';

const BOOT_DEVS = ['hd', 'cdrom', 'network', 'fd'];
const okUnit = (u: string | undefined): boolean => u === undefined || ['KiB', 'MiB', 'M', 'k', 'KB', 'MB', 'GiB', 'b', 'bytes'].includes(u);
/** Sizes the generator makes on purpose (digits, known unit, at least 64 MiB); else 128 MiB. */
function mem(m: MemSpec | undefined): MemSpec | undefined {
  if (!m) return m;
  if (!/^\d+$/.test(m.value) || !okUnit(m.unit)) return { value: '131072', unit: 'KiB' };
  const factor: Record<string, number> = { KiB: 1024, k: 1024, KB: 1000, MiB: 1024 ** 2, M: 1024 ** 2, MB: 1e6, GiB: 1024 ** 3, b: 1, bytes: 1 };
  const bytes = Number(m.value) * factor[m.unit ?? 'KiB'];
  return bytes >= 64 * 1024 ** 2 && bytes <= 2 * 1024 ** 3 ? m : { value: '131072', unit: 'KiB' };
}

/** A host nodeset this host has: node 0 (the only one). */
const nodes = (s: string | undefined): string | undefined => (s === undefined ? s : '0');
/** A host cpuset this host has (CPUs 0-1), keeping the generated shape where it is one. */
const cpus = (s: string | undefined): string | undefined => (s === undefined ? s : /^(0|1|0-1|0,1)$/.test(s) ? s : '0-1');
const uint = (s: string | undefined): number | null => (s !== undefined && /^\d+$/.test(s) ? Number(s) : null);

function cputune(ct: CputuneSpec, max: number, iothreads: number): CputuneSpec {
  const seen = new Set<number>();
  const vcpupins: PinSpec[] = [];
  for (const p of ct.vcpupins) {
    const id = uint(p.id);
    if (id === null || id >= max || seen.has(id)) continue;
    seen.add(id);
    vcpupins.push({ id: String(id), cpuset: cpus(p.cpuset ?? '0') });
  }
  const io = new Set<number>();
  const iothreadpins: PinSpec[] = [];
  for (const p of ct.iothreadpins) {
    const id = uint(p.id);
    if (id === null || id < 1 || id > iothreads || io.has(id)) continue;
    io.add(id);
    iothreadpins.push({ id: String(id), cpuset: cpus(p.cpuset ?? '0') });
  }
  return { vcpupins, emulatorpins: ct.emulatorpins.slice(0, 1).map((p) => ({ cpuset: cpus(p.cpuset ?? '0') })), iothreadpins };
}

function numatune(nt: NumatuneSpec, ncells: number): NumatuneSpec {
  const modeOk = (m: string | undefined): string | undefined => (m === undefined || ['strict', 'preferred', 'interleave', 'restrictive'].includes(m) ? m : 'strict');
  const memory = nt.memory && {
    mode: modeOk(nt.memory.mode),
    // placement='auto' needs numad (absent here): static, with the host's node.
    placement: nt.memory.placement === 'static' ? 'static' : undefined,
    nodeset: '0',
  };
  // A restrictive <memory> wants restrictive memnodes.
  const memnodeMode = (m: string | undefined): string | undefined => (memory?.mode === 'restrictive' ? 'restrictive' : modeOk(m));
  const allCells = ncells && nt.allCells ? { ...nt.allCells, mode: memnodeMode(nt.allCells.mode), nodeset: nodes(nt.allCells.nodeset) } : undefined;
  const used = new Set<number>(allCells ? Array.from({ length: ncells }, (_, i) => i) : []);
  const memnodes = [];
  for (const m of nt.memnodes) {
    const id = uint(m.cellid);
    if (id === null || id >= ncells || used.has(id)) continue;
    used.add(id);
    memnodes.push({ cellid: String(id), mode: memnodeMode(m.mode), nodeset: '0' });
  }
  return { memory, allCells, memnodes };
}

function cell(c: CellSpec): CellSpec {
  return {
    id: 'index',
    cpus: c.cpus === 'none' ? 'none' : 'auto',
    memory: mem(c.memory),
    memAccess: c.memAccess === 'shared' || c.memAccess === 'private' ? c.memAccess : undefined,
    discard: c.discard === 'yes' || c.discard === 'no' ? c.discard : undefined,
    distances: c.distances === 'full' ? 'full' : undefined,
    caches: [],
  };
}

/** What taming needs to know of the host libvirt runs on. */
export interface TameHost {
  /** The host's capabilities list KVM: a tamed domain may keep type='kvm' (else libvirt refuses it). */
  kvm: boolean;
}

export function tame(s: DomainSpec, host: TameHost = { kvm: true }): DomainSpec {
  const count = uint(s.vcpu?.count);
  const max = count !== null && count >= 1 && count <= 16 ? count : 2;
  const iothreads = uint(s.iothreads);
  const nIo = iothreads !== null && iothreads <= 4 ? iothreads : 0;
  let cells = s.cpu?.numa?.cells.map(cell) ?? [];
  // Every cell takes at least one vCPU ('auto'): no more cells than vCPUs, one with CPUs at least.
  cells = cells.slice(0, max);
  if (cells.length && cells.every((c) => c.cpus === 'none')) cells[0] = { ...cells[0], cpus: 'auto' };
  const cpu = s.cpu && {
    mode: s.cpu.mode === 'host-model' ? 'custom' : s.cpu.mode,
    match: s.cpu.match,
    check: s.cpu.check,
    model: s.cpu.model,
    topology: s.cpu.topology ? { kind: 'match' as const } : undefined,
    numa: s.cpu.numa && { cells, reverse: s.cpu.numa.reverse, interconnects: [] },
  };
  return {
    ...s,
    root: 'domain',
    // KVM with a named CPU model asks the host CPU for its features (svm here): only without one,
    // and only where the host has KVM at all.
    type: host.kvm && s.type === 'kvm' && !s.cpu?.model ? 'kvm' : 'qemu',
    name: s.name || 'fuzz',
    uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s.uuid) ? s.uuid : '6c766863-f022-4a11-9e00-000000000001',
    memory: mem(s.memory),
    currentMemory: undefined,
    vcpu: s.vcpu && {
      count: String(max),
      placement: s.vcpu.placement === 'static' ? 'static' : undefined,
      cpuset: cpus(s.vcpu.cpuset),
      current: s.vcpu.current === 'one' || s.vcpu.current === 'max' ? s.vcpu.current : undefined,
    },
    iothreads: s.iothreads === undefined ? undefined : String(nIo),
    cputune: s.cputune && cputune(s.cputune, max, nIo),
    numatune: s.numatune && numatune(s.numatune, cells.length),
    numatuneTwice: false,
    arch: s.arch === undefined ? undefined : 'x86_64',
    cpu,
    devices: s.devices && {
      ...s.devices,
      emulator: true,
      disks: [],
      usb: s.devices.usb === 'default' || s.devices.usb === undefined ? s.devices.usb : 'default',
      pciRoot: s.devices.pciRoot === undefined ? undefined : 'match',
      extra: [],
      usbAddress: undefined,
      memballoonAddress: undefined,
    },
    boot: s.boot.filter((d) => BOOT_DEVS.includes(d)),
    bootmenu: s.bootmenu && {
      enable: s.bootmenu.enable === 'no' ? 'no' : 'yes',
      timeout: s.bootmenu.timeout !== undefined && /^\d+$/.test(s.bootmenu.timeout) && Number(s.bootmenu.timeout) <= 65535 ? s.bootmenu.timeout : undefined,
    },
    truncate: false,
  };
}
