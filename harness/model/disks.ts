// <disk>: block devices and image files on IDE, SATA and virtio, and vhost-user disks (a
// vhost-user-blk device whose backend lives in another process, so guest memory must be
// shared). Parse (virDomainDiskDefParseXML for the modelled shapes), the checks of validation
// (virDomainDiskDefValidate, virDomainDiskVhostUserValidate, qemuValidateDomainDeviceDefDisk),
// the XML (virDomainDiskDefFormat) and the command line (-blockdev and -device, or -chardev and
// vhost-user-blk-pci).
import { fail, notModelled } from './errors.js';
import type { Disk, DriveAddress, PciAddress } from './domain.js';
import type { UnixSocket, VirtioOptions } from './domain-devices.js';
import { propEnum, propSwitch, propUInt, propTristate } from './props.js';
import { attr, child, type XmlElement } from './xml-tree.js';
import { esc } from './escape.js';

/** virDomainDiskCache, in libvirt's enum order ('default' is index 0). */
const CACHE_MODES = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
export type CacheMode = Exclude<(typeof CACHE_MODES)[number], 'default'>;

/** virDomainVirtioOptionsParseXML: on/off switches of any virtio device's <driver>. Read in
 *  libvirt's order (the first bad one is reported); the object only when one is there, as most
 *  drivers are a plain <driver name type>. */
export function parseVirtioOptions(drv: XmlElement): VirtioOptions | undefined {
  const iommu = propSwitch(drv, 'iommu');
  const ats = propSwitch(drv, 'ats');
  const packed = propSwitch(drv, 'packed');
  const pagePerVq = propSwitch(drv, 'page_per_vq');
  if (iommu === undefined && ats === undefined && packed === undefined && pagePerVq === undefined) return undefined;
  const o: VirtioOptions = {};
  if (iommu !== undefined) o.iommu = iommu;
  if (ats !== undefined) o.ats = ats;
  if (packed !== undefined) o.packed = packed;
  if (pagePerVq !== undefined) o.pagePerVq = pagePerVq;
  return o;
}

/** virDomainVirtioOptionsFormat (attributes, in libvirt's order). */
export function formatVirtioOptions(o: VirtioOptions | undefined): string {
  if (!o) return '';
  const sw = (name: string, v: boolean | undefined): string => (v === undefined ? '' : ` ${name}='${v ? 'on' : 'off'}'`);
  return sw('iommu', o.iommu) + sw('ats', o.ats) + sw('packed', o.packed) + sw('page_per_vq', o.pagePerVq);
}

/** qemuBuildVirtioDevProps' option properties. */
export function virtioOptionProps(o: VirtioOptions | undefined): [string, boolean][] {
  if (!o) return [];
  const out: [string, boolean][] = [];
  if (o.iommu !== undefined) out.push(['iommu_platform', o.iommu]);
  if (o.ats !== undefined) out.push(['ats', o.ats]);
  if (o.packed !== undefined) out.push(['packed', o.packed]);
  if (o.pagePerVq !== undefined) out.push(['page-per-vq', o.pagePerVq]);
  return out;
}

/** virDomainChrSourceReconnectDefParseXML: <reconnect enabled timeout> under a socket's <source>. */
export function parseReconnect(src: XmlElement): UnixSocket['reconnect'] {
  const el = child(src, 'reconnect');
  if (!el) return undefined;
  const enabled = propTristate(el, 'enabled');
  if (enabled === undefined) return undefined;
  if (!enabled) return { enabled };
  const timeout = propUInt(el, 'timeout', true)!;
  // qemuValidateDomainChrSourceReconnectDef refuses 0 for chardevs; for these devices no check says so.
  if (timeout === 0) notModelled("a socket <reconnect enabled='yes' timeout='0'>");
  return { enabled, timeout };
}

/** virDomainChrSourceReconnectDefFormat */
export function formatReconnect(r: UnixSocket['reconnect'], ind: string): string[] {
  if (!r) return [];
  return [`${ind}<reconnect enabled='${r.enabled ? 'yes' : 'no'}'${r.enabled ? ` timeout='${r.timeout}'` : ''}/>`];
}

/** The part of virDomainDiskDefParseXML the model reads, for <disk type='block|file|vhostuser'>;
 *  undefined when the disk has neither a target name nor a bus (remembered for validation). */
export function parseDisk(d: XmlElement, missingTargets: string[], parseAddress: (el: XmlElement) => PciAddress | DriveAddress): Disk | undefined {
  const type = attr(d, 'type') ?? 'file';
  if (type !== 'block' && type !== 'file' && type !== 'vhostuser') notModelled(`disk type '${type}'`);
  const device = attr(d, 'device') ?? 'disk';
  if (device !== 'disk' && device !== 'cdrom') notModelled(`disk device '${device}'`);
  if (type !== 'block' && device !== 'disk') notModelled(`a ${device} of type '${type}'`);
  // libvirt refuses read-only IDE disks and has rules for virtio ones: only cdroms here.
  if (device === 'disk' && child(d, 'readonly')) notModelled("a read-only disk of device 'disk'");
  const src = child(d, 'source');
  const sourceAttr = type === 'block' ? 'dev' : type === 'file' ? 'file' : 'path';
  const tgt = child(d, 'target');
  // libvirt notices a missing target name only when it validates the disk, after post-parse
  // and address assignment (fuzz-29e777fcf5, fuzz-d19fb0eb6b): remember the complaint.
  if (!tgt || attr(tgt, 'dev') === undefined) {
    missingTargets.push(src ? attr(src, sourceAttr) ?? '' : '');
    // With no <target> at all it is an IDE disk nobody looks at before; with a bus it
    // still takes part in address assignment.
    if (!tgt || attr(tgt, 'bus') === undefined) return undefined;
  }
  const busAttr = attr(tgt!, 'bus');
  const dev = attr(tgt!, 'dev') ?? '';
  const bus = busAttr ?? (dev.startsWith('vd') ? 'virtio' : dev.startsWith('hd') ? 'ide' : '');
  if (bus !== 'ide' && bus !== 'virtio' && bus !== 'sata') notModelled(`disk bus '${bus}'`);
  if (device === 'cdrom' && bus !== 'ide') notModelled(`a cdrom on bus '${bus}'`);
  const drv = child(d, 'driver');
  const addrEl = child(d, 'address');
  const disk: Disk = {
    type: type as Disk['type'],
    ...(device === 'cdrom' ? { device } : {}),
    source: src ? attr(src, sourceAttr) ?? '' : '',
    target: dev,
    bus: bus as Disk['bus'],
    busWritten: busAttr !== undefined,
    ...(attr(tgt!, 'dev') === undefined ? { targetMissing: true as const } : {}),
  };
  if (type === 'vhostuser') {
    // virDomainDiskSourceVHostUserParse
    if (!src) notModelled('a vhostuser disk without <source>');
    const st = attr(src!, 'type');
    if (st === undefined) fail('XML_ERROR', "missing 'type' attribute for vhostuser disk source");
    if (st !== 'unix') fail('XML_ERROR', "invalid 'type' attribute for vhostuser disk source");
    const path = attr(src!, 'path');
    if (path === undefined) fail('XML_ERROR', "missing 'path' attribute for vhostuser disk source");
    disk.vhostuser = { path: path!, listen: false, reconnect: parseReconnect(src!) };
  }
  if (drv) {
    // virXMLPropEnum without NONZERO: cache='default' is accepted, and is no cache mode.
    const cache = propEnum(drv, 'cache', CACHE_MODES);
    disk.driver = { name: attr(drv, 'name') ?? 'qemu', type: attr(drv, 'type') ?? 'raw' };
    if (cache && cache !== 'default') disk.driver.cache = cache;
    const virtio = parseVirtioOptions(drv);
    if (virtio) disk.driver.virtio = virtio;
  }
  const boot = child(d, 'boot');
  if (boot) disk.bootOrder = propUInt(boot, 'order', true, true)!;
  if (addrEl) disk.address = parseAddress(addrEl);
  if (!src) notModelled('disk without <source>');
  // libvirt drops an empty path (then: 'missing source information', or an empty CD-ROM tray).
  if (type !== 'vhostuser' && disk.source === '') notModelled(`a disk with an empty <source ${sourceAttr}>`);
  const drvOk = disk.driver?.name === 'qemu' && (disk.driver.type === 'raw' || (disk.driver.type === 'qcow2' && type === 'file'));
  if (disk.driver && !drvOk) notModelled(`disk driver ${disk.driver.name}/${disk.driver.type} of a ${type} disk`);
  if (disk.driver?.virtio && (disk.bus !== 'virtio' || type !== 'vhostuser')) notModelled('virtio options of a disk other than a vhost-user one');
  return disk;
}

/** virDomainDiskDefPostParse's defaults for the modelled disks. */
export function diskPostParse(disk: Disk): void {
  // vhost-user cannot take snapshots: disabled by default.
  if (disk.type === 'vhostuser') disk.snapshot = 'no';
}

/** virDomainDiskVhostUserValidate (part of virDomainDiskDefValidate) for the modelled attributes. */
export function validateDiskVhostUser(disk: Disk): void {
  if (disk.type !== 'vhostuser') return;
  if (disk.bus !== 'virtio') fail('CONFIG_UNSUPPORTED', 'vhostuser disk supports only virtio bus');
  if (disk.driver?.cache) fail('CONFIG_UNSUPPORTED', 'cache is not supported with vhostuser disk');
}

/** virDomainDiskDefFormat for the modelled disks, appended to `out` (every domain of the NUMA
 *  family has a disk: no array per disk). */
export function formatDisk(out: string[], k: Disk, ind: string, address: (a: NonNullable<Disk['address']>) => string): void {
  out.push(`${ind}<disk type='${k.type}' device='${k.device ?? 'disk'}'${k.snapshot ? ` snapshot='${k.snapshot}'` : ''}>`);
  const d = k.driver;
  if (d) out.push(`${ind}  <driver name='${d.name}' type='${d.type}'${d.cache ? ` cache='${d.cache}'` : ''}${formatVirtioOptions(d.virtio)}/>`);
  if (k.type === 'vhostuser') {
    const r = formatReconnect(k.vhostuser!.reconnect, `${ind}    `);
    const head = `${ind}  <source type='unix' path='${esc(k.vhostuser!.path)}'`;
    if (r.length) out.push(`${head}>`, ...r, `${ind}  </source>`);
    else out.push(`${head}/>`);
  } else out.push(`${ind}  <source ${k.type === 'block' ? 'dev' : 'file'}='${esc(k.source)}'/>`);
  out.push(`${ind}  <target dev='${k.target}' bus='${k.bus}'/>`);
  if (k.device === 'cdrom') out.push(`${ind}  <readonly/>`);
  if (k.bootOrder) out.push(`${ind}  <boot order='${k.bootOrder}'/>`);
  if (k.address) out.push(`${ind}  ${address(k.address)}`);
  out.push(`${ind}</disk>`);
}

/** qemuDomainDiskCachemodeFlags: writeback, direct, no-flush per cache mode. */
const CACHE_FLAGS: Record<CacheMode, [boolean, boolean, boolean]> = {
  none: [true, true, false], writethrough: [false, false, false], writeback: [true, false, false],
  directsync: [false, true, false], unsafe: [true, false, true],
};

/** What building one disk's command line needs from the rest of the model. */
export interface DiskArgContext {
  /** The disk's position counted from the end (libvirt numbers nodes libvirt-N-… that way). */
  nodeIndex: number;
  bootIndex: number;
  /** QEMU_CAPS_BLOCKJOB_BACKING_MASK_PROTOCOL: a raw image needs no format node of its own. */
  backingMaskProtocol: boolean;
  /** behaviour.blockdevCacheAfterDiscard */
  cacheAfterDiscard: boolean;
  /** The profile's CD-ROM drives (host_cdrom); absent: only /dev/cdrom, as libvirt's tests. */
  hostCdroms?: string[];
  deviceArg: (props: import('./memory-backend.js').Props) => string;
  pci: (a: PciAddress) => import('./memory-backend.js').Props;
  chardev: (alias: string, sock: UnixSocket) => string;
}

/** qemuBuildDiskCommandLine for one disk: -blockdev for the storage (and the format node where
 *  one is needed) and the frontend -device; a vhost-user disk is a chardev and vhost-user-blk-pci. */
export function diskArgs(k: Disk, ctx: DiskArgContext): string[] {
  const args: string[] = [];
  const alias = k.bus === 'virtio' ? `virtio-disk${diskIndexOf(k.target)}`
    : `${k.bus}${(k.address as DriveAddress).controller}-${(k.address as DriveAddress).bus}-${(k.address as DriveAddress).unit}`;
  const boot: [string, number][] = ctx.bootIndex ? [['bootindex', ctx.bootIndex]] : [];
  if (k.type === 'vhostuser') {
    const chr = `chr-vu-${alias}`;
    args.push('-chardev', ctx.chardev(chr, k.vhostuser!));
    if (k.address?.type !== 'pci') return notModelled('a vhost-user disk without a PCI address');
    args.push('-device', ctx.deviceArg([['driver', 'vhost-user-blk-pci'], ...virtioOptionProps(k.driver?.virtio), ...ctx.pci(k.address), ['chardev', chr], ['id', alias], ...boot]));
    return args;
  }
  const n = ctx.nodeIndex;
  const storage = `libvirt-${n}-storage`;
  const format = `libvirt-${n}-format`;
  const fmt = k.driver?.type ?? 'raw';
  // qemuBlockStorageSourceNeedsFormatLayer: a raw image's storage node is the device's drive when
  // QEMU can mask the backing protocol; otherwise (and for any other format) a format node sits over it.
  const formatLayer = fmt !== 'raw' || !ctx.backingMaskProtocol;
  const drive = formatLayer ? format : storage;
  const cd = k.device === 'cdrom';
  const cacheFlags = k.driver?.cache ? CACHE_FLAGS[k.driver.cache] : undefined;
  // JSON.stringify leaves out a property whose value is undefined: no cache, no "cache" key.
  // (Literals, not spreads of a shared head: this runs for every disk of every case.)
  const cache = cacheFlags ? { direct: cacheFlags[1], 'no-flush': cacheFlags[2] } : undefined;
  // qemuDomainDetermineDiskChain: only a real CD-ROM drive is opened as one.
  const hostDriver = k.type === 'file' ? 'file' : cd && (ctx.hostCdroms ?? ['/dev/cdrom']).includes(k.source) ? 'host_cdrom' : 'host_device';
  if (formatLayer) {
    // 9.0.0 puts the storage node's cache before auto-read-only and discard, 11.x after them.
    args.push('-blockdev', JSON.stringify(ctx.cacheAfterDiscard
      ? { driver: hostDriver, filename: k.source, 'node-name': storage, 'auto-read-only': true, discard: 'unmap', cache }
      : { driver: hostDriver, filename: k.source, 'node-name': storage, cache, 'auto-read-only': true, discard: 'unmap' }));
    args.push('-blockdev', JSON.stringify({ 'node-name': format, 'read-only': cd, cache, driver: fmt, file: storage }));
  } else args.push('-blockdev', JSON.stringify({ driver: hostDriver, filename: k.source, 'node-name': storage, 'read-only': cd, cache }));
  const writeCache: [string, string][] = cacheFlags ? [['write-cache', cacheFlags[0] ? 'on' : 'off']] : [];
  if (k.bus === 'virtio') {
    if (k.address?.type !== 'pci') return notModelled('a virtio disk without a PCI address');
    args.push('-device', ctx.deviceArg([['driver', 'virtio-blk-pci'], ...ctx.pci(k.address), ['drive', drive], ['id', alias], ...boot, ...writeCache]));
  } else {
    const a = k.address as DriveAddress;
    // qemuBuildDeviceAddresDriveProps: IDE names the bus, SATA the unit (q35's AHCI is 'ide').
    const where: [string, string | number][] = k.bus === 'ide' ? [['bus', `ide.${a.bus}`], ['unit', a.unit]] : [['bus', `ide.${a.unit}`]];
    args.push('-device', ctx.deviceArg([['driver', cd ? 'ide-cd' : 'ide-hd'], ...where, ['drive', drive], ['id', alias], ...boot, ...writeCache]));
  }
  return args;
}

/** virDiskNameToIndex: "hda" -> 0, "vdb" -> 1, "sdaa" -> 26. */
export function diskIndexOf(name: string): number {
  const m = /^(?:hd|vd|sd|xvd)([a-z]+)$/.exec(name);
  if (!m) return -1;
  let v = 0; // bijective base 26: a=1 … z=26, aa=27
  for (const ch of m[1]) v = v * 26 + (ch.charCodeAt(0) - 96);
  return v - 1;
}

/** virDiskNameParse as qemuValidateDomainDeviceDefDisk uses it: a known prefix, lower-case
 *  letters, then an optional partition number, which a disk target may not have. */
export function checkDiskName(name: string): void {
  // The usual target (hda, vdb) has no partition number: one test, no match array.
  if (/^(?:fd|hd|vd|sd|xvd|ubd)[a-z]+$/.test(name)) return;
  const m = /^(?:fd|hd|vd|sd|xvd|ubd)([a-z]+)([0-9]*)$/.exec(name);
  if (!m || (m[2].length > 1 && m[2][0] === '0') || (m[2] && Number(m[2]) > 2147483647))
    fail('CONFIG_UNSUPPORTED', `invalid disk target '${name}'`);
  if (m![2] && Number(m![2]) !== 0) fail('CONFIG_UNSUPPORTED', `invalid disk target '${name}', partitions can't appear in disk targets`);
}
