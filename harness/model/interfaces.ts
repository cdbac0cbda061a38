// <interface type='user|server|vhostuser'>: user-mode networking, a listening socket, and
// vhost-user (a virtio-net device whose backend, a switch such as OVS, reads guest memory
// directly). Parse (virDomainNetDefParseXML for these types and the rtl8139, e1000 and virtio
// models), validation (qemuValidateDomainDeviceDefNetwork), the start-time check of
// qemuDomainValidateActualNetDef, the XML (virDomainNetDefFormat) and the command line
// (-chardev for vhost-user, -netdev, -device: qemuBuildInterfaceCommandLine).
import { fail, notModelled } from './errors.js';
import type { Domain, PciAddress } from './domain.js';
import type { NetInterface, NetModel } from './domain-devices.js';
import { formatReconnect, parseReconnect } from './disks.js';
import type { Props } from './memory-backend.js';
import type { Profile } from './profile.js';
import { propEnum, propInt, propUInt } from './props.js';
import { requireSharedMemory, socketChardev } from './vhost-user.js';
import { attr, child, type XmlElement } from './xml-tree.js';
import { esc } from './escape.js';

/** virDomainNetType, in libvirt's enum order. */
const NET_TYPES = ['user', 'ethernet', 'vhostuser', 'server', 'client', 'mcast', 'network', 'bridge', 'internal',
  'direct', 'hostdev', 'udp', 'vdpa', 'null', 'vds'] as const;
/** virDomainNetModel (matched without regard to case, as virDomainNetSetModelString does). */
const NET_MODELS = ['unknown', 'netfront', 'rtl8139', 'virtio', 'e1000', 'e1000e', 'igb', 'virtio-transitional',
  'virtio-non-transitional', 'usb-net', 'spapr-vlan', 'lan9118', 'scm91c111', 'vlance', 'vmxnet', 'vmxnet2', 'vmxnet3',
  'Am79C970A', 'Am79C973', '82540EM', '82545EM', '82543GC'];
const NET_MODEL_CHARS = /^[a-zA-Z0-9\-_]*$/;

/** virMacAddrParse: six groups of one or two hex digits separated by ':', then the end (or a space). */
function parseMac(s: string): number[] | null {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})(?:[\x00-\x20].*)?$/s.exec(s);
  return m ? m.slice(1).map((x) => parseInt(x, 16)) : null;
}

/** virDomainNetDefParseXML for the modelled types, in its order. */
export function parseInterface(el: XmlElement, parsePci: (el: XmlElement) => PciAddress): NetInterface {
  const type = propEnum(el, 'type', NET_TYPES) ?? 'user';
  if (type !== 'user' && type !== 'server' && type !== 'vhostuser') notModelled(`interface type '${type}'`);
  const modelEl = child(el, 'model');
  const modelStr = modelEl ? attr(modelEl, 'type') : undefined;
  let model: NetModel | undefined;
  if (modelStr) {
    const known = NET_MODELS.find((m) => m.toLowerCase() === modelStr.toLowerCase());
    if (!known && !NET_MODEL_CHARS.test(modelStr)) fail('INVALID_ARG', 'Model name contains invalid characters');
    if (known !== 'rtl8139' && known !== 'e1000' && known !== 'virtio') notModelled(`interface model '${modelStr}'`);
    model = known as NetModel;
  }
  const src = child(el, 'source');
  const net: Partial<NetInterface> & { type: NetInterface['type'] } = { type: type as NetInterface['type'] };
  if (type === 'vhostuser') {
    // Without a source, a type or a mode the releases differ (9.0.0 requires them, 11.x does not).
    const path = src ? attr(src, 'path') : undefined;
    if (!src || attr(src, 'type') === undefined || path === undefined || attr(src, 'mode') === undefined)
      notModelled("a vhostuser interface without <source type='unix' path mode>");
    if (attr(src!, 'type') !== 'unix') fail('CONFIG_UNSUPPORTED', `Type='${attr(src!, 'type')}' unsupported for <interface type='vhostuser'>`);
    const mode = propEnum(src!, 'mode', ['', 'client', 'server'] as const, false, true);
    net.vhostuser = { path: path!, listen: mode === 'server', reconnect: parseReconnect(src!) };
  } else if (type === 'server') {
    if (!src) fail('XML_ERROR', "interface type='server' requires a 'source' element");
    const port = propInt(src!, 'port', 10, false);
    if (port === undefined) fail('XML_ERROR', "Missing required attribute 'port' in element 'source'");
    net.socket = { address: attr(src!, 'address'), port: port! };
  }
  // <filterref> is read for network, bridge and ethernet interfaces only: these drop it.
  const macEl = child(el, 'mac');
  const macStr = macEl ? attr(macEl, 'address') : undefined;
  if (macStr !== undefined) {
    const mac = parseMac(macStr);
    if (!mac) fail('XML_ERROR', `unable to parse mac address '${macStr}'`);
    if (mac![0] & 1) fail('XML_ERROR', `expected unicast mac address, found multicast '${macStr}'`);
    if (mac!.every((b) => b === 0)) notModelled('an all-zero MAC address (libvirt generates a random one)');
    net.mac = mac!.map((b) => b.toString(16).padStart(2, '0')).join(':');
  } else notModelled('an interface without <mac address> (libvirt generates a random one)');
  const addrEl = child(el, 'address');
  if (addrEl) net.address = parsePci(addrEl);
  const boot = child(el, 'boot');
  if (boot) net.bootOrder = propUInt(boot, 'order', true, true)!;
  if (!model) notModelled("an interface without <model type> (the driver picks the machine's default)");
  net.model = model;
  const drv = child(el, 'driver');
  if (drv && model === 'virtio') {
    const queues = propUInt(drv, 'queues', false);
    if (queues && queues > 1) net.queues = queues;
  }
  const backend = child(el, 'backend');
  if (backend) {
    if (attr(backend, 'type') !== undefined) notModelled('an interface <backend type> (passt)');
    const tap = attr(backend, 'tap');
    if (tap !== undefined) net.backendTap = tap;
  }
  return net as NetInterface;
}

/** The vhost-user checks of validation: 11.x's qemuValidateDomainDeviceDefNetwork, or 9.0.0's
 *  virDomainNetDefValidate (the generic validation, which runs before the driver's). */
export function validateInterface(d: Domain, profile: Profile, net: NetInterface): void {
  if (net.type !== 'vhostuser') return;
  const reconnectAsServer = net.vhostuser!.listen && net.vhostuser!.reconnect?.enabled;
  if (!profile.behaviour.netVhostUserChecksInQemu) {
    if (net.model !== 'virtio')
      fail('INTERNAL_ERROR', "Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>. vhostuser requires the virtio-net* frontend");
    if (reconnectAsServer) fail('CONFIG_UNSUPPORTED', "'reconnect' attribute unsupported 'server' mode for <interface type='vhostuser'>");
    return;
  }
  if (reconnectAsServer)
    fail('CONFIG_UNSUPPORTED', "'reconnect' attribute is not supported when source mode='server' for <interface type='vhostuser'>");
  if (profile.behaviour.netVhostUserNeedsSharedMemory) requireSharedMemory(d, profile, 'interface');
  if (net.model !== 'virtio')
    fail('CONFIG_UNSUPPORTED', `invalid model for interface of type 'vhostuser': '${net.model}' - must be 'virtio'`);
}

/** virDomainNetDefFormat for the modelled types. */
export function formatInterface(net: NetInterface, ind: string, address: (a: PciAddress) => string): string[] {
  const out = [`${ind}<interface type='${net.type}'>`, `${ind}  <mac address='${net.mac}'/>`];
  if (net.vhostuser) {
    const v = net.vhostuser;
    const head = `${ind}  <source type='unix' path='${esc(v.path)}' mode='${v.listen ? 'server' : 'client'}'`;
    const r = formatReconnect(v.reconnect, `${ind}    `);
    out.push(...(r.length ? [`${head}>`, ...r, `${ind}  </source>`] : [`${head}/>`]));
  } else if (net.socket) {
    out.push(`${ind}  <source${net.socket.address !== undefined ? ` address='${esc(net.socket.address)}'` : ''} port='${net.socket.port}'/>`);
  }
  out.push(`${ind}  <model type='${net.model}'/>`);
  if (net.model === 'virtio' && net.queues) out.push(`${ind}  <driver queues='${net.queues}'/>`);
  if (net.backendTap !== undefined) out.push(`${ind}  <backend tap='${esc(net.backendTap)}'/>`);
  if (net.bootOrder) out.push(`${ind}  <boot order='${net.bootOrder}'/>`);
  if (net.address) out.push(`${ind}  ${address(net.address)}`);
  out.push(`${ind}</interface>`);
  return out;
}

/** qemuBuildInterfaceCommandLine for one interface: the start-time checks, then -chardev
 *  (vhost-user), -netdev and -device. `net` is the interface's index (alias netN). */
export function interfaceArgs(net: NetInterface, index: number, profile: Profile, bootIndex: number,
  netdevArg: (props: Props) => string, deviceArg: (props: Props) => string, pci: (a: PciAddress) => Props): string[] {
  if (profile.netsBecomeTaps) notModelled("an interface in a live daemon's domxml-to-native (it becomes a tap device the daemon opens: the fd is the daemon's)");
  // qemuDomainValidateActualNetDef: multiqueue is for vhost-user (and taps) here; a custom tap
  // device only for bridges, networks and ethernet.
  if (net.queues && net.type !== 'vhostuser')
    fail('CONFIG_UNSUPPORTED', `interface ${net.mac} - multiqueue is not supported for network interfaces of type ${net.type}`);
  if (net.backendTap !== undefined)
    fail('CONFIG_UNSUPPORTED', `interface ${net.mac} - custom tap device path is not supported for network interfaces of type ${net.type}`);
  const alias = `net${index}`;
  const args: string[] = [];
  let host: Props;
  if (net.type === 'vhostuser') {
    args.push('-chardev', socketChardev(`char${alias}`, net.vhostuser!, profile));
    host = [['type', 'vhost-user'], ['chardev', `char${alias}`]];
    if (net.queues) host.push(['queues', net.queues]);
  } else if (net.type === 'server') host = [['type', 'socket'], ['listen', `${net.socket!.address ?? ''}:${net.socket!.port}`]];
  else host = [['type', 'user']];
  host.push(['id', `host${alias}`]);
  args.push('-netdev', netdevArg(host));
  if (!net.address) return notModelled('an interface without a PCI address');
  const dev: Props = net.model === 'virtio' ? [['driver', 'virtio-net-pci']] : [['driver', net.model]];
  if (net.model === 'virtio' && net.queues) dev.push(['mq', true], ['vectors', 2 * net.queues + 2]);
  dev.push(['netdev', `host${alias}`], ['id', alias], ['mac', net.mac]);
  if (bootIndex) dev.push(['bootindex', bootIndex]);
  dev.push(...pci(net.address));
  args.push('-device', deviceArg(dev));
  return args;
}
