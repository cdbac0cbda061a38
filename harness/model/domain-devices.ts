// The devices that exist because of shared guest memory (vhost-user network interfaces, disks,
// filesystems and GPUs) and their plain neighbours in libvirt's test data (user-mode and socket
// interfaces, virtio video, virtio-crypto): only what the model reads, libvirt's defaults explicit.
import type { PciAddress } from './domain.js';

/** <reconnect enabled timeout> of a vhost-user socket. */
export interface Reconnect {
  enabled: boolean;
  /** Seconds; only with enabled='yes'. */
  timeout?: number;
}

/** A UNIX socket QEMU is the client (or with listen, the server) of: virDomainChrSourceDef of type unix. */
export interface UnixSocket {
  path: string;
  listen: boolean;
  reconnect?: Reconnect;
}

/** virDomainVirtioOptions: the <driver> switches every virtio device takes (on/off as written). */
export interface VirtioOptions {
  iommu?: boolean;
  ats?: boolean;
  packed?: boolean;
  pagePerVq?: boolean;
}

export type NetModel = 'rtl8139' | 'e1000' | 'virtio';

/** <interface type='user|server|vhostuser'>. */
export interface NetInterface {
  type: 'user' | 'server' | 'vhostuser';
  /** As virMacAddrFormat prints it (lower case, two digits per byte). */
  mac: string;
  model: NetModel;
  /** type='server': <source address port>. */
  socket?: { address?: string; port: number };
  /** type='vhostuser': <source type='unix' path mode> and its <reconnect>. */
  vhostuser?: UnixSocket;
  /** <driver queues> of a virtio model (libvirt keeps 1 as 0: one queue is no multiqueue). */
  queues?: number;
  /** <backend tap>: refused for these types when the command line is built. */
  backendTap?: string;
  address?: PciAddress;
  bootOrder?: number;
}

/** <filesystem type='mount'> with <driver type='virtiofs'>. */
export interface Filesystem {
  source: string;
  target: string;
  readonly: boolean;
  /** accessmode='passthrough' as written (virtiofs needs it unless a socket is given). */
  accessPassthrough?: boolean;
  /** <driver queue>: the vhost-user-fs queue size (an unsigned long long). */
  queue?: bigint;
  /** <source socket>: an externally started virtiofsd (libvirt starts none, checks no binary). */
  socket?: string;
  /** <binary> and its children, kept as written (libvirt starts virtiofsd with them). */
  binary?: {
    path?: string; xattr?: boolean; cache?: string; sandbox?: string; threadPool?: number;
    lock?: { posix?: boolean; flock?: boolean }; openfiles?: bigint;
  };
  idmap?: import('./idmap.js').IdMap;
  address?: PciAddress;
  bootOrder?: number;
}

/** <video> with <model type='virtio'> (on the vhost-user backend or QEMU's own). */
export interface Video {
  vhostuser: boolean;
  /** heads (1 when absent; 0 leaves max_outputs out). */
  heads: number;
  /** primary='yes' as written, or marked so at post-parse (the first video). */
  primary: boolean;
  blob?: boolean;
  /** The QEMU device post-parse recorded for it (behaviour videoDeviceRecorded), formatted as device=. */
  device?: 'virtio-vga' | 'virtio-gpu' | 'vhost-user-vga' | 'vhost-user-gpu';
  address?: PciAddress;
}

/** <crypto model='virtio' type='qemu'> with <backend model='builtin' queues>. */
export interface Crypto {
  queues?: number;
  address?: PciAddress;
}
