// Faults for the devices around shared guest memory (issue 20's rest): vhost-user disks,
// interfaces, virtiofs and GPUs, virtio video and crypto, SGX EPC memory, PCI controllers beyond
// the roots, SATA disks, per-device boot order. Each puts one mistake into a tame domain as raw
// device XML (DevicesSpec.extra, rendered as written), with guest memory shared where the
// message comes after libvirt's shared-memory check.
import type { Fault } from './faults.js';
import type { DevicesSpec, DomainSpec } from './spec.js';

const DEVICES: DevicesSpec = { emulator: true, disks: [], usb: 'default', pciRoot: 'match', extra: [], inputs: true, audio: false, memballoon: 'virtio' };
const withDevices = (s: DomainSpec, extra: string[], change: (d: DevicesSpec) => DevicesSpec = (d) => d): DomainSpec =>
  ({ ...s, devices: change({ ...(s.devices ?? DEVICES), emulator: true, extra: [...extra] }) });
/** A machine family, its root controller matching it. */
const machine = (s: DomainSpec, m: 'pc' | 'q35'): DomainSpec => ({ ...s, machine: m, devices: s.devices && { ...s.devices, pciRoot: s.devices.pciRoot && 'match' } });
const cell = (i: number): NonNullable<NonNullable<DomainSpec['cpu']>['numa']>['cells'][number] =>
  ({ id: 'index', cpus: 'auto', memory: { value: '131072', unit: 'KiB' }, caches: [] });
/** A guest of `n` plain NUMA cells (enough vCPUs), no numatune, no huge pages; `backing` as written. */
function guest(s: DomainSpec, n: number, backing?: string): DomainSpec {
  const count = Math.max(n, 1);
  const cpu = { mode: 'custom', match: 'exact', check: 'none', model: 'qemu64', ...(s.cpu ?? {}), topology: undefined };
  return {
    ...s, vcpu: { count: String(count), placement: 'static' }, cputune: undefined, numatune: undefined,
    memory: { value: String(Math.max(n, 1) * 131072), unit: 'KiB' }, currentMemory: undefined, maxMemory: undefined,
    memoryBacking: backing && `<memoryBacking>${backing}</memoryBacking>`,
    cpu: n ? { ...cpu, numa: { cells: Array.from({ length: n }, (_, i) => cell(i)), reverse: false, interconnects: [] } } : { ...cpu, numa: undefined },
  };
}
const SHARED = "<access mode='shared'/>";
const shared = (s: DomainSpec, n = 1): DomainSpec => guest(s, n, SHARED);

const vhostDisk = (o: { source?: string; target?: string; bus?: string; driver?: string; more?: string } = {}): string =>
  `<disk type='vhostuser' device='disk'>${o.driver ?? "<driver name='qemu' type='raw'/>"}${o.source ?? "<source type='unix' path='/tmp/lvh-vhost-blk.sock'/>"}<target dev='${o.target ?? 'vdz'}' bus='${o.bus ?? 'virtio'}'/>${o.more ?? ''}</disk>`;
const blockDisk = (target: string, bus: string, more = ''): string =>
  `<disk type='block' device='disk'><source dev='/dev/lvhvg/fuzz-extra-${target}'/><target dev='${target}' bus='${bus}'/>${more}</disk>`;
const vhostNet = (o: { source?: string; model?: string; more?: string; mac?: string } = {}): string =>
  `<interface type='vhostuser'><mac address='${o.mac ?? '52:54:00:11:22:33'}'/>${o.source ?? "<source type='unix' path='/tmp/lvh-vhost-net.sock' mode='client'/>"}<model type='${o.model ?? 'virtio'}'/>${o.more ?? ''}</interface>`;
const userNet = (o: { mac?: string; model?: string; more?: string } = {}): string =>
  `<interface type='user'><mac address='${o.mac ?? '52:54:00:11:22:44'}'/><model type='${o.model ?? 'e1000'}'/>${o.more ?? ''}</interface>`;
const virtiofs = (o: { attrs?: string; driver?: string; binary?: string; source?: string; target?: string; more?: string } = {}): string =>
  `<filesystem type='mount'${o.attrs ?? " accessmode='passthrough'"}><driver type='virtiofs'${o.driver ?? ''}/>${o.binary ?? ''}<source ${o.source ?? "dir='/tmp/lvh-share'"}/><target dir='${o.target ?? 'lvh_tag'}'/>${o.more ?? ''}</filesystem>`;
const video = (model: string, driver = ''): string => `<video>${driver}<model type='virtio' heads='1'${model}/></video>`;
const pciCtl = (index: number, model: string, inner = ''): string => `<controller type='pci' index='${index}' model='${model}'${inner ? `>${inner}</controller>` : '/>'}`;
const epc = (o: { address?: string; size?: number } = {}): string =>
  `<memory model='sgx-epc'><target><size unit='KiB'>${o.size ?? 16384}</size><node>0</node></target>${o.address ?? ''}</memory>`;
const HOT = "<maxMemory slots='4' unit='KiB'>4194304</maxMemory>";

export const DEVICE_FAULTS: readonly Fault[] = [
  // --- boot order
  { aim: "unsupported configuration: boot order '…' used for more than one device", apply: (s) => withDevices({ ...s, boot: [] }, [blockDisk('vdx', 'virtio', "<boot order='1'/>"), blockDisk('vdy', 'virtio', "<boot order='1'/>")]) },
  { aim: 'unsupported configuration: per-device boot elements cannot be used together with os/boot elements', apply: (s) => withDevices({ ...s, boot: ['hd'] }, [blockDisk('vdx', 'virtio', "<boot order='1'/>")]) },
  // --- disks: targets, SATA, vhost-user
  { aim: "XML error: Unknown disk name '…' and no address specified", apply: (s, k) => withDevices(s, [blockDisk(['vd', 'vdA', 'xyz'][k % 3], 'virtio')]) },
  { aim: "unsupported configuration: invalid disk target '…'", apply: (s, k) => withDevices(s, [blockDisk(['vdb01', 'vdb007', 'vdb99999999999'][k % 3], 'virtio')]) },
  { aim: "unsupported configuration: invalid disk target '…', partitions can't appear in disk targets", apply: (s, k) => withDevices(s, [blockDisk(`vdb${1 + (k % 3)}`, 'virtio')]) },
  { aim: 'unsupported configuration: bus must be 0 for sata controller', apply: (s) => withDevices(machine(s, 'q35'), [blockDisk('sdb', 'sata', "<address type='drive' controller='0' bus='1' target='0' unit='0'/>")]) },
  { aim: 'unsupported configuration: target must be 0 for sata controller', apply: (s) => withDevices(machine(s, 'q35'), [blockDisk('sdb', 'sata', "<address type='drive' controller='0' bus='0' target='1' unit='0'/>")]) },
  { aim: "XML error: missing 'type' attribute for vhostuser disk source", apply: (s) => withDevices(shared(s), [vhostDisk({ source: "<source path='/tmp/lvh-vhost-blk.sock'/>" })]) },
  { aim: "XML error: invalid 'type' attribute for vhostuser disk source", apply: (s, k) => withDevices(shared(s), [vhostDisk({ source: `<source type='${['tcp', 'file', 'UNIX'][k % 3]}' path='/tmp/lvh-vhost-blk.sock'/>` })]) },
  { aim: "XML error: missing 'path' attribute for vhostuser disk source", apply: (s) => withDevices(shared(s), [vhostDisk({ source: "<source type='unix'/>" })]) },
  { aim: 'unsupported configuration: vhostuser disk supports only virtio bus', apply: (s) => withDevices(shared(machine(s, 'pc')), [vhostDisk({ target: 'hdd', bus: 'ide' })]) },
  { aim: 'unsupported configuration: cache is not supported with vhostuser disk', apply: (s, k) => withDevices(shared(s), [vhostDisk({ driver: `<driver name='qemu' type='raw' cache='${['none', 'writeback', 'unsafe'][k % 3]}'/>` })]) },
  { aim: 'unsupported configuration: vhostuser disk is not supported with this QEMU binary', apply: (s) => withDevices(shared(s), [vhostDisk()]) },
  { aim: "unsupported configuration: '…' requires shared memory", apply: (s, k) => withDevices(guest(s, k % 2, k % 4 >= 2 ? "<access mode='private'/>" : undefined), [vhostDisk()]) },
  // --- interfaces
  { aim: 'invalid argument: Model name contains invalid characters', apply: (s, k) => withDevices(s, [userNet({ model: ['e1000 x', 'rtl8139!', 'a.b'][k % 3] })]) },
  { aim: "unsupported configuration: Type='…' unsupported for <interface type='vhostuser'>", apply: (s, k) => withDevices(shared(s), [vhostNet({ source: `<source type='${['tcp', 'udp', 'pty'][k % 3]}' path='/tmp/lvh-vhost-net.sock' mode='client'/>` })]) },
  { aim: "XML error: interface type='server' requires a 'source' element", apply: (s) => withDevices(s, ["<interface type='server'><mac address='52:54:00:11:22:55'/><model type='rtl8139'/></interface>"]) },
  { aim: "XML error: Missing required attribute 'port' in element 'source'", apply: (s) => withDevices(s, ["<interface type='server'><mac address='52:54:00:11:22:55'/><source address='127.0.0.1'/><model type='rtl8139'/></interface>"]) },
  { aim: "XML error: unable to parse mac address '…'", apply: (s, k) => withDevices(s, [userNet({ mac: ['52:54:00:11:22', '52:54:00:11:22:zz', '5254.0011.2233'][k % 3] })]) },
  { aim: "XML error: expected unicast mac address, found multicast '…'", apply: (s, k) => withDevices(s, [userNet({ mac: ['01:54:00:11:22:33', '53:54:00:11:22:33', 'ff:ff:ff:ff:ff:ff'][k % 3] })]) },
  ...["unsupported configuration: 'reconnect' attribute is not supported when source mode='server' for <interface type='vhostuser'>",
    "unsupported configuration: 'reconnect' attribute unsupported 'server' mode for <interface type='vhostuser'>"].map((aim): Fault => ({ aim,
    apply: (s) => withDevices(shared(s), [vhostNet({ source: "<source type='unix' path='/tmp/lvh-vhost-net.sock' mode='server'><reconnect enabled='yes' timeout='5'/></source>" })]) })),
  ...["unsupported configuration: invalid model for interface of type 'vhostuser': '…' - must be 'virtio'",
    "internal error: Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>. vhostuser requires the virtio-net* frontend"].map((aim): Fault => ({ aim,
    apply: (s, k) => withDevices(shared(s), [vhostNet({ model: k % 2 ? 'rtl8139' : 'e1000' })]) })),
  { aim: 'unsupported configuration: interface … - multiqueue is not supported for network interfaces of type …', apply: (s, k) => withDevices(s, [userNet({ model: 'virtio', more: `<driver queues='${2 + (k % 3)}'/>` })]) },
  { aim: 'unsupported configuration: interface … - custom tap device path is not supported for network interfaces of type …', apply: (s, k) => withDevices(shared(s), [k % 2 ? vhostNet({ more: "<backend tap='/dev/net/tun'/>" }) : userNet({ more: "<backend tap='/dev/net/tun'/>" })]) },
  // --- virtiofs
  { aim: "XML error: cannot parse queue size '…' for virtiofs", apply: (s, k) => withDevices(shared(s), [virtiofs({ driver: ` queue='${['x', '1.5', '18446744073709551616'][k % 3]}'` })]) },
  { aim: "XML error: cannot parse thread pool size '…' for virtiofs", apply: (s, k) => withDevices(shared(s), [virtiofs({ binary: `<binary><thread_pool size='${['x', '1.5', '99999999999'][k % 3]}'/></binary>` })]) },
  { aim: "XML error: cannot parse openfiles '…' for virtiofs", apply: (s, k) => withDevices(shared(s), [virtiofs({ binary: `<binary><openfiles max='${['x', '5 ', '1e3'][k % 3]}'/></binary>` })]) },
  { aim: "unsupported configuration: filesystem target '…' specified twice", apply: (s) => withDevices(shared(s), [virtiofs(), virtiofs({ source: "dir='/tmp/lvh-share2'" })]) },
  { aim: 'unsupported configuration: virtiofs does not yet support read-only mode', apply: (s) => withDevices(shared(s), [virtiofs({ more: '<readonly/>' })]) },
  { aim: 'unsupported configuration: virtiofs only supports passthrough accessmode', apply: (s, k) => withDevices(shared(s), [virtiofs({ attrs: ` accessmode='${k % 2 ? 'mapped' : 'squash'}'` })]) },
  { aim: 'unsupported configuration: virtiofs is not supported with this QEMU binary', apply: (s) => withDevices(shared(s), [virtiofs()]) },
  { aim: 'unsupported configuration: setting virtiofs boot order is not supported with this QEMU binary', apply: (s) => withDevices(shared({ ...s, boot: [] }), [virtiofs({ more: "<boot order='1'/>" })]) },
  // --- video (9.0.0's own words; later releases read <model> with virXMLProp*)
  { aim: "unsupported configuration: unknown video model '…'", apply: (s, k) => withDevices(s, [`<video><model type='${['bogus', 'VGA', 'virtio-gpu'][k % 3]}'/></video>`]) },
  { aim: "internal error: cannot parse video heads '…'", apply: (s, k) => withDevices(s, [`<video><model type='virtio' heads='${['two', '-1', '1x'][k % 3]}'/></video>`]) },
  // --- inputs, the balloon, the emulator's arch
  { aim: 'internal error: missing input device type', apply: (s) => withDevices(s, ["<input bus='ps2'/>"]) },
  { aim: "unsupported configuration: unknown input device type '…'", apply: (s, k) => withDevices(s, [`<input type='${['joystick', 'Mouse', ''][k % 3]}' bus='ps2'/>`]) },
  { aim: 'internal error: only a single memory balloon device is supported', apply: (s) => withDevices(s, ["<memballoon model='none'/>"], (d) => ({ ...d, memballoon: 'virtio' })) },
  { aim: "unsupported configuration: Emulator '…' does not support arch '…'", apply: (s) => withDevices({ ...s, arch: 'x86_64' }, ['<emulator>/usr/bin/qemu-system-i386</emulator>'], (d) => ({ ...d, emulator: false })) },
  // --- video
  { aim: "unsupported configuration: domain configuration does not support video model 'virtio'", apply: (s) => withDevices(s, [video('')]) },
  { aim: "unsupported configuration: this QEMU does not support 'vhost-user' video device", apply: (s) => withDevices(guest(s, 1, `<source type='memfd'/>${SHARED}`), [video('', "<driver name='vhostuser'/>")]) },
  { aim: "unsupported configuration: this QEMU does not support 'blob' for virtio-gpu devices", apply: (s, k) => withDevices(guest(s, 0, `<source type='memfd'/>${SHARED}`), [video(` blob='${k % 2 ? 'on' : 'off'}'`)]) },
  { aim: "unsupported configuration: 'blob' support for virtio-gpu devices requires a memfd memory backend", apply: (s, k) => withDevices(guest(s, k % 2, k % 4 >= 2 ? "<source type='file'/>" : undefined), [video(" blob='on'")]) },
  // --- crypto
  { aim: 'XML error: only one crypto backend is supported', apply: (s, k) => withDevices(s, [`<crypto model='virtio' type='qemu'>${"<backend model='builtin' queues='1'/>".repeat(k % 2 ? 2 : 0)}</crypto>`]) },
  { aim: 'unsupported configuration: crypto model virtio is not supported', apply: (s) => withDevices(s, ["<crypto model='virtio' type='qemu'><backend model='builtin' queues='1'/></crypto>"]) },
  // --- memory devices: virtio-mem's dynamic memslots, SGX EPC
  { aim: 'unsupported configuration: virtio-mem does not support dynamicMemslots', apply: (s) => withDevices({ ...guest(s, 1), memory: { value: '393216', unit: 'KiB' }, maxMemory: HOT },
    ["<memory model='virtio-mem'><target dynamicMemslots='yes'><size unit='KiB'>262144</size><node>0</node><block unit='KiB'>2048</block><requested unit='KiB'>0</requested></target></memory>"]) },
  { aim: "unsupported configuration: memory device address is not supported for model 'sgx-epc'", apply: (s) => withDevices({ ...guest(s, 1), memory: { value: '147456', unit: 'KiB' }, maxMemory: HOT }, [epc({ address: "<address type='dimm' slot='1'/>" })]) },
  { aim: "unsupported configuration: sgx epc isn't supported by this QEMU binary", apply: (s) => withDevices({ ...guest(s, 1), memory: { value: '147456', unit: 'KiB' }, maxMemory: HOT }, [epc()]) },
  { aim: "unsupported configuration: this QEMU version didn't provide SGX EPC NUMA info", apply: (s) => withDevices({ ...guest(s, 1), memory: { value: '147456', unit: 'KiB' }, maxMemory: HOT }, [epc()]) },
  { aim: 'unsupported configuration: sgx epc size … on host node … is less than requested size …', apply: (s) => withDevices({ ...guest(s, 1), memory: { value: '4194304', unit: 'KiB' }, maxMemory: "<maxMemory slots='4' unit='KiB'>8388608</maxMemory>" }, [epc({ size: 1048576 })]) },
  // --- PCI controllers: parse
  { aim: "unsupported configuration: Unknown model type '…'", apply: (s, k) => withDevices(s, [pciCtl(1, ['pci-bridgee', 'pcie-port', 'bridge'][k % 3])]) },
  { aim: 'XML error: Multiple <model> elements in controller definition not allowed', apply: (s) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge', "<model name='pci-bridge'/><model name='pci-bridge'/>")]) },
  { aim: 'XML error: Multiple <target> elements in controller definition not allowed', apply: (s) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge', "<target chassisNr='1'/><target chassisNr='2'/>")]) },
  { aim: "XML error: Invalid value for attribute '…' in element '…': '…'. Expected integer value", apply: (s, k) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge', `<target chassisNr='${['x', '1.5', '0x'][k % 3]}'/>`)]) },
  { aim: "XML error: Invalid value for attribute '…' in element '…': '…'. Expected non-negative value", apply: (s, k) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge', `<target chassisNr='${['-1', '-7', '-0x10'][k % 3]}'/>`)]) },
  { aim: 'XML error: invalid NUMA node in target', apply: (s, k) => withDevices(machine(guest(s, 1), 'pc'), [pciCtl(1, 'pci-expander-bus', `<target busNr='200'><node>${['-1', 'x', '1.0'][k % 3]}</node></target>`)]) },
  // --- PCI controllers: post-parse
  { aim: 'unsupported configuration: pci-expander-bus controllers are only supported on 440fx-based machinetypes', apply: (s) => withDevices(machine(s, 'q35'), [pciCtl(1, 'pci-expander-bus')]) },
  { aim: 'unsupported configuration: pcie-expander-bus controllers are not supported with this machine type', apply: (s) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pcie-expander-bus')]) },
  { aim: "XML error: … with index … is configured for a NUMA node (…) not present in the domain's <cpu><numa> array (…)", apply: (s, k) => withDevices(machine(guest(s, 1), 'pc'), [pciCtl(1, 'pci-expander-bus', `<target busNr='200'><node>${1 + (k % 3)}</node></target>`)]) },
  { aim: "XML error: Multiple '…' controllers with index '…'", apply: (s) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge'), pciCtl(1, 'pci-bridge')]) },
  // --- PCI controllers: address assignment and validation
  { aim: 'unsupported configuration: No free busNr lower than current lowest busNr is available to auto-assign to bus …. Must be manually assigned', apply: (s) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-expander-bus', "<target busNr='2'/>"), pciCtl(2, 'pci-expander-bus')]) },
  { aim: "unsupported configuration: PCI controller at index … (0x…) has bus='0x…', but index must be larger than bus", apply: (s) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge', "<address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>"), pciCtl(2, 'pci-bridge', "<address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/>")]) },
  { aim: 'unsupported configuration: pci-root and pcie-root controllers should not have an address', apply: (s) => withDevices(machine(s, 'pc'), [], (d) => ({ ...d, pciRoot: undefined, extra: [pciCtl(0, 'pci-root', "<address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/>")] })) },
  { aim: "unsupported configuration: PCI controller chassisNr '…' out of range - must be 1-255", apply: (s, k) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge', `<target chassisNr='${[0, 256, 1000][k % 3]}'/>`)]) },
  { aim: "unsupported configuration: PCI controller chassis '…' out of range - must be 0-255", apply: (s, k) => withDevices(machine(s, 'q35'), [pciCtl(1, 'pcie-root-port', `<target chassis='${[256, 300, 4096][k % 3]}' port='0x10'/>`)]) },
  { aim: "unsupported configuration: PCI controller port '…' out of range - must be 0-255", apply: (s, k) => withDevices(machine(s, 'q35'), [pciCtl(1, 'pcie-root-port', `<target chassis='1' port='${['0x100', '300', '4096'][k % 3]}'/>`)]) },
  { aim: "unsupported configuration: PCI controller busNr '…' out of range - must be 1-254", apply: (s, k) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-expander-bus', `<target busNr='${[0, 255, 999][k % 3]}'/>`)]) },
  { aim: "unsupported configuration: The PCI controller with index=0 can't be associated with a NUMA node", apply: (s) => withDevices(machine(guest(s, 1), 'pc'), [], (d) => ({ ...d, pciRoot: undefined, extra: [pciCtl(0, 'pci-root', '<target><node>0</node></target>')] })) },
  { aim: "unsupported configuration: Option 'modelName' has invalid value …", apply: (s, k) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge', `<model name='${['pxb', 'ioh3420', 'pcie-pci-bridge'][k % 3]}'/>`)]) },
  { aim: "unsupported configuration: Option '…' is not valid …", apply: (s, k) => withDevices(machine(s, 'pc'), [pciCtl(1, 'pci-bridge', ["<target busNr='100'/>", "<target chassis='3'/>", "<target port='0x8'/>"][k % 3])]) },
];
