// PCI controllers other than the root buses (pci-bridge, the PCIe root and switch ports, the
// pci/pcie expander buses, the bridges between PCI and PCIe): their <model name> and <target>
// as virDomainControllerDefParseXML reads them, the QEMU device each model becomes
// (qemuDomainPCIControllerSetDefaultModelName), the options libvirt fills in after address
// assignment, the checks of post-parse and validation in libvirt's order and words, the XML
// (virDomainControllerDefFormatPCI) and the -device (qemuBuildControllerPCIDevProps).
import { fail, notModelled } from './errors.js';
import type { Controller, Domain, PciControllerModel, PciControllerOpts } from './domain.js';
import { PCI_CONTROLLER_MODELS } from './domain.js';
import type { Props } from './memory-backend.js';
import type { Profile, ProfileFlags } from './profile.js';
import { parseInt32, propEnum, propInt } from './props.js';
import { childrenNamed, type XmlElement } from './xml-tree.js';

/** virDomainControllerPCIModelName, in libvirt's enum order ('none' is index 0). */
const MODEL_NAMES = [
  'none', 'pci-bridge', 'i82801b11-bridge', 'ioh3420', 'x3130-upstream', 'xio3130-downstream', 'pxb', 'pxb-pcie',
  'pcie-root-port', 'spapr-pci-host-bridge', 'pcie-pci-bridge',
] as const;

/** The QEMU device (model name) each model may be, and the capability it needs
 *  (virValidateControllerPCIModelNameToQEMUCaps). */
const DEVICE_CAPS: Record<string, keyof ProfileFlags> = {
  'pci-bridge': 'pciBridge', 'i82801b11-bridge': 'dmiToPciBridge', ioh3420: 'ioh3420', 'x3130-upstream': 'x3130Upstream',
  'xio3130-downstream': 'xio3130Downstream', pxb: 'pxb', 'pxb-pcie': 'pxbPcie', 'pcie-root-port': 'pcieRootPort',
  'pcie-pci-bridge': 'pciePciBridge',
};

/** The model names validation accepts per model (qemuValidateDomainDeviceDefControllerPCI). */
const NAMES_OF: Record<PciControllerModel, readonly string[]> = {
  'pci-root': [], 'pcie-root': [], 'pci-bridge': ['pci-bridge'], 'dmi-to-pci-bridge': ['i82801b11-bridge'],
  'pcie-to-pci-bridge': ['pcie-pci-bridge'], 'pcie-root-port': ['ioh3420', 'pcie-root-port'],
  'pcie-switch-upstream-port': ['x3130-upstream'], 'pcie-switch-downstream-port': ['xio3130-downstream'],
  'pci-expander-bus': ['pxb'], 'pcie-expander-bus': ['pxb-pcie'],
};

export const isPciModel = (m: string | undefined): m is PciControllerModel => (PCI_CONTROLLER_MODELS as readonly string[]).includes(m ?? '');

/** The <model name> and <target> of a PCI controller, in virDomainControllerDefParseXML's order. */
export function parsePciControllerOpts(el: XmlElement, c: Controller): void {
  // Most are a bare <controller type='pci' index='0' model='pci-root'/>: nothing to look for.
  if (!el.children.length) { c.opts = {}; return; }
  const models = childrenNamed(el, 'model');
  if (models.length > 1) fail('XML_ERROR', 'Multiple <model> elements in controller definition not allowed');
  if (models.length === 1) {
    const name = propEnum(models[0], 'name', MODEL_NAMES);
    if (name !== undefined && name !== 'none') c.modelName = name;
  }
  const targets = childrenNamed(el, 'target');
  if (targets.length > 1) fail('XML_ERROR', 'Multiple <target> elements in controller definition not allowed');
  const opts: PciControllerOpts = {};
  if (targets.length === 1) {
    const t = targets[0];
    for (const k of ['chassisNr', 'chassis', 'port', 'busNr'] as const) {
      const v = propInt(t, k, 0, true);
      if (v !== undefined) opts[k] = v;
    }
    // virXPathInt("string(./target/node)"): an empty text is no node.
    const node = childrenNamed(t, 'node')[0];
    if (node && node.text !== '') {
      const n = parseInt32(node.text, 10);
      if (n === null || n < 0) fail('XML_ERROR', 'invalid NUMA node in target');
      opts.numaNode = n!;
    }
  }
  c.opts = opts;
}

/** qemuDomainControllerDefPostParse for a PCI controller (after the index 0 root check). */
export function pciControllerPostParse(d: Domain, c: Controller, q35: boolean): void {
  if (c.model === 'pci-expander-bus' && q35)
    fail('CONFIG_UNSUPPORTED', 'pci-expander-bus controllers are only supported on 440fx-based machinetypes');
  if (c.model === 'pcie-expander-bus' && !q35)
    fail('CONFIG_UNSUPPORTED', 'pcie-expander-bus controllers are not supported with this machine type');
  const ncells = d.cpu?.cells.length ?? 0;
  const node = c.opts?.numaNode;
  if (node !== undefined && node >= ncells)
    fail('XML_ERROR', `${c.model} with index ${c.index} is configured for a NUMA node (${node}) not present in the domain's <cpu><numa> array (${ncells})`);
}

/** qemuDomainPCIControllerSetDefaultModelName */
export function defaultModelName(model: PciControllerModel, profile: Profile): string | undefined {
  switch (model) {
    case 'pci-bridge': return 'pci-bridge';
    case 'dmi-to-pci-bridge': return 'i82801b11-bridge';
    case 'pcie-to-pci-bridge': return 'pcie-pci-bridge';
    case 'pcie-root-port': return profile.flags.pcieRootPort ? 'pcie-root-port' : 'ioh3420';
    case 'pcie-switch-upstream-port': return 'x3130-upstream';
    case 'pcie-switch-downstream-port': return 'xio3130-downstream';
    case 'pci-expander-bus': return 'pxb';
    case 'pcie-expander-bus': return 'pxb-pcie';
    default: return undefined;
  }
}

/** qemuDomainAddressFindNewBusNr: two below the lowest busNr in use (the pxb and its bridge). */
function newBusNr(d: Domain): number | undefined {
  const lowest = d.devices.controllers.reduce((m, c) => (c.type === 'pci' && c.opts?.busNr !== undefined ? Math.min(m, c.opts.busNr) : m), 256);
  return lowest <= 2 ? undefined : lowest - 2;
}

/** The options qemuDomainAssignPCIAddresses fills in once addresses are known, per controller in
 *  list order; a pci-bridge must sit on a lower bus than its own index. */
export function setPciControllerDefaults(d: Domain, profile: Profile): void {
  for (const c of d.devices.controllers) {
    if (c.type !== 'pci' || !isPciModel(c.model)) continue;
    c.modelName ??= defaultModelName(c.model, profile);
    const o = (c.opts ??= {});
    const a = c.address;
    switch (c.model) {
      case 'pci-bridge':
        o.chassisNr ??= c.index;
        break;
      case 'pcie-root-port':
        o.chassis ??= c.index;
        if (a) o.port ??= (a.slot << 3) + a.function;
        break;
      case 'pcie-switch-downstream-port':
        o.chassis ??= c.index;
        if (a) o.port ??= a.slot;
        break;
      case 'pci-expander-bus':
      case 'pcie-expander-bus':
        o.busNr ??= newBusNr(d);
        if (o.busNr === undefined)
          fail('CONFIG_UNSUPPORTED', `No free busNr lower than current lowest busNr is available to auto-assign to bus ${a?.bus ?? 0}. Must be manually assigned`);
        break;
      default:
        break;
    }
    if (c.model === 'pci-bridge' && a && c.index <= a.bus)
      fail('CONFIG_UNSUPPORTED', `PCI controller at index ${c.index} (0x${c.index.toString(16).padStart(2, '0')}) has bus='0x${a.bus.toString(16).padStart(2, '0')}', but index must be larger than bus`);
  }
}

/** A controller without a <target>: read in place of one, so that validating allocates nothing. */
const NO_OPTS: Readonly<PciControllerOpts> = Object.freeze({});

/** virDomainControllerDefValidate for a PCI controller (the generic check, before the driver's). */
export function validatePciControllerRanges(c: Controller): void {
  if (c.type !== 'pci') return;
  const o = c.opts ?? NO_OPTS;
  if ((c.model === 'pci-root' || c.model === 'pcie-root') && c.address)
    fail('CONFIG_UNSUPPORTED', 'pci-root and pcie-root controllers should not have an address');
  if (c.index > 255) fail('CONFIG_UNSUPPORTED', `PCI controller index ${c.index} too high, maximum is 255`);
  if (o.chassisNr !== undefined && (o.chassisNr < 1 || o.chassisNr > 255))
    fail('CONFIG_UNSUPPORTED', `PCI controller chassisNr '${o.chassisNr}' out of range - must be 1-255`);
  if (o.chassis !== undefined && o.chassis > 255)
    fail('CONFIG_UNSUPPORTED', `PCI controller chassis '${o.chassis}' out of range - must be 0-255`);
  if (o.port !== undefined && o.port > 255)
    fail('CONFIG_UNSUPPORTED', `PCI controller port '${o.port}' out of range - must be 0-255`);
  if (o.busNr !== undefined && (o.busNr < 1 || o.busNr > 254))
    fail('CONFIG_UNSUPPORTED', `PCI controller busNr '${o.busNr}' out of range - must be 1-254`);
  if (o.numaNode !== undefined && c.index === 0)
    fail('CONFIG_UNSUPPORTED', "The PCI controller with index=0 can't be associated with a NUMA node");
}

/** The end of qemuValidateDomainDeviceDefControllerPCI's messages: spelled out only when one is
 *  raised (every domain has a PCI root to validate). */
const about = (c: Controller): string => `for PCI controller with index '${c.index}', model '${c.model}' and modelName '${c.modelName ?? 'none'}'`;

/** qemuValidateDomainDeviceDefControllerPCI for the x86 models (no pSeries PHBs). */
export function validatePciController(c: Controller, profile: Profile): void {
  if (c.type !== 'pci' || !isPciModel(c.model)) return;
  const model = c.model;
  const name = c.modelName ?? 'none';
  const o = c.opts ?? NO_OPTS;
  const missing = (opt: string): never => fail('INTERNAL_ERROR', `Required option '${opt}' is not set ${about(c)}`);
  const invalid = (opt: string): never => fail('CONFIG_UNSUPPORTED', `Option '${opt}' is not valid ${about(c)}`);
  const root = model === 'pci-root' || model === 'pcie-root';
  // modelName: set automatically for all but the roots, which may not have one.
  if (root) { if (c.modelName) invalid('modelName'); } else if (!c.modelName) missing('modelName');
  if (!root && !NAMES_OF[model].includes(name)) fail('CONFIG_UNSUPPORTED', `Option 'modelName' has invalid value ${about(c)}`);
  if (root) { if (c.index !== 0) fail('CONFIG_UNSUPPORTED', `Index for '${model}' controllers must be 0`); } else if (c.index === 0)
    fail('CONFIG_UNSUPPORTED', `Index for '${model}' controllers must be > 0`);
  const expander = model === 'pci-expander-bus' || model === 'pcie-expander-bus';
  if (expander) { if (o.busNr === undefined) missing('busNr'); } else if (o.busNr !== undefined) invalid('busNr');
  if (!expander && o.numaNode !== undefined) invalid('numaNode');
  if (model === 'pci-bridge') { if (o.chassisNr === undefined) missing('chassisNr'); } else if (o.chassisNr !== undefined) invalid('chassisNr');
  const port = model === 'pcie-root-port' || model === 'pcie-switch-downstream-port';
  if (port) {
    if (o.chassis === undefined) missing('chassis');
    if (o.port === undefined) missing('port');
  } else {
    if (o.chassis !== undefined) invalid('chassis');
    if (o.port !== undefined) invalid('port');
  }
  const cap = DEVICE_CAPS[name];
  if (cap && !profile.flags[cap]) fail('CONFIG_UNSUPPORTED', `The '${name}' device is not supported by this QEMU binary`);
}

/** qemuBuildControllerPCIDevProps, before the address (the caller adds it). */
export function pciControllerProps(c: Controller): Props {
  const o = c.opts ?? {};
  const id = `pci.${c.index}`;
  const driver = c.modelName ?? notModelled(`a ${c.model} controller without a QEMU device`);
  switch (c.model) {
    case 'pci-bridge': return [['driver', driver], ['chassis_nr', o.chassisNr!], ['id', id]];
    case 'pci-expander-bus':
    case 'pcie-expander-bus': {
      const props: Props = [['driver', driver], ['bus_nr', o.busNr!], ['id', id]];
      if (o.numaNode !== undefined) props.push(['numa_node', o.numaNode]);
      return props;
    }
    case 'dmi-to-pci-bridge':
    case 'pcie-switch-upstream-port':
    case 'pcie-to-pci-bridge': return [['driver', driver], ['id', id]];
    case 'pcie-root-port':
    case 'pcie-switch-downstream-port': return [['driver', driver], ['port', o.port!], ['chassis', o.chassis!], ['id', id]];
    default: return notModelled(`pci controller model '${c.model}' on the command line`);
  }
}

/** virDomainControllerDefFormatPCI: <model name> and <target> (attributes in libvirt's order),
 *  appended to `out`; the PCI root every domain has prints neither. */
export function formatPciControllerOpts(out: string[], c: Controller, ind: string): void {
  if (c.modelName) out.push(`${ind}<model name='${c.modelName}'/>`);
  const o = c.opts;
  if (!o) return;
  let attrs = '';
  if (o.chassisNr !== undefined) attrs += ` chassisNr='${o.chassisNr}'`;
  if (o.chassis !== undefined) attrs += ` chassis='${o.chassis}'`;
  if (o.port !== undefined) attrs += ` port='0x${o.port.toString(16)}'`;
  if (o.busNr !== undefined) attrs += ` busNr='${o.busNr}'`;
  if (o.numaNode !== undefined) out.push(`${ind}<target${attrs}>`, `${ind}  <node>${o.numaNode}</node>`, `${ind}</target>`);
  else if (attrs) out.push(`${ind}<target${attrs}/>`);
}

/** The model attribute as virDomainControllerModelTypeFromString reads it for a PCI controller. */
export function pciModelOf(model: string | undefined): PciControllerModel | undefined {
  if (model === undefined) return undefined;
  if (!isPciModel(model)) fail('CONFIG_UNSUPPORTED', `Unknown model type '${model}'`);
  return model as PciControllerModel;
}

