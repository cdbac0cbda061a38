// Which of the model's error messages a fuzz run reached. The catalogue is the model's own
// fail('CODE', '…') literals, read from its compiled sources at run time, so a message added to
// the model joins the catalogue without anyone listing it. A message is "reached" when a
// generated domain made the model emit it and libvirt, on the same domain, said the same.
//
// Some messages cannot be reached against the live host: they need a capability the host's
// QEMU has, or a libvirt behaviour the host's version lacks. Each such exemption is a named
// predicate over the live profile, never a blanket skip: when the profile changes (another
// libvirt, another QEMU) the exemption lapses and the message must be reached.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_PREFIX } from '../neutral/libvirt-errors.js';
import type { Profile } from '../model/profile.js';

const modelDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'model');

export interface Template {
  /** The message with each interpolation as '…' (how reports name it). */
  text: string;
  re: RegExp;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The arguments of the call whose '(' is at src[open]: top-level text of each, split at commas. */
function callArgs(src: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let from = open + 1;
  for (let i = open + 1; i < src.length; i++) {
    const ch = src[i];
    if (ch === "'" || ch === '"' || ch === '`') {
      for (i++; i < src.length && src[i] !== ch; i++) if (src[i] === '\\') i++;
    } else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) { args.push(src.slice(from, i)); return args; }
      depth--;
    } else if (ch === ',' && depth === 0) { args.push(src.slice(from, i)); from = i + 1; }
  }
  return args;
}

/** String literals at the top level of an expression ('a' + x, c ? 'a' : 'b'), with whether more follows by '+'. */
function literals(expr: string): { text: string; open: boolean }[] {
  const out: { text: string; open: boolean }[] = [];
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === "'" || ch === '"' || ch === '`') {
      const from = i;
      for (i++; i < expr.length && expr[i] !== ch; i++) if (expr[i] === '\\') i++;
      if (depth === 0) out.push({ text: expr.slice(from + 1, i).replace(/\\'/g, "'"), open: /^\s*\+/.test(expr.slice(i + 1)) });
    } else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
  }
  return out;
}

const PREFIXES = ERROR_PREFIX as Record<string, string>;

/**
 * The model's fail(CODE, MESSAGE) messages, as patterns, from its sources: every literal MESSAGE
 * can be (both branches of a ternary, the head of a concatenation); a CODE that is not a literal
 * ('XML_ERROR' or 'INTERNAL_ERROR' chosen at run time) allows the prefix of any code it names.
 */
export function modelTemplates(dir = modelDir): Template[] {
  const out = new Map<string, Template>();
  // Compiled (dist/model/*.js) or, under the test runner's TypeScript loader, the sources.
  const files = readdirSync(dir);
  const ext = files.some((n) => n.endsWith('.js')) ? '.js' : '.ts';
  for (const f of files.filter((n) => n.endsWith(ext) && !n.endsWith('.d.ts')).sort()) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/\bfail\(/g)) {
      const [code, message] = callArgs(src, m.index! + m[0].length - 1);
      if (message === undefined || /\bfunction\s+$/.test(src.slice(Math.max(0, m.index! - 30), m.index!))) continue;
      // A code held in a variable: the codes its nearest definition above names.
      const ident = /^\s*([A-Za-z_]\w*)\s*$/.exec(code)?.[1];
      const def = ident ? [...src.slice(0, m.index).matchAll(new RegExp(`\\b(?:const|let)\\s+${ident}\\b[^=]*=([^;]*);`, 'g'))].pop()?.[1] : undefined;
      const codes = [...(def ?? code).matchAll(/'([A-Z_]+)'/g)].map((c) => c[1]).filter((c) => c in PREFIXES);
      const prefixes = [...new Set(codes.length ? codes.map((c) => PREFIXES[c]) : Object.values(PREFIXES))];
      for (const lit of literals(message)) {
        if (lit.text.length < 8) continue;
        const body = lit.text.split(/\$\{[^}]*\}/).map(escapeRe).join('.*') + (lit.open ? '.*' : '');
        const shown = (prefixes.length === 1 ? prefixes[0] : codes.length ? `{${prefixes.map((x) => x.trim()).join('|')}} ` : '…') + lit.text.replace(/\$\{[^}]*\}/g, '…') + (lit.open ? '…' : '');
        out.set(shown, { text: shown, re: new RegExp(`^(?:${prefixes.map(escapeRe).join('|')})${body}$`) });
      }
    }
  }
  // Messages whose words are profile data, not literals: a missing host node, the host CPU's verdict.
  out.set('unavailable', { text: 'unsupported configuration: NUMA node … is unavailable', re: /^unsupported configuration: NUMA node \d+ is unavailable$/ });
  out.set('cpu', { text: 'the CPU is incompatible with host CPU: …', re: /^the CPU is incompatible with host CPU: .+$/ });
  return [...out.values()];
}

export interface Exemption {
  template: string;
  /** True when the live profile makes the message unreachable. */
  applies: (p: Profile) => boolean;
  reason: string;
}

/** The memory territory's messages (parse-memory.ts, memory-devices.ts, memory-backend.ts) that
 *  depend on the host, or that no domain gets to. */
const MEMORY_EXEMPTIONS: readonly Exemption[] = [
  ...([
    ['pcDimm', "unsupported configuration: memory hotplug isn't supported by this QEMU binary"],
    ['nvdimm', "unsupported configuration: nvdimm isn't supported by this QEMU binary"],
    ['nvdimmUnarmed', 'unsupported configuration: nvdimm readonly property is not available with this QEMU binary'],
    ['virtioPmem', "unsupported configuration: virtio-pmem isn't supported by this QEMU binary"],
    ['virtioMem', "unsupported configuration: virtio-mem isn't supported by this QEMU binary"],
    ['memfd', "unsupported configuration: this qemu doesn't support the memory-backend-memfd object"],
    ['memfdHugetlb', 'unsupported configuration: hugepages is not supported with memfd memory source'],
    ['memoryFilePmem', 'unsupported configuration: nvdimm pmem property is not available with this QEMU binary'],
    ['preallocThreads', 'unsupported configuration: preallocation threads are unsupported with this QEMU'],
    ['machineMemoryBackend', "unsupported configuration: memory access mode '…' not supported without guest numa node"],
  ] as const).map(([flag, template]) => ({ template, applies: (p: Profile) => p.flags[flag],
    reason: `the host's QEMU has it (flags.${flag}); reached by libvirt's test data on profiles without it` })),
  { template: 'internal error: hugetlbfs filesystem is not mounted or disabled by administrator config', applies: (p) => !!p.hugetlbfs?.length,
    reason: "the host's libvirt knows a hugetlbfs mount (profile hugetlbfs)" },
  { template: 'internal error: Unable to find any usable hugetlbfs mount for … KiB', applies: (p) => !p.hugetlbfs?.length,
    reason: "the host's libvirt knows no hugetlbfs mount: every huge page size gets 'not mounted' first" },
  { template: 'XML error: both maximum memory size and memory slot count must be specified', applies: (p) => p.behaviour.memorySlotsForDimmsOnly,
    reason: "the host's libvirt takes <maxMemory> without slots (behaviour.memorySlotsForDimmsOnly)" },
  { template: 'XML error: maximum memory size must be specified when specifying number of memory slots', applies: (p) => !p.behaviour.memorySlotsForDimmsOnly,
    reason: "the host's libvirt wants both or neither (behaviour.memorySlotsForDimmsOnly off)" },
  { template: "unsupported configuration: count of memory devices requiring memory slots '…' exceeds slots count '…'", applies: (p) => !p.behaviour.memorySlotsForDimmsOnly,
    reason: "the host's libvirt counts every memory device against the slots (behaviour.memorySlotsForDimmsOnly off)" },
  { template: "unsupported configuration: memory device count '…' exceeds slots count '…'", applies: (p) => p.behaviour.memorySlotsForDimmsOnly,
    reason: "the host's libvirt counts dimms only (behaviour.memorySlotsForDimmsOnly)" },
  { template: "unsupported configuration: only 'pci' and 'ccw' addresses are supported for the virtio-mem device", applies: (p) => !p.behaviour.memorySlotsForDimmsOnly,
    reason: "the host's libvirt words it 'only 'pci' addresses' (9.0.0)" },
  { template: "unsupported configuration: only 'pci' addresses are supported for the virtio-mem device", applies: (p) => p.behaviour.memorySlotsForDimmsOnly,
    reason: "the host's libvirt words it 'only 'pci' and 'ccw' addresses' (11.x)" },
  { template: "unsupported configuration: memory device base '0x…' is already being used by another memory device", applies: (p) => p.behaviour.memoryAddressRanges,
    reason: "the host's libvirt compares address ranges instead (behaviour.memoryAddressRanges)" },
  { template: 'unsupported configuration: memory device address [0x…:0x…] overlaps with other memory device (0x…)', applies: (p) => !p.behaviour.memoryAddressRanges,
    reason: "the host's libvirt compares dimm bases only (behaviour.memoryAddressRanges off)" },
  ...['unsupported configuration: memory address must be aligned to … bytes', 'memory device address must be aligned to blocksize'].map((template) => ({
    template, applies: (p: Profile) => !p.behaviour.memoryTargetAddress,
    reason: "the host's libvirt does not read <target><address> (behaviour.memoryTargetAddress off)" })),
  { template: 'unsupported configuration: At least one numa node has to be configured when enabling memory hotplug', applies: (p) => p.behaviour.numaAutoAddForHotplug && !!p.abiUpdate,
    reason: "the host's libvirt gives such a guest a NUMA cell at define (behaviour.numaAutoAddForHotplug)" },
  { template: "can't add memory backend as guest has no NUMA nodes configured", applies: () => true,
    reason: "the hot-plug check refuses a memory device without NUMA cells first ('At least one numa node …'), or 11.x adds a cell" },
  { template: "unsupported configuration: only 'dimm' addresses are supported for the pc-dimm device", applies: () => true,
    reason: 'dimm slot assignment at post-parse turns any other address of a dimm into a dimm slot first (the model refuses that input as not modelled: libvirt reads the PCI fields as the slot and base)' },
  { template: 'unsupported configuration: memory device total size exceeds hotplug space', applies: () => true,
    reason: "the same condition as 'maximum memory size must be equal or greater than the actual memory size', checked first at post-parse" },
  { template: "unsupported configuration: size of memory module '…' overflowed after alignment", applies: () => true,
    reason: '<maxMemory> at least the total keeps every module at least 1 MiB under the limit, and modules align to 2 MiB' },
];

/** The messages of the devices around shared memory (faults-devices.ts) that depend on the
 *  host's QEMU or libvirt release, or that no domain gets to. */
const DEVICE_EXEMPTIONS: readonly Exemption[] = [
  ...([
    ['vhostUserBlk', 'unsupported configuration: vhostuser disk is not supported with this QEMU binary'],
    ['vhostUserFs', 'unsupported configuration: virtiofs is not supported with this QEMU binary'],
    ['vhostUserFsBootindex', 'unsupported configuration: setting virtiofs boot order is not supported with this QEMU binary'],
    ['vhostUserGpu', "unsupported configuration: this QEMU does not support 'vhost-user' video device"],
    ['virtioGpu', "unsupported configuration: domain configuration does not support video model 'virtio'"],
    ['sgxEpc', "unsupported configuration: sgx epc isn't supported by this QEMU binary"],
  ] as const).map(([flag, template]) => ({ template, applies: (p: Profile) => p.flags[flag],
    reason: `the host's QEMU has it (flags.${flag}); reached by libvirt's test data on profiles without it` })),
  ...["unsupported configuration: this QEMU version didn't provide SGX EPC NUMA info", 'unsupported configuration: sgx epc size … on host node … is less than requested size …']
    .map((template) => ({ template, applies: (p: Profile) => !p.flags.sgxEpc,
      reason: "the host's QEMU has no sgx-epc (flags.sgxEpc): 'sgx epc isn't supported' comes first" })),
  ...["unsupported configuration: unknown video model '…'", "internal error: cannot parse video heads '…'"].map((template) => ({
    template, applies: (p: Profile) => p.behaviour.videoModelOneNode,
    reason: "9.0.0's words; later releases read <model> with virXMLProp* and say it in the generic ones (behaviour.videoModelOneNode)" })),
  { template: "unsupported configuration: this QEMU does not support 'blob' for virtio-gpu devices", applies: (p) => p.flags.virtioGpuBlob || !p.behaviour.videoBlob,
    reason: "the host's QEMU has virtio-gpu blob resources (flags.virtioGpuBlob), or its libvirt ignores <model blob> (behaviour.videoBlob off, 9.0.0)" },
  { template: "unsupported configuration: 'blob' support for virtio-gpu devices requires a memfd memory backend", applies: (p) => !p.flags.virtioGpuBlob || !p.behaviour.videoBlob,
    reason: "the host's QEMU has no virtio-gpu blob resources (flags.virtioGpuBlob: that refusal comes first), or its libvirt ignores <model blob> (behaviour.videoBlob off, 9.0.0)" },
  ...["unsupported configuration: 'reconnect' attribute is not supported when source mode='server' for <interface type='vhostuser'>",
    "unsupported configuration: invalid model for interface of type 'vhostuser': '…' - must be 'virtio'"].map((template) => ({
    template, applies: (p: Profile) => !p.behaviour.netVhostUserChecksInQemu,
    reason: "the host's libvirt checks vhost-user interfaces in its generic validation, in 9.0.0's words (behaviour.netVhostUserChecksInQemu off)" })),
  ...["unsupported configuration: 'reconnect' attribute unsupported 'server' mode for <interface type='vhostuser'>",
    "internal error: Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>. vhostuser requires the virtio-net* frontend"].map((template) => ({
    template, applies: (p: Profile) => p.behaviour.netVhostUserChecksInQemu,
    reason: "the host's libvirt checks vhost-user interfaces in the QEMU driver, in 11.x's words (behaviour.netVhostUserChecksInQemu)" })),
  ...['unsupported configuration: interface … - multiqueue is not supported for network interfaces of type …',
    'unsupported configuration: interface … - custom tap device path is not supported for network interfaces of type …'].map((template) => ({
    template, applies: (p: Profile) => !!p.netsBecomeTaps,
    reason: "the host's command lines come from domxml-to-native, which makes every interface an ethernet one first (profile netsBecomeTaps): its start-time checks see a tap; reached by libvirt's test data" })),
  { template: 'unsupported configuration: crypto model virtio is not supported', applies: (p) => p.flags.virtioCrypto || !p.behaviour.cryptoDevices,
    reason: "the host's QEMU has virtio-crypto (flags.virtioCrypto), or its libvirt reads no <crypto> (behaviour.cryptoDevices)" },
  { template: 'XML error: only one crypto backend is supported', applies: (p) => !p.behaviour.cryptoDevices,
    reason: "the host's libvirt reads no <crypto> (behaviour.cryptoDevices, 9.0.0)" },
  { template: 'unsupported configuration: virtio-mem does not support dynamicMemslots', applies: (p) => !p.behaviour.virtioMemDynamicMemslots || p.flags.virtioMemDynamicMemslots,
    reason: "the host's libvirt ignores dynamicMemslots (9.0.0), or its QEMU has dynamic memslots (flags.virtioMemDynamicMemslots)" },
  { template: 'unsupported configuration: virtiofs does not yet support read-only mode', applies: (p) => p.behaviour.virtiofsReadonly,
    reason: "the host's libvirt supports read-only virtiofs (behaviour.virtiofsReadonly, 11.x)" },
  { template: 'operation failed: Unable to find a satisfying virtiofsd', applies: (p) => p.virtiofsd !== 'missing',
    reason: "the host's daemon finds a virtiofsd (host facts: virtiofsdMissing false; the sid host has none)" },
  { template: "XML error: cannot parse openfiles '…' for virtiofs", applies: (p) => !p.behaviour.virtiofsIdmap,
    reason: "the host's libvirt does not read <openfiles> (behaviour.virtiofsIdmap off, 9.0.0)" },
  { template: "unsupported configuration: filesystem target '…' specified twice", applies: (p) => !p.behaviour.filesystemTargetsUnique,
    reason: "the host's libvirt does not compare filesystem targets (behaviour.filesystemTargetsUnique off, 9.0.0)" },
  { template: "unsupported configuration: The '…' device is not supported by this QEMU binary",
    applies: (p) => (['pciBridge', 'dmiToPciBridge', 'ioh3420', 'x3130Upstream', 'xio3130Downstream', 'pxb', 'pxbPcie', 'pcieRootPort', 'pciePciBridge'] as const).every((f) => p.flags[f]),
    reason: "the host's QEMU has every PCI controller device the model knows (flags.pciBridge, …, flags.pxbPcie)" },
  { template: "internal error: Required option '…' is not set …", applies: () => true,
    reason: 'address assignment fills in every option validation asks for (model name, chassisNr, chassis and port, busNr, or refuses first)' },
  { template: "unsupported configuration: Index for '…' controllers must be 0", applies: () => true,
    reason: "post-parse refuses a root controller of another index first ('pci-root and pcie-root controllers should have index 0')" },
  { template: "unsupported configuration: Index for '…' controllers must be > 0", applies: () => true,
    reason: "post-parse refuses any other model at index 0 first ('The PCI controller with index='0' must be model=…')" },
  { template: 'unsupported configuration: PCI controller index … too high, maximum is 255', applies: () => true,
    reason: 'address assignment adds a bus for every index up to it, and runs out of slots before validation' },
];

/** Messages the live host cannot produce, each with the profile fact that says so. */
export const EXEMPTIONS: readonly Exemption[] = [
  { template: 'unsupported configuration: HMAT is not supported with this QEMU', applies: (p) => p.flags.numaHmat,
    reason: "the host's QEMU supports HMAT (flags.numaHmat); reached by cases on profiles without it" },
  { template: 'unsupported configuration: IOThreads not supported for this QEMU', applies: (p) => p.flags.iothread,
    reason: "the host's QEMU has iothread objects (flags.iothread)" },
  { template: 'unsupported configuration: itco model of watchdog is only part of q35 machine', applies: (p) => !p.behaviour.q35ItcoWatchdog,
    reason: "the host's libvirt does not know the iTCO watchdog (behaviour.q35ItcoWatchdog, libvirt >= 9.1): 'itco' is an unknown model there" },
  ...['internal error: watchdog must contain model name', "unsupported configuration: unknown watchdog model '…'", "unsupported configuration: unknown watchdog action '…'"]
    .map((template) => ({ template, applies: (p: Profile) => p.behaviour.watchdogPropEnum,
      reason: "9.0.0's words; later releases read <watchdog> with virXMLPropEnum and say it in the generic ones (behaviour.watchdogPropEnum)" })),
  { template: "XML error: 'restrictive' mode is required in memory element when mode is 'restrictive' in memnode element", applies: (p) => !p.behaviour.restrictiveMemnodeNeedsRestrictiveMemory,
    reason: "the host's libvirt accepts a restrictive memnode under another <memory> mode (behaviour.restrictiveMemnodeNeedsRestrictiveMemory, 11.x)" },
  { template: 'unsupported configuration: Multiple legacy USB controllers are not supported', applies: (p) => p.flags.piix3Uhci,
    reason: "the host's QEMU has piix3-uhci, which every USB controller without a model becomes (flags.piix3Uhci), so none stays legacy" },
  ...[
    "XML error: Missing 'level' attribute in cache element for NUMA node …",
    "XML error: Invalid 'level' attribute in cache element for NUMA node …",
    "XML error: Missing 'associativity' attribute in cache element for NUMA node …",
    "XML error: Invalid cache associativity '…'",
    "XML error: Invalid cache policy '…'",
  ].map((template) => ({ template, applies: (p: Profile) => p.behaviour.numaCachePlainProps,
    reason: "the host's libvirt reads <cache> with the generic attribute parsers (behaviour.numaCachePlainProps, 11.x), which say 'Missing required attribute …' / 'Invalid value for attribute …' instead" })),
  ...[
    "unsupported configuration: Emulator '…' does not support virt type '…'",
    'invalid argument: could not get preferred machine for … type=…',
    'unsupported configuration: check attribute specified for CPU with no model',
  ].map((template) => ({ template, applies: (p: Profile) => (p.virtTypes ?? ['qemu', 'kvm']).includes('kvm'),
    reason: "the host's capabilities list KVM: every virt type the model knows has machine types, a preferred machine and a default CPU model" })),
  { template: "unsupported configuration: Emulator '…' does not support machine type '…'", applies: (p) => !p.machineTypes,
    reason: "the host's capability data carries no machine list (profile machineTypes: only QEMU 11.1's, the sid host's, has one), so the model refuses no machine type there" },
  { template: 'the CPU is incompatible with host CPU: …', applies: (p) => !p.flags.kvm || !(p.kvmCpuModels?.qemu64 && 'error' in p.kvmCpuModels.qemu64),
    reason: "the host has no KVM, or its CPU runs qemu64 (the profile's kvmCpuModels verdict), so no custom CPU is refused" },
  ...MEMORY_EXEMPTIONS,
  ...DEVICE_EXEMPTIONS,
  // Not reachable inside the model's vocabulary on any profile; each says which step stands in the way.
  { template: 'unsupported configuration: At least one NUMA node has to have CPUs', applies: () => true,
    reason: 'qemuDomainDefNumaCPUsRectify gives cell 0 every vCPU no cell names, so some cell always has CPUs' },
  { template: 'internal error: Cannot automatically add a new PCI bus for a device with connect flags …', applies: () => true,
    reason: 'only a controller whose connect type names no bus model gets here (pcie-to-pci-bridge); the model does not model it' },
  { template: '{XML error:|internal error:} No PCI buses available', applies: () => true,
    reason: 'x86 machines always get a PCI root (pci-root or pcie-root) at post-parse' },
  { template: '{XML error:|internal error:} Invalid PCI address …. Only PCI buses up to … are available', applies: () => true,
    reason: 'the dry run grows the bus set to every bus an address names, and the real pass starts with that many' },
  { template: '{XML error:|internal error:} Invalid PCI address …. slot must be >= …', applies: () => true,
    reason: "only bus 0 starts at slot 1 among the modelled buses, and 0000:00:00.x means 'no address' to libvirt" },
  { template: '{XML error:|internal error:} Invalid PCI address …. function must be <= …', applies: () => true,
    reason: "the parser refuses a function over 7 first ('Invalid PCI address function=0x…, must be <= 7')" },
  { template: '{XML error:|internal error:} The device at PCI address … has unrecognized connection type flags 0x…', applies: () => true,
    reason: 'every device the model knows has a connect type the message table names' },
  { template: "{XML error:|internal error:} The device at PCI address … was auto-assigned this address, but the PCI controller with index='…' doesn't allow auto-assignment", applies: () => true,
    reason: 'auto-assignment only picks buses that pass the same check silently (flagsCompatible without reporting)' },
  { template: "{XML error:|internal error:} The device at PCI address … requires hotplug capability, but the PCI controller with index='…' doesn't support hotplug", applies: () => true,
    reason: 'auto-assignment only picks hotpluggable buses for hotpluggable devices, and an address from the XML is collected without the hotplug flag' },
  { template: 'internal error: No more available PCI slots', applies: () => true,
    reason: "the dry run adds the buses the real pass fills; on pc the added bus is a pci-bridge, which the model does not model, on q35 a full bus 0 stops earlier ('a PCI slot is needed …')" },
  { template: "internal error: Could not find PCI controller with index '…' required for device at address '…:…:….…'", applies: () => true,
    reason: 'address assignment gives every bus an address names a controller before the command line is built; on pc that controller is a pci-bridge, which the model does not model' },
];

export interface Reach {
  template: string;
  /** Model answers (argv + xml) that were this message. */
  model: number;
  /** Of those, answers where libvirt said a message of the same template on the same domain and operation. */
  libvirt: number;
  /** Set when the live profile exempts the template. */
  exempt?: string;
}

/** Per template: how often the model said it and how often libvirt said it with the model. */
export function reachOf(templates: Template[], pairs: { model: string; libvirt: string | null }[], profile: Profile): Reach[] {
  return templates.map((t) => {
    let model = 0;
    let libvirt = 0;
    for (const p of pairs) {
      if (!t.re.test(p.model)) continue;
      model++;
      if (p.libvirt !== null && t.re.test(p.libvirt)) libvirt++;
    }
    const ex = EXEMPTIONS.find((e) => e.template === t.text && e.applies(profile));
    return { template: t.text, model, libvirt, ...(ex ? { exempt: ex.reason } : {}) };
  });
}

/**
 * Model messages that match no template: words the model takes from elsewhere than a fail()
 * literal (libxml2's syntax errors, 'not modelled' refusals excluded). Grouped by `fold`.
 */
export function outsideCatalogue(templates: Template[], pairs: { model: string }[], fold: (m: string) => string): { message: string; count: number }[] {
  const out = new Map<string, number>();
  for (const p of pairs) {
    if (p.model.startsWith('not modelled:') || templates.some((t) => t.re.test(p.model))) continue;
    const k = fold(p.model);
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return [...out].sort((a, b) => b[1] - a[1]).map(([message, count]) => ({ message, count }));
}

/** Per fault aim: domains aimed at it, and how many libvirt refused with that very message. */
export function aimsMet(templates: Template[], aimed: { aim: string; libvirt: (string | null)[] }[]): { aim: string; aimed: number; met: number }[] {
  const out = new Map<string, { aim: string; aimed: number; met: number }>();
  for (const a of aimed) {
    const row = out.get(a.aim) ?? { aim: a.aim, aimed: 0, met: 0 };
    out.set(a.aim, row);
    row.aimed++;
    const t = templates.find((x) => x.text === a.aim);
    if (t && a.libvirt.some((m) => m !== null && t.re.test(m))) row.met++;
  }
  return [...out.values()].sort((a, b) => a.met / a.aimed - b.met / b.aimed || (a.aim < b.aim ? -1 : 1));
}

/** Templates neither reached (by both sides) nor exempt. */
export const missed = (r: Reach[]): Reach[] => r.filter((x) => !x.exempt && x.libvirt === 0);

/** Fault aims the catalogue does not have: such a fault can never be met, and no reach figure
 *  shows it (a message the model stopped saying leaves its fault behind). */
export function orphanAims(templates: Template[], aims: readonly string[]): string[] {
  const texts = new Set(templates.map((t) => t.text));
  return [...new Set(aims)].filter((a) => !texts.has(a));
}
