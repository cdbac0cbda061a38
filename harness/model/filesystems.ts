// <filesystem type='mount'> with <driver type='virtiofs'>: a vhost-user-fs device whose
// virtiofsd maps guest memory, so the guest's memory must be shared. Parse
// (virDomainFSDefParseXML), validation (virDomainFSDefValidate, qemuValidateDomainDeviceDefFS),
// XML (virDomainFSDefFormat) and the command line (qemuBuildVHostUserFsCommandLine).
import { fail, notModelled } from './errors.js';
import type { Domain, PciAddress } from './domain.js';
import type { Filesystem } from './domain-devices.js';
import type { IdMap } from './idmap.js';
import { parseIdmapOf } from './idmap.js';
import type { Props } from './memory-backend.js';
import type { Profile } from './profile.js';
import { parseInt32, propEnum, propSwitch, propUInt } from './props.js';
import { requireSharedMemory, socketChardev } from './vhost-user.js';
import { attr, child, childrenNamed, firstAttr, select, type XmlElement } from './xml-tree.js';
import { esc } from './escape.js';

const FS_TYPES = ['mount', 'block', 'file', 'template', 'ram', 'bind', 'volume'] as const;
const ACCESS_MODES = ['default', 'passthrough', 'mapped', 'squash'] as const;
const FS_DRIVERS = ['default', 'path', 'handle', 'loop', 'nbd', 'ploop', 'virtiofs', 'mtp'] as const;
const CACHE_MODES = ['default', 'none', 'always'] as const;
const SANDBOX_MODES = ['default', 'namespace', 'chroot'] as const;

const onOff = (el: XmlElement | undefined, name: string): boolean | undefined => (el ? propSwitch(el, name) : undefined);

/** virStrToLong_ull (strtoull, base 10): leading white space, a sign (a negative number wraps
 *  around 2^64), digits to the end; null for anything else or more than 2^64 - 1. */
function strtoull(s: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) return null;
  const v = BigInt(m[2]);
  if (v > 0xffffffffffffffffn) return null;
  return m[1] === '-' ? BigInt.asUintN(64, -v) : v;
}

/** virDomainFSDefParseXML for a virtiofs filesystem of type mount; `idmapOpenfiles`: the
 *  release reads <idmap> and <binary><openfiles> (11.x; 9.0.0 ignores them). */
export function parseFilesystem(el: XmlElement, parsePci: (el: XmlElement) => PciAddress, idmapOpenfiles: boolean): Filesystem {
  const type = propEnum(el, 'type', FS_TYPES) ?? 'mount';
  // virDomainFSAccessMode's zero is "" (the default): accessmode='' is the default, 'default' unknown.
  const accessmode = attr(el, 'accessmode');
  const access = accessmode === '' ? 'default' : propEnum(el, 'accessmode', ACCESS_MODES.slice(1)) ?? 'default';
  const src = child(el, 'source');
  const drv = child(el, 'driver');
  const driver = drv ? propEnum(drv, 'type', FS_DRIVERS) ?? 'default' : 'default';
  if (driver !== 'virtiofs') notModelled(`filesystem driver '${driver}'`);
  if (type !== 'mount') notModelled(`filesystem type '${type}'`);
  const fs: Filesystem = { source: '', target: '', readonly: !!child(el, 'readonly') };
  // string(./driver/@queue), string(./binary/@path), …: the first element that has it (an empty
  // value is none), and ./binary/lock the first across every <binary>.
  const queue = firstAttr(childrenNamed(el, 'driver'), 'queue') || undefined;
  if (queue !== undefined) {
    const q = strtoull(queue);
    if (q === null) fail('XML_ERROR', `cannot parse queue size '${queue}' for virtiofs`);
    fs.queue = q!;
  }
  const bin = child(el, 'binary');
  if (bin) {
    const b: NonNullable<Filesystem['binary']> = {};
    const path = firstAttr(childrenNamed(el, 'binary'), 'path') || undefined;
    if (path !== undefined) {
      // virFileSanitizePath: repeated and trailing slashes go.
      b.path = path.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
      if (path !== b.path) notModelled('a virtiofsd binary path libvirt rewrites');
    }
    const pool = firstAttr(select(el, 'binary', 'thread_pool'), 'size') || undefined;
    if (pool !== undefined) {
      const n = parseInt32(pool, 10);
      if (n === null) fail('XML_ERROR', `cannot parse thread pool size '${pool}' for virtiofs`);
      if (n! < 0) notModelled('a negative virtiofs thread pool size');
      b.threadPool = n!;
    }
    const files = idmapOpenfiles ? firstAttr(select(el, 'binary', 'openfiles'), 'max') || undefined : undefined;
    if (files !== undefined) {
      // virStrToLong_ull: a negative number wraps around 2^64 (printed back with %lld).
      const n = strtoull(files);
      if (n === null) fail('XML_ERROR', `cannot parse openfiles '${files}' for virtiofs`);
      b.openfiles = n!;
    }
    const xattr = onOff(bin, 'xattr');
    if (xattr !== undefined) b.xattr = xattr;
    const lock = select(el, 'binary', 'lock')[0];
    const posix = onOff(lock, 'posix');
    const flock = onOff(lock, 'flock');
    if (posix !== undefined || flock !== undefined) b.lock = { posix, flock };
    const cacheEl = select(el, 'binary', 'cache')[0];
    const cache = cacheEl ? propEnum(cacheEl, 'mode', CACHE_MODES, false, true) : undefined;
    if (cache) b.cache = cache;
    const sandboxEl = select(el, 'binary', 'sandbox')[0];
    const sandbox = sandboxEl ? propEnum(sandboxEl, 'mode', SANDBOX_MODES, false, true) : undefined;
    if (sandbox) b.sandbox = sandbox;
    fs.binary = b;
  }
  if (idmapOpenfiles) {
    const idmap = child(el, 'idmap');
    const map = idmap ? parseIdmapOf(idmap) : undefined;
    if (map) fs.idmap = map;
  }
  const sock = src ? attr(src, 'socket') : undefined;
  const dir = src ? attr(src, 'dir') : undefined;
  const tgt = child(el, 'target');
  const dst = tgt ? attr(tgt, 'dir') : undefined;
  if (dir === undefined && sock === undefined) notModelled('a filesystem without a source (libvirt: no source)');
  if (dst === undefined || dst === '') notModelled('a filesystem without a target (libvirt: no target)');
  // libvirt keeps socket='' as a socket (virXMLPropString), not as none.
  if (sock === '') notModelled("a virtiofs filesystem with socket=''");
  fs.source = dir ?? '';
  if (sock !== undefined) fs.socket = sock;
  fs.target = dst!;
  // With an external virtiofsd's socket other accessmodes are kept and formatted: not modelled.
  if (sock !== undefined && access !== 'passthrough' && access !== 'default') notModelled(`filesystem accessmode '${access}' with a socket`);
  // virDomainFSDefPostParse: without a socket the default accessmode is passthrough.
  if (access === 'passthrough' || (access === 'default' && sock === undefined)) fs.accessPassthrough = true;
  const boot = child(el, 'boot');
  if (boot) fs.bootOrder = propUInt(boot, 'order', true, true)!;
  const addr = child(el, 'address');
  if (addr) fs.address = parsePci(addr);
  if (childrenNamed(el, 'address').length > 1) notModelled('a filesystem with two addresses');
  return fs;
}

/** virDomainFSDefValidate then qemuValidateDomainDeviceDefFS for a virtiofs filesystem. */
export function validateFilesystem(d: Domain, profile: Profile, fs: Filesystem): void {
  const seen = new Set<string>();
  for (const f of d.devices.filesystems) {
    if (seen.has(f.target)) fail('CONFIG_UNSUPPORTED', `filesystem target '${f.target}' specified twice`);
    seen.add(f.target);
  }
  if (!fs.socket) {
    if (fs.readonly && !profile.behaviour.virtiofsReadonly) fail('CONFIG_UNSUPPORTED', 'virtiofs does not yet support read-only mode');
    if (!fs.accessPassthrough) fail('CONFIG_UNSUPPORTED', 'virtiofs only supports passthrough accessmode');
  }
  if (!profile.flags.vhostUserFs) fail('CONFIG_UNSUPPORTED', 'virtiofs is not supported with this QEMU binary');
  requireSharedMemory(d, profile, 'virtiofs');
  if (fs.bootOrder && !profile.flags.vhostUserFsBootindex)
    fail('CONFIG_UNSUPPORTED', 'setting virtiofs boot order is not supported with this QEMU binary');
}

/** virDomainFSDefFormat for a virtiofs filesystem. */
export function formatFilesystem(fs: Filesystem, ind: string, address: (a: PciAddress) => string, formatIdmap: (m: IdMap | undefined, ind: string) => string[]): string[] {
  const sw = (name: string, v: boolean | undefined): string => (v === undefined ? '' : ` ${name}='${v ? 'on' : 'off'}'`);
  const out = [`${ind}<filesystem type='mount'${fs.accessPassthrough ? " accessmode='passthrough'" : ''}>`];
  out.push(`${ind}  <driver type='virtiofs'${fs.queue ? ` queue='${fs.queue}'` : ''}/>`);
  const b = fs.binary;
  if (b) {
    const kids: string[] = [];
    if (b.cache) kids.push(`${ind}    <cache mode='${b.cache}'/>`);
    if (b.sandbox) kids.push(`${ind}    <sandbox mode='${b.sandbox}'/>`);
    if (b.lock && (b.lock.posix !== undefined || b.lock.flock !== undefined)) kids.push(`${ind}    <lock${sw('posix', b.lock.posix)}${sw('flock', b.lock.flock)}/>`);
    if (b.threadPool !== undefined) kids.push(`${ind}    <thread_pool size='${b.threadPool}'/>`);
    if (b.openfiles) kids.push(`${ind}    <openfiles max='${BigInt.asIntN(64, b.openfiles)}'/>`);
    const head = `${ind}  <binary${b.path !== undefined ? ` path='${esc(b.path)}'` : ''}${sw('xattr', b.xattr)}`;
    if (kids.length) out.push(`${head}>`, ...kids, `${ind}  </binary>`);
    else if (head !== `${ind}  <binary`) out.push(`${head}/>`);
  }
  if (fs.idmap?.uid.length) {
    const lines = formatIdmap(fs.idmap, `${ind}  `);
    out.push(...lines);
  }
  out.push(fs.socket !== undefined ? `${ind}  <source socket='${esc(fs.socket)}'/>` : `${ind}  <source dir='${esc(fs.source)}'/>`);
  out.push(`${ind}  <target dir='${esc(fs.target)}'/>`);
  if (fs.readonly) out.push(`${ind}  <readonly/>`);
  if (fs.bootOrder) out.push(`${ind}  <boot order='${fs.bootOrder}'/>`);
  if (fs.address) out.push(`${ind}  ${address(fs.address)}`);
  out.push(`${ind}</filesystem>`);
  return out;
}

/** qemuBuildVHostUserFsCommandLine: the chardev to virtiofsd's socket (the given one, else
 *  ALIAS-fs.sock in the domain's state directory) and vhost-user-fs-pci. */
export function filesystemArgs(fs: Filesystem, index: number, stateDir: string, profile: Profile,
  deviceArg: (props: Props) => string, pci: (a: PciAddress) => Props): string[] {
  const alias = `fs${index}`;
  const chr = `chr-vu-${alias}`;
  const path = fs.socket ?? `${stateDir}/${alias}-fs.sock`;
  if (!fs.address) return notModelled('a filesystem without a PCI address');
  const props: Props = [['driver', 'vhost-user-fs-pci'], ['id', alias], ['chardev', chr]];
  // 'P:queue-size': the unsigned value goes to QEMU as a signed 64-bit number.
  if (fs.queue) {
    const q = BigInt.asIntN(64, fs.queue);
    if (q > BigInt(Number.MAX_SAFE_INTEGER) || q < BigInt(Number.MIN_SAFE_INTEGER)) notModelled('a virtiofs queue size beyond 2^53 on the command line');
    props.push(['queue-size', Number(q)]);
  }
  props.push(['tag', fs.target]);
  if (fs.bootOrder) props.push(['bootindex', fs.bootOrder]);
  props.push(...pci(fs.address));
  return ['-chardev', socketChardev(chr, { path, listen: false }, profile), '-device', deviceArg(props)];
}
