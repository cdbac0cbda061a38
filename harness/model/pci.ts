// PCI address assignment as libvirt 9.0.0 does it for the modelled devices:
// qemuDomainAssignPCIAddresses (src/qemu/qemu_domain_address.c) over the address set of
// src/conf/domain_addr.c — a dry run that grows the bus list with the controllers the devices
// need (pcie-root-port, pcie-root-port + pcie-to-pci-bridge, …), one spare root port on pcie-root
// machines, then the real assignment, multifunction marking and controller defaults.
import { fail, notModelled, type ErrorCode } from './errors.js';
import type { Controller, Disk, Domain, PciAddress, PciControllerModel } from './domain.js';
import type { Profile } from './profile.js';
import { insertController } from './parse.js';
import type { Controller as Ctrl } from './domain.js';
import type { Behaviour } from './profile.js';

/** virDomainDefAddController: appended (9.0.0), or inserted in index order among its type. */
export function addController(list: Ctrl[], c: Ctrl, behaviour: Behaviour): void {
  if (behaviour.controllerInsertSorted) insertController(list, c);
  else list.push(c);
}

// virDomainPCIConnectFlags (src/conf/domain_addr.h)
const AUTOASSIGN = 1 << 0;
const HOTPLUGGABLE = 1 << 1;
const AGGREGATE_SLOT = 1 << 3;
const PCI_DEVICE = 1 << 4;
const PCIE_DEVICE = 1 << 5;
const PCIE_ROOT_PORT = 1 << 6;
const SWITCH_UPSTREAM_PORT = 1 << 7;
const SWITCH_DOWNSTREAM_PORT = 1 << 8;
const DMI_TO_PCI_BRIDGE = 1 << 9;
const PCI_EXPANDER_BUS = 1 << 10;
const PCIE_EXPANDER_BUS = 1 << 11;
const PCI_BRIDGE = 1 << 12;
const PCIE_TO_PCI_BRIDGE = 1 << 13;
const TYPES_MASK = PCI_DEVICE | PCIE_DEVICE | SWITCH_UPSTREAM_PORT | SWITCH_DOWNSTREAM_PORT | PCIE_ROOT_PORT
  | DMI_TO_PCI_BRIDGE | PCI_EXPANDER_BUS | PCIE_EXPANDER_BUS | PCI_BRIDGE | PCIE_TO_PCI_BRIDGE;
const TYPES_ENDPOINT = PCI_DEVICE | PCIE_DEVICE;
const SLOT_LAST = 31;
const FUNCTION_LAST = 7;

export const isQ35 = (d: Domain): boolean => d.os.machine === 'q35' || d.os.machine.startsWith('pc-q35');

/** The QEMU device of an auto-added PCI controller (qemuDomainPCIControllerSetDefaultModelName). */
const MODEL_NAME: Partial<Record<PciControllerModel, string>> = {
  'pcie-root-port': 'pcie-root-port',
  'pcie-to-pci-bridge': 'pcie-pci-bridge',
};

interface Bus {
  model: PciControllerModel;
  flags: number;
  minSlot: number;
  maxSlot: number;
  /** Per slot: bitmask of the functions in use, and whether the slot aggregates root ports. */
  functions: number[];
  aggregate: boolean[];
}

/** A device that may take a PCI address: what it is (for the iteration order) and its connect flags. */
interface Dev {
  holder: { address?: PciAddress | Disk['address'] };
  flags: number;
}

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
/** virPCIDeviceAddressAsString */
const addrStr = (a: PciAddress): string => `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.slot, 2)}.${a.function.toString(16)}`;
const pciAt = (bus: number, slot: number, fn: number): PciAddress => ({ type: 'pci', domain: 0, bus, slot, function: fn });

/** virDeviceInfoPCIAddressIsPresent: a PCI address other than the empty 0000:00:00. */
function isPresent(a: Disk['address']): a is PciAddress {
  return a?.type === 'pci' && !!(a.domain || a.bus || a.slot);
}
/** virDeviceInfoPCIAddressIsWanted */
const isWanted = (a: Disk['address']): boolean => !a || (a.type === 'pci' && !isPresent(a));

/** virDomainPCIControllerModelToConnectType */
function controllerConnectType(model: string | undefined): number {
  switch (model) {
    case 'pci-bridge': return PCI_BRIDGE;
    case 'dmi-to-pci-bridge': return DMI_TO_PCI_BRIDGE;
    case 'pcie-to-pci-bridge': return PCIE_TO_PCI_BRIDGE;
    case 'pcie-root-port': return PCIE_ROOT_PORT | AGGREGATE_SLOT;
    default: return 0;
  }
}

/** virDomainPCIControllerConnectTypeToModel (only for an error message) */
function connectTypeToModel(flags: number): string | undefined {
  if (flags & PCIE_ROOT_PORT) return 'pcie-root-port';
  if (flags & SWITCH_UPSTREAM_PORT) return 'pcie-switch-upstream-port';
  if (flags & SWITCH_DOWNSTREAM_PORT) return 'pcie-switch-downstream-port';
  if (flags & DMI_TO_PCI_BRIDGE) return 'dmi-to-pci-bridge';
  if (flags & PCI_EXPANDER_BUS) return 'pci-expander-bus';
  if (flags & PCIE_EXPANDER_BUS) return 'pcie-expander-bus';
  if (flags & PCI_BRIDGE) return 'pci-bridge';
  return undefined;
}

/** virDomainPCIAddressBusSetModel: what may be plugged downstream of each bus. */
function newBus(model: PciControllerModel, allowHotplug = true): Bus {
  const hot = allowHotplug ? HOTPLUGGABLE : 0;
  let flags: number;
  let minSlot = 1;
  let maxSlot = SLOT_LAST;
  switch (model) {
    case 'pci-root': flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | PCI_EXPANDER_BUS | hot; break;
    case 'pci-bridge': flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hot; break;
    case 'pcie-root': flags = PCIE_DEVICE | PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE | PCIE_EXPANDER_BUS; break;
    case 'dmi-to-pci-bridge': flags = PCI_DEVICE | PCI_BRIDGE; minSlot = 0; break;
    case 'pcie-to-pci-bridge': flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hot; break;
    case 'pcie-root-port':
      flags = AUTOASSIGN | PCIE_DEVICE | SWITCH_UPSTREAM_PORT | PCIE_TO_PCI_BRIDGE | hot;
      minSlot = 0; maxSlot = 0;
      break;
  }
  return { model, flags, minSlot, maxSlot, functions: new Array(SLOT_LAST + 1).fill(0), aggregate: new Array(SLOT_LAST + 1).fill(false) };
}

const isFullyReserved = (b: Bus): boolean => {
  for (let i = b.minSlot; i <= b.maxSlot; i++) if (!b.functions[i]) return false;
  return true;
};

/** virDomainPCIAddressFlagsCompatible; throws (libvirt's words) only when `report`. */
function flagsCompatible(addr: PciAddress, busFlags: number, devFlags: number, report: boolean, fromConfig: boolean): boolean {
  const code: ErrorCode = fromConfig ? 'XML_ERROR' : 'INTERNAL_ERROR';
  const s = { toString: () => addrStr(addr) }; // formatted only if an error needs it
  if (fromConfig) {
    if (busFlags & TYPES_ENDPOINT) busFlags |= TYPES_ENDPOINT;
    if (devFlags & PCI_BRIDGE) devFlags |= PCI_DEVICE;
  } else if ((devFlags & AUTOASSIGN) && !(busFlags & AUTOASSIGN)) {
    if (report) fail(code, `The device at PCI address ${s} was auto-assigned this address, but the PCI controller with index='${addr.bus}' doesn't allow auto-assignment`);
    return false;
  }
  if ((devFlags & HOTPLUGGABLE) && !(busFlags & HOTPLUGGABLE)) {
    if (report) fail(code, `The device at PCI address ${s} requires hotplug capability, but the PCI controller with index='${addr.bus}' doesn't support hotplug`);
    return false;
  }
  if (!(devFlags & busFlags & TYPES_MASK)) {
    if (!report) return false;
    const what: [number, string][] = [
      [PCI_DEVICE, 'standard PCI device'], [PCIE_DEVICE, 'PCI Express device'], [PCIE_ROOT_PORT, 'pcie-root-port'],
      [SWITCH_UPSTREAM_PORT, 'pcie-switch-upstream-port'], [SWITCH_DOWNSTREAM_PORT, 'pcie-switch-downstream-port'],
      [DMI_TO_PCI_BRIDGE, 'dmi-to-pci-bridge'], [PCIE_TO_PCI_BRIDGE, 'pcie-to-pci-bridge'],
      [PCI_EXPANDER_BUS, 'pci-expander-bus'], [PCIE_EXPANDER_BUS, 'pcie-expander-bus'], [PCI_BRIDGE, 'pci-bridge'],
    ];
    const hit = what.find(([bit]) => devFlags & bit);
    if (!hit) fail(code, `The device at PCI address ${s} has unrecognized connection type flags 0x${hex(devFlags & TYPES_MASK, 2)}`);
    fail(code, `The device at PCI address ${s} cannot be plugged into the PCI controller with index='${addr.bus}'. It requires a controller that accepts a ${hit![1]}.`);
  }
  return true;
}

/** virDomainPCIAddressSet for the modelled devices (one isolation group, no extensions). */
class AddressSet {
  buses: Bus[] = [];
  constructor(readonly dryRun: boolean, readonly pcieToPciBridge: boolean) {}

  /** virDomainPCIAddressSetGrow: add the buses `addr` needs (dry run only); may bump addr.bus. */
  grow(addr: PciAddress, flags: number): void {
    let add = addr.bus - this.buses.length + 1;
    if (add <= 0) return;
    let model: PciControllerModel;
    let needDMI = false;
    let needPCIe = false;
    if (flags & PCI_DEVICE) {
      model = 'pci-bridge';
      needDMI = needPCIe = !this.buses.some((b) => b.flags & PCI_BRIDGE);
      if (this.pcieToPciBridge) needDMI = false;
      else needPCIe = false;
      if ((needDMI || needPCIe) && add === 1) { add++; addr.bus++; }
    } else if (flags & (PCIE_DEVICE | SWITCH_UPSTREAM_PORT)) {
      model = 'pcie-root-port';
    } else {
      const existing = connectTypeToModel(flags);
      if (existing) fail('INTERNAL_ERROR', `a PCI slot is needed to connect a PCI controller model='${existing}', but none is available, and it cannot be automatically added`);
      return fail('INTERNAL_ERROR', `Cannot automatically add a new PCI bus for a device with connect flags ${hex(flags, 2)}`);
    }
    const added: Bus[] = [];
    if (needDMI) added.push(newBus('dmi-to-pci-bridge', false));
    if (needPCIe) {
      // The root port under the pcie-to-pci-bridge takes nothing else (not the spare device).
      const port = newBus('pcie-root-port');
      port.flags = PCIE_TO_PCI_BRIDGE;
      added.push(port, newBus('pcie-to-pci-bridge'));
    }
    while (added.length < add) added.push(newBus(model));
    this.buses.push(...added);
  }

  /** virDomainPCIAddressValidate */
  validate(addr: PciAddress, flags: number, fromConfig: boolean): void {
    const code: ErrorCode = fromConfig ? 'XML_ERROR' : 'INTERNAL_ERROR';
    const s = { toString: () => addrStr(addr) }; // formatted only if an error needs it
    if (!this.buses.length) fail(code, 'No PCI buses available');
    if (addr.domain !== 0) fail(code, `Invalid PCI address ${s}. Only PCI domain 0 is available`);
    if (addr.bus >= this.buses.length) fail(code, `Invalid PCI address ${s}. Only PCI buses up to ${this.buses.length - 1} are available`);
    const bus = this.buses[addr.bus];
    flagsCompatible(addr, bus.flags, flags, true, fromConfig);
    if (bus.minSlot && addr.slot < bus.minSlot) fail(code, `Invalid PCI address ${s}. slot must be >= ${bus.minSlot}`);
    if (addr.slot > bus.maxSlot) fail(code, `Invalid PCI address ${s}. slot must be <= ${bus.maxSlot}`);
    if (addr.function > FUNCTION_LAST) fail(code, `Invalid PCI address ${s}. function must be <= ${FUNCTION_LAST}`);
  }

  /** virDomainPCIAddressReserveAddrInternal */
  reserve(addr: PciAddress, flags: number, fromConfig: boolean): void {
    if (this.dryRun) this.grow(addr, flags);
    this.validate(addr, flags, fromConfig);
    const bus = this.buses[addr.bus];
    if (bus.functions[addr.slot] & (1 << addr.function))
      fail(fromConfig ? 'XML_ERROR' : 'INTERNAL_ERROR', `Attempted double use of PCI Address ${addrStr(addr)}`);
    if (!bus.functions[addr.slot] && (flags & AGGREGATE_SLOT)) bus.aggregate[addr.slot] = true;
    bus.functions[addr.slot] |= 1 << addr.function;
  }

  /** virDomainPCIAddressFindUnusedFunctionOnBus (function = -1: any function). */
  private findOnBus(bus: Bus, a: PciAddress, flags: number): boolean {
    if (!flagsCompatible(a, bus.flags, flags, false, false)) return false;
    for (; a.slot <= bus.maxSlot; a.slot++) {
      const used = bus.functions[a.slot];
      if (!used) return true;
      if ((flags & AGGREGATE_SLOT) && bus.aggregate[a.slot]) {
        if (!(used & (1 << a.function))) return true;
        for (; a.function <= FUNCTION_LAST; a.function++) if (!(used & (1 << a.function))) return true;
        a.function = 0;
      }
    }
    return false;
  }

  /** virDomainPCIAddressGetNextAddr + ReserveNextAddr with function -1 (qemuDomainPCIAddressReserveNextAddr). */
  reserveNext(flags: number): PciAddress {
    const a = pciAt(0, 0, 0);
    let found = false;
    for (a.bus = 0; a.bus < this.buses.length; a.bus++) {
      a.slot = this.buses[a.bus].minSlot;
      if (this.findOnBus(this.buses[a.bus], a, flags)) { found = true; break; }
    }
    // (libvirt's second pass over empty buses of another isolation group finds nothing new here.)
    if (!found) {
      if (!this.dryRun) fail('INTERNAL_ERROR', 'No more available PCI slots');
      this.grow(a, flags);
      a.slot = this.buses[a.bus].minSlot;
    }
    this.reserve(a, flags, false);
    return a;
  }
}

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
  /** virDomainDeviceInfoIterate order for the modelled devices. */
  const all = (): Dev[] => [...devs.disks, ...devs.controllers, ...(balloon ? [balloon] : [])]
    .map((holder) => ({ holder, flags: flags.get(holder) ?? 0 }));

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
      if (!MODEL_NAME[model]) notModelled(`an auto-added PCI controller model='${model}'`);
      if (model === 'pcie-root-port' && !profile.flags.pcieRootPort) notModelled('ioh3420 root ports (QEMU without pcie-root-port)');
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
  for (const c of pciControllers()) {
    const name = MODEL_NAME[c.model as PciControllerModel];
    if (name) c.modelName ??= name;
    if (c.model === 'pcie-root-port' && c.address) {
      c.target ??= { chassis: c.index, port: (c.address.slot << 3) + c.address.function };
    }
  }
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
