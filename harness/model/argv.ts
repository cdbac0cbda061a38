// Domain + profile -> QEMU command line, as qemuBuildCommandLine orders it for the modelled
// vocabulary, then laid out like libvirt's .args files (virCommandToStringBuf with linebreaks).
import { bitmapRanges } from './bitmap.js';
import { fail, notModelled } from './errors.js';
import type { Controller, Domain, PciAddress } from './domain.js';
import {
  checkAvailable, defaultPageSize, hugepagePath, memoryBackend, memoryBackingPath, nodesetFor, pagesizeOf, shortName, threadContext,
  type BackendState, type Props,
} from './memory-backend.js';
import { alignMemorySizes, hasMemoryHotplug, memoryAliases } from './memory-devices.js';
import { isQ35 } from './pci.js';
import { pciControllerProps } from './pci-controllers.js';
import { bootIndexes } from './boot-order.js';
import { cryptoArgs } from './crypto.js';
import { diskArgs } from './disks.js';
import type { UnixSocket } from './domain-devices.js';
import { filesystemArgs } from './filesystems.js';
import { interfaceArgs } from './interfaces.js';
import { socketChardev } from './vhost-user.js';
import { videoArgs } from './videos.js';
import { prepareDomain } from './prepare.js';
import type { Profile } from './profile.js';

const MiB = 1024;

/** A profile's path template with {stateDir} (itself a template) and {name} put in literally, by
 *  index (not String.replaceAll, which reads `$&`, `$$`, … in the replacement: a domain may be
 *  named `a$&b`, and libvirt writes the name as it is; nor split/join, which allocates arrays
 *  several times for every case). */
function fill(tpl: string, d: Domain, profile: Profile, nested = false): string {
  let at = tpl.indexOf('{');
  if (at < 0) return tpl;
  let out = '';
  let from = 0;
  for (; at >= 0; at = tpl.indexOf('{', at + 1)) {
    const value = tpl.startsWith('{name}', at) ? shortName(d, profile)
      : !nested && tpl.startsWith('{stateDir}', at) ? fill(profile.stateDir, d, profile, true) : undefined;
    if (value === undefined) continue;
    out += tpl.slice(from, at) + value;
    at = tpl.indexOf('}', at);
    from = at + 1;
  }
  return out + tpl.slice(from);
}

/** -object in JSON or key=value form; bitmaps become "host-nodes=1-2,host-nodes=5" in the latter. */
function objectArg(props: Props, profile: Profile): string {
  if (profile.flags.objectJson) return JSON.stringify(Object.fromEntries(props));
  const [[, type], ...rest] = props;
  return [String(type), ...rest.flatMap(([k, v]) =>
    Array.isArray(v) ? bitmapRanges(v).map((r) => `${k}=${r}`) : [`${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`])].join(',');
}

/** -netdev in JSON or key=value form (qemuBuildNetdevCommandlineFromJSON: the type leads). */
function netdevArg(props: Props, profile: Profile): string {
  if (profile.flags.netdevJson) return JSON.stringify(Object.fromEntries(props));
  const [[, type], ...rest] = props;
  return [String(type), ...rest.map(([k, v]) => `${k}=${String(v).replace(/,/g, ',,')}`)].join(',');
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
      if (c.type === 'pci') props = pciControllerProps(c);
      else if (c.type === 'usb') {
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

/** qemuBuildMemPathStr: -mem-prealloc/-mem-path for guest RAM that has no backend object. */
function memPathArgs(d: Domain, profile: Profile, args: string[], state: BackendState): void {
  const pages = d.memoryBacking?.hugepages ?? [];
  let path: string | undefined;
  let prealloc = false;
  if (pages.length && pages[0].sizeKiB !== profile.systemPageSizeKiB) {
    const size = pages[0].sizeKiB || defaultPageSize(profile);
    path = hugepagePath(d, profile, size);
    prealloc = true;
  } else if (d.memoryBacking?.source === 'file') path = memoryBackingPath(d, profile, 'ram');
  if (d.memoryBacking?.allocation === 'immediate') prealloc = true;
  if (prealloc && !state.memPrealloc) { args.push('-mem-prealloc'); state.memPrealloc = true; }
  if (path) args.push('-mem-path', path);
}

function numaArgs(d: Domain, profile: Profile, args: string[], state: BackendState, cellKiB: number[]): void {
  const cells = d.cpu?.cells ?? [];
  if (!cells.length) return;
  // virDomainNumatuneNodesetIsAvailable runs before anything is built.
  checkAvailable(nodesetFor(d, profile, -1), profile);
  cells.forEach((_, i) => checkAvailable(nodesetFor(d, profile, i), profile));
  const hmat = cells.some((c) => c.caches.length) || (d.cpu?.interconnects.length ?? 0) > 0;
  if (hmat && !profile.flags.numaHmat) fail('CONFIG_UNSUPPORTED', 'HMAT is not supported with this QEMU');
  const memOk = profile.flags.numaMemSupported || (profile.numaMemMachines ?? []).includes(d.os.machine);
  let needBackend = !memOk || hmat;
  // 12.x: a cell without memory is a memoryless node, given no memory at all (zeroCellWithoutMemory).
  const memoryless = (i: number): boolean => profile.behaviour.zeroCellWithoutMemory && cellKiB[i] === 0;
  const backends = cells.map((c, i) => {
    if (memoryless(i)) return null;
    const b = memoryBackend(d, profile, { alias: `ram-node${i}`, sizeKiB: cellKiB[i], targetNode: i }, false, false, state);
    if (b.needed) needBackend = true;
    return b;
  });
  if (!needBackend) memPathArgs(d, profile, args, state);
  const master = cells.findIndex((c) => c.cpus && c.cpus.length);
  if (master < 0) fail('CONFIG_UNSUPPORTED', 'At least one NUMA node has to have CPUs');
  cells.forEach((c, i) => {
    const backend = backends[i];
    if (needBackend && backend) {
      const tc = threadContext(d, profile, backend);
      if (tc) args.push('-object', objectArg(tc, profile));
      args.push('-object', objectArg(backend.props, profile));
    }
    let node = `node,nodeid=${i}`;
    for (const r of bitmapRanges(c.cpus ?? [])) node += `,cpus=${r}`;
    if (hmat) node += `,initiator=${c.cpus && c.cpus.length ? i : master}`;
    if (backend) node += needBackend ? `,memdev=ram-node${i}` : `,mem=${Math.floor(cellKiB[i] / MiB)}`;
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
        args.push('-numa', `hmat-cache,node-id=${i},size=${k.sizeKiB}K,level=${k.level},associativity=${assoc[k.associativity]},policy=${pol[k.policy]}${k.lineBytes > 0 ? `,line=${k.lineBytes}` : ''}`); // line only when > 0
    });
  }
}

/** qemuBuildMemoryDeviceCommandLine: each memory device's backend (with its thread context),
 *  then the device (qemuBuildMemoryDeviceProps), after the controllers. */
function memoryDeviceArgs(d: Domain, profile: Profile, args: string[], state: BackendState, sizes: number[]): void {
  memoryAliases(d);
  d.devices.memories.forEach((m, i) => {
    const alias = `mem${m.alias}`;
    const b = memoryBackend(d, profile, { alias, pathAlias: m.alias, sizeKiB: sizes[i], targetNode: m.target.node, device: m }, true, false, state);
    const tc = threadContext(d, profile, b);
    if (tc) args.push('-object', objectArg(tc, profile));
    args.push('-object', objectArg(b.props, profile));
    // The EPC is no device: the machine takes it (sgx-epc.N.memdev above).
    if (m.model === 'sgx-epc') return;
    const driver = { dimm: 'pc-dimm', nvdimm: 'nvdimm', 'virtio-pmem': 'virtio-pmem-pci', 'virtio-mem': 'virtio-mem-pci' }[m.model];
    const props: Props = [['driver', driver]];
    if (m.target.node >= 0) props.push(['node', m.target.node]);
    if (m.target.labelKiB) props.push(['label-size', m.target.labelKiB * 1024]);
    if (m.target.blockKiB) props.push(['block-size', m.target.blockKiB * 1024]);
    if (m.target.requestedKiB) props.push(['requested-size', m.target.requestedKiB * 1024]);
    if (m.uuid) props.push(['uuid', m.uuid]);
    if (m.target.readonly) props.push(['unarmed', true]);
    props.push(['memdev', alias]);
    if (m.model === 'virtio-mem' && profile.flags.virtioMemPrealloc && pagesizeOf(d, profile, { alias, sizeKiB: sizes[i], targetNode: m.target.node, device: m }).prealloc)
      props.push(['prealloc', true]);
    if (m.target.addressKiB) props.push(['memaddr', m.target.addressKiB * 1024]);
    if (m.target.dynamicMemslots !== undefined) props.push(['dynamic-memslots', m.target.dynamicMemslots]);
    props.push(['id', m.alias!]);
    const a = m.address;
    if (a?.type === 'dimm') {
      props.push(['slot', a.slot]);
      if (a.base) {
        if (a.base > BigInt(Number.MAX_SAFE_INTEGER)) notModelled('a dimm base address above 2^53');
        props.push(['addr', Number(a.base)]);
      }
    } else if (a?.type === 'pci') props.push(...pciProps(d, a));
    args.push('-device', deviceArg(props, profile));
  });
}

/** A memory device's alias before the device loop assigns them (qemuAssignDeviceMemoryAlias). */
function epcAlias(d: Domain, m: Domain['devices']['memories'][number]): string {
  memoryAliases(d);
  return m.alias!;
}

/** The argument vector (without the environment) for the post-parsed domain. */
export function buildArgs(d: Domain, profile: Profile): { env: [string, string][]; argv: string[] } {
  const f = profile.flags;
  const env = profile.env.map(([k, v]) => [k, fill(v, d, profile)] as [string, string]);
  if (!profile.virtTypes && d.type === 'kvm' && !f.kvm) notModelled(`domain type 'kvm' with profile ${profile.name} (no KVM capability)`);
  const cpuArg = prepareDomain(d, profile);
  const args: string[] = [d.devices.emulator ?? notModelled('a domain without <emulator>')];
  const stateDir = fill(profile.stateDir, d, profile);
  args.push('-name', `guest=${d.name},debug-threads=on`, '-S');
  args.push('-object', objectArg([['qom-type', 'secret'], ['id', 'masterKey0'], ['format', 'raw'], ['file', `${stateDir}/master-key.aes`]], profile));

  const cells = d.cpu?.cells ?? [];
  const hmat = cells.some((c) => c.caches.length) || (d.cpu?.interconnects.length ?? 0) > 0;
  const systemBackend = f.machineMemoryBackend && !cells.length;
  // dump-guest-core: <memory dumpCore>, else qemu.conf's dump_guest_core (the default, off).
  let machine = `${d.os.machine},usb=off,dump-guest-core=${d.dumpCore ? 'on' : 'off'}`;
  if (d.memoryBacking?.nosharepages) machine += ',mem-merge=off';
  // qemuBuildMachineCommandLine: nvdimm=on once, and each SGX EPC section's backend and node.
  let nvdimm = false;
  let epc = 0;
  for (const m of d.devices.memories) {
    if (m.model === 'nvdimm' && !nvdimm) { machine += ',nvdimm=on'; nvdimm = true; }
    if (m.model === 'sgx-epc') { machine += `,sgx-epc.${epc}.memdev=mem${epcAlias(d, m)},sgx-epc.${epc}.node=${Math.max(m.target.node, 0)}`; epc++; }
  }
  if (systemBackend) machine += ',memory-backend=pc.ram';
  if (hmat && f.numaHmat) machine += ',hmat=on';
  // qemuBuildMachineACPI: with a machine that reports ACPI, absence of <acpi/> means acpi=off.
  if (f.machineAcpi) machine += `,acpi=${d.features.acpi ? 'on' : 'off'}`;
  args.push('-machine', machine);
  args.push('-accel', d.type === 'kvm' ? 'kvm' : 'tcg');
  if (cpuArg) args.push('-cpu', cpuArg);

  // qemuBuildMemCommandLine over the sizes qemuDomainAlignMemorySizes left.
  const sizes = alignMemorySizes(d, !!profile.incoming);
  const totalKiB = sizes.initial;
  const state: BackendState = { memPrealloc: false };
  if (hasMemoryHotplug(d)) {
    const mx = d.maxMemory!;
    if (profile.behaviour.memorySlotsForDimmsOnly)
      args.push('-m', `size=${totalKiB}k${mx.slots ? `,slots=${mx.slots}` : ''}${sizes.max ? `,maxmem=${sizes.max}k` : ''}`);
    else args.push('-m', `size=${totalKiB}k,slots=${mx.slots},maxmem=${sizes.max}k`);
  // Without hotplug the size was historically given in MiB: 9.0.0 divides, 11.x rounds down to 512 KiB.
  } else args.push('-m', profile.behaviour.memorySizeArg === 'size-k' ? `size=${totalKiB - (totalKiB % 512)}k` : String(Math.floor(totalKiB / MiB)));
  if (systemBackend) {
    const b = memoryBackend(d, profile, { alias: 'pc.ram', sizeKiB: totalKiB, targetNode: -1 }, false, true, state);
    const tc = threadContext(d, profile, b);
    if (tc) args.push('-object', objectArg(tc, profile));
    args.push('-object', objectArg(b.props, profile));
  } else if (!cells.length) memPathArgs(d, profile, args, state);
  args.push('-overcommit', `mem-lock=${d.memoryBacking?.locked ? 'on' : 'off'}`);

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
  numaArgs(d, profile, args, state, sizes.cells);

  args.push('-uuid', d.uuid, '-display', 'none', '-no-user-config', '-nodefaults');
  args.push('-chardev', `socket,id=charmonitor,${fill(profile.monitor, d, profile)},server=on,wait=off`);
  if (f.objectMonitorQmp) args.push('-object', objectArg([['qom-type', 'monitor-qmp'], ['id', 'monitor'], ['chardev', 'charmonitor']], profile));
  else args.push('-mon', 'chardev=charmonitor,id=monitor,mode=control');
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
  memoryDeviceArgs(d, profile, args, state, sizes.devices);

  const disks = d.devices.disks;
  const boots = bootIndexes(d);
  const chardev = (alias: string, sock: UnixSocket): string => socketChardev(alias, sock, profile);
  const dev = (props: Props): string => deviceArg(props, profile);
  const pci = (a: PciAddress): Props => pciProps(d, a);
  disks.forEach((k, i) => args.push(...diskArgs(k, {
    nodeIndex: disks.length - i, bootIndex: boots.disks[i], backingMaskProtocol: f.backingMaskProtocol,
    cacheAfterDiscard: profile.behaviour.blockdevCacheAfterDiscard,
    hostCdroms: profile.hostCdroms, deviceArg: dev, pci, chardev,
  })));
  d.devices.filesystems.forEach((fs, i) => args.push(...filesystemArgs(fs, i, stateDir, profile, dev, pci)));
  d.devices.nets.forEach((n, i) => args.push(...interfaceArgs(n, i, profile, boots.nets[i], (p) => netdevArg(p, profile), dev, pci)));
  // qemuBuildAudioCommandLine: one backend per <audio>, named by its id.
  for (const a of d.devices.audios) args.push('-audiodev', JSON.stringify({ id: `audio${a.id}`, driver: 'none' }));
  d.devices.videos.forEach((v, i) => args.push(...videoArgs(v, i, profile, dev, pci)));
  // qemuBuildWatchdogCommandLine: the iTCO is part of q35, only its pin strap and the action.
  const wd = d.devices.watchdogs ?? [];
  if (wd.length) args.push('-global', 'ICH9-LPC.noreboot=off', '-watchdog-action', wd[0].action === 'dump' ? 'pause' : wd[0].action);
  if (profile.incoming) args.push('-incoming', profile.incoming);
  const mb = d.devices.memballoon;
  if (mb?.model === 'virtio')
    args.push('-device', deviceArg([['driver', 'virtio-balloon-pci'], ['id', 'balloon0'], ...pciProps(d, mb.address!)], profile));
  if (f.sandbox) args.push('-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
  d.devices.cryptos.forEach((c, i) => args.push(...cryptoArgs(c, i, (p) => objectArg(p, profile), dev, pci)));
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
