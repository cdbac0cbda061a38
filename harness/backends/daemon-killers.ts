// Inputs known to kill or exhaust a libvirtd, told apart by their text alone (no model: the
// real-libvirt side shares no code with it). The machine's own libvirtd belongs to everyone on
// the machine, so it is never sent one of these (shared-daemon-guard.ts). Each rule names the
// crash case that shows it (cases/crashes/, written by the fuzzer against libvirt 9.0.0).
//
// A rule may catch more than the crash needs: what it catches goes to a disposable daemon
// instead, whose answer is compared as any other, so breadth costs time, never a check.

export interface DaemonKiller {
  readonly name: string;
  /** What the daemon does with such an input, in a line. */
  readonly why: string;
  /** The crash cases that show it. */
  readonly crashCases: readonly string[];
  /** 'private': a disposable daemon answers instead; 'none': no daemon is sent it (it would take
   *  the machine's memory before it dies, wherever it runs). */
  readonly sendTo: 'private' | 'none';
  matches(xml: string): boolean;
}

/** <vcpu>'s number as libvirt 9.0.0 reads it (virStrToLong_ui: a negative value wraps). */
export function vcpuCount(xml: string): number | null {
  const m = /<vcpu\b[^>]*>([^<]*)<\/vcpu\s*>/.exec(xml);
  const t = m?.[1].trim();
  if (!t || !/^[+-]?\d+$/.test(t)) return null;
  const n = Number(t);
  if (!Number.isSafeInteger(n)) return Infinity;
  return n < 0 ? 2 ** 32 + n : n;
}

/** Beyond this libvirt's per-vCPU allocation (before any limit is checked) is no longer small. */
export const VCPU_ALLOCATION_BOUND = 65_536;

export const DAEMON_KILLERS: readonly DaemonKiller[] = [
  {
    name: 'numa-distances',
    why: 'a refused <distances> makes libvirt 9.0.0 write past its NUMA cells (virDomainNumaDefNodeDistanceParseXML); it dies then or on a later request',
    crashCases: ['cases/crashes/crash-virDomainNumaDefNodeDistanceParseXML.xml', 'cases/crashes/crash-virXMLPropUInt.xml'],
    sendTo: 'private',
    // Any <distances>, valid or not, and one in a comment too: telling the refused ones apart
    // would mean redoing libvirt's checks here.
    matches: (xml) => /<distances[\s/>]/.test(xml),
  },
  {
    name: 'vcpu-allocation',
    why: `a <vcpu> count above ${VCPU_ALLOCATION_BOUND} (a negative one wraps to about 2^32) makes libvirt allocate that many vCPUs before any limit is checked (virDomainDefSetVcpusMax): it aborts, or takes the machine's memory first`,
    crashCases: ['cases/crashes/crash-virDomainDefSetVcpusMax.xml'],
    sendTo: 'none',
    matches: (xml) => (vcpuCount(xml) ?? 0) > VCPU_ALLOCATION_BOUND,
  },
];

export function daemonKiller(xml: string): DaemonKiller | undefined {
  return DAEMON_KILLERS.find((k) => k.matches(xml));
}
