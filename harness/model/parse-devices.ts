// <devices>: disks, controllers (and where each joins the list), watchdogs, inputs, audio and
// the memory balloon, with their PCI and drive addresses.
import { fail, notModelled } from './errors.js';
import { attr, child, childrenNamed, type XmlElement } from './xml-tree.js';
import type { Behaviour } from './profile.js';
import type { Controller, Disk, Domain, DriveAddress, Input, PciAddress } from './domain.js';
import { propEnum, propInt, propUInt } from './props.js';
import { parseMemoryDevice } from './parse-memory.js';
import { parsePciControllerOpts, pciModelOf } from './pci-controllers.js';
import { parseDisk } from './disks.js';
import { parseInterface } from './interfaces.js';
import { parseFilesystem } from './filesystems.js';
import { parseVideo } from './videos.js';
import { parseCrypto } from './crypto.js';

function parsePciAddress(el: XmlElement): PciAddress {
  const t = attr(el, 'type');
  if (t !== 'pci') notModelled(`address type '${t ?? ''}' here`);
  const num = (n: string): number => {
    const v = attr(el, n);
    if (v === undefined) return 0;
    const x = /^0x[0-9a-fA-F]+$/.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? parseInt(v, 10) : NaN;
    if (Number.isNaN(x)) notModelled(`address ${n}='${v}'`);
    // virXMLPropUInt (base 0): beyond an unsigned int it is not a value at all.
    if (x > 0xffffffff) fail('XML_ERROR', `Invalid value for attribute '${n}' in element '${el.name}': '${v}'. Expected non-negative integer value`);
    return x;
  };
  const a: PciAddress = { type: 'pci', domain: num('domain'), bus: num('bus'), slot: num('slot'), function: num('function') };
  const multi = propEnum(el, 'multifunction', ['default', 'on', 'off'] as const, false, true);
  if (multi) a.multifunction = multi === 'on';
  // virPCIDeviceAddressParseXML checks an address at parse time unless domain, bus and slot are
  // all zero (virPCIDeviceAddressIsEmpty ignores the function).
  if (a.domain || a.bus || a.slot) {
    if (a.bus > 0xff) fail('XML_ERROR', `Invalid PCI address bus='0x${a.bus.toString(16)}', must be <= 0xFF`);
    if (a.slot > 0x1f) fail('XML_ERROR', `Invalid PCI address slot='0x${a.slot.toString(16)}', must be <= 0x1F`);
    if (a.function > 7) fail('XML_ERROR', `Invalid PCI address function=0x${a.function.toString(16)}, must be <= 7`);
  }
  return a;
}

function parseDriveAddress(el: XmlElement): DriveAddress {
  const n = (k: string): number => propUInt(el, k, false) ?? 0;
  return { type: 'drive', controller: n('controller'), bus: n('bus'), target: n('target'), unit: n('unit') };
}

const parseDiskAddress = (a: XmlElement): DriveAddress | PciAddress => (attr(a, 'type') === 'drive' ? parseDriveAddress(a) : parsePciAddress(a));

/** virDomainControllerInsertPreAlloced: a controller joins others of its type, in index order. */
export function insertController(list: Controller[], c: Controller): void {
  let insertAt = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].type !== c.type) continue;
    if (list[i].index > c.index) insertAt = i;
    else if (insertAt === -1) { insertAt = i + 1; break; }
  }
  if (insertAt === -1) list.push(c);
  else list.splice(insertAt, 0, c);
}

/** The order virDomainDefParseXML reads device types in (one ./devices/TYPE node set each, 9.0.0
 *  through 12.x): the first error is the first type's, not the document's first. */
const PARSE_ORDER = ['disk', 'controller', 'lease', 'filesystem', 'interface', 'smartcard', 'parallel', 'serial', 'console',
  'channel', 'input', 'graphics', 'sound', 'audio', 'video', 'hostdev', 'watchdog', 'memballoon', 'rng', 'crypto', 'tpm',
  'nvram', 'hub', 'redirdev', 'redirfilter', 'panic', 'shmem', 'memory', 'iommu', 'vsock', 'pstore'];
const RANK = new Map(PARSE_ORDER.map((n, i) => [n, i]));

export function parseDevices(root: XmlElement, behaviour: Behaviour): Domain['devices'] {
  const devs: Domain['devices'] = {
    disks: [], controllers: [], inputs: [], audios: [], missingTargets: [], watchdogs: [], memories: [],
    nets: [], filesystems: [], videos: [], cryptos: [],
  };
  let usbNone = false;
  let usbOther = false;
  // ./devices/disk, … span every <devices>; string(./devices/emulator[1]) is the first emulator.
  const all = childrenNamed(root, 'devices').flatMap((e) => e.children);
  if (!all.length) return devs;
  const emulator = all.find((d) => d.name === 'emulator');
  if (emulator) devs.emulator = emulator.text.trim();
  const ordered = all.filter((d) => d.name !== 'emulator')
    .sort((a, b) => (RANK.get(a.name) ?? PARSE_ORDER.length) - (RANK.get(b.name) ?? PARSE_ORDER.length));
  // Counted before any is parsed.
  const balloons = ordered.filter((d) => d.name === 'memballoon').length;
  for (const d of ordered) {
    switch (d.name) {
      case 'disk': {
        const disk = parseDisk(d, devs.missingTargets, parseDiskAddress);
        if (disk) devs.disks.push(disk);
        break;
      }
      case 'interface':
        devs.nets.push(parseInterface(d, parsePciAddress));
        break;
      case 'filesystem':
        devs.filesystems.push(parseFilesystem(d, parsePciAddress, behaviour.virtiofsIdmap));
        break;
      case 'video':
        devs.videos.push(parseVideo(d, parsePciAddress, behaviour));
        break;
      case 'crypto':
        // 9.0.0 has no crypto devices: its parser does not read the element.
        if (!behaviour.cryptoDevices) notModelled('<crypto> (libvirt 9.0.0 does not read it)');
        devs.cryptos.push(parseCrypto(d, parsePciAddress));
        break;
      case 'controller': {
        const type = attr(d, 'type');
        if (type !== 'usb' && type !== 'pci' && type !== 'ide' && type !== 'sata') notModelled(`controller type '${type}'`);
        const idx = attr(d, 'index');
        let index = 0;
        // libvirt numbers controllers without an index itself; the model only knows a lone one is 0.
        if (idx === undefined && all.filter((x) => x.name === 'controller' && attr(x, 'type') === type).length > 1)
          notModelled(`${type} controllers without an index`);
        // virXMLPropInt, base 10, non-negative: -1 is an integer, refused as negative.
        if (idx !== undefined) index = propInt(d, 'index', 10, true)!;
        const addrEl = child(d, 'address');
        const model = type === 'pci' ? pciModelOf(attr(d, 'model')) : attr(d, 'model');
        const c: Controller = { type: type as Controller['type'], index, model };
        if (c.type === 'pci') parsePciControllerOpts(d, c);
        else if (child(d, 'model') || child(d, 'target')) notModelled(`<model>/<target> of a ${c.type} controller`);
        // A USB controller of model 'none' is no device: libvirt does not read its address.
        if (addrEl && !(type === 'usb' && model === 'none')) c.address = parsePciAddress(addrEl);
        if (c.type === 'usb') {
          // virDomainDefControllersParse: 'none' excludes every other USB controller.
          if (model === 'none' ? usbNone || usbOther : usbNone) fail('XML_DETAIL', "Can't add another USB controller: USB is disabled for this domain");
          if (model === 'none') usbNone = true; else usbOther = true;
        }
        if (c.type === 'usb' && c.model !== undefined && c.model !== 'piix3-uhci' && c.model !== 'none' && c.model !== 'qemu-xhci') notModelled(`usb controller model '${c.model}'`);
        insertController(devs.controllers, c);
        break;
      }
      case 'input': {
        // virDomainInputDefParseXML reads the type with its own words (9.0.0 through 12.x).
        const type = attr(d, 'type');
        if (type === undefined) fail('INTERNAL_ERROR', 'missing input device type');
        if (!['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'].includes(type!)) fail('CONFIG_UNSUPPORTED', `unknown input device type '${type}'`);
        if (type !== 'mouse' && type !== 'keyboard') notModelled(`input type '${type}'`);
        const bus = attr(d, 'bus') ?? 'ps2';
        if (bus !== 'ps2') notModelled(`input bus '${bus}'`);
        devs.inputs.push({ type, bus: 'ps2' } as Input);
        break;
      }
      case 'audio': {
        const id = propUInt(d, 'id', true, true)!; // VIR_XML_PROP_NONZERO
        if (attr(d, 'type') !== 'none') notModelled(`audio type '${attr(d, 'type')}'`);
        devs.audios.push({ id, type: 'none' });
        break;
      }
      case 'watchdog': {
        const MODELS = behaviour.q35ItcoWatchdog ? ['i6300esb', 'ib700', 'diag288', 'itco'] as const : ['i6300esb', 'ib700', 'diag288'] as const;
        const ACTIONS = ['reset', 'shutdown', 'poweroff', 'pause', 'dump', 'none', 'inject-nmi'] as const;
        let model: string;
        let action: string;
        if (behaviour.watchdogPropEnum) {
          model = propEnum(d, 'model', MODELS, true)!;
          action = propEnum(d, 'action', ACTIONS) ?? 'reset';
        } else {
          // 9.0.0 reads both as strings, in its own words (and does not know 'itco' yet).
          const m = attr(d, 'model');
          if (m === undefined) fail('INTERNAL_ERROR', 'watchdog must contain model name');
          if (!(MODELS as readonly string[]).includes(m!)) fail('CONFIG_UNSUPPORTED', `unknown watchdog model '${m}'`);
          const a = attr(d, 'action');
          if (a !== undefined && !(ACTIONS as readonly string[]).includes(a)) fail('CONFIG_UNSUPPORTED', `unknown watchdog action '${a}'`);
          model = m!;
          action = a ?? 'reset';
        }
        // Only the iTCO watchdog built into q35, which libvirt >= 9.1 knows (behaviour.q35ItcoWatchdog).
        if (model !== 'itco' || !behaviour.q35ItcoWatchdog) notModelled(`watchdog model '${model}'`);
        if (devs.watchdogs.length) notModelled('more than one watchdog');
        devs.watchdogs.push({ model: 'itco', action: action as (typeof ACTIONS)[number] });
        break;
      }
      case 'memballoon': {
        if (balloons > 1) fail('INTERNAL_ERROR', 'only a single memory balloon device is supported');
        const model = propEnum(d, 'model', ['virtio', 'xen', 'none', 'virtio-transitional', 'virtio-non-transitional'] as const, true)!;
        if (model !== 'virtio' && model !== 'none') notModelled(`memballoon model '${model}'`);
        const addrEl = child(d, 'address');
        // model='none' is no device: libvirt does not even read its address.
        const address = addrEl && model !== 'none' ? parsePciAddress(addrEl) : undefined;
        devs.memballoon = { model: model as 'virtio' | 'none', address: model === 'none' ? undefined : address };
        break;
      }
      case 'memory':
        devs.memories.push(parseMemoryDevice(d, parsePciAddress, behaviour));
        break;
      default:
        notModelled(`device <${d.name}>`);
    }
  }
  return devs;
}
