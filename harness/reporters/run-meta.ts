// Run metadata: what the HTML report shows beyond the verdicts (the hosts and their versions,
// the golden hosts used, the series under test, durations, the emulated host's page counts and
// tiering cells, the --expect-failures result). Produced once by the runner — the case suite
// fills a SuiteMeta while it runs, main.ts adds what only it knows — and kept in --summary-json,
// so merge-reports rebuilds the same page from shards without reading any log.

/** One host of the run as the page names it. */
export interface HostMeta {
  /** '' for the machine, else the run-host key ("emulated"). */
  key: string;
  label: string;
  /** Its golden host id (hosts.ts hostId). */
  id: string;
  libvirt: string;
  qemu: string;
  kernel: string;
  /** NUMA nodes as describeHost prints them. */
  description: string;
  /** A committed golden host is this one (golden/hosts/ID.json). */
  committed: boolean;
  /** --host-facts: the facts came from this file, not from the machine. */
  simulatedFrom?: string;
}

export interface SeriesMeta {
  key: string;
  version: string;
  tree: string;
  patches: { file: string; subject: string }[];
}

/** Busy time of one backend's run() calls, summed over cases (concurrent calls add up). */
export interface BackendTime { backend: string; seconds: number; cases: number }

/** One emulated-host runtime case: guest RAM pages per NUMA node, per memory mapping. */
export interface PageCounts { id: string; mappings: { id: string; pages: Record<string, number> }[]; refused?: string }

/** One tiering cell with its samples (pages per node over time) for the plot. */
export interface TieringCell {
  id: string;
  kernel: string;
  build: string;
  scenario: string;
  domainMems: string;
  outside: number;
  t: number[];
  nodes: Record<string, number[]>;
  startError?: string;
}

/** What the case suite knows of the run. Backends add to it through their context. */
export interface SuiteMeta {
  hosts: HostMeta[];
  /** Golden files held to, by the golden host they were blessed on. */
  goldenHosts: Record<string, number>;
  series: SeriesMeta | null;
  backends: BackendTime[];
  emulatedRuntime: PageCounts[];
  tiering: TieringCell[];
}

export const emptySuiteMeta = (): SuiteMeta => ({ hosts: [], goldenHosts: {}, series: null, backends: [], emulatedRuntime: [], tiering: [] });

/** One line of an --expect-failures file and what became of it (expect-failures.ts). */
export interface ExpectEntry { key: string; state: 'seen' | 'not run' | 'not caught' | 'not for this host' }
export interface ExpectReport {
  file: string;
  /** The host condition the lines were read under. */
  kvm: boolean;
  entries: ExpectEntry[];
  unexpected: string[];
  /** None of the listed failures ran: a list that catches nothing cannot pass. */
  vacuous: boolean;
  passed: boolean;
  /** The shard this result belongs to in a merged report. */
  shard?: string | null;
}

export interface SuiteFileTime { file: string; seconds: number; exit: number }

export interface RunMeta extends SuiteMeta {
  /** The command as typed ("npm test -- --case 'numatune-*' --html r.html"). */
  command: string;
  startedAt: string;
  seconds: number;
  /** "2/3" for a shard; a merged report lists its parts in `parts`. */
  shard: string | null;
  parts?: { file: string; shard: string | null; seconds: number; command: string }[];
  suiteFiles: SuiteFileTime[];
  /** false: the run stopped before its end; `incomplete` says how. */
  complete: boolean;
  incomplete?: string;
  expectFailures: ExpectReport[];
  notes: string[];
  /** What changed between libvirt releases (harness/versions/), computed when an HTML page is
   *  written, or why it could not be. */
  versions?: import('../versions/main.js').Report | { unavailable: string };
}

/** Durations per backend from the per-case busy times. */
export function addBackendTimes(meta: SuiteMeta, perCase: Record<string, number>): void {
  for (const [backend, ms] of Object.entries(perCase)) {
    let b = meta.backends.find((x) => x.backend === backend);
    if (!b) { b = { backend, seconds: 0, cases: 0 }; meta.backends.push(b); }
    b.seconds += ms / 1000;
    b.cases++;
  }
}

/** Several runs' metadata as one (merge-reports): lists concatenated, times added. */
export function mergeMeta(parts: { file: string; meta: RunMeta | undefined }[]): RunMeta {
  const metas = parts.map((p) => p.meta).filter((m): m is RunMeta => !!m);
  const out: RunMeta = {
    ...emptySuiteMeta(), command: `libvirt-harness merge-reports ${parts.map((p) => p.file).join(' ')}`,
    startedAt: metas.map((m) => m.startedAt).sort()[0] ?? new Date().toISOString(),
    seconds: Math.max(0, ...metas.map((m) => m.seconds)), shard: null,
    parts: parts.map((p) => ({ file: p.file, shard: p.meta?.shard ?? null, seconds: p.meta?.seconds ?? 0, command: p.meta?.command ?? '(no run metadata in this summary)' })),
    suiteFiles: metas.flatMap((m) => m.suiteFiles.map((f) => ({ ...f, file: m.shard ? `${f.file} (shard ${m.shard})` : f.file }))),
    complete: metas.length === parts.length && metas.every((m) => m.complete),
    expectFailures: metas.flatMap((m) => m.expectFailures.map((e) => ({ ...e, shard: m.shard }))),
    notes: [],
  };
  const missing = parts.filter((p) => !p.meta).map((p) => p.file);
  const stopped = metas.filter((m) => !m.complete).map((m) => `shard ${m.shard ?? '?'}: ${m.incomplete ?? 'incomplete'}`);
  if (!out.complete) out.incomplete = [...missing.map((f) => `${f} has no run metadata`), ...stopped].join('; ');
  for (const m of metas) {
    for (const h of m.hosts) if (!out.hosts.some((x) => x.key === h.key && x.id === h.id)) out.hosts.push(h);
    for (const [id, n] of Object.entries(m.goldenHosts)) out.goldenHosts[id] = (out.goldenHosts[id] ?? 0) + n;
    out.series ??= m.series;
    for (const b of m.backends) {
      const x = out.backends.find((y) => y.backend === b.backend);
      if (x) { x.seconds += b.seconds; x.cases += b.cases; } else out.backends.push({ ...b });
    }
    out.emulatedRuntime.push(...m.emulatedRuntime);
    out.tiering.push(...m.tiering);
  }
  return out;
}
