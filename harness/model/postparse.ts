// What libvirt's post-parse callbacks do to a freshly parsed definition (virDomainDefPostParse
// with the QEMU driver's callbacks): default devices, machine canonicalisation, default CPU,
// memory totals, vCPU fill-in of NUMA cell 0, and PCI/drive address assignment.
import { fail, notModelled } from './errors.js';
import type { Controller, Disk, Domain } from './domain.js';
import { addController, assignPciAddresses, isQ35 } from './pci.js';
import type { Profile } from './profile.js';
import { validateIdmap } from './idmap.js';
import { pciControllerPostParse } from './pci-controllers.js';
import { bootOrderPostParse } from './boot-order.js';
import { diskPostParse } from './disks.js';
import { orderVideos, videoDevice } from './videos.js';
import { validateDevices } from './validate-devices.js';
import {
  assignMemorySlots, memoryDevicesPostParse, numaAutoAdd, memoryTotalsPostParse, validateMemoryBacking, validateMemoryHotplug,
  validateMemtune,
} from './memory-devices.js';

/** virQEMUCapsIsVirtTypeSupported, as far as the profile knows: a probed host says which virt
 *  types it has. libvirt's test profiles do not (their KVM-less environments are not reproduced:
 *  argv.ts refuses a KVM guest there as not modelled, after the post-parse it shares with xml2xml). */
export function virtTypeSupported(d: Domain, profile: Profile): boolean {
  return profile.virtTypes ? profile.virtTypes.includes(d.type) : true;
}

/** virDiskNameToIndex: "hda" -> 0, "vdb" -> 1, "sdaa" -> 26; a trailing number is ignored
 *  (virDiskNameParse without a partition); -1 for any other name. */
export function diskIndex(name: string): number {
  const m = /^(?:fd|hd|vd|sd|xvd|ubd)([a-z]+)[0-9]*$/.exec(name);
  if (!m) return -1;
  let v = 0; // bijective base 26: a=1 … z=26, aa=27
  for (const ch of m[1]) v = v * 26 + (ch.charCodeAt(0) - 96);
  return v - 1;
}

/** virDomainDiskDefAssignAddress for a disk without an address: IDE and SATA drive addresses
 *  from the target's index (an empty name has none). */
function assignDriveAddress(disk: Disk, q35: boolean): void {
  const idx = diskIndex(disk.target);
  if (!disk.address && idx < 0) fail('XML_ERROR', `Unknown disk name '${disk.target}' and no address specified`);
  if (disk.bus === 'ide') disk.address ??= { type: 'drive', controller: Math.floor(idx / 4), bus: Math.floor((idx % 4) / 2), target: 0, unit: idx % 2 };
  // SATA: six units on one bus per controller; q35's built-in AHCI is controller 0.
  if (disk.bus === 'sata') disk.address ??= { type: 'drive', controller: Math.floor(idx / 6), bus: 0, target: 0, unit: idx % 6 };
  if (disk.bus === 'sata' && (!q35 || disk.address?.type !== 'drive' || disk.address.controller !== 0)) notModelled('a SATA disk other than on q35\'s built-in controller');
}

/** virDomainDiskInsert keeps disks grouped by bus (first appearance) and sorted by index. */
function insertDisks(disks: Disk[]): Disk[] {
  const out: Disk[] = [];
  for (const disk of disks) {
    let insertAt = -1;
    for (let i = out.length - 1; i >= 0; i--) {
      const same = (out[i].busWritten ? out[i].bus : '') === (disk.busWritten ? disk.bus : '');
      if (same && diskIndex(out[i].target) > diskIndex(disk.target)) insertAt = i;
      else if (same && insertAt === -1) insertAt = i + 1;
    }
    if (insertAt === -1) out.push(disk);
    else out.splice(insertAt, 0, disk);
  }
  return out;
}

/** virDomainDefRejectDuplicateControllers (USB controllers may share an index); the first
 *  controller that repeats an earlier one is named. A handful of controllers: pairwise, no
 *  keys built for every domain. */
function rejectDuplicateControllers(list: Controller[]): void {
  for (let i = 1; i < list.length; i++) {
    const c = list[i];
    if (c.type === 'usb') continue;
    for (let j = 0; j < i; j++)
      if (list[j].type === c.type && list[j].index === c.index) fail('XML_ERROR', `Multiple '${c.type}' controllers with index '${c.index}'`);
  }
}

/** Apply libvirt's post-parse defaults in place; returns the same object for chaining. */
export function postParse(d: Domain, profile: Profile): Domain {
  const devs = d.devices;
  const q35 = isQ35(d);

  let cells = d.cpu?.cells ?? [];
  // No <emulator>: the capabilities' emulator for the guest arch.
  if (!devs.emulator && profile.defaultEmulator) devs.emulator = profile.defaultEmulator[d.os.arch];
  // Post-parse starts by looking the binary up in the capability cache, which probes it ("Cannot
  // check QEMU binary X: …" when it is not there): on a live host the model knows only the
  // binaries its capabilities list.
  if (profile.liveHost && profile.defaultEmulator && devs.emulator !== undefined && !Object.values(profile.defaultEmulator).includes(devs.emulator))
    notModelled(`an emulator the host's capabilities do not list ('${devs.emulator}')`);
  // A virt type the host's capabilities lack has no machine types of its own: no preferred
  // machine, no alias, no default CPU (qemuDomainDefPostParse); validation then refuses it.
  const typeSupported = virtTypeSupported(d, profile);
  if (d.os.machineImplicit && !typeSupported)
    fail('INVALID_ARG', `could not get preferred machine for ${devs.emulator} type=${d.type}`);

  // qemuDomainDefAddImplicitInputDevice: x86 guests always have PS/2 mouse and keyboard.
  if (!devs.inputs.some((i) => i.type === 'mouse')) devs.inputs.push({ type: 'mouse', bus: 'ps2' });
  if (!devs.inputs.some((i) => i.type === 'keyboard')) devs.inputs.push({ type: 'keyboard', bus: 'ps2' });

  // qemuDomainDefAddDefaultDevices (virDomainDefAddController appends)
  const hasUsb0 = devs.controllers.some((c) => c.type === 'usb' && c.index === 0);
  if (!hasUsb0) {
    // q35 prefers qemu-xhci and adds no USB controller when QEMU has none of the USB3/USB2 ones.
    if (!q35) addController(devs.controllers, { type: 'usb', index: 0 }, profile.behaviour);
    else if (profile.flags.qemuXhci) addController(devs.controllers, { type: 'usb', index: 0, model: 'qemu-xhci' }, profile.behaviour);
  }
  if (q35 && !devs.controllers.some((c) => c.type === 'sata' && c.index === 0)) addController(devs.controllers, { type: 'sata', index: 0 }, profile.behaviour);
  const pciRoot = devs.controllers.find((c) => c.type === 'pci' && c.index === 0);
  const rootModel = q35 ? 'pcie-root' : 'pci-root';
  if (pciRoot) {
    if ((pciRoot.model ?? '') !== rootModel)
      fail('XML_ERROR', `The PCI controller with index='0' must be model='${rootModel}' for this machine type, but model='${pciRoot.model ?? ''}' was found instead`);
  } else addController(devs.controllers, { type: 'pci', index: 0, model: rootModel }, profile.behaviour);
  if (!devs.memballoon) devs.memballoon = { model: 'virtio' };
  if (q35 && profile.behaviour.q35ItcoWatchdog && !devs.watchdogs.length) devs.watchdogs.push({ model: 'itco', action: 'reset' });

  // Machine alias and default CPU (QEMU >= 4.2 names a default CPU type per machine).
  const canonical = typeSupported ? profile.machineAliases[d.os.machine] : undefined;
  if (canonical) d.os.machine = canonical;
  // The default CPU type comes from the emulator binary's machine list, not from <os arch>.
  const binArch = /qemu-system-i386$/.test(d.devices.emulator ?? '') ? 'i686' : 'x86_64';
  const defModel = typeSupported ? (d.type === 'kvm' && profile.kvmDefaultCpuModel ? profile.kvmDefaultCpuModel : profile.defaultCpuModel)[binArch] : undefined;
  if (defModel) {
    if (!d.cpu) d.cpu = { cells: [], interconnects: [] };
    if (!d.cpu.model) {
      d.cpu.mode = 'custom'; d.cpu.match = 'exact'; d.cpu.check = 'none';
      d.cpu.model = { name: defModel, fallback: 'forbid' };
    }
  }
  if (d.cpu?.model && d.cpu.model.fallback === undefined) d.cpu.model.fallback = 'allow';
  if (d.cpu?.model) { d.cpu.mode ??= 'custom'; d.cpu.match ??= 'exact'; }

  // qemuDomainDefVcpusPostParse
  // More than 255 vCPUs: q35 then needs an IOMMU with EIM (libvirt may add one), i440fx refuses.
  if (d.vcpu.max > 255) notModelled('more than 255 vCPUs');
  if (d.vcpu.max === 0) notModelled('a domain with no vCPUs (libvirt 9.0.0 looks up a vCPU 0 that does not exist)');
  if (d.vcpu.current === 0) fail('CONFIG_UNSUPPORTED', "vcpu 0 can't be offline");

  // qemuDomainDefCPUPostParse: a custom CPU's check defaults to none under TCG and partial under
  // KVM (libvirt then compares it with the host CPU: see argv.ts). Seen with QEMU 7.2's
  // capabilities only; profiles without a default CPU (nocaps) leave check unset, untested.
  if (d.cpu?.model && d.cpu.check === undefined) d.cpu.check = d.type === 'kvm' ? 'partial' : 'none';

  // qemuDomainDefNumaAutoAdd (11.x): memory hotplug without NUMA cells gets one cell.
  if (numaAutoAdd(d, profile)) cells = d.cpu!.cells;
  // qemuDomainDefNumaCPUsRectify: vCPUs not in any cell land in cell 0.
  if (cells.length) {
    const assigned = cells.reduce((s, c) => s + (c.cpus?.length ?? 0), 0);
    if (assigned < d.vcpu.max) {
      const others = new Set(cells.slice(1).flatMap((c) => c.cpus ?? []));
      cells[0].cpus = Array.from({ length: d.vcpu.max }, (_, i) => i).filter((i) => !others.has(i));
    }
  }

  // Device post-parse: drive addresses of IDE disks, the default USB model, PCI root indexes.
  devs.disks = insertDisks(devs.disks);
  for (const disk of devs.disks) {
    // virDomainDiskDefPostParse assigns a drive address only to a disk with a target name (one
    // without is refused in validation: fuzz-9b5ea401bc).
    if (!disk.targetMissing) assignDriveAddress(disk, q35);
    disk.driver ??= { name: 'qemu', type: 'raw' };
    diskPostParse(disk);
  }
  for (const c of devs.controllers) {
    if (c.type === 'usb' && c.model === undefined && profile.flags.piix3Uhci) c.model = 'piix3-uhci';
    if (c.type === 'pci' && (c.model === 'pci-root' || c.model === 'pcie-root') && c.index !== 0)
      fail('XML_ERROR', 'pci-root and pcie-root controllers should have index 0');
    if (c.type === 'pci') pciControllerPostParse(d, c, q35);
  }

  memoryDevicesPostParse(d);
  // virDomainDefPostParseCommon, after the device post-parse above (fuzz-13a28af530): NUMA cells
  // and memory devices define the total; currentMemory is clamped to it.
  memoryTotalsPostParse(d, profile, cells.reduce((s, c) => s + c.memoryKiB, 0));
  rejectDuplicateControllers(devs.controllers);
  bootOrderPostParse(d, d.os.boot.length > 0);

  // virDomainDefAddImplicitControllers: IDE controllers 0 … the highest one a disk names.
  const maxIde = devs.disks.reduce((m, k) => (k.bus === 'ide' && k.address?.type === 'drive' ? Math.max(m, k.address.controller) : m), -1);
  for (let i = 0; i <= maxIde; i++)
    if (!devs.controllers.some((c) => c.type === 'ide' && c.index === i)) addController(devs.controllers, { type: 'ide', index: i }, profile.behaviour);
  if (!devs.audios.length) devs.audios.push({ id: 1, type: 'none' });
  // virDomainDefPostParseVideo: the primary video first, and marked so.
  if (devs.videos.length) devs.videos = orderVideos(devs.videos);
  if (profile.behaviour.videoDeviceRecorded) for (const v of devs.videos) v.device = videoDevice(v, profile);

  // virDomainDefPostParseCPU: check= means nothing without a model (none was set by default).
  if (d.cpu && (d.cpu.mode ?? 'custom') === 'custom' && !d.cpu.model && d.cpu.check !== undefined)
    fail('CONFIG_UNSUPPORTED', 'check attribute specified for CPU with no model');

  assignPciAddresses(d, profile);
  assignMemorySlots(d);

  // Validation (virDomainDefValidate): the driver's domain checks first (qemuValidateDomainDef),
  // whose first host fact is the arch (an i386 binary runs no x86_64 guest), then the virt type.
  if (binArch === 'i686' && d.os.arch === 'x86_64') fail('CONFIG_UNSUPPORTED', `Emulator '${devs.emulator}' does not support arch '${d.os.arch}'`);
  if (!typeSupported) fail('CONFIG_UNSUPPORTED', `Emulator '${devs.emulator}' does not support virt type '${d.type}'`);
  // …then the machine type, against the binary's own list (QEMU drops old machine types).
  const machines = profile.machineTypes?.[binArch];
  if (machines && !machines.includes(d.os.machine))
    fail('CONFIG_UNSUPPORTED', `Emulator '${devs.emulator}' does not support machine type '${d.os.machine}'`);
  // …then the one memory tunable the QEMU driver cannot apply.
  if (d.memtune?.minGuaranteeKiB) fail('CONFIG_UNSUPPORTED', "Parameter 'min_guarantee' not supported by QEMU.");

  validateMemoryHotplug(d, profile);
  // qemuValidateDomainVCpuTopology: an explicit topology must multiply out to the vCPU count.
  const t = d.cpu?.topology;
  if (t && profile.flags.queryHotpluggableCpus && t.sockets * t.dies * (t.clusters ?? 1) * t.cores * t.threads !== d.vcpu.max)
    fail('CONFIG_UNSUPPORTED', "CPU topology doesn't match maximum vcpu count");
  validateMemoryBacking(d, profile);

  validateDevices(d, profile);
  validateInternal(d);
  return d;
}

/** virDomainDefValidateInternal: duplicate disk targets, then the NUMA checks (HMAT). */
function validateInternal(d: Domain): void {
  const disks = d.devices.disks;
  for (let i = 0; i < disks.length; i++)
    for (let j = i + 1; j < disks.length; j++)
      if (disks[i].target === disks[j].target)
        fail('XML_ERROR', `target '${disks[i].target}' duplicated for disk sources '${disks[i].source}' and '${disks[j].source}'`);
  // virDomainDefDuplicateDriveAddressesValidate
  for (let i = 0; i < disks.length; i++) {
    const a = disks[i].address;
    if (a?.type !== 'drive') continue;
    for (let j = i + 1; j < disks.length; j++) {
      const b = disks[j].address;
      if (disks[i].bus !== disks[j].bus || b?.type !== 'drive') continue;
      if (a.controller === b.controller && a.bus === b.bus && a.target === b.target && a.unit === b.unit)
        fail('CONFIG_UNSUPPORTED', `Found duplicate drive address for disk with target name '${disks[i].target}' controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'`);
    }
  }
  validateMemtune(d);
  // virDomainDefBootValidate
  const timeout = d.os.bootmenu?.timeout;
  if (timeout !== undefined && timeout > 65535) fail('CONFIG_UNSUPPORTED', 'invalid value for boot menu timeout, must be in range [0,65535]');
  validateIdmap(d.idmap);
  const cells = d.cpu?.cells ?? [];
  for (const c of cells) {
    const seen = new Set<number>();
    for (const k of c.caches) {
      if (k.level > 3) fail('XML_ERROR', "Ain't nobody heard of that much cache level");
      if (seen.has(k.level)) fail('XML_ERROR', `Cache level '${k.level}' already defined`);
      seen.add(k.level);
    }
  }
  const ics = d.cpu?.interconnects ?? [];
  ics.forEach((l, i) => {
    if (l.initiator >= cells.length) fail('XML_ERROR', "'initiator' refers to a non-existent NUMA node");
    if (l.target >= cells.length) fail('XML_ERROR', "'target' refers to a non-existent NUMA node");
    if (!cells[l.initiator].cpus) fail('XML_ERROR', "NUMA nodes without CPUs can't be initiator");
    if (l.cache > 0 && !cells[l.target].caches.some((k) => k.level === l.cache))
      fail('XML_ERROR', "'cache' refers to a non-existent NUMA node cache");
    for (let j = 0; j < i; j++) {
      const ll = ics[j];
      if (l.kind === ll.kind && l.initiator === ll.initiator && l.target === ll.target && l.cache === ll.cache && l.type === ll.type)
        fail('XML_ERROR', 'Duplicate info for NUMA latencies');
      if (l.initiator !== l.target && l.initiator === ll.target && l.target === ll.initiator) fail('XML_ERROR', 'Link already defined');
    }
  });
}
