// Domain XML -> Domain, in the order libvirt 9.0.0's virDomainDefParseXML reads it, so the
// first error reported is the one libvirt reports. Anything outside the vocabulary is refused
// (vocabulary.ts). The domain's own elements are read here; NUMA (parse-numa.ts) and devices
// (parse-devices.ts) have their own modules, the value readers are in props.ts.
import { fail, notModelled } from './errors.js';
import { bitmapLast, type Bitmap } from './bitmap.js';
import { parseMemoryKiB } from './units.js';
import { attr, child, childrenNamed, firstAttr, merged, mergeElements, type XmlElement } from './xml-tree.js';
import { BEHAVIOUR_9_0_0, type Behaviour } from './profile.js';
import type { BootDev, Domain, Placement } from './domain.js';
import { checkDomainVocabulary } from './vocabulary.js';
import { nonEmptyBitmap, parseUInt, parseUuid, propEnum, propUInt } from './props.js';
import { parseCells, parseCpu, parseNumatune } from './parse-numa.js';
import { parseDevices } from './parse-devices.js';
import { parseMemoryBacking, parseMemtune } from './parse-memory.js';
import { parseIdmap } from './idmap.js';
export { insertController } from './parse-devices.js';

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
  const ct = merged(root, 'cputune'); // ./cputune/vcpupin: every <cputune>
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

const BOOT_DEVS: readonly BootDev[] = ['fd', 'cdrom', 'hd', 'network'];

/**
 * virDomainDefParseBootXML (after <clock>, before the devices). Only the first four <boot> are
 * read, unchecked beyond that; repeats are kept. Without <boot> and without per-device boot
 * orders the first disk boots (virDomainDefBootOrderPostParse, boot-order.ts). The menu
 * timeout is read only when the menu is enabled; its range is checked at validation.
 */
function parseBoot(osEl: XmlElement): Pick<Domain['os'], 'boot' | 'bootmenu'> {
  const els = childrenNamed(osEl, 'boot');
  const boot: BootDev[] = [];
  for (let i = 0; i < els.length && i < BOOT_DEVS.length; i++) boot.push(propEnum(els[i], 'dev', BOOT_DEVS, true)!);
  const menuEl = child(osEl, 'bootmenu');
  // virXMLPropTristateBool: 'default' is refused like any unknown word; no enable, no menu.
  const enable = menuEl ? propEnum(menuEl, 'enable', ['default', 'yes', 'no'] as const, false, true) as 'yes' | 'no' | undefined : undefined;
  if (!enable) return { boot };
  return { boot, bootmenu: enable === 'yes' ? { enable, timeout: propUInt(menuEl!, 'timeout', false) } : { enable } };
}

/** Parse a domain tree; throws LibvirtError (libvirt's words) or NotModelledError. */
export function parseDomain(root: XmlElement, behaviour: Behaviour = BEHAVIOUR_9_0_0): Domain {
  if (root.name !== 'domain') fail('XML_ERROR', `expecting root element of 'domain', not '${root.name}'`);
  checkDomainVocabulary(root);

  // virDomainDefParseIDs first (name, then uuid), then virDomainDefParseCaps (the virt type):
  // a bad name or uuid is said before a bad type (fuzz-bd4427d442, fuzz-c6d25371ac).
  const nameEl = child(root, 'name');
  if (!nameEl || nameEl.text === '') fail('XML_DETAIL', 'missing name information');
  const uuidEl = child(root, 'uuid');
  // virXPathString gives no string for an empty element: libvirt then generates a random uuid,
  // which its output shows (pipeline.ts refuses to give output then; its errors are modelled).
  const uuid = !uuidEl || uuidEl.text === '' ? '' : parseUuid(uuidEl.text);
  const typeAttr = attr(root, 'type');
  // string(./@type): an empty one is none.
  if (typeAttr === undefined || typeAttr === '') fail('INTERNAL_ERROR', 'missing domain type attribute');
  const VIRT_TYPES = ['none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz', 'hvf'];
  if (!VIRT_TYPES.includes(typeAttr!)) fail('CONFIG_UNSUPPORTED', `invalid domain type ${typeAttr}`);
  const type = typeAttr!;
  if (type !== 'qemu' && type !== 'kvm') notModelled(`domain type '${type}'`);

  // string(./os/type[1]/@machine): the first <type> of each <os>, the first that has it; ./os/boot
  // spans every <os>.
  const osEls = childrenNamed(root, 'os');
  const osEl = mergeElements(osEls);
  const typeEls = osEls.flatMap((o) => child(o, 'type') ?? []);
  const typeEl = typeEls[0];
  if (!typeEl || typeEl.text.trim() !== 'hvm') notModelled('os type other than hvm');
  const arch = firstAttr(typeEls, 'arch') ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'i686') notModelled(`arch '${arch}'`);
  // No machine=: post-parse takes the virt type's preferred machine, 'pc' here (postparse.ts).
  const machineImplicit = firstAttr(typeEls, 'machine') === undefined;
  const machine = firstAttr(typeEls, 'machine') ?? 'pc';
  // Only the i440fx and q35 machine families (isapc, microvm, … have other default devices).
  if (!/^(pc|q35|pc-i440fx-.+|pc-q35-.+)$/.test(machine)) notModelled(`machine type '${machine}'`);

  const memEl = child(root, 'memory');
  const curEl = child(root, 'currentMemory');
  const memoryKiB = memEl ? parseMemoryKiB(memEl.text, attr(memEl, 'unit'), './memory[1]', false) ?? 0 : 0;
  const currentMemoryKiB = curEl ? parseMemoryKiB(curEl.text, attr(curEl, 'unit'), './currentMemory[1]', false) ?? 0 : 0;
  const { maxMemory, memoryBacking, dumpCore } = parseMemoryBacking(root);
  // virDomainDefTunablesParse: <blkiotune> (not modelled), then <memtune>, then the vCPUs.
  const memtune = parseMemtune(root);

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
  // ./cpu/numa[1]/cell: the first <numa> of every <cpu>, their cells together.
  const numaEl = cpu ? mergeElements(childrenNamed(root, 'cpu').flatMap((c) => child(c, 'numa') ?? [])) : undefined;
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

  const feat = merged(root, 'features'); // ./features/*
  const features = { acpi: !!(feat && child(feat, 'acpi')), apic: !!(feat && child(feat, 'apic')), pae: !!(feat && child(feat, 'pae')) };
  // virDomainDefLifecycleParse comes after the features, before the clock and the boot options.
  // virDomainEventActionParseXML on string(./on_X[1]): an empty one is the default; the text is
  // taken as written.
  const lifecycle = (n: string, actions: readonly string[]): string | undefined => {
    const v = child(root, n)?.text;
    if (!v) return undefined;
    if (!actions.includes(v)) fail('CONFIG_UNSUPPORTED', `unknown ${n} action: ${v}`);
    return v;
  };
  const ACTIONS = ['destroy', 'restart', 'rename-restart', 'preserve'];
  const onPoweroff = lifecycle('on_poweroff', ACTIONS);
  const onReboot = lifecycle('on_reboot', ACTIONS);
  const onCrash = lifecycle('on_crash', [...ACTIONS, 'coredump-destroy', 'coredump-restart']);
  const clockEl = merged(root, 'clock'); // string(./clock/@offset)
  const clock = clockEl ? { offset: attr(clockEl, 'offset') ?? 'utc' } : undefined;
  if (clock && clock.offset !== 'utc') notModelled(`clock offset '${clock.offset}'`);
  const boot = parseBoot(osEl!);

  return {
    type: type as Domain['type'], name: nameEl!.text, uuid, memoryKiB, currentMemoryKiB, dumpCore, maxMemory, memoryBacking, memtune, vcpu, iothreads, cputune, numatune,
    os: machineImplicit ? { arch, machine, machineImplicit, ...boot } : { arch, machine, ...boot }, features, cpu, clock,
    onPoweroff, onReboot, onCrash,
    devices: parseDevices(root, behaviour),
    idmap: parseIdmap(root),
  };
}
