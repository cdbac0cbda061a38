// Where each guest RAM backend lives, in the guest and in QEMU's process, from QEMU's own word:
// pure parsers and the matching, no I/O (the runtime backend reads, this module decides).
//
// Why the flat view: QEMU splits guest RAM around the PCI hole. pc puts at most 3 GiB below
// 4 GiB once RAM reaches 3.5 GiB, q35 at most 2 GiB once it reaches 2.75 GiB; the rest is the
// alias `ram-above-4g` at 0x100000000 (pc_memory_init). With NUMA cells the aliases point into
// the container of the ram-nodeN backends, so one cell can be cut in two, and a later cell can
// sit wholly above 4 GiB. `info mtree -f` resolves every alias: for the "memory" address space
// it lists each guest-physical range with the RAM region (= backend id) it lands in and the
// offset inside it ("@offset"). ROM overlays (pc.rom, pc.bios) cut further holes; that does not
// matter, every visible piece is checked. `gpa2hva` of both ends of every piece then gives the
// host address; all pieces must agree on one base, and the VMA at that base must span exactly
// the backend's size, so a wrong guess is refused, never reported.

export class GuestRamError extends Error {
  override name = 'GuestRamError';
}

/** `pages` counts pages of `pageKiB` each: hugetlb mappings count huge pages (kernelpagesize_kB). */
export interface NumaMapsLine { start: string; policy: string; nodes: string; path?: string; pages: Record<string, number>; pageKiB: number }

/** One line of /proc/PID/numa_maps: address, policy (mm/mempolicy.c mpol_to_str), then key=value fields. */
export function parseNumaMapsLine(line: string): NumaMapsLine | null {
  const m = /^([0-9a-f]+) (default|local|prefer \(many\)|prefer|bind|weighted interleave|interleave)(?:=[a-z|]+)?(?::(\S*))?(?: (.*))?$/.exec(line);
  if (!m) return null;
  const pages: Record<string, number> = {};
  let path: string | undefined;
  let pageKiB = 4;
  for (const f of (m[4] ?? '').split(' ')) {
    const n = /^N(\d+)=(\d+)$/.exec(f);
    if (n) pages[n[1]] = Number(n[2]);
    else if (f.startsWith('file=')) path = f.slice(5);
    else if (f.startsWith('kernelpagesize_kB=')) pageKiB = Number(f.slice(18));
  }
  return { start: m[1], policy: m[2], nodes: m[3] ?? '', path, pages, pageKiB };
}

export interface Vma { start: bigint; end: bigint; path: string }

export function parseMaps(text: string): Vma[] {
  const out: Vma[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), path: m[3] });
  }
  return out;
}

/** `gpa2hva` answers "Host virtual address for 0x10000000 (ram-node1) is 0x7fee07c00000". */
export function parseGpa2hva(text: string): Map<bigint, { region: string; hva: bigint }> {
  const out = new Map<bigint, { region: string; hva: bigint }>();
  for (const m of text.matchAll(/Host virtual address for (0x[0-9a-f]+) \((.*)\) is (0x[0-9a-f]+)/g)) {
    out.set(BigInt(m[1]), { region: m[2], hva: BigInt(m[3]) });
  }
  return out;
}

/** A guest-physical range [gpa, gpa+len) that lands in `region` at `offset`. */
export interface RamPiece { gpa: bigint; len: bigint; region: string; offset: bigint }

/**
 * The ranges of the flat view that serves the "memory" address space (`info mtree -f`, QEMU
 * 7.2: "FlatView #N", its ` AS "name", root: R` lines, then `  START-END (prio P, TYPE): NAME
 * [@OFFSET]` lines, possibly followed by accelerator names such as " KVM").
 */
export function parseFlatView(text: string): RamPiece[] {
  const out: RamPiece[] = [];
  let inView = false;
  let isMemory = false;
  let seenMemory = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^FlatView #\d+/.test(line)) { inView = true; isMemory = false; continue; }
    if (!inView) continue;
    if (/^ AS "memory",/.test(line)) { isMemory = true; seenMemory = true; continue; }
    if (!isMemory) continue;
    const m = /^\s+([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, [^)]*\): (\S+)(?: @([0-9a-f]+))?/.exec(line);
    if (m) {
      const start = BigInt(`0x${m[1]}`);
      out.push({ gpa: start, len: BigInt(`0x${m[2]}`) - start + 1n, region: m[3], offset: m[4] ? BigInt(`0x${m[4]}`) : 0n });
    }
  }
  if (!seenMemory) throw new GuestRamError('info mtree -f shows no flat view for the "memory" address space');
  return out;
}

/** The pieces of each backend (in guest-physical order); a backend with none is refused. */
export function piecesOf(ids: { id: string; size: number }[], flat: RamPiece[]): Map<string, RamPiece[]> {
  const out = new Map<string, RamPiece[]>();
  for (const { id, size } of ids) {
    const pieces = flat.filter((p) => p.region === id);
    if (!pieces.length) throw new GuestRamError(`memory backend '${id}' is not mapped into guest memory (info mtree -f): not handled`);
    for (const p of pieces) {
      if (p.offset + p.len > BigInt(size)) throw new GuestRamError(`info mtree -f puts ${hex(p.len)} bytes of '${id}' at offset ${hex(p.offset)}, beyond its size ${size}`);
    }
    out.set(id, pieces);
  }
  return out;
}

/** Both ends of every piece: what to ask `gpa2hva`. */
export function probesOf(pieces: Iterable<RamPiece[]>): bigint[] {
  const out: bigint[] = [];
  for (const list of pieces) for (const p of list) out.push(p.gpa, p.gpa + p.len - 1n);
  return out;
}

export const hex = (n: bigint): string => `0x${n.toString(16)}`;

export interface BackendMapping {
  /** Kernel view: the policy word and its nodes, or the policies joined with '|' when VMAs differ. */
  fact: { id: string; policy: string; nodes: string };
  detail: { id: string; hva: string; vmas: string[]; gpa: string[]; method: string; pages: Record<string, number>; pageKiB: number };
}

/** Whether a mapping's file can be backend `id`'s: a file named for it (memAccess, libvirt's
 *  memory_backing_dir), the file QEMU makes and unlinks in a mem-path directory (hugetlbfs:
 *  qemu_back_mem.ID.XXXXXX), or a memfd, which QEMU names after its type, not the backend
 *  (memfd:memory-backend-memfd; gpa2hva and the size alone tell which backend it is then). */
export function isBackendFile(path: string, id: string): boolean {
  const p = path.replace(/ \(deleted\)$/, '');
  const base = p.slice(p.lastIndexOf('/') + 1);
  return base === id || base === 'memfd:memory-backend-memfd' || (base.startsWith(`qemu_back_mem.${id}.`) && /^\w{6}$/.test(base.slice(`qemu_back_mem.${id}.`.length)));
}

/**
 * The host mapping of one backend: every piece must map to base + offset (gpa2hva), and the
 * VMAs of /proc/PID/maps must cover [base, base + size) without a gap; the numa_maps lines of
 * those VMAs give the policy and the resident pages per host node.
 */
export function mapBackend(id: string, size: number, pieces: RamPiece[], hvas: Map<bigint, { region: string; hva: bigint }>,
  vmas: Vma[], numa: Map<string, NumaMapsLine>): BackendMapping {
  let base: bigint | null = null;
  for (const p of pieces) {
    const first = hvas.get(p.gpa);
    const last = hvas.get(p.gpa + p.len - 1n);
    if (!first || !last || first.region !== id || last.region !== id) {
      throw new GuestRamError(`gpa2hva does not place '${id}' at ${hex(p.gpa)}: ${JSON.stringify([first, last], (_k, v) => (typeof v === 'bigint' ? hex(v) : v))}`);
    }
    const b = first.hva - p.offset;
    if (base === null) base = b;
    if (b !== base || last.hva !== b + p.offset + p.len - 1n) throw new GuestRamError(`'${id}' is not contiguous in QEMU's address space`);
  }
  const start = base!;
  const end = start + BigInt(size);
  const covering = vmas.filter((v) => v.end > start && v.start < end);
  const contiguous = covering.length > 0 && covering[0].start <= start && covering[covering.length - 1].end >= end
    && covering.every((v, i) => i === 0 || covering[i - 1].end === v.start);
  if (!contiguous) throw new GuestRamError(`no mapping covers '${id}' at ${hex(start)} (+${size})`);
  const exact = covering.length === 1 && covering[0].start === start && covering[0].end === end;
  const lines = covering.map((v) => numa.get(v.start.toString(16)));
  if (lines.some((l) => !l)) throw new GuestRamError(`numa_maps lacks a line for a mapping of '${id}'`);
  let method = exact ? 'gpa2hva+size' : `gpa2hva, ${covering.length} VMAs`;
  if (pieces.length > 1) method += `, ${pieces.length} guest ranges`;
  const paths = covering.map((v) => v.path).filter(Boolean);
  if (paths.length) {
    if (!paths.every((p) => isBackendFile(p, id))) throw new GuestRamError(`mapping of '${id}' is file ${paths[0]}`);
    method += '+file-name';
  }
  const policies = [...new Set(lines.map((l) => (l!.nodes ? `${l!.policy}:${l!.nodes}` : l!.policy)))].sort();
  const pages: Record<string, number> = {};
  for (const l of lines) for (const [node, c] of Object.entries(l!.pages)) pages[node] = (pages[node] ?? 0) + c;
  const sizes = [...new Set(lines.map((l) => l!.pageKiB))];
  if (sizes.length > 1) throw new GuestRamError(`mappings of '${id}' have pages of different sizes: ${sizes.join(', ')} KiB`);
  return {
    fact: policies.length === 1 ? { id, policy: lines[0]!.policy, nodes: lines[0]!.nodes } : { id, policy: policies.join('|'), nodes: '' },
    detail: {
      id, hva: hex(start), vmas: covering.map((v) => `${hex(v.start)}-${hex(v.end)}`),
      gpa: pieces.map((p) => `${hex(p.gpa)}-${hex(p.gpa + p.len - 1n)}@${hex(p.offset)}`), method, pages, pageKiB: sizes[0]!,
    },
  };
}
