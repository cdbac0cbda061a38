// One emulated-host runtime case as a comparable document: what the project's own
// `runtime --json`, run inside the emulated host, observed (plus per-node page counts where the
// case asks), or the start error; and the 'within' check of prealloc cases. Used by
// run-cases.ts and by the runner's runtime@emulated backend.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNodeList } from '../neutral/bitmap-text.js';
import { hugePagesPart } from '../neutral/runtime-facts.js';

export interface CaseSpec { why: string; pages?: 'exact' | 'within' }
/** Resident pages per host node (N0, N1, …), of `pageKiB` each (4, or the huge page size). */
export interface Mapping { id: string; pages: Record<string, number>; pageKiB?: number }

/** Documents are written as every runtime document is (keys in natural order, 2-space indent),
 *  so the model's prediction of a case reads the same way (runtime-vs-model@emulated). */
export { stableJson as stable } from '../neutral/runtime-facts.js';

/** The image's libvirt (the machine's Debian 12 packages): its goldens carry no version. */
export const IMAGE_LIBVIRT = '9.0.0';

/** golden/runtime-emulated/NAME.TOPOLOGY.json for the image's libvirt; another libvirt (a series
 *  build run inside) has its own fork NAME.TOPOLOGY.lvVERSION.json where libvirt behaves
 *  differently, as the project's goldens fork per host. Reading falls back to the base golden
 *  when no fork was blessed; blessing always writes the fork. */
export function emulatedGoldenPath(dir: string, name: string, topology: string, libvirtVersion?: string, forBless = false): string {
  const base = join(dir, `${name}.${topology}.json`);
  if (!libvirtVersion || libvirtVersion === IMAGE_LIBVIRT) return base;
  const fork = join(dir, `${name}.${topology}.lv${libvirtVersion}.json`);
  return forBless || existsSync(fork) ? fork : base;
}

const nodesOf = (list: string): Set<number> => new Set(readNodeList(list));

/** The case's golden document: what was observed, plus exact page counts where asked. */
export function goldenDoc(spec: CaseSpec, out: { observed: unknown; run?: { mappings?: Mapping[] } }, stderr: string, code: number): unknown {
  // QEMU's messages carry a timestamp (libvirt runs it with -msg timestamp=on): not part of the fact.
  if (code === 2) return { error: stderr.trim().split('\n').pop()!.replace(/^guest not started: /, '').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z /g, '') };
  const doc: Record<string, unknown> = { observed: out.observed, ...hugePagesPart(Object.fromEntries((out.run?.mappings ?? []).map((m) => [m.id, m.pageKiB ?? 4]))) };
  if (spec.pages === 'exact') doc.pages = Object.fromEntries((out.run?.mappings ?? []).map((m) => [m.id, m.pages]));
  return doc;
}

/** 'within': every page of every backend lies in the emulator's cpuset.mems, and all are there. */
export function checkWithin(out: { observed: { backends?: { id: string; nodes: string }[]; cpuset_mems?: Record<string, string>; qemu_memdev?: { id: string; size: number }[] }; run?: { mappings?: Mapping[] } }): string | undefined {
  for (const m of out.run?.mappings ?? []) {
    // A backend's own policy nodes where it has some (strict, memnodes), else the cgroup's.
    const own = out.observed.backends?.find((b) => b.id === m.id)?.nodes;
    const allowed = nodesOf(own || out.observed.cpuset_mems?.emulator || '');
    const size = out.observed.qemu_memdev?.find((d) => d.id === m.id)?.size ?? 0;
    let total = 0;
    for (const [k, v] of Object.entries(m.pages)) {
      const node = Number(k.replace(/^N/, ''));
      if (!allowed.has(node)) return `${m.id}: ${v} pages on node ${node}, outside its nodes ${[...allowed].join(',')}`;
      total += v;
    }
    const pageBytes = (m.pageKiB ?? 4) * 1024;
    if (total !== size / pageBytes) return `${m.id}: ${total} pages of ${pageBytes / 1024} KiB resident, ${size / pageBytes} preallocated`;
  }
  return undefined;
}


/** cases/emulated/cases.json: name -> spec (keys starting with '_' are comments). */
export function emulatedSpecs(root: string): Record<string, CaseSpec> {
  const all = JSON.parse(readFileSync(join(root, 'cases', 'emulated', 'cases.json'), 'utf8')) as Record<string, CaseSpec>;
  return Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('_')));
}
