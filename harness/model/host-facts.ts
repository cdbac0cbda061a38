// Facts probed from the running libvirt on this machine (scripts/probe-host), saved as data in
// .cache/profiles/host.json. The `host` profile is built from them, so the model can predict
// what the real libvirt prints here.
export interface HostNumaNode {
  id: number;
  memoryKiB: number;
  cpus: number[];
}

export interface HostFacts {
  libvirtVersion: string;          // e.g. "9.0.0"
  qemuVersion: string;             // e.g. "7.2.0" (virsh version's hypervisor line, as X.Y.Z)
  qemuBinary: string;              // "/usr/bin/qemu-system-x86_64"
  daemonPath: string;              // the PATH= value libvirtd passes to QEMU
  stateDirTemplate: string;        // "/var/lib/libvirt/qemu/domain--1-{name}"
  monitorTemplate: string;         // "path=/var/lib/libvirt/qemu/domain--1-{name}/monitor.sock"
  machineAliases: Record<string, string>; // "pc" -> "pc-i440fx-7.2", "q35" -> "pc-q35-7.2"
  numaNodes: HostNumaNode[];       // from `virsh capabilities` <topology>
  hostCpu?: { vendor: string; model: string }; // <host><cpu> of `virsh capabilities`
  kvmUsable: boolean;              // domcapabilities for virttype kvm answered
  /** Block devices that are CD-ROM drives (/dev/srN); absent: none were probed. */
  hostCdroms?: string[];
  emulators?: Record<string, string>; // <guest><arch name=…><emulator> from virsh capabilities
  /** Custom CPU models on a KVM guest with check='partial': the -cpu argument libvirt builds, or
   *  its error (the model is compared with the host CPU), probed per model. */
  kvmCpuModels?: Record<string, { cpu: string } | { error: string }>;
  /** The hugetlbfs mounts the daemon knows (cfg->hugetlbfs, read at its start), asked of libvirt
   *  per page size the kernel offers; absent: not probed, empty: none. */
  hugetlbfs?: { mount: string; sizeKiB: number; default: boolean }[];
}
