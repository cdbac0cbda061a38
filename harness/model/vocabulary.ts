// The elements and attributes the model reproduces. A document with anything else is refused as
// "not modelled" before any of libvirt's checks run, so the model never guesses.
import { notModelled } from './errors.js';
import type { XmlElement } from './xml-tree.js';

/** Elements and attributes the model reproduces; anything else is "not modelled". */
const VOCABULARY: Record<string, readonly string[]> = {
  domain: ['type'],
  'domain/name': [], 'domain/uuid': [],
  'domain/memory': ['unit', 'dumpCore'], 'domain/currentMemory': ['unit'], 'domain/maxMemory': ['unit', 'slots'],
  'domain/memoryBacking': [], 'domain/memoryBacking/hugepages': [],
  'domain/memoryBacking/hugepages/page': ['size', 'unit', 'nodeset'],
  'domain/memoryBacking/nosharepages': [], 'domain/memoryBacking/locked': [],
  'domain/memoryBacking/source': ['type'], 'domain/memoryBacking/access': ['mode'],
  'domain/memoryBacking/allocation': ['mode', 'threads'], 'domain/memoryBacking/discard': [],
  'domain/memtune': [], 'domain/memtune/hard_limit': ['unit'], 'domain/memtune/soft_limit': ['unit'],
  'domain/memtune/min_guarantee': ['unit'], 'domain/memtune/swap_hard_limit': ['unit'],
  'domain/vcpu': ['placement', 'cpuset', 'current'],
  'domain/iothreads': [],
  'domain/cputune': [], 'domain/cputune/vcpupin': ['vcpu', 'cpuset'],
  'domain/cputune/emulatorpin': ['cpuset'], 'domain/cputune/iothreadpin': ['iothread', 'cpuset'],
  'domain/numatune': [], 'domain/numatune/memory': ['mode', 'nodeset', 'placement'],
  'domain/numatune/memnode': ['cellid', 'mode', 'nodeset'],
  'domain/os': [], 'domain/os/type': ['arch', 'machine'], 'domain/os/boot': ['dev'], 'domain/os/bootmenu': ['enable', 'timeout'],
  'domain/idmap': [], 'domain/idmap/uid': ['start', 'target', 'count'], 'domain/idmap/gid': ['start', 'target', 'count'],
  'domain/features': [], 'domain/features/acpi': [], 'domain/features/apic': [], 'domain/features/pae': [],
  'domain/cpu': ['mode', 'match', 'check'], 'domain/cpu/model': ['fallback'],
  'domain/cpu/topology': ['sockets', 'dies', 'clusters', 'cores', 'threads'],
  'domain/cpu/numa': [], 'domain/cpu/numa/cell': ['id', 'cpus', 'memory', 'unit', 'memAccess', 'discard'],
  'domain/cpu/numa/cell/distances': [], 'domain/cpu/numa/cell/distances/sibling': ['id', 'value'],
  'domain/cpu/numa/cell/cache': ['level', 'associativity', 'policy'],
  'domain/cpu/numa/cell/cache/size': ['value', 'unit'], 'domain/cpu/numa/cell/cache/line': ['value', 'unit'],
  'domain/cpu/numa/interconnects': [],
  'domain/cpu/numa/interconnects/latency': ['initiator', 'target', 'cache', 'type', 'value'],
  'domain/cpu/numa/interconnects/bandwidth': ['initiator', 'target', 'cache', 'type', 'value', 'unit'],
  'domain/clock': ['offset'],
  'domain/on_poweroff': [], 'domain/on_reboot': [], 'domain/on_crash': [],
  'domain/devices': [], 'domain/devices/emulator': [],
  'domain/devices/disk': ['type', 'device'], 'domain/devices/disk/source': ['dev', 'file', 'type', 'path'],
  'domain/devices/disk/source/reconnect': ['enabled', 'timeout'],
  'domain/devices/disk/target': ['dev', 'bus'], 'domain/devices/disk/readonly': [], 'domain/devices/disk/boot': ['order'],
  'domain/devices/disk/driver': ['name', 'type', 'cache', 'iommu', 'ats', 'packed', 'page_per_vq'],
  'domain/devices/disk/address': ['type', 'controller', 'bus', 'target', 'unit', 'domain', 'slot', 'function'],
  'domain/devices/controller': ['type', 'index', 'model'],
  'domain/devices/controller/address': ['type', 'domain', 'bus', 'slot', 'function', 'multifunction'],
  'domain/devices/controller/model': ['name'], 'domain/devices/controller/target': ['chassisNr', 'chassis', 'port', 'busNr'],
  'domain/devices/controller/target/node': [],
  'domain/devices/watchdog': ['model', 'action'],
  'domain/devices/input': ['type', 'bus'],
  'domain/devices/memballoon': ['model'],
  'domain/devices/memballoon/address': ['type', 'domain', 'bus', 'slot', 'function'],
  'domain/devices/audio': ['id', 'type'],
  'domain/devices/interface': ['type'], 'domain/devices/interface/mac': ['address'], 'domain/devices/interface/model': ['type'],
  'domain/devices/interface/source': ['type', 'path', 'mode', 'address', 'port'],
  'domain/devices/interface/source/reconnect': ['enabled', 'timeout'], 'domain/devices/interface/driver': ['queues'],
  'domain/devices/interface/backend': ['tap'], 'domain/devices/interface/filterref': ['filter'],
  'domain/devices/interface/boot': ['order'],
  'domain/devices/interface/address': ['type', 'domain', 'bus', 'slot', 'function', 'multifunction'],
  'domain/devices/filesystem': ['type', 'accessmode'], 'domain/devices/filesystem/driver': ['type', 'queue'],
  'domain/devices/filesystem/binary': ['path', 'xattr'], 'domain/devices/filesystem/binary/cache': ['mode'],
  'domain/devices/filesystem/binary/sandbox': ['mode'], 'domain/devices/filesystem/binary/thread_pool': ['size'],
  'domain/devices/filesystem/binary/lock': ['posix', 'flock'], 'domain/devices/filesystem/binary/openfiles': ['max'],
  'domain/devices/filesystem/idmap': [], 'domain/devices/filesystem/idmap/uid': ['start', 'target', 'count'],
  'domain/devices/filesystem/idmap/gid': ['start', 'target', 'count'],
  'domain/devices/filesystem/source': ['dir', 'socket'], 'domain/devices/filesystem/target': ['dir'],
  'domain/devices/filesystem/readonly': [], 'domain/devices/filesystem/boot': ['order'],
  'domain/devices/filesystem/address': ['type', 'domain', 'bus', 'slot', 'function', 'multifunction'],
  'domain/devices/video': [], 'domain/devices/video/driver': ['name'], 'domain/devices/video/model': ['type', 'heads', 'primary', 'blob'],
  'domain/devices/video/address': ['type', 'domain', 'bus', 'slot', 'function', 'multifunction'],
  'domain/devices/crypto': ['model', 'type'], 'domain/devices/crypto/backend': ['model', 'queues'],
  'domain/devices/crypto/address': ['type', 'domain', 'bus', 'slot', 'function', 'multifunction'],
  'domain/devices/memory': ['model', 'access', 'discard'], 'domain/devices/memory/uuid': [],
  'domain/devices/memory/source': [], 'domain/devices/memory/source/pagesize': ['unit'],
  'domain/devices/memory/source/nodemask': [], 'domain/devices/memory/source/path': [],
  'domain/devices/memory/source/alignsize': ['unit'], 'domain/devices/memory/source/pmem': [],
  'domain/devices/memory/target': ['dynamicMemslots'], 'domain/devices/memory/target/size': ['unit'],
  'domain/devices/memory/target/node': [], 'domain/devices/memory/target/label': [],
  'domain/devices/memory/target/label/size': ['unit'], 'domain/devices/memory/target/readonly': [],
  'domain/devices/memory/target/block': ['unit'], 'domain/devices/memory/target/requested': ['unit'],
  'domain/devices/memory/target/address': ['base'],
  'domain/devices/memory/address': ['type', 'slot', 'base', 'domain', 'bus', 'function'],
};

interface VocabNode { attrs: Set<string>; children: Map<string, VocabNode> }

/** The flat table as a tree, built once, so checking a document allocates nothing. */
const VOCAB_TREE: VocabNode = (() => {
  const root: VocabNode = { attrs: new Set(VOCABULARY.domain), children: new Map() };
  for (const [path, attrs] of Object.entries(VOCABULARY)) {
    let node = root;
    for (const part of path.split('/').slice(1)) {
      let next = node.children.get(part);
      if (!next) { next = { attrs: new Set(), children: new Map() }; node.children.set(part, next); }
      node = next;
    }
    for (const a of attrs) node.attrs.add(a);
  }
  return root;
})();

/** Refuse anything outside the vocabulary; `path` is a shared stack, spelled out only for errors. */
function checkVocabulary(el: XmlElement, node: VocabNode, path: string[]): void {
  path.push(el.name);
  for (let i = 0; i < el.attrs.length; i++) {
    const name = el.attrs[i][0];
    if (!node.attrs.has(name) && !name.startsWith('xmlns')) notModelled(`attribute '${name}' of <${el.name}> (at ${path.join('/')})`);
  }
  for (let i = 0; i < el.children.length; i++) {
    const c = el.children[i];
    const next = node.children.get(c.name);
    if (!next) notModelled(`element <${c.name}> (at ${path.join('/')}/${c.name})`);
    checkVocabulary(c, next!, path);
  }
  path.pop();
}

/** Refuse a <domain> tree with anything outside the vocabulary. */
export function checkDomainVocabulary(root: XmlElement): void {
  checkVocabulary(root, VOCAB_TREE, []);
}
