// PCI address assignment as libvirt 9.0.0 does it for the modelled devices:
// qemuDomainAssignPCIAddresses (src/qemu/qemu_domain_address.c) over the address set of
// src/conf/domain_addr.c (pci-address-set.ts) — a dry run that grows the bus list with the
// controllers the devices need (pcie-root-port, pcie-root-port + pcie-to-pci-bridge, …), one
// spare root port on pcie-root machines, then the real assignment, multifunction marking and
// controller defaults.
import { fail, notModelled } from './errors.js';
import { AddressSet, AUTOASSIGN, controllerConnectType, isFullyReserved, newBus, PCI_DEVICE, PCIE_DEVICE, pciAt } from './pci-address-set.js';
import type { Controller, Disk, Domain, PciAddress, PciControllerModel } from './domain.js';
import { setPciControllerDefaults } from './pci-controllers.js';
import type { Profile } from './profile.js';
import { insertController } from './parse.js';
import type { Controller as Ctrl } from './domain.js';
import type { Behaviour } from './profile.js';

/** virDomainDefAddController: appended (9.0.0), or inserted in index order among its type. */
export function addController(list: Ctrl[], c: Ctrl, behaviour: Behaviour): void {
  if (behaviour.controllerInsertSorted) insertController(list, c);
  else list.push(c);
}


export const isQ35 = (d: Domain): boolean => d.os.machine === 'q35' || d.os.machine.startsWith('pc-q35');



/** A device that may take a PCI address: what it is (for the iteration order) and its connect flags. */
interface Dev {
  holder: { address?: PciAddress | Disk['address'] };
  flags: number;
}

/** virDeviceInfoPCIAddressIsPresent: a PCI address other than the empty 0000:00:00. */
function isPresent(a: Disk['address']): a is PciAddress {
  return a?.type === 'pci' && !!(a.domain || a.bus || a.slot);
}
/** virDeviceInfoPCIAddressIsWanted */
const isWanted = (a: Disk['address']): boolean => !a || (a.type === 'pci' && !isPresent(a));


/** qemuDomainAssignPCIAddresses for the modelled devices; adds the controllers they need. */
export function assignPciAddresses(d: Domain, profile: Profile): void {
  const devs = d.devices;
  const q35 = isQ35(d);
  const pciControllers = (): Controller[] => devs.controllers.filter((c) => c.type === 'pci');
  const hasRoot = (model: string): boolean => pciControllers().some((c) => c.index === 0 && c.model === model);
  const pcieRoot = hasRoot('pcie-root');

  // qemuDomainFillAllPCIConnectFlags
  const pciFlags = PCI_DEVICE | AUTOASSIGN;
  const pcieFlags = pcieRoot ? PCIE_DEVICE | AUTOASSIGN : pciFlags;
  const virtioFlags = profile.flags.virtioPciTransitional ? pcieFlags : pciFlags;
  const controllerFlags = (c: Controller): number => {
    switch (c.type) {
      case 'pci': return controllerConnectType(c.model);
      case 'usb': return c.model === 'none' ? 0 : c.model === 'qemu-xhci' ? pcieFlags : pciFlags;
      default: return pciFlags; // sata, ide
    }
  };
  const flags = new Map<object, number>();
  for (const k of devs.disks) flags.set(k, k.bus === 'virtio' ? virtioFlags : 0);
  for (const c of devs.controllers) flags.set(c, controllerFlags(c));
  const balloon = devs.memballoon;
  if (balloon) flags.set(balloon, balloon.model === 'virtio' ? virtioFlags : 0);
  // virtio-mem and virtio-pmem are PCI devices; dimm and nvdimm take dimm slots instead.
  const pciMems = devs.memories.length ? devs.memories.filter((m) => m.model === 'virtio-mem' || m.model === 'virtio-pmem') : devs.memories;
  for (const m of pciMems) flags.set(m, virtioFlags);
  // Interfaces: virtio models are virtio devices, rtl8139 and e1000 legacy PCI ones.
  for (const n of devs.nets) flags.set(n, n.model === 'virtio' ? virtioFlags : pciFlags);
  for (const v of devs.videos) flags.set(v, virtioFlags);
  for (const f of devs.filesystems) flags.set(f, virtioFlags);
  for (const c of devs.cryptos) flags.set(c, pciFlags);
  /** virDomainDeviceInfoIterate order for the modelled devices. Asked for three times per
   *  domain: one array, not a spread of eight lists (most of them empty) and a map over it. */
  const all = (): Dev[] => {
    const out: Dev[] = [];
    const add = (list: readonly object[]): void => {
      for (const holder of list) out.push({ holder: holder as Dev['holder'], flags: flags.get(holder) ?? 0 });
    };
    add(devs.disks); add(devs.nets); add(devs.videos); add(devs.controllers); add(devs.filesystems);
    if (balloon) add([balloon]);
    add(pciMems); add(devs.cryptos);
    return out;
  };

  /** qemuDomainPCIAddressSetCreate */
  const createSet = (nbuses: number, dryRun: boolean): AddressSet => {
    const set = new AddressSet(dryRun, profile.flags.pciePciBridge);
    const models: (PciControllerModel | undefined)[] = new Array(nbuses).fill(undefined);
    for (const c of pciControllers()) models[c.index] = c.model as PciControllerModel;
    if (nbuses > 0 && !models[0]) models[0] = 'pci-root';
    const dflt: PciControllerModel = pcieRoot ? 'pcie-root-port' : 'pci-bridge';
    set.buses = models.map((m, i) => newBus(m ?? (i ? dflt : 'pci-root')));
    // qemuDomainCollectPCIAddress
    for (const { holder, flags: f } of all()) {
      const a = holder.address;
      if (!isPresent(a)) continue;
      const c = holder as Controller;
      if ('type' in holder && a.domain === 0 && a.bus === 0 && a.slot === 1 && c.index === 0 &&
          ((c.type === 'ide' && a.function === 1) ||
           (c.type === 'usb' && (c.model === 'piix3-uhci' || c.model === undefined) && a.function === 2))) {
        if (!(set.buses[0].flags & PCI_DEVICE)) fail('INTERNAL_ERROR', 'Bus 0 must be PCI for integrated PIIX3 USB or IDE controllers');
        continue;
      }
      set.reserve(a, f || PCI_DEVICE, true);
    }
    return set;
  };

  /** qemuDomainValidateDevicePCISlotsChipsets */
  const validateChipsets = (set: AddressSet): void => {
    if (q35) {
      for (const c of devs.controllers) {
        if (c.type !== 'sata' || c.index !== 0) continue;
        if (isPresent(c.address)) {
          const a = c.address;
          if (a.domain !== 0 || a.bus !== 0 || a.slot !== 0x1f || a.function !== 2)
            fail('INTERNAL_ERROR', 'Primary SATA controller must have PCI address 0:0:1f.2');
        } else c.address = pciAt(0, 0x1f, 2);
      }
      if (set.buses.length) {
        set.reserve(pciAt(0, 0x1f, 0), PCIE_DEVICE, true); // ISA bridge
        set.reserve(pciAt(0, 0x1f, 3), PCIE_DEVICE, true); // SMBus
      }
      primaryVideo(set, 1, PCIE_DEVICE);
      return;
    }
    for (const c of devs.controllers) {
      let want: PciAddress;
      const ide = c.type === 'ide';
      if (ide && c.index === 0) want = pciAt(0, 1, 1);
      else if (c.type === 'usb' && c.index === 0 && (c.model === 'piix3-uhci' || c.model === undefined)) want = pciAt(0, 1, 2);
      else continue;
      if (isPresent(c.address)) {
        const a = c.address;
        if (a.domain !== want.domain || a.bus !== want.bus || a.slot !== want.slot || a.function !== want.function)
          fail('INTERNAL_ERROR', ide ? 'Primary IDE controller must have PCI address 0:0:1.1' : 'PIIX3 USB controller at index 0 must have PCI address 0:0:1.2');
      } else c.address = want;
      if (set.buses.length) set.reserve({ ...c.address! }, pciFlags, true);
    }
    if (set.buses.length) {
      set.reserve(pciAt(0, 1, 0), pciFlags, true); // ISA bridge
      set.reserve(pciAt(0, 1, 3), pciFlags, true); // PIIX4 PM
    }
    primaryVideo(set, 2, pciFlags);
  };

  /** The primary video goes where QEMU would put the first VGA device: slot 2 on pc (after the
   *  PIIX3 functions), slot 1 on q35, unless something is there already. */
  const primaryVideo = (set: AddressSet, slot: number, f: number): void => {
    const v = devs.videos[0];
    if (!v || !isWanted(v.address)) return;
    const a = pciAt(0, slot, 0);
    set.validate(a, f, true);
    if (set.slotInUse(a)) {
      const next = set.reserveNext(flags.get(v)!);
      if (!set.dryRun) v.address = next;
    } else {
      set.reserve(a, f, false);
      v.address = a;
    }
  };

  /** qemuDomainAssignDevicePCISlots; a dry run reserves without writing addresses. */
  const assignSlots = (set: AddressSet): void => {
    const place = (holder: Dev['holder']): void => {
      const a = set.reserveNext(flags.get(holder) ?? 0);
      if (!set.dryRun) holder.address = a;
    };
    for (const c of devs.controllers) {
      if (c.type !== 'pci' || c.model === 'pci-root' || c.model === 'pcie-root' || !isWanted(c.address)) continue;
      place(c);
    }
    for (const f of devs.filesystems) if (isWanted(f.address)) place(f);
    for (const n of devs.nets) if (isWanted(n.address)) place(n);
    for (const c of devs.controllers) {
      if (c.type === 'pci' || (c.type === 'usb' && c.model === 'none') || (c.type === 'ide' && c.index === 0)) continue;
      if (!isWanted(c.address)) continue;
      place(c);
    }
    for (const k of devs.disks) {
      if (k.bus !== 'virtio' || isPresent(k.address)) continue;
      if (!isWanted(k.address)) fail('CONFIG_UNSUPPORTED', `virtio disk cannot have an address of type '${k.address!.type}'`);
      place(k);
    }
    if (balloon && balloon.model !== 'none' && isWanted(balloon.address)) place(balloon);
    for (const v of devs.videos) if (isWanted(v.address)) place(v);
    for (const m of pciMems) if (isWanted(m.address as PciAddress | undefined)) place(m as Dev['holder']);
    for (const c of devs.cryptos) if (isWanted(c.address)) place(c);
  };

  const maxIdx = pciControllers().reduce((m, c) => Math.max(m, c.index), -1);
  let nbuses = maxIdx + 1;
  if (nbuses > 0) {
    // 1st pass: which buses (controllers) the devices need.
    const set = createSet(nbuses, true);
    validateChipsets(set);
    if (hasRoot('pci-root') && !set.buses.every(isFullyReserved)) set.reserveNext(pciFlags); // room for a future bridge
    assignSlots(set);
    // A new pcie-root guest whose devices needed extra buses gets one spare root port for hotplug.
    if (maxIdx <= 0 && set.buses.length > maxIdx + 1 && pcieRoot) set.reserveNext(PCIE_DEVICE | AUTOASSIGN);
    for (let i = 1; i < set.buses.length; i++) {
      if (pciControllers().some((c) => c.index === i)) continue;
      const model = set.buses[i].model;
      const c: Controller = { type: 'pci', index: i, model };
      addController(devs.controllers, c, profile.behaviour); // virDomainDefMaybeAddController
      flags.set(c, controllerConnectType(model));
      set.reserveNext(flags.get(c)!);
    }
    nbuses = set.buses.length;
  }

  // 2nd pass: the real assignment.
  const set = createSet(nbuses, false);
  validateChipsets(set);
  assignSlots(set);
  setAllMulti(all());
  setPciControllerDefaults(d, profile);
}

/** virDomainPCIAddressSetAllMulti: function 0 of a slot with other functions in use gets multifunction='on'. */
function setAllMulti(devices: Dev[]): void {
  for (const { holder } of devices) {
    const t = holder.address;
    if (t?.type !== 'pci' || t.function === 0) continue;
    for (const { holder: h } of devices) {
      const a = h.address;
      if (a?.type === 'pci' && a.domain === t.domain && a.bus === t.bus && a.slot === t.slot && a.function === 0) {
        a.multifunction ??= true;
        break;
      }
    }
  }
}
