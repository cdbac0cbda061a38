// What a running guest shows, as the runtime backend observes it and the model predicts it: the
// shape both sides fill in, so neither depends on the other's code.
import { naturalCompare } from './bitmap-text.js';
/** One guest RAM backend as /proc/PID/numa_maps shows its mapping: the policy word and its nodes ("" when the policy names none). */
export interface BackendFact { id: string; policy: string; nodes: string }
/** One memory backend as QEMU's query-memdev reports it. */
export interface MemdevFact { id: string; size: number; policy: string; host_nodes: string }
export interface PolicyFact { policy: string; nodes: string }

export interface RuntimeFacts {
  /** Guest RAM backends (ram-nodeN per cell, or pc.ram), kernel view. */
  backends: BackendFact[];
  /** cpuset.mems of each thread group: emulator, vcpuN (online vCPUs), iothreadN. */
  cpuset_mems: Record<string, string>;
  /** Mems_allowed_list of the QEMU process (its main thread lives in the emulator group). */
  mems_allowed: string;
  /** The QEMU process's task memory policy (numa_maps of a mapping without a VMA policy). */
  process_policy: PolicyFact;
  /** QEMU's view (query-memdev). */
  qemu_memdev: MemdevFact[];
}


/** The comparable text of a runtime document: keys sorted (vcpu2 before vcpu10), two-space indent. */
export function stableJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v as object).sort(naturalCompare).map((k) => [k, norm((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(norm(value), null, 2) + '\n';
}

/** The comparable document of an observation: the facts, or {"error": libvirt's message}. */
export function observationDocument(o: { kind: 'facts'; facts: RuntimeFacts } | { kind: 'error'; message: string }): unknown {
  return o.kind === 'facts' ? o.facts : { error: o.message };
}

/** The part of a runtime case document that says which backends the kernel backs with huge
 *  pages and of what size (KiB); none when every backend has base pages, so documents of
 *  guests without huge pages read as they always did. Both sides (observation, prediction)
 *  build it from their own per-backend sizes. */
export function hugePagesPart(pageKiB: Record<string, number>): { huge_page_kib?: Record<string, number> } {
  const huge = Object.entries(pageKiB).filter(([, k]) => k !== 4);
  return huge.length ? { huge_page_kib: Object.fromEntries(huge) } : {};
}
