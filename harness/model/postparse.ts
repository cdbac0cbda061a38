// What libvirt's post-parse callbacks do to a freshly parsed definition (virDomainDefPostParse
// with the QEMU driver's callbacks): default devices, machine canonicalisation, default CPU,
// memory totals, vCPU fill-in of NUMA cell 0, and PCI/drive address assignment.
import { fail, notModelled } from './errors.js';
import type { Controller, Disk, Domain, PciAddress } from './domain.js';
import type { Profile } from './profile.js';

const isQ35 = (d: Domain): boolean => d.os.machine === 'q35' || d.os.machine.startsWith('pc-q35');

/** virDiskNameToIndex: "hda" -> 0, "vdb" -> 1, "sdaa" -> 26. */
export function diskIndex(name: string): number {
  const m = /^(?:hd|vd|sd|xvd)([a-z]+)$/.exec(name);
  if (!m) return -1;
  let v = 0; // bijective base 26: a=1 … z=26, aa=27
  for (const ch of m[1]) v = v * 26 + (ch.charCodeAt(0) - 96);
  return v - 1;
}

/** virDomainDiskInsert keeps disks grouped by bus (first appearance) and sorted by index. */
function insertDisks(disks: Disk[]): Disk[] {
  const out: Disk[] = [];
  for (const disk of disks) {
    let insertAt = -1;
    for (let i = out.length - 1; i >= 0; i--) {
      if (out[i].bus === disk.bus && diskIndex(out[i].target) > diskIndex(disk.target)) insertAt = i;
      else if (out[i].bus === disk.bus && insertAt === -1) insertAt = i + 1;
    }
    if (insertAt === -1) out.push(disk);
    else out.splice(insertAt, 0, disk);
  }
  return out;
}

/** virDomainControllerInsertPreAlloced: same-type controllers stay together, sorted by index. */
function insertController(list: Controller[], c: Controller): void {
  let insertAt = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].type === c.type) {
      if (list[i].index > c.index) insertAt = i;
      else if (insertAt === -1) { insertAt = i + 1; break; }
    }
  }
  if (insertAt === -1) list.push(c);
  else list.splice(insertAt, 0, c);
}

const pci = (slot: number, fn = 0): PciAddress => ({ type: 'pci', domain: 0, bus: 0, slot, function: fn });

/** Apply libvirt's post-parse defaults in place; returns the same object for chaining. */
export function postParse(d: Domain, profile: Profile): Domain {
  const devs = d.devices;
  const q35 = isQ35(d);

  // Memory: NUMA cells define the total; currentMemory is clamped to it.
  const cells = d.cpu?.cells ?? [];
  const numaMem = cells.reduce((s, c) => s + c.memoryKiB, 0);
  if (numaMem && (profile.abiUpdate || d.memoryKiB === 0)) d.memoryKiB = numaMem;
  if (d.memoryKiB === 0) fail('XML_ERROR', 'Memory size must be specified via <memory> or in the <numa> configuration');
  if (d.currentMemoryKiB > d.memoryKiB || d.currentMemoryKiB === 0) d.currentMemoryKiB = d.memoryKiB;

  // qemuDomainDefAddImplicitInputDevice: x86 guests always have PS/2 mouse and keyboard.
  if (!devs.inputs.some((i) => i.type === 'mouse')) devs.inputs.push({ type: 'mouse', bus: 'ps2' });
  if (!devs.inputs.some((i) => i.type === 'keyboard')) devs.inputs.push({ type: 'keyboard', bus: 'ps2' });

  // qemuDomainDefAddDefaultDevices
  if (q35 && profile.flags.piix3Uhci) notModelled('q35 default devices with a capable QEMU (qemu-xhci on pcie-root-port)');
  const hasUsb0 = devs.controllers.some((c) => c.type === 'usb' && c.index === 0);
  if (!q35 && !hasUsb0) insertController(devs.controllers, { type: 'usb', index: 0 });
  if (q35 && !devs.controllers.some((c) => c.type === 'sata' && c.index === 0)) insertController(devs.controllers, { type: 'sata', index: 0 });
  const pciRoot = devs.controllers.find((c) => c.type === 'pci' && c.index === 0);
  const rootModel = q35 ? 'pcie-root' : 'pci-root';
  if (pciRoot) {
    if ((pciRoot.model ?? '') !== rootModel)
      fail('XML_ERROR', `The PCI controller with index='0' must be model='${rootModel}' for this machine type, but model='${pciRoot.model ?? ''}' was found instead`);
  } else insertController(devs.controllers, { type: 'pci', index: 0, model: rootModel });
  if (!devs.memballoon) devs.memballoon = { model: 'virtio' };

  // Machine alias and default CPU (QEMU >= 4.2 names a default CPU type per machine).
  const canonical = profile.machineAliases[d.os.machine];
  if (canonical) d.os.machine = canonical;
  const defModel = profile.defaultCpuModel[d.os.arch];
  if (defModel) {
    if (!d.cpu) d.cpu = { cells: [], interconnects: [] };
    if (!d.cpu.model) {
      d.cpu.mode = 'custom'; d.cpu.match = 'exact'; d.cpu.check ??= 'none';
      d.cpu.model = { name: defModel, fallback: 'forbid' };
    }
  }
  if (d.cpu?.model && d.cpu.model.fallback === undefined) d.cpu.model.fallback = 'allow';
  if (d.cpu?.model) { d.cpu.mode ??= 'custom'; d.cpu.match ??= 'exact'; }

  // qemuDomainDefNumaCPUsRectify: vCPUs not in any cell land in cell 0.
  if (cells.length) {
    const assigned = cells.reduce((s, c) => s + (c.cpus?.length ?? 0), 0);
    if (assigned < d.vcpu.max) {
      const others = new Set(cells.slice(1).flatMap((c) => c.cpus ?? []));
      cells[0].cpus = Array.from({ length: d.vcpu.max }, (_, i) => i).filter((i) => !others.has(i));
    }
  }

  // Implicit controllers for disks (virDomainDefAddImplicitControllers) and drive addresses.
  devs.disks = insertDisks(devs.disks);
  for (const disk of devs.disks) {
    if (disk.bus === 'ide') {
      if (q35) notModelled('IDE disks on q35 (they become SATA)');
      const idx = diskIndex(disk.target);
      disk.address ??= { type: 'drive', controller: Math.floor(idx / 4), bus: Math.floor((idx % 4) / 2), target: 0, unit: idx % 2 };
      const ctrl = (disk.address as { controller: number }).controller;
      if (!devs.controllers.some((c) => c.type === 'ide' && c.index === ctrl)) insertController(devs.controllers, { type: 'ide', index: ctrl });
    }
    disk.driver ??= { name: 'qemu', type: 'raw' };
  }
  if (!devs.audios.length) devs.audios.push({ id: 1, type: 'none' });

  if (profile.flags.piix3Uhci) for (const c of devs.controllers) if (c.type === 'usb' && c.model === undefined) c.model = 'piix3-uhci';

  assignPciAddresses(d, q35);
  return d;
}

/** qemuDomainAssignPCIAddresses for the modelled devices on i440fx (q35 without extra devices). */
function assignPciAddresses(d: Domain, q35: boolean): void {
  const devs = d.devices;
  const used = new Set<string>();
  const key = (a: PciAddress): string => `${a.bus}:${a.slot}`;
  const mark = (a?: PciAddress): void => { if (a) used.add(key(a)); };
  devs.controllers.forEach((c) => mark(c.address));
  devs.disks.forEach((k) => { if (k.address?.type === 'pci') mark(k.address); });
  mark(devs.memballoon?.address);
  if (q35) {
    // ich9: slot 0x1f hosts the SATA controller (and the LPC/SMBus functions).
    for (const c of devs.controllers) if (c.type === 'sata' && c.index === 0) c.address ??= pci(0x1f, 2);
    used.add('0:31');
  } else {
    // PIIX3 occupies slot 1: IDE at function 1, the first USB controller at function 2.
    used.add('0:1');
    for (const c of devs.controllers) {
      if (c.type === 'ide' && c.index === 0) c.address ??= pci(1, 1);
      if (c.type === 'usb' && c.index === 0 && c.model !== 'none') c.address ??= pci(1, 2);
    }
  }
  const next = (): PciAddress => {
    for (let slot = 1; slot < 32; slot++) {
      if (!used.has(`0:${slot}`)) { used.add(`0:${slot}`); return pci(slot); }
    }
    return notModelled('more PCI devices than one bus holds');
  };
  for (const disk of devs.disks) if (disk.bus === 'virtio' && !disk.address) {
    if (q35) notModelled('virtio disks on q35 (they need pcie-root-port controllers)');
    disk.address = next();
  }
  if (devs.memballoon?.model === 'virtio' && !devs.memballoon.address) {
    if (q35) notModelled('a virtio balloon on q35 (it needs a pcie-root-port)');
    devs.memballoon.address = next();
  }
}
