// Domain + profile -> QEMU command line, as qemuBuildCommandLine orders it for the modelled
// vocabulary, then laid out like libvirt's .args files (virCommandToStringBuf with linebreaks).
import { bitmapRanges, type Bitmap } from './bitmap.js';
import { fail, notModelled } from './errors.js';
import type { Controller, Domain, NumaMode, PciAddress } from './domain.js';
import { isQ35 } from './pci.js';
import { diskIndex } from './postparse.js';
import type { Profile } from './profile.js';

type Json = string | number | boolean | number[] | { [k: string]: Json };
type Props = [string, Json][];

const POLICY: Record<Exclude<NumaMode, 'restrictive'>, string> = { strict: 'bind', preferred: 'preferred', interleave: 'interleave' };
const MiB = 1024;

const alignUp = (kib: number, to: number): number => Math.ceil(kib / to) * to;
/** virDomainDefGetShortName: per-domain paths use the first 20 characters of the name. */
const shortName = (d: Domain): string => Array.from(d.name).slice(0, 20).join('');
const fill = (tpl: string, d: Domain, profile: Profile): string =>
  tpl.replaceAll('{stateDir}', profile.stateDir).replaceAll('{name}', shortName(d));

/** -object in JSON or key=value form; bitmaps become "host-nodes=1-2,host-nodes=5" in the latter. */
function objectArg(props: Props, profile: Profile): string {
  if (profile.flags.objectJson) return JSON.stringify(Object.fromEntries(props));
  const [[, type], ...rest] = props;
  return [String(type), ...rest.flatMap(([k, v]) =>
    Array.isArray(v) ? bitmapRanges(v).map((r) => `${k}=${r}`) : [`${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`])].join(',');
}

function deviceArg(props: Props, profile: Profile): string {
  if (profile.flags.deviceJson) return JSON.stringify(Object.fromEntries(props));
  const [[, driver], ...rest] = props;
  return [String(driver), ...rest.map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`)].join(',');
}

const pciAddr = (a: PciAddress): string => (a.function ? `0x${a.slot.toString(16)}.0x${a.function.toString(16)}` : `0x${a.slot.toString(16)}`);

/** qemuBuildDeviceAddressProps for a PCI address: the bus is the alias of the controller behind it. */
function pciProps(d: Domain, a: PciAddress): Props {
  const ctrl = d.devices.controllers.find((c) => c.type === 'pci' && c.index === a.bus);
  if (!ctrl) fail('INTERNAL_ERROR', `Could not find PCI controller with index '${a.bus}' required for device at address '${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.slot.toString(16).padStart(2, '0')}.${a.function}'`);
  const bus = ctrl!.model === 'pcie-root' ? 'pcie.0' : `pci.${a.bus}`;
  const props: Props = [['bus', bus]];
  if (a.multifunction !== undefined) props.push(['multifunction', a.multifunction]);
  props.push(['addr', pciAddr(a)]);
  return props;
}

/** qemuBuildControllersCommandLine: PCI, USB, IDE, SATA controllers in that order, then legacy -usb. */
function controllerArgs(d: Domain, profile: Profile, args: string[]): void {
  const q35 = isQ35(d);
  const ctrls = d.devices.controllers;
  const alias = (c: Controller): string => (c.type === 'usb' && c.index === 0 ? 'usb' : `${c.type}${c.index}`);
  for (const type of ['pci', 'usb', 'ide', 'sata'] as const) {
    for (const c of ctrls) {
      if (c.type !== type) continue;
      // qemuBuildSkipController: the root buses, q35's SATA 0, i440fx's IDE 0
      if (c.type === 'pci' && (c.model === 'pci-root' || c.model === 'pcie-root')) continue;
      if (c.type === 'sata' && c.index === 0 && q35) continue;
      if (c.type === 'ide' && c.index === 0 && !q35) continue;
      if (c.type === 'usb' && (c.model === 'none' || (c.model === undefined && !q35))) continue;
      let props: Props;
      if (c.type === 'pci') {
        if (c.model === 'pcie-root-port')
          props = [['driver', c.modelName!], ['port', c.target!.port], ['chassis', c.target!.chassis], ['id', `pci.${c.index}`]];
        else if (c.model === 'pcie-to-pci-bridge') props = [['driver', c.modelName!], ['id', `pci.${c.index}`]];
        else return notModelled(`pci controller model '${c.model}' on the command line`);
      } else if (c.type === 'usb') {
        const driver = c.model === 'piix3-uhci' ? 'piix3-usb-uhci' : c.model === 'qemu-xhci' ? 'qemu-xhci' : undefined;
        if (!driver) return notModelled(`usb controller model '${c.model ?? 'default'}' on the command line`);
        props = [['driver', driver], ['id', alias(c)]];
      } else if (c.type === 'sata') props = [['driver', 'ahci'], ['id', alias(c)]];
      else return notModelled('a second IDE controller on the command line');
      if (!c.address) return notModelled(`a ${c.type} controller without a PCI address`);
      args.push('-device', deviceArg([...props, ...pciProps(d, c.address)], profile));
    }
  }
  // qemuBuildLegacyUSBControllerCommandLine
  const usb = ctrls.filter((c) => c.type === 'usb');
  if (usb.some((c) => c.model === 'none')) return;
  if (usb.filter((c) => c.model === undefined).length > 1) fail('CONFIG_UNSUPPORTED', 'Multiple legacy USB controllers are not supported');
  if (!usb.some((c) => c.model !== undefined) && !q35) args.push('-usb');
}

/** virNumaNodesetIsAvailable: the first node (ascending) the host lacks is reported. */
function checkAvailable(nodeset: Bitmap | null | undefined, profile: Profile): void {
  if (!nodeset) return;
  for (const bit of nodeset) {
    if (!profile.hostNodes.includes(bit)) {
      const detail = profile.unavailableNode.detail.replace('{bit}', String(bit));
      fail(profile.unavailableNode.code, detail);
    }
  }
}

/** virDomainNumatuneGetNodeset: which host nodes back guest cell `cell` (-1: the whole guest). */
function nodesetFor(d: Domain, profile: Profile, cell: number): Bitmap | null {
  const nt = d.numatune;
  if (!nt) return null;
  if (nt.memory?.placement === 'auto') return profile.autoNodeset;
  const mn = cell >= 0 ? nt.memnodes.get(cell) : undefined;
  if (mn) return mn.nodeset;
  return nt.memory?.nodeset ?? null;
}

function modeFor(d: Domain, cell: number): NumaMode {
  return d.numatune?.memnodes.get(cell)?.mode ?? d.numatune?.memory?.mode ?? 'strict';
}

/** qemuBuildMemoryBackendProps for a guest cell (cell >= 0) or the whole RAM (pc.ram). */
function memoryBackend(d: Domain, profile: Profile, cell: number, alias: string, sizeKiB: number): { props: Props; needed: boolean } {
  const c = cell >= 0 ? d.cpu!.cells[cell] : undefined;
  const props: Props = [];
  const memAccess = c?.memAccess;
  let type = 'memory-backend-ram';
  if (memAccess) {
    type = 'memory-backend-file';
    props.push(['mem-path', memPath(d, profile, alias)]);
    if (c?.discard !== undefined) props.push(['discard-data', c.discard]);
    props.push(['share', memAccess === 'shared']);
  }
  props.push(['size', sizeKiB * 1024]);
  // virDomainNumatuneMaybeGetNodeset
  const nt = d.numatune;
  let nodemask: Bitmap | null = null;
  const specified = cell >= 0 && !!nt?.memnodes.has(cell);
  if (nt && (specified || nt.memory)) {
    if (nt.memory?.placement === 'auto' && !profile.autoNodeset)
      fail('INTERNAL_ERROR', 'Advice from numad is needed in case of automatic numa placement');
    nodemask = nodesetFor(d, profile, cell);
  }
  checkAvailable(nodemask, profile);
  const mode = modeFor(d, cell);
  if (nodemask && mode !== 'restrictive') props.push(['host-nodes', [...nodemask]], ['policy', POLICY[mode]]);
  return { props: [['qom-type', type], ['id', alias], ...props], needed: specified || !!memAccess };
}

function memPath(d: Domain, profile: Profile, alias: string): string {
  if (!profile.memoryBackingDir) notModelled(`memAccess with profile ${profile.name} (memory backing directory unknown)`);
  return `${profile.memoryBackingDir}/-1-${shortName(d)}/${alias}`;
}

function numaArgs(d: Domain, profile: Profile, args: string[]): void {
  const cells = d.cpu?.cells ?? [];
  if (!cells.length) return;
  // virDomainNumatuneNodesetIsAvailable runs before anything is built.
  checkAvailable(nodesetFor(d, profile, -1), profile);
  cells.forEach((_, i) => checkAvailable(nodesetFor(d, profile, i), profile));
  const hmat = cells.some((c) => c.caches.length) || (d.cpu?.interconnects.length ?? 0) > 0;
  if (hmat && !profile.flags.numaHmat) fail('CONFIG_UNSUPPORTED', 'HMAT is not supported with this QEMU');
  const memOk = profile.flags.numaMemSupported || (profile.numaMemMachines ?? []).includes(d.os.machine);
  let needBackend = !memOk || hmat;
  const backends = cells.map((c, i) => {
    const b = memoryBackend(d, profile, i, `ram-node${i}`, alignUp(c.memoryKiB, MiB));
    if (b.needed) needBackend = true;
    return b;
  });
  const master = cells.findIndex((c) => c.cpus && c.cpus.length);
  if (master < 0) fail('CONFIG_UNSUPPORTED', 'At least one NUMA node has to have CPUs');
  cells.forEach((c, i) => {
    if (needBackend) args.push('-object', objectArg(backends[i].props, profile));
    let node = `node,nodeid=${i}`;
    for (const r of bitmapRanges(c.cpus ?? [])) node += `,cpus=${r}`;
    if (hmat) node += `,initiator=${c.cpus && c.cpus.length ? i : master}`;
    node += needBackend ? `,memdev=ram-node${i}` : `,mem=${alignUp(c.memoryKiB, MiB) / MiB}`;
    args.push('-numa', node);
  });
  // virDomainNumaNodesDistancesAreBeingSet: only when some pair is not the default 10/20.
  if (cells.some((c) => c.distances && c.distances.some((v) => v !== 10 && v !== 20))) {
    cells.forEach((c, i) => cells.forEach((_, j) => {
      const v = c.distances?.[j] || (i === j ? 10 : 20);
      args.push('-numa', `dist,src=${i},dst=${j},val=${v}`);
    }));
  }
  if (hmat) {
    const level = ['memory', 'first-level', 'second-level', 'third-level'];
    for (const ic of d.cpu!.interconnects) {
      const what = `${ic.type}-${ic.kind}`;
      const val = ic.kind === 'latency' ? `latency=${ic.value}` : `bandwidth=${ic.value}K`;
      args.push('-numa', `hmat-lb,initiator=${ic.initiator},target=${ic.target},hierarchy=${level[ic.cache]},data-type=${what},${val}`);
    }
    const assoc = { none: 'none', direct: 'direct', full: 'complex' };
    const pol = { none: 'none', writeback: 'write-back', writethrough: 'write-through' };
    cells.forEach((c, i) => {
      for (const k of c.caches)
        args.push('-numa', `hmat-cache,node-id=${i},size=${k.sizeKiB}K,level=${k.level},associativity=${assoc[k.associativity]},policy=${pol[k.policy]},line=${k.lineBytes}`);
    });
  }
}

/** The argument vector (without the environment) for the post-parsed domain. */
export function buildArgs(d: Domain, profile: Profile): { env: [string, string][]; argv: string[] } {
  const f = profile.flags;
  const env = profile.env.map(([k, v]) => [k, fill(v, d, profile)] as [string, string]);
  if (!profile.virtTypes && d.type === 'kvm' && !f.kvm) notModelled(`domain type 'kvm' with profile ${profile.name} (no KVM capability)`);
  // qemuProcessStartValidate compares a custom CPU with the host CPU unless check='none': the
  // host profile carries libvirt's probed verdict per model (probe-host.mjs).
  let cpuArg = d.cpu?.model?.name;
  if (d.type === 'kvm' && d.cpu?.model && d.cpu.check !== 'none') {
    const verdict = d.cpu.check === 'partial' ? profile.kvmCpuModels?.[d.cpu.model.name] : undefined;
    if (!verdict) notModelled(`a custom CPU model '${d.cpu.model.name}' on a KVM guest with check='${d.cpu.check}' (profile ${profile.name} has no verdict of the host CPU for it)`);
    if ('error' in verdict!) {
      const prefix = 'the CPU is incompatible with host CPU: ';
      if (!verdict.error.startsWith(prefix)) notModelled(`host CPU check answer '${verdict.error}'`);
      fail('CPU_INCOMPATIBLE', verdict.error.slice(prefix.length));
    }
    cpuArg = (verdict as { cpu: string }).cpu;
  }
  const args: string[] = [d.devices.emulator ?? notModelled('a domain without <emulator>')];
  const stateDir = fill(profile.stateDir, d, profile);
  args.push('-name', `guest=${d.name},debug-threads=on`, '-S');
  args.push('-object', objectArg([['qom-type', 'secret'], ['id', 'masterKey0'], ['format', 'raw'], ['file', `${stateDir}/master-key.aes`]], profile));

  const cells = d.cpu?.cells ?? [];
  const hmat = cells.some((c) => c.caches.length) || (d.cpu?.interconnects.length ?? 0) > 0;
  const systemBackend = f.machineMemoryBackend && !cells.length;
  let machine = `${d.os.machine},usb=off,dump-guest-core=off`;
  if (systemBackend) machine += ',memory-backend=pc.ram';
  if (hmat && f.numaHmat) machine += ',hmat=on';
  // qemuBuildMachineACPI: with a machine that reports ACPI, absence of <acpi/> means acpi=off.
  if (f.machineAcpi) machine += `,acpi=${d.features.acpi ? 'on' : 'off'}`;
  args.push('-machine', machine);
  args.push('-accel', d.type === 'kvm' ? 'kvm' : 'tcg');
  if (cpuArg) args.push('-cpu', cpuArg);

  // qemuDomainAlignMemorySizes: the cells' aligned sum, unless they add up to nothing.
  const cellsKiB = cells.reduce((s, c) => s + alignUp(c.memoryKiB, MiB), 0);
  const totalKiB = cellsKiB || alignUp(d.memoryKiB, MiB);
  args.push('-m', profile.behaviour.memorySizeArg === 'size-k' ? `size=${totalKiB}k` : String(totalKiB / MiB));
  if (systemBackend) args.push('-object', objectArg(memoryBackend(d, profile, -1, 'pc.ram', totalKiB).props, profile));
  args.push('-overcommit', 'mem-lock=off');

  const v = d.vcpu;
  let smp = `${v.current}`;
  if (v.current !== v.max) smp += `,maxcpus=${v.max}`;
  const t = d.cpu?.topology;
  if (t) {
    smp += `,sockets=${t.sockets}${f.smpDies ? `,dies=${t.dies}` : ''}${f.smpClusters ? `,clusters=${t.clusters ?? 1}` : ''},cores=${t.cores},threads=${t.threads}`;
  } else smp += `,sockets=${v.max},cores=1,threads=1`;
  args.push('-smp', smp);
  if (d.iothreads && !f.iothread) fail('CONFIG_UNSUPPORTED', 'IOThreads not supported for this QEMU');
  for (let i = 1; i <= d.iothreads; i++) args.push('-object', objectArg([['qom-type', 'iothread'], ['id', `iothread${i}`]], profile));
  numaArgs(d, profile, args);

  args.push('-uuid', d.uuid, '-display', 'none', '-no-user-config', '-nodefaults');
  args.push('-chardev', `socket,id=charmonitor,${fill(profile.monitor, d, profile)},server=on,wait=off`);
  args.push('-mon', 'chardev=charmonitor,id=monitor,mode=control');
  // qemuBuildPMCommandLine: without QEMU_CAPS_SET_ACTION a guest that may not reboot gets -no-reboot.
  const rebootAllowed = (d.onReboot ?? 'restart') !== 'destroy' || (d.onPoweroff ?? 'destroy') !== 'destroy'
    || !['destroy', 'coredump-destroy'].includes(d.onCrash ?? 'destroy');
  args.push('-rtc', 'base=utc', f.setAction || rebootAllowed ? '-no-shutdown' : '-no-reboot');
  if (!d.features.acpi && !f.machineAcpi) args.push('-no-acpi');
  // qemuBuildBootCommandLine: the order itself goes to the devices as bootindex.
  const menu = d.os.bootmenu;
  const menuOpts = menu ? `menu=${menu.enable === 'yes' ? 'on' : 'off'},${menu.timeout !== undefined ? `splash-time=${menu.timeout},` : ''}` : '';
  args.push('-boot', `${menuOpts}strict=on`);

  controllerArgs(d, profile, args);

  const disks = d.devices.disks;
  // qemuProcessPrepareDeviceBootorder: the first disk of device 'disk' gets the position of the
  // last 'hd' in the list (1-based), the first cdrom that of the last 'cdrom'. Floppies and
  // interfaces are outside the vocabulary, so their positions go nowhere.
  const bootOf = { disk: d.os.boot.lastIndexOf('hd') + 1, cdrom: d.os.boot.lastIndexOf('cdrom') + 1 };
  disks.forEach((k, i) => {
    const n = disks.length - i;
    const storage = `libvirt-${n}-storage`;
    const format = `libvirt-${n}-format`;
    // qemuBlockStorageSourceNeedsFormatLayer: a raw disk's storage node is the device's drive
    // when QEMU can mask the backing protocol; otherwise a raw format node sits over it.
    const formatLayer = !f.backingMaskProtocol;
    const drive = formatLayer ? format : storage;
    const kind = k.device ?? 'disk';
    const boot: Props = bootOf[kind] ? [['bootindex', bootOf[kind]]] : [];
    bootOf[kind] = 0;
    const cd = kind === 'cdrom';
    // qemuDomainDetermineDiskChain: only a real CD-ROM drive is opened as one.
    const hostDriver = cd && (profile.hostCdroms ?? ['/dev/cdrom']).includes(k.source) ? 'host_cdrom' : 'host_device';
    if (formatLayer) {
      args.push('-blockdev', JSON.stringify({ driver: hostDriver, filename: k.source, 'node-name': storage, 'auto-read-only': true, discard: 'unmap' }));
      args.push('-blockdev', JSON.stringify({ 'node-name': format, 'read-only': cd, driver: 'raw', file: storage }));
    } else args.push('-blockdev', JSON.stringify({ driver: hostDriver, filename: k.source, 'node-name': storage, 'read-only': cd }));
    if (k.bus === 'ide') {
      const a = k.address as { controller: number; bus: number; unit: number };
      args.push('-device', deviceArg([['driver', cd ? 'ide-cd' : 'ide-hd'], ['bus', `ide.${a.bus}`], ['unit', a.unit], ['drive', drive], ['id', `ide${a.controller}-${a.bus}-${a.unit}`], ...boot], profile));
    } else {
      const idx = diskIndex(k.target);
      args.push('-device', deviceArg([['driver', 'virtio-blk-pci'], ...pciProps(d, k.address as PciAddress), ['drive', drive], ['id', `virtio-disk${idx}`], ...boot], profile));
    }
  });
  args.push('-audiodev', JSON.stringify({ id: 'audio1', driver: 'none' }));
  // qemuBuildWatchdogCommandLine: the iTCO is part of q35, only its pin strap and the action.
  const wd = d.devices.watchdogs ?? [];
  if (wd.length) args.push('-global', 'ICH9-LPC.noreboot=off', '-watchdog-action', wd[0].action === 'dump' ? 'pause' : wd[0].action);
  const mb = d.devices.memballoon;
  if (mb?.model === 'virtio')
    args.push('-device', deviceArg([['driver', 'virtio-balloon-pci'], ['id', 'balloon0'], ...pciProps(d, mb.address!)], profile));
  if (f.sandbox) args.push('-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
  args.push('-msg', 'timestamp=on');
  return { env, argv: args };
}

/** virBufferEscapeShell: quote only when a shell metacharacter is present. */
export function shellEscape(s: string): string {
  if (s === '') return "''";
  if (!/[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/.test(s)) return s;
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** virCommandToStringBuf(…, linebreaks=true): the layout of libvirt's .args files. */
export function formatArgs(cmd: { env: [string, string][]; argv: string[] }): string {
  let out = '';
  for (const [k, v] of cmd.env) out += `${k}=${shellEscape(v)} \\\n`;
  const a = cmd.argv;
  out += shellEscape(a[0]);
  let hadOption = false;
  for (let i = 1; i < a.length; i++) {
    out += ' ';
    let linebreak = true;
    if (a[i][0] !== '-') {
      if (hadOption) {
        for (let j = i - 1; j < a.length; j++) if (a[j][0] === '-') { linebreak = false; break; }
      }
    } else hadOption = true;
    if (linebreak) out += '\\\n';
    out += shellEscape(a[i]);
  }
  return out + '\n';
}
