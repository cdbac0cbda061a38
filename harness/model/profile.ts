// A capability profile: everything about "which QEMU, which host" that changes libvirt's
// output. Profiles are data (harness/profiles/*.json, and the probed host); this file only
// says what the data means.
import type { Bitmap } from './bitmap.js';
import type { VirtType } from './domain.js';
import type { HostRuntimeFacts, NumadFact } from './host-facts.js';

/** Capabilities that change the output of the modelled vocabulary. */
export interface ProfileFlags {
  /** -object / -device take JSON (QEMU_CAPS_OBJECT_JSON / DEVICE_JSON). */
  objectJson: boolean;
  deviceJson: boolean;
  /** Non-NUMA guests get `-machine …,memory-backend=pc.ram` (QEMU_CAPS_MACHINE_MEMORY_BACKEND). */
  machineMemoryBackend: boolean;
  /** `-numa node,…,mem=` is allowed for the machine type (else every cell needs a memdev). */
  numaMemSupported: boolean;
  /** `-sandbox on,…` (QEMU_CAPS_SECCOMP_SANDBOX). */
  sandbox: boolean;
  /** `dies=` in -smp when the topology is explicit (QEMU_CAPS_SMP_DIES). */
  smpDies: boolean;
  /** HMAT (QEMU_CAPS_NUMA_HMAT). */
  numaHmat: boolean;
  /** iothread objects (QEMU_CAPS_OBJECT_IOTHREAD). */
  iothread: boolean;
  /** QEMU >= 2.7 (QEMU_CAPS_QUERY_HOTPLUGGABLE_CPUS): topology must match the vCPU count. */
  queryHotpluggableCpus: boolean;
  /** The KVM accelerator (QEMU_CAPS_KVM). */
  kvm: boolean;
  /** Known USB/PCI device models: the default USB controller becomes piix3-uhci with -device. */
  piix3Uhci: boolean;
  /** q35's default USB controller is qemu-xhci (QEMU_CAPS_DEVICE_QEMU_XHCI). */
  qemuXhci: boolean;
  /** Auto-added root ports are the generic pcie-root-port, not ioh3420 (QEMU_CAPS_DEVICE_PCIE_ROOT_PORT). */
  pcieRootPort: boolean;
  /** Legacy PCI devices on q35 go behind pcie-root-port + pcie-pci-bridge (QEMU_CAPS_DEVICE_PCIE_PCI_BRIDGE). */
  pciePciBridge: boolean;
  /** virtio devices are PCI Express devices on q35 (QEMU_CAPS_VIRTIO_PCI_TRANSITIONAL). */
  virtioPciTransitional: boolean;
  /** `clusters=` in -smp (QEMU_CAPS_SMP_CLUSTERS; libvirt >= 10 knows it). */
  smpClusters: boolean;
  /** The machine type reports ACPI in query-machines (libvirt >= 10 reads it): `-machine …,acpi=on|off`
   *  instead of `-no-acpi` (virQEMUCapsMachineSupportsACPI). */
  machineAcpi: boolean;
  /** QEMU_CAPS_BLOCKJOB_BACKING_MASK_PROTOCOL (libvirt >= 10 reads it): a raw disk gets no format
   *  node over its storage node (qemuBlockStorageSourceNeedsFormatLayer). */
  backingMaskProtocol: boolean;
  /** QEMU_CAPS_SET_ACTION: lifecycle actions are set at run time, always `-no-shutdown`. */
  setAction: boolean;
  /** Memory devices: pc-dimm, nvdimm (+ unarmed), virtio-pmem-pci, virtio-mem-pci (+ its prealloc). */
  pcDimm: boolean;
  nvdimm: boolean;
  nvdimmUnarmed: boolean;
  virtioPmem: boolean;
  virtioMem: boolean;
  virtioMemPrealloc: boolean;
  /** virtio-mem-pci.dynamic-memslots (QEMU_CAPS_DEVICE_VIRTIO_MEM_PCI_DYNAMIC_MEMSLOTS). */
  virtioMemDynamicMemslots: boolean;
  /** memory-backend-memfd and its hugetlb property (QEMU_CAPS_OBJECT_MEMORY_MEMFD[_HUGETLB]). */
  memfd: boolean;
  memfdHugetlb: boolean;
  /** memory-backend-file.pmem (QEMU_CAPS_OBJECT_MEMORY_FILE_PMEM). */
  memoryFilePmem: boolean;
  /** memory-backend-file.x-use-canonical-path-for-ramblock-id. */
  canonicalPathRamblockId: boolean;
  /** memory-backend-file.reserve (QEMU_CAPS_MEMORY_BACKEND_RESERVE). */
  memoryBackendReserve: boolean;
  /** memory-backend-file.prealloc-threads (QEMU_CAPS_MEMORY_BACKEND_PREALLOC_THREADS). */
  preallocThreads: boolean;
  /** thread-context objects (QEMU_CAPS_THREAD_CONTEXT). */
  threadContext: boolean;
  /** PCI controller devices: pci-bridge, i82801b11-bridge (dmi-to-pci-bridge), ioh3420, x3130-upstream,
   *  xio3130-downstream, pxb, pxb-pcie (QEMU_CAPS_DEVICE_*). */
  pciBridge: boolean;
  dmiToPciBridge: boolean;
  ioh3420: boolean;
  x3130Upstream: boolean;
  xio3130Downstream: boolean;
  pxb: boolean;
  pxbPcie: boolean;
  /** -netdev takes JSON (QEMU_CAPS_NETDEV_JSON). */
  netdevJson: boolean;
  /** A socket chardev's reconnect is given in milliseconds (QEMU_CAPS_CHARDEV_RECONNECT_MILISECONDS). */
  chardevReconnectMs: boolean;
  /** vhost-user devices: vhost-user-blk, vhost-user-fs (+ its bootindex), vhost-user-gpu, vhost-user-vga. */
  vhostUserBlk: boolean;
  vhostUserFs: boolean;
  vhostUserFsBootindex: boolean;
  vhostUserGpu: boolean;
  vhostUserVga: boolean;
  /** virtio-gpu, virtio-vga and virtio-gpu's blob resources (QEMU_CAPS_VIRTIO_GPU_BLOB). */
  virtioGpu: boolean;
  virtioVga: boolean;
  virtioGpuBlob: boolean;
  /** virtio-crypto (QEMU_CAPS_DEVICE_VIRTIO_CRYPTO). */
  virtioCrypto: boolean;
  /** SGX enclave page cache memory (QEMU_CAPS_SGX_EPC); its sections are Profile.sgxSections. */
  sgxEpc: boolean;
  /** The QMP monitor is an object, `-object monitor-qmp,id=monitor,chardev=charmonitor`, instead of
   *  `-mon chardev=charmonitor,id=monitor,mode=control` (qemuBuildMonitorCommandLine). The capability
   *  is 'object-monitor-qmp' in the capability cache of libvirt 12.8 with QEMU 11.1; libvirt 11.3.0
   *  and 9.0.0 do not know it, so none of their profiles has it. */
  objectMonitorQmp: boolean;
}

/** What libvirt's own code does differently from one release to another, as named switches
 *  (data per version in harness/profiles/libvirt-versions.json; the defaults are libvirt 9.0.0). */
export interface Behaviour {
  /** `-m 24105` (MiB) or `-m size=24683520k` (qemuBuildMemCommandLine). */
  memorySizeArg: 'mib' | 'size-k';
  /** <topology> carries clusters='…' (virCPUDefFormat). */
  topologyClusters: boolean;
  /** A memnode with mode='restrictive' needs <memory mode='restrictive'> too (the reverse of
   *  9.0.0's one-way check, virDomainNumatuneParseXML). */
  restrictiveMemnodeNeedsRestrictiveMemory: boolean;
  /** NUMA <cache> level/associativity/policy are plain required props (virXMLPropUInt/Enum and
   *  their generic wording) and are always formatted, 'none' included (virNumaCacheFormat). */
  numaCachePlainProps: boolean;
  /** q35 guests get their built-in iTCO watchdog as a device, <watchdog model='itco' action='reset'/>
   *  (qemuDomainDefAddDefaultDevices), with `-global ICH9-LPC.noreboot=off -watchdog-action …`. */
  q35ItcoWatchdog: boolean;
  /** virDomainDefAddController: implicit and auto-added controllers join others of their type in
   *  index order (virDomainControllerInsert) instead of being appended. */
  controllerInsertSorted: boolean;
  /** An XML parse error of a string (virsh's input) reads "at line N: …" instead of
   *  "(domain_definition):N: …" (virXMLParse no longer names string input). */
  xmlErrorsAtLine: boolean;
  /** With <memory mode='strict'>, the emulator, vCPU and iothread cgroups get the union of the
   *  <memory> and every <memnode> nodeset (qemuDomainNumatuneMaybeFormatNodesetUnion in
   *  qemuProcessSetupPid), not the <memory> nodeset alone. */
  strictCpusetMemsUnion: boolean;
  /** A preallocating backend's thread-context takes the nodemask itself, restrictive included
   *  (qemuBuildThreadContextProps), not the backend's host-nodes, which restrictive leaves out. */
  threadContextFromNodemask: boolean;
  /** Memory slots are needed by dimm/nvdimm only: <maxMemory> may go without slots (virtio-mem),
   *  `-m` then says no slots=, and the slot check counts dimms (qemuDomainDefValidateMemoryHotplug). */
  memorySlotsForDimmsOnly: boolean;
  /** virtio-mem/virtio-pmem read <target><address base> (memaddr); older releases ignore it. */
  memoryTargetAddress: boolean;
  /** Memory devices' guest address ranges may not overlap (virDomainMemoryDefCheckConflict, per
   *  device); 9.0.0 only compares dimm slots and equal bases (qemuCheckMemoryDimmConflict). */
  memoryAddressRanges: boolean;
  /** Memory hotplug without NUMA cells gets one cell when the ABI may change (qemuDomainDefNumaAutoAdd);
   *  9.0.0 refuses it ("At least one numa node has to be configured …"). */
  numaAutoAddForHotplug: boolean;
  /** virtio-mem reads <target dynamicMemslots> (QEMU's dynamic-memslots); older releases ignore it. */
  virtioMemDynamicMemslots: boolean;
  /** virtiofs may be read-only (9.0.0: "virtiofs does not yet support read-only mode"). */
  virtiofsReadonly: boolean;
  /** virtiofs reads <idmap> and <binary><openfiles> (9.0.0 ignores both). */
  virtiofsIdmap: boolean;
  /** Two virtiofs filesystems may not share a target (virDomainFSDefValidate; 9.0.0 does not check). */
  filesystemTargetsUnique: boolean;
  /** <interface type='vhostuser'> requires shared memory, as vhost-user disks and virtiofs do. */
  netVhostUserNeedsSharedMemory: boolean;
  /** A vhost-user interface is checked by the QEMU driver's validation (reconnect, shared memory,
   *  then the model, in 11.x's words); 9.0.0 checks it in the generic one (the model first, as an
   *  internal error, then reconnect, each worded its own way). */
  netVhostUserChecksInQemu: boolean;
  /** <video><model blob> is read (virtio-gpu blob resources); 9.0.0 ignores the attribute. */
  videoBlob: boolean;
  /** A video's first <model> is read as one node with virXMLProp* (generic words; an invalid
   *  primary is reported and then ignored). 9.0.0 reads string(./model/@ATTR) across every
   *  <model>, the <driver> before the type, with its own words ("unknown video model '…'",
   *  "cannot parse video heads '…'"). */
  videoModelOneNode: boolean;
  /** <watchdog model/action> are read with virXMLPropEnum (generic words); 9.0.0 has its own
   *  ("watchdog must contain model name", "unknown watchdog model '…'", "unknown watchdog action '…'"). */
  watchdogPropEnum: boolean;
  /** A guest without NUMA cells needs only shared access for vhost-user; 9.0.0 also wants the
   *  machine's RAM id (a memory backend object that can be shared). */
  sharedMemoryWithoutRamId: boolean;
  /** <crypto> devices exist (9.0.0 does not read the element). */
  cryptoDevices: boolean;
  /** -blockdev: a storage node's cache object follows auto-read-only and discard (9.0.0: before them). */
  blockdevCacheAfterDiscard: boolean;
  /** A memory device's <source><nodemask> is a strict policy whatever the domain's numatune mode
   *  (libvirt 12.0.0's NEWS): its backend gets host-nodes with policy 'bind', restrictive included
   *  (qemuBuildMemoryBackendProps); before, the mode of <numatune><memory> applied and restrictive
   *  dropped the nodemask. */
  memoryDeviceNodemaskStrict: boolean;
  /** A NUMA cell of memory='0' is a memoryless node: `-numa node,nodeid=N,cpus=…` with neither a
   *  memory backend object nor mem= (qemuBuildNumaCommandLine); before, it got a backend of size 0. */
  zeroCellWithoutMemory: boolean;
  /** A virtio video's XML records the QEMU device chosen for it, `<model type='virtio' …
   *  device='virtio-vga|virtio-gpu|vhost-user-vga|vhost-user-gpu'/>`, after blob= (seen on the
   *  sid host's 12.8.0: the primary VGA-compatible where QEMU has that device, the others plain). */
  videoDeviceRecorded: boolean;
  /** A virtiofs filesystem's <binary path> is run with --print-capabilities when the command line
   *  is prepared (qemuVirtioFSPrepareDomain); 9.0.0 takes a given binary as it is. */
  virtiofsBinaryRun: boolean;
}

export const BEHAVIOUR_9_0_0: Behaviour = {
  memorySizeArg: 'mib', topologyClusters: false, restrictiveMemnodeNeedsRestrictiveMemory: false,
  numaCachePlainProps: false, q35ItcoWatchdog: false, controllerInsertSorted: false, xmlErrorsAtLine: false,
  strictCpusetMemsUnion: false, threadContextFromNodemask: false, memorySlotsForDimmsOnly: false,
  memoryTargetAddress: false, memoryAddressRanges: false, numaAutoAddForHotplug: false, virtioMemDynamicMemslots: false,
  virtiofsReadonly: false, virtiofsIdmap: false, filesystemTargetsUnique: false, netVhostUserNeedsSharedMemory: false,
  netVhostUserChecksInQemu: false, videoBlob: false, videoModelOneNode: false, watchdogPropEnum: false,
  sharedMemoryWithoutRamId: false, cryptoDevices: false, blockdevCacheAfterDiscard: false,
  memoryDeviceNodemaskStrict: false, zeroCellWithoutMemory: false, videoDeviceRecorded: false,
  virtiofsBinaryRun: false,
};

export interface Profile {
  name: string;
  /** The libvirt release whose behaviour the profile reproduces ("9.0.0", "11.3.0"). */
  libvirtVersion: string;
  behaviour: Behaviour;
  flags: ProfileFlags;
  /** Machine-type aliases resolved at define time ("pc" -> "pc-i440fx-7.2"); empty: kept as given. */
  machineAliases: Record<string, string>;
  /** The machine types (names and aliases) each emulator binary reports, by the binary's arch
   *  ("x86_64" for qemu-system-x86_64, "i686" for qemu-system-i386), as the daemon's capability
   *  cache lists them; a machine outside its binary's list is refused at validation
   *  (virQEMUCapsIsMachineSupported). Absent: not known, nothing refused (libvirt's test profiles,
   *  whose caps list every machine their inputs name). */
  machineTypes?: Record<string, string[]>;
  /** Machine types whose query-machines says numaMemSupported (when flags.numaMemSupported is off). */
  numaMemMachines?: string[];
  /** Default guest CPU model per emulator arch added at post-parse (QEMU >= 4.2 reports one per
   *  machine type), or none. */
  defaultCpuModel: Record<string, string>;
  /** The same for a KVM guest, where it differs or is known apart (virQEMUCapsGetMachineDefaultCPU
   *  reads the KVM accelerator's machine list): the host's probe gives one per virt type.
   *  Absent: defaultCpuModel serves both. */
  kvmDefaultCpuModel?: Record<string, string>;
  /** The virt types libvirt's capabilities give the emulator (virQEMUCapsIsVirtTypeSupported),
   *  probed on a real host. Another type is refused at validation with libvirt's words, and gets
   *  no machine alias and no default CPU at post-parse (its accelerator lists no machine types).
   *  Absent (libvirt's test profiles): a type whose capability flag is off is not modelled. */
  virtTypes?: VirtType[];
  /** Environment assignments before the binary, in order; {name} is the domain name. */
  env: [string, string][];
  /** Per-domain state directory ("/tmp/lib/domain--1-{name}"). */
  stateDir: string;
  /** Monitor chardev socket argument ("fd=1729" or "path=…/monitor.sock"). */
  monitor: string;
  /** Host NUMA nodes that exist (memory nodes). */
  hostNodes: number[];
  /** The host CPUs of each NUMA node (virNumaGetNodeOfCPU reads sysfs): 11.x narrows a
   *  thread-context's nodes to those of the emulator's CPUs. Absent: not known (such a thread
   *  context is not modelled). */
  hostNodeCpus?: Record<string, number[]>;
  /** Wording when a nodeset names a host node that does not exist; {bit} is the node. */
  unavailableNode: { code: 'INTERNAL_ERROR' | 'CONFIG_UNSUPPORTED'; detail: string };
  /** cfg->memoryBackingDir: where file-backed guest RAM lives (memAccess), when known. */
  memoryBackingDir?: string;
  /** The daemon's locale is UTF-8: a domain's short name is its first 20 characters, not bytes
   *  (host facts: shortNameChars). */
  shortNameChars?: boolean;
  /** Whether the host's daemon finds a virtiofsd for a virtiofs filesystem given neither
   *  <binary> nor a socket (host facts: virtiofsdMissing). Absent: libvirt's test suite, whose
   *  vhost-user descriptors are its own and whose <binary> paths are never run. */
  virtiofsd?: 'found' | 'missing';
  /** Built from a probed host's facts (the machine, an emulated host, committed golden hosts),
   *  not libvirt's test suite, whose fake host CPUs and helpers answer otherwise. */
  liveHost?: boolean;
  /** The models of the release's x86 CPU map (src/cpu_map): a custom CPU must name one of them.
   *  Absent: not known (no model is refused for its name). */
  cpuMapModels?: ReadonlySet<string>;
  /** KVM + custom CPU (check='partial'): libvirt's verdict per model against the host CPU. */
  kvmCpuModels?: Record<string, { cpu: string } | { error: string }>;
  /** The capabilities' emulator per guest arch, used when <emulator> is absent. */
  defaultEmulator?: Record<string, string>;
  /** Parsing with VIR_DOMAIN_DEF_PARSE_ABI_UPDATE (virsh define does, libvirt's xml2xml tests do
   *  not): only then does <memory> become the sum of the NUMA cells. */
  abiUpdate?: boolean;
  /** Started for an incoming migration from this URI (-incoming): libvirt then keeps the memory
   *  sizes as they are (no qemuDomainAlignMemorySizes, which only a new start does). */
  incoming?: string;
  /** Block devices the host's libvirt finds to be CD-ROM drives (virFileIsCDROM, an ioctl): a
   *  cdrom disk on one of them is `host_cdrom`, else `host_device`. Absent: libvirt's test suite,
   *  where only /dev/cdrom is one (qemuxml2argvtest). */
  hostCdroms?: string[];
  /** numad's advice for placement='auto', or null when none is given (domxml-to-native). */
  autoNodeset: Bitmap | null;
  /** What starting a guest with placement='auto' gives on this host (probed): libvirt's error, or
   *  numad's live advice. Absent: not known (runtime predictions of such guests are not made). */
  numad?: NumadFact;
  /** What a paused guest showed on this host (probed); absent: not known. */
  runtime?: HostRuntimeFacts;
  /** cfg->hugetlbfs: the hugetlbfs mounts libvirt found at daemon start (qemu.conf's
   *  hugetlbfs_mount, else /proc/mounts), each with its page size and whether it is the kernel's
   *  default size. Absent or empty: no huge pages (libvirt's "not mounted" error). */
  hugetlbfs?: HugetlbfsMount[];
  /** QEMU's SGX EPC sections per host node (the capabilities' <sgx><sections>), indexed as
   *  libvirt indexes them: by position, which it takes for the node number. */
  sgxSections?: { node: number; sizeKiB: number }[];
  /** The fd libvirt hands QEMU for a vhost-user GPU's socket (the test suite passes 1729); absent:
   *  not known (the GPU process is started, and its socket opened, only at domain start). */
  vhostUserGpuFd?: number;
  /** The command line comes from a live daemon's domxml-to-native, which first turns every
   *  <interface> into type='ethernet' and opens a tap device for it (qemuConnectDomainXMLToNative):
   *  its -netdev names a file descriptor of the daemon's, and the start-time checks
   *  (qemuDomainValidateActualNetDef) see an ethernet interface. Absent: libvirt's test suite,
   *  which builds the interfaces as written. */
  netsBecomeTaps?: boolean;
  /** The host's base page size (virGetSystemPageSizeKB): a <page> of this size is no huge page. */
  systemPageSizeKiB: number;
}

export interface HugetlbfsMount {
  mount: string;
  sizeKiB: number;
  default: boolean;
}

export interface ProfileData extends Omit<Profile, 'flags' | 'libvirtVersion' | 'behaviour' | 'systemPageSizeKiB'> {
  flags: Partial<ProfileFlags>;
  systemPageSizeKiB?: number;
}

export const NO_FLAGS: ProfileFlags = {
  objectJson: false, deviceJson: false, machineMemoryBackend: false, numaMemSupported: true,
  sandbox: false, smpDies: false, queryHotpluggableCpus: false, numaHmat: false, iothread: false, kvm: false, piix3Uhci: false,
  qemuXhci: false, pcieRootPort: false, pciePciBridge: false, virtioPciTransitional: false,
  smpClusters: false, machineAcpi: false, backingMaskProtocol: false, setAction: false,
  pcDimm: false, nvdimm: false, nvdimmUnarmed: false, virtioPmem: false, virtioMem: false, virtioMemPrealloc: false, virtioMemDynamicMemslots: false,
  memfd: false, memfdHugetlb: false, memoryFilePmem: false, canonicalPathRamblockId: false, memoryBackendReserve: false,
  preallocThreads: false, threadContext: false,
  pciBridge: false, dmiToPciBridge: false, ioh3420: false, x3130Upstream: false, xio3130Downstream: false, pxb: false, pxbPcie: false,
  netdevJson: false, chardevReconnectMs: false, vhostUserBlk: false, vhostUserFs: false, vhostUserFsBootindex: false,
  vhostUserGpu: false, vhostUserVga: false, virtioGpu: false, virtioVga: false, virtioGpuBlob: false, virtioCrypto: false, sgxEpc: false,
  objectMonitorQmp: false,
};

/** libvirt's QEMU_CAPS_* names (without the prefix) for `nocaps+FLAG,FLAG` profiles. */
export const CAPS_FLAG_NAMES: Record<string, keyof ProfileFlags> = {
  KVM: 'kvm',
  QUERY_HOTPLUGGABLE_CPUS: 'queryHotpluggableCpus',
  OBJECT_IOTHREAD: 'iothread',
  NUMA_HMAT: 'numaHmat',
  OBJECT_JSON: 'objectJson',
  DEVICE_JSON: 'deviceJson',
  MACHINE_MEMORY_BACKEND: 'machineMemoryBackend',
  SECCOMP_SANDBOX: 'sandbox',
  SMP_DIES: 'smpDies',
  PIIX3_USB_UHCI: 'piix3Uhci',
  DEVICE_QEMU_XHCI: 'qemuXhci',
  DEVICE_PCIE_ROOT_PORT: 'pcieRootPort',
  DEVICE_PCIE_PCI_BRIDGE: 'pciePciBridge',
  VIRTIO_PCI_TRANSITIONAL: 'virtioPciTransitional',
  SMP_CLUSTERS: 'smpClusters',
  BLOCKJOB_BACKING_MASK_PROTOCOL: 'backingMaskProtocol',
  SET_ACTION: 'setAction',
  DEVICE_PC_DIMM: 'pcDimm',
  DEVICE_NVDIMM: 'nvdimm',
  DEVICE_NVDIMM_UNARMED: 'nvdimmUnarmed',
  DEVICE_VIRTIO_PMEM_PCI: 'virtioPmem',
  DEVICE_VIRTIO_MEM_PCI: 'virtioMem',
  DEVICE_VIRTIO_MEM_PCI_PREALLOC: 'virtioMemPrealloc',
  DEVICE_VIRTIO_MEM_PCI_DYNAMIC_MEMSLOTS: 'virtioMemDynamicMemslots',
  OBJECT_MEMORY_MEMFD: 'memfd',
  OBJECT_MEMORY_MEMFD_HUGETLB: 'memfdHugetlb',
  OBJECT_MEMORY_FILE_PMEM: 'memoryFilePmem',
  X_USE_CANONICAL_PATH_FOR_RAMBLOCK_ID: 'canonicalPathRamblockId',
  MEMORY_BACKEND_RESERVE: 'memoryBackendReserve',
  MEMORY_BACKEND_PREALLOC_THREADS: 'preallocThreads',
  THREAD_CONTEXT: 'threadContext',
  DEVICE_PCI_BRIDGE: 'pciBridge',
  DEVICE_DMI_TO_PCI_BRIDGE: 'dmiToPciBridge',
  DEVICE_IOH3420: 'ioh3420',
  DEVICE_X3130_UPSTREAM: 'x3130Upstream',
  DEVICE_XIO3130_DOWNSTREAM: 'xio3130Downstream',
  DEVICE_PXB: 'pxb',
  DEVICE_PXB_PCIE: 'pxbPcie',
  NETDEV_JSON: 'netdevJson',
  CHARDEV_RECONNECT_MILISECONDS: 'chardevReconnectMs',
  DEVICE_VHOST_USER_BLK: 'vhostUserBlk',
  DEVICE_VHOST_USER_FS: 'vhostUserFs',
  VHOST_USER_FS_BOOTINDEX: 'vhostUserFsBootindex',
  DEVICE_VHOST_USER_GPU: 'vhostUserGpu',
  DEVICE_VHOST_USER_VGA: 'vhostUserVga',
  DEVICE_VIRTIO_GPU: 'virtioGpu',
  DEVICE_VIRTIO_VGA: 'virtioVga',
  VIRTIO_GPU_BLOB: 'virtioGpuBlob',
  DEVICE_VIRTIO_CRYPTO: 'virtioCrypto',
  SGX_EPC: 'sgxEpc',
  OBJECT_MONITOR_QMP: 'objectMonitorQmp',
};
