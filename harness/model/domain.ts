// The domain definition as the model understands it: only the modelled vocabulary, with
// libvirt's defaults made explicit so formatting and argv building need no guessing.
import type { Bitmap } from './bitmap.js';

export type VirtType = 'qemu' | 'kvm';
export type NumaMode = 'strict' | 'preferred' | 'interleave' | 'restrictive';
export type Placement = 'static' | 'auto';
export type MemAccess = 'shared' | 'private';

export interface MemoryTune {
  mode: NumaMode;
  placement: Placement;
  /** Only with placement static (libvirt drops a nodeset given with placement auto). */
  nodeset?: Bitmap;
}

export interface MemnodeTune {
  mode: NumaMode;
  nodeset: Bitmap;
}

export interface Numatune {
  memory?: MemoryTune;
  /** Indexed by guest cell id. */
  memnodes: Map<number, MemnodeTune>;
}

export interface NumaCache {
  level: number;
  associativity: 'none' | 'direct' | 'full';
  policy: 'none' | 'writeback' | 'writethrough';
  sizeKiB: number;
  lineBytes: number;
}

export interface NumaCell {
  id: number;
  cpus?: Bitmap;
  memoryKiB: number;
  memAccess?: MemAccess;
  discard?: boolean;
  /** Full row of distances (index = sibling id, 0 = unset) when the cell had <distances>. */
  distances?: number[];
  caches: NumaCache[];
}

export interface Interconnect {
  kind: 'latency' | 'bandwidth';
  initiator: number;
  target: number;
  cache: number;
  type: 'access' | 'read' | 'write';
  /** latency: as given; bandwidth: KiB. */
  value: number;
}

export interface CpuDef {
  mode?: string;
  match?: string;
  check?: string;
  model?: { name: string; fallback?: string };
  /** clusters: only under releases that know it (Behaviour.topologyClusters). */
  topology?: { sockets: number; dies: number; clusters?: number; cores: number; threads: number };
  cells: NumaCell[];
  interconnects: Interconnect[];
}

export interface PciAddress {
  type: 'pci';
  domain: number;
  bus: number;
  slot: number;
  function: number;
  /** multifunction='on': set by address assignment on function 0 of a slot with several functions. */
  multifunction?: boolean;
}
export interface DriveAddress {
  type: 'drive';
  controller: number;
  bus: number;
  target: number;
  unit: number;
}
export type Address = PciAddress | DriveAddress;

export interface Disk {
  /** <disk type>: a block device, an image file, or a vhost-user socket (vhost-user-blk). */
  type: 'block' | 'file' | 'vhostuser';
  /** <disk device>: absent means 'disk'. A cdrom is always read-only (virDomainDiskDefPostParse). */
  device?: 'disk' | 'cdrom';
  /** <source dev> or <source file>; a vhost-user disk's socket is in `vhostuser`. */
  source: string;
  vhostuser?: import('./domain-devices.js').UnixSocket;
  target: string;
  /** <target> without dev: no drive address is assigned, validation refuses the disk. */
  targetMissing?: true;
  bus: 'ide' | 'virtio' | 'sata';
  /** Whether <target bus> was written: disks are grouped by the bus as parsed, before defaults. */
  busWritten?: boolean;
  driver?: { name: string; type: string; cache?: import('./disks.js').CacheMode; virtio?: import('./domain-devices.js').VirtioOptions };
  address?: Address;
  /** <boot order>: per-device boot order (os/boot then stays empty). */
  bootOrder?: number;
  /** snapshot='no': set at post-parse for vhost-user disks. */
  snapshot?: 'no';
}

/** PCI controller models (virDomainControllerModelPCI, in libvirt's enum order). */
export const PCI_CONTROLLER_MODELS = [
  'pci-root', 'pcie-root', 'pci-bridge', 'dmi-to-pci-bridge', 'pcie-to-pci-bridge', 'pcie-root-port',
  'pcie-switch-upstream-port', 'pcie-switch-downstream-port', 'pci-expander-bus', 'pcie-expander-bus',
] as const;
export type PciControllerModel = (typeof PCI_CONTROLLER_MODELS)[number];

/** virDomainPCIControllerOpts as far as the model reads it; undefined is libvirt's -1 (unset). */
export interface PciControllerOpts {
  chassisNr?: number;
  chassis?: number;
  port?: number;
  busNr?: number;
  /** <target><node>: the guest NUMA cell of an expander bus. */
  numaNode?: number;
}

export interface Controller {
  type: 'usb' | 'pci' | 'ide' | 'sata';
  index: number;
  model?: string;
  address?: PciAddress;
  /** PCI controllers: <model name='…'/>, the QEMU device (written, or set after address assignment). */
  modelName?: string;
  /** PCI controllers: <target> and its <node>. */
  opts?: PciControllerOpts;
}

export interface Input {
  type: 'mouse' | 'keyboard';
  bus: 'ps2';
}

/** virDomainBoot, in libvirt's enum order. */
export type BootDev = 'fd' | 'cdrom' | 'hd' | 'network';

/** <memoryBacking><hugepages><page size nodeset/>: libvirt keeps `<hugepages/>` without pages as
 *  one page of size 0 (the default huge page size, resolved only when a backend is built). */
export interface HugePage {
  sizeKiB: number;
  nodeset?: Bitmap;
}

/** <memoryBacking> (virDomainMemtune's backing fields). */
export interface MemoryBacking {
  hugepages?: HugePage[];
  nosharepages: boolean;
  locked: boolean;
  source?: 'file' | 'anonymous' | 'memfd';
  access?: MemAccess;
  allocation?: 'immediate' | 'ondemand';
  /** <allocation threads>: 0 when absent. */
  allocationThreads: number;
  discard: boolean;
}

/** <memtune> in KiB (virDomainMemtune's limits): a limit is absent when unset or at
 *  libvirt's "unlimited" (VIR_DOMAIN_MEMORY_PARAM_UNLIMITED KiB, 2^53 - 1) or above. */
export interface Memtune {
  hardLimitKiB?: number;
  softLimitKiB?: number;
  /** 0 is absent (libvirt prints it only when nonzero; the QEMU driver refuses it). */
  minGuaranteeKiB: number;
  swapHardLimitKiB?: number;
}

export type MemoryModel = 'dimm' | 'nvdimm' | 'virtio-pmem' | 'virtio-mem' | 'sgx-epc';

/** A <memory model=…> device (virDomainMemoryDef), sizes in KiB. */
export interface MemoryDevice {
  model: MemoryModel;
  access?: MemAccess;
  discard?: boolean;
  /** <source>: <pagesize> (dimm, virtio-mem), <nodemask> (dimm, virtio-mem, sgx-epc), <path>
   *  (nvdimm, virtio-pmem), <alignsize> and <pmem/> (nvdimm). */
  source: { pagesizeKiB?: number; nodemask?: Bitmap; path?: string; alignsizeKiB?: number; pmem?: boolean };
  /** <target>: size, node (-1: none), nvdimm label size and readonly, virtio-mem block,
   *  requested and current size, virtio address. */
  target: {
    sizeKiB: number; node: number; labelKiB?: number; readonly?: boolean;
    blockKiB?: number; requestedKiB?: number; currentKiB?: number; addressKiB?: number;
    /** virtio-mem <target dynamicMemslots>: yes/no as written. */
    dynamicMemslots?: boolean;
  };
  /** nvdimm <uuid> (ppc64 only in libvirt's tests; kept as written). */
  uuid?: string;
  /** <address type='dimm' slot base> or a PCI address (virtio-mem, virtio-pmem). */
  address?: { type: 'dimm'; slot: number; base?: bigint } | PciAddress;
  /** Assigned at post-parse: "dimm0", "nvdimm1", "virtiomem2", "virtiopmem3", "epc0". */
  alias?: string;
}

export interface Domain {
  type: VirtType;
  name: string;
  /** '' when libvirt generates a random one (no <uuid>, or an empty one): no output then. */
  uuid: string;
  memoryKiB: number;
  currentMemoryKiB: number;
  /** <memory dumpCore>: as written; absent is qemu.conf's dump_guest_core (off by default). */
  dumpCore?: boolean;
  /** <maxMemory slots>: both or neither after post-parse. */
  maxMemory?: { kib: number; slots: number };
  memoryBacking?: MemoryBacking;
  memtune?: Memtune;
  vcpu: { max: number; current: number; placement: Placement; cpuset?: Bitmap };
  iothreads: number;
  cputune: {
    vcpupin: Map<number, Bitmap>;
    emulatorpin?: Bitmap;
    iothreadpin: Map<number, Bitmap>;
  };
  numatune?: Numatune;
  idmap?: import('./idmap.js').IdMap;
  /** boot: the <boot dev> list as read (at most four, repeats kept); bootmenu: only when enable is given. */
  /** machineImplicit: no machine= in the input (post-parse takes the virt type's preferred machine). */
  os: { arch: string; machine: string; machineImplicit?: boolean; boot: BootDev[]; bootmenu?: { enable: 'yes' | 'no'; timeout?: number } };
  features: { acpi: boolean; apic: boolean; pae: boolean };
  cpu?: CpuDef;
  clock?: { offset: string };
  onPoweroff?: string;
  onReboot?: string;
  onCrash?: string;
  devices: {
    emulator?: string;
    disks: Disk[];
    controllers: Controller[];
    inputs: Input[];
    audios: { id: number; type: 'none' }[];
    memballoon?: { model: 'virtio' | 'none'; address?: PciAddress };
    /** Sources of disks without <target dev>: an error libvirt raises only at validation. */
    missingTargets: string[];
    /** Only q35's built-in iTCO (libvirt >= 9.1); action as written or 'reset'. */
    watchdogs: { model: 'itco'; action: string }[];
    /** <memory model=…> devices, in document order. */
    memories: MemoryDevice[];
    nets: import('./domain-devices.js').NetInterface[];
    filesystems: import('./domain-devices.js').Filesystem[];
    videos: import('./domain-devices.js').Video[];
    cryptos: import('./domain-devices.js').Crypto[];
  };
}

export const numaCells = (d: Domain): NumaCell[] => d.cpu?.cells ?? [];
