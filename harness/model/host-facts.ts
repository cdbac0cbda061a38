// Facts probed from the running libvirt on this machine (scripts/probe-host.mjs), saved as data in
// .cache/profiles/host.json. The `host` profile is built from them, so the model can predict
// what the real libvirt prints here. Every field is asked of libvirt itself; none is assumed.
export interface HostNumaNode {
  id: number;
  memoryKiB: number;
  cpus: number[];
}

/** What a paused guest showed (the runtime facts the model's prediction depends on). */
export interface HostRuntimeFacts {
  /** A one-node preferred <memory> gives QEMU the task policy "prefer (many)" (libvirt built with
   *  numa_set_preferred_many, a kernel with MPOL_PREFERRED_MANY), not "prefer". */
  preferredMany: boolean;
  cgroup: 'v1' | 'v2';
  /** The guest's cgroups include cpuset: strict/restrictive rely on cpuset.mems. */
  cpusetController: boolean;
}

/** placement='auto' at start: numad's advice (live, not predictable), or libvirt's error. */
export type NumadFact = { advice: 'live' } | { error: string };

/** The version of the probe whose facts the loaders accept (scripts/probe-host.mjs PROBE_VERSION). */
export const PROBE_VERSION = 4;

export interface HostFacts {
  probeVersion?: number;
  libvirtVersion: string;          // e.g. "9.0.0"
  qemuVersion: string;             // e.g. "7.2.0" (virsh version's hypervisor line, as X.Y.Z)
  qemuBinary: string;              // "/usr/bin/qemu-system-x86_64"
  daemonPath: string;              // the PATH= value libvirtd passes to QEMU
  stateDirTemplate: string;        // "/var/lib/libvirt/qemu/domain--1-{name}"
  monitorTemplate: string;         // "path=/var/lib/libvirt/qemu/domain--1-{name}/monitor.sock"
  machineAliases: Record<string, string>; // "pc" -> "pc-i440fx-7.2", "q35" -> "pc-q35-7.2"
  numaNodes: HostNumaNode[];       // from `virsh capabilities` <topology>
  hostCpu?: { vendor: string; model: string }; // <host><cpu> of `virsh capabilities`
  /** The x86_64 guest's <domain type=…> entries of `virsh capabilities` (virQEMUCapsIsVirtTypeSupported). */
  virtTypes?: string[];
  /** virtTypes includes kvm (kept for readers of older facts). */
  kvmUsable: boolean;
  /** Default CPU model per virt type and emulator arch, as domxml-to-native renders a domain
   *  without <cpu> (qemuDomainDefSetDefaultCPU); a virt type the host lacks has none. */
  defaultCpuModels?: Record<string, Record<string, string | null>>;
  /** qemu.conf's memory_backing_dir, from the mem-path of a memAccess cell the daemon renders. */
  memoryBackingDir?: string;
  /** Block devices that are CD-ROM drives (/dev/srN); absent: none were probed. */
  hostCdroms?: string[];
  emulators?: Record<string, string>; // <guest><arch name=…><emulator> from virsh capabilities
  /** Custom CPU models on a KVM guest with check='partial': the -cpu argument libvirt builds, or
   *  its error (the model is compared with the host CPU), probed per model. */
  kvmCpuModels?: Record<string, { cpu: string } | { error: string }>;
  numad?: NumadFact;
  runtime?: HostRuntimeFacts;
  /** The hugetlbfs mounts the daemon knows (cfg->hugetlbfs, read at its start), asked of libvirt
   *  per page size the kernel offers; absent: not probed, empty: none. */
  hugetlbfs?: { mount: string; sizeKiB: number; default: boolean }[];
  /** The daemon cuts a long non-ASCII domain name to 20 characters for its per-domain paths (a
   *  UTF-8 locale); absent or false: to 20 bytes (virDomainDefGetShortName under LC_ALL=C, how
   *  scripts/daemons.sh and the emulated hosts start libvirtd). */
  shortNameChars?: boolean;
  /** The daemon finds no virtiofsd for a virtiofs filesystem without <binary> or socket ("Unable
   *  to find a satisfying virtiofsd"); absent or false: it finds one. */
  virtiofsdMissing?: boolean;
}
