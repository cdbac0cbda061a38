// The structured form of a generated domain: what fast-check generates and shrinks, what the
// tamer and the faults rewrite, and what render.ts turns into text. Field comments say how a
// value is rendered where that is not the obvious way.

export interface MemSpec { value: string; unit?: string }
export interface VcpuSpec { count: string; placement?: string; cpuset?: string; current?: string }
export interface PinSpec { id?: string; cpuset?: string }
export interface CputuneSpec { vcpupins: PinSpec[]; emulatorpins: PinSpec[]; iothreadpins: PinSpec[] }
export interface MemnodeSpec { cellid?: string; mode?: string; nodeset?: string }
export interface NumatuneSpec {
  memory?: { mode?: string; placement?: string; nodeset?: string };
  /** One memnode per guest cell (in the given order), before the explicit ones. */
  allCells?: { order: 'asc' | 'desc'; mode?: string; nodeset?: string };
  memnodes: MemnodeSpec[];
}
export interface SiblingSpec { id?: string; value?: string }
export interface CacheSpec { level?: string; associativity?: string; policy?: string; size?: MemSpec; line?: MemSpec }
export interface CellSpec {
  /** 'index': the cell's position; 'absent': no id attribute; else the text. */
  id: string;
  /** 'auto': its share of the vCPUs; 'none': no cpus attribute; else the text. */
  cpus: string;
  memory?: MemSpec;
  memAccess?: string;
  discard?: string;
  /** 'full': a valid matrix row; else explicit siblings. */
  distances?: 'full' | SiblingSpec[];
  caches: CacheSpec[];
}
export interface InterconnectSpec { kind: 'latency' | 'bandwidth'; initiator?: string; target?: string; cache?: string; type?: string; value?: string; unit?: string }
export interface NumaSpec { cells: CellSpec[]; reverse: boolean; interconnects: InterconnectSpec[] }
export interface TopologySpec { kind: 'match' | 'explicit'; sockets?: string; dies?: string; cores?: string; threads?: string }
/** fallback: the model's attribute, faults only. */
export interface CpuSpec { mode?: string; match?: string; check?: string; model?: string; fallback?: string; topology?: TopologySpec; numa?: NumaSpec }
export interface AddressSpec { type: string; domain?: string; bus?: string; slot?: string; function?: string; controller?: string; target?: string; unit?: string }
export interface DiskSpec { target?: string; bus?: string; address?: AddressSpec }
export interface DevicesSpec {
  emulator: boolean;
  disks: DiskSpec[];
  usb?: string; // 'default' (no model) or a model
  pciRoot?: string; // 'match' (the machine's own root) or a model
  /** More devices, as written, after the USB controller (a second USB or IDE controller, an odd
   * index, a watchdog, a run of root ports, …). */
  extra: string[];
  usbAddress?: AddressSpec;
  memballoonAddress?: AddressSpec;
  inputs: boolean;
  audio: boolean;
  memballoon?: string;
}
export interface DomainSpec {
  root: string;
  type: string;
  name: string;
  uuid: string;
  memory?: MemSpec;
  currentMemory?: MemSpec;
  /** The memory territory's elements, as written (faults only): <maxMemory> goes before
   *  <memory>, <memoryBacking> after <currentMemory>, <idmap> after </os>. */
  maxMemory?: string;
  memoryBacking?: string;
  /** <memtune> as written (faults only), after <currentMemory>, before <memoryBacking>. */
  memtune?: string;
  idmap?: string;
  vcpu?: VcpuSpec;
  iothreads?: string;
  cputune?: CputuneSpec;
  numatune?: NumatuneSpec;
  numatuneTwice: boolean;
  arch?: string;
  machine: string;
  /** <boot dev=…/> lines in order (none: libvirt boots the first disk). */
  boot: string[];
  bootmenu?: { enable?: string; timeout?: string };
  /** Which share of the mix (generate.ts MIX) made it, or the top-up (topup.ts), and the message
   * a fault (faults.ts) aimed it at; neither is rendered. */
  share?: 'raw' | 'tame' | 'fault' | 'top-up';
  aim?: string;
  features?: { acpi: boolean; apic: boolean; pae: boolean };
  cpu?: CpuSpec;
  clock: boolean;
  lifecycle: boolean;
  /** <on_crash> as written (faults only); rendered with or without the other lifecycle lines. */
  onCrash?: string;
  devices?: DevicesSpec;
  /** Cut the text short (malformed XML). */
  truncate: boolean;
}

