// libvirt's PCI address set (src/conf/domain_addr.c) for the modelled devices: the connect
// flags, what each bus model accepts, the compatibility check with libvirt's words, and the set
// itself (reserve, grow in a dry run, next free address). pci.ts drives it the way qemu does.
import { fail, type ErrorCode } from './errors.js';
import type { PciAddress, PciControllerModel } from './domain.js';

// virDomainPCIConnectFlags (src/conf/domain_addr.h)
export const AUTOASSIGN = 1 << 0;
const HOTPLUGGABLE = 1 << 1;
const AGGREGATE_SLOT = 1 << 3;
export const PCI_DEVICE = 1 << 4;
export const PCIE_DEVICE = 1 << 5;
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

interface Bus {
  model: PciControllerModel;
  flags: number;
  minSlot: number;
  maxSlot: number;
  /** Per slot: bitmask of the functions in use, and whether the slot aggregates root ports. */
  functions: number[];
  aggregate: boolean[];
}

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
/** virPCIDeviceAddressAsString */
const addrStr = (a: PciAddress): string => `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.slot, 2)}.${a.function.toString(16)}`;
export const pciAt = (bus: number, slot: number, fn: number): PciAddress => ({ type: 'pci', domain: 0, bus, slot, function: fn });


/** virDomainPCIControllerModelToConnectType */
export function controllerConnectType(model: string | undefined): number {
  switch (model) {
    case 'pci-bridge': return PCI_BRIDGE;
    case 'dmi-to-pci-bridge': return DMI_TO_PCI_BRIDGE;
    case 'pcie-to-pci-bridge': return PCIE_TO_PCI_BRIDGE;
    case 'pcie-root-port': return PCIE_ROOT_PORT | AGGREGATE_SLOT;
    case 'pcie-switch-upstream-port': return SWITCH_UPSTREAM_PORT;
    case 'pcie-switch-downstream-port': return SWITCH_DOWNSTREAM_PORT;
    case 'pci-expander-bus': return PCI_EXPANDER_BUS;
    case 'pcie-expander-bus': return PCIE_EXPANDER_BUS;
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
export function newBus(model: PciControllerModel, allowHotplug = true): Bus {
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
    case 'pcie-switch-downstream-port':
      flags = AUTOASSIGN | PCIE_DEVICE | SWITCH_UPSTREAM_PORT | PCIE_TO_PCI_BRIDGE | hot;
      minSlot = 0; maxSlot = 0;
      break;
    case 'pci-expander-bus': flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hot; minSlot = 0; break;
    case 'pcie-switch-upstream-port': flags = SWITCH_DOWNSTREAM_PORT; minSlot = 0; break;
    case 'pcie-expander-bus': flags = PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE; minSlot = 0; break;
  }
  return { model, flags, minSlot, maxSlot, functions: new Array(SLOT_LAST + 1).fill(0), aggregate: new Array(SLOT_LAST + 1).fill(false) };
}

export const isFullyReserved = (b: Bus): boolean => {
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
export class AddressSet {
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

  /** virDomainPCIAddressSlotInUse: any function of the slot taken. */
  slotInUse(a: PciAddress): boolean {
    return !!this.buses[a.bus]?.functions[a.slot];
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
