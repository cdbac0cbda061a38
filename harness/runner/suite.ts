// A whole run of the case suite as one typed function: discovery -> selection -> execution ->
// comparison -> verdicts. The tap file (harness/test/cases.test.ts) only turns the verdicts
// into TAP; the reports (JUnit, summary) are built from the same verdicts by the runner.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { basename, join, relative } from 'node:path';
import type { HostFacts } from '../model/host-facts.js';
import { profileProblem, useHostFacts } from '../profiles/load.js';
import { describeSeriesBuild, loadSeriesBuild } from '../series/manifest.js';
import type { Verdict } from '../reporters/verdict.js';
import { addBackendTimes, emptySuiteMeta, type SuiteMeta } from '../reporters/run-meta.js';
import type { CaseBackend } from './backend.js';
import { BACKENDS } from './backends.js';
import { emulatedVmsStarting } from './backends-emulated.js';
import { markMachineStarted, vmFirst } from './long-pole.js';
import type { Case } from './case.js';
import { discover, libvirtTrees } from './discover.js';
import { tieringBuild } from '../emulated/tiering-cells.js';
import { blessedByRun, executeCase, Limiter, type CaseResult, type Plan } from './execute.js';
import { emulatedGoldenOrphans } from '../emulated/golden-orphans.js';
import { goldenFilesOnDisk, readHosts, writeHost, type HostTable } from './goldens.js';
import { committedFacts, describeHost, differingFacts, hostId, realProfileOf } from './hosts.js';
import type { RunOptions } from './options.js';
import { pairsOn } from './pairs.js';
import { runFactsFile, seriesFactsFile } from './facts-file.js';
import { EMULATED, runHosts, SID } from './run-hosts.js';
import { seriesPaths } from './rules.js';
import { selectCases, shardOf } from './select.js';

export interface SuiteRun {
  cases: Case[];
  /** One promise per case, in case order (cases run concurrently, bounded per backend). */
  results: Promise<CaseResult>[];
  /** Verdicts that belong to no single case: registrations outside the profiles, orphans. */
  finish(): Promise<{ verdicts: Verdict[]; changed: string[] }>;
  notes: string[];
  /** What the HTML report shows beyond verdicts; filled while the cases run. */
  meta: SuiteMeta;
  close(): Promise<void>;
}

export function readCosts(root: string): Record<string, number> {
  const f = join(root, 'cases', 'costs.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) as Record<string, number> : {};
}

/** The facts a host differs in from the nearest committed golden host. */
function nearestDiff(t: HostTable): string {
  const best = [...t.known].map(([id, f]) => [id, differingFacts(f, t.live.facts)] as const).sort((a, b) => a[1].length - b[1].length)[0];
  return best ? `${best[0]}: ${best[1].join(', ')}` : 'none committed';
}

/** Said once, at the top of the summary, when no committed golden host is this one: the facts
 *  that differ from the nearest one, with both values. */
function unmatchedHostNote(hosts: HostTable): string | null {
  if (hosts.known.has(hosts.live.id) || !hosts.known.size) return null;
  const live = hosts.live.facts as Record<string, unknown>;
  const [nearest, diff] = [...hosts.known].map(([id, f]) => [id, differingFacts(f, hosts.live.facts)] as const)
    .sort((a, b) => a[1].length - b[1].length)[0];
  const there = hosts.known.get(nearest) as Record<string, unknown>;
  const show = (v: unknown): string => { const s = JSON.stringify(v ?? null); return s.length > 60 ? `${s.slice(0, 57)}…` : s; };
  return `this host (${hosts.live.id}) matches no committed golden host; the nearest, ${nearest}, differs in ${diff.length} facts: `
    + diff.map((k) => `${k} (here ${show(live[k])}, there ${show(there[k])})`).join('; ')
    + ' — goldens whose input reads one of them are skipped until --regenerate blesses this host';
}

export async function startSuite(root: string, o: RunOptions): Promise<SuiteRun> {
  const notes: string[] = [];
  const meta = emptySuiteMeta();
  // The host: the live probe, or a simulated one (--host-facts), against the committed hosts.
  const series = o.series ? loadSeriesBuild(o.series) : null;
  if (series && 'missing' in series) throw new Error(series.missing);
  // Under a series build the real libvirt is its daemon: the facts probed from it (series.sh).
  const seriesFacts = series ? seriesFactsFile(series.key) : null;
  if (series && o.regenerate && series.patches.length) throw new Error('--regenerate blesses from an unpatched libvirt only, never from a series under test');
  const factsFile = runFactsFile(o);
  if ((seriesFacts && factsFile === seriesFacts) || (o.liveFacts && factsFile === o.liveFacts)) useHostFacts(factsFile);
  if (series && factsFile !== seriesFacts && !o.hostFacts) notes.push(`the series daemon was not probed (${seriesFacts} missing): host facts of the machine's libvirt`);
  if (!existsSync(factsFile)) throw new Error(`no host facts at ${factsFile} (run npm run setup, or node scripts/probe-host.mjs)`);
  if (o.hostFacts) useHostFacts(o.hostFacts);
  const live = committedFacts(JSON.parse(readFileSync(factsFile, 'utf8')) as HostFacts);
  const hosts: HostTable = { live: { id: hostId(live), facts: live }, known: readHosts(root) };
  notes.push(`host ${hosts.live.id}: ${describeHost(live)}${o.hostFacts ? ` (simulated from ${relative(root, o.hostFacts)})` : ''}`);
  meta.hosts.push({
    key: '', label: 'this machine', id: hosts.live.id, libvirt: live.libvirtVersion, qemu: live.qemuVersion,
    kernel: o.hostFacts ? '(simulated host)' : release(), description: describeHost(live), committed: hosts.known.has(hosts.live.id),
    ...(o.hostFacts ? { simulatedFrom: relative(root, o.hostFacts) } : {}),
  });
  if (series) meta.series = { key: series.key, version: series.version, tree: series.tree, patches: series.patches.map((f, i) => ({ file: basename(f), subject: series.series[i] ?? '' })) };
  const unmatched = unmatchedHostNote(hosts);
  if (unmatched) notes.unshift(unmatched);

  if (series) notes.push(`real libvirt: ${describeSeriesBuild(series)} at ${series.uri}`);

  const found = discover(root, libvirtTrees(root, series ? series.srcdir : null), series?.version, tieringBuild(root, series?.patches ?? []));
  if (found.libvirtWhy) notes.push(found.libvirtWhy);
  let cases = selectCases(found.cases, o.cases);
  if (o.shard) cases = shardOf(cases, o.shard, readCosts(root));

  const realDisabled = !o.libvirt ? 'disabled by --no-libvirt'
    : o.hostFacts ? `--host-facts simulates host ${hosts.live.id}; the real libvirt on this machine is another host` : null;
  if (o.uri) notes.push(`real libvirt: the daemon at ${o.uri}`);
  // The run's hosts and their pairs: --host sid swaps the 9.0.0 emulated host for the sid one.
  const HOSTS = runHosts(o);
  const PAIRS = pairsOn(HOSTS);
  if (o.sid) notes.push('--host sid: the emulated sid host instead of the 9.0.0 one (one emulated VM at a time)');
  const ctx = { root, uri: series?.uri ?? o.uri ?? undefined, series: series ? series.key : null, realDisabled, emulated: o.emulated, sid: o.sid === true, tiering: o.tiering, realProfile: realProfileOf(live), notes, meta };
  const needed = new Set<string>();
  for (const c of cases) for (const p of PAIRS) if (p.applies(c, { realProfile: realProfileOf(live) }) !== false) {
    needed.add(p.actual);
    if (p.expected.from === 'backend') needed.add(p.expected.id);
  }
  const blessFrom = { argv: 'libvirt', xml: 'libvirt', runtime: 'runtime' } as const;
  if (o.regenerate) for (const h of HOSTS) for (const role of Object.values(blessFrom)) if (h.backends[role]) needed.add(h.backends[role]!);
  const backends = new Map<string, CaseBackend | { reason: string }>();
  const limits = new Map<string, Limiter>();
  for (const entry of BACKENDS.filter((b) => needed.has(b.id))) {
    let b: CaseBackend | { reason: string };
    try {
      b = await entry.make(ctx);
      if (!('reason' in b)) {
        const why = await b.unavailable();
        if (why) { await b.close(); b = { reason: why }; }
      }
    } catch (e) {
      b = { reason: `failed to start: ${(e as Error).message.split('\n')[0]}` };
    }
    backends.set(entry.id, b);
    limits.set(entry.id, new Limiter(entry.limit(o.runtimeJobs)));
    notes.push('reason' in b ? `backend ${entry.id}: unavailable (${b.reason})` : `backend ${entry.id}: ready`);
  }
  const prepared = o.regenerate ? cases.filter(blessedByRun) : cases;
  for (const b of backends.values()) if (!('reason' in b) && b.prepare) await b.prepare(prepared);
  // prepare() began the emulated VM's start: it comes up before the machine's work (long-pole.ts).
  const first = await vmFirst(emulatedVmsStarting());
  if (first) notes.push(first);
  markMachineStarted(o.workDir);

  const gapsFile = join(root, 'cases', 'known-gaps.json');
  // Other hosts' golden tables, once their facts are known (the emulated host's after its boot).
  const otherTables: { key: string; table: Promise<HostTable> }[] = [];
  const lazyTable = (key: string, make: () => Promise<HostTable>): (() => Promise<HostTable>) => {
    let p: Promise<HostTable> | null = null;
    return () => {
      if (!p) {
        p = make();
        otherTables.push({ key, table: p });
        void p.then((t) => notes.push(`host ${t.live.id} (${(key === SID.key ? SID : EMULATED).label}): ${describeHost(t.live.facts)}${t.known.has(t.live.id) ? '' : `; no committed golden host is this one (nearest differs in: ${nearestDiff(t)})`}`), () => undefined);
      }
      return p;
    };
  };
  const plan: Plan = {
    root, hosts, backends, ctx: { realProfile: realProfileOf(live) },
    hostTables: {
      emulated: lazyTable('emulated', async () => (await import('./backends-emulated.js')).emulatedHostTable(ctx)),
      sid: lazyTable('sid', async () => (await import('./backends-emulated.js')).emulatedHostTable(ctx, 'sid')),
    },
    runHosts: HOSTS, pairs: PAIRS,
    extraRules: series ? [seriesPaths(series)] : [],
    knownGaps: existsSync(gapsFile) ? JSON.parse(readFileSync(gapsFile, 'utf8')) as Record<string, string> : {},
    regenerate: o.regenerate, blessFrom, hostModelWhy: profileProblem('host'),
  };
  const results = cases.map((c) => executeCase(c, plan, limits).then((r) => {
    addBackendTimes(meta, r.backendMs);
    for (const h of r.goldenHosts) meta.goldenHosts[h] = (meta.goldenHosts[h] ?? 0) + 1;
    return r;
  }));
  // Suite-level checks run once per whole run: in the run itself, or in shard 1 of N.
  const full = !o.cases.length && (!o.shard || o.shard.index === 1);

  return {
    cases, results, notes, meta,
    async finish() {
      const settled = await Promise.all(results);
      const verdicts: Verdict[] = [];
      const changed = settled.flatMap((r) => r.blessed);
      if (o.regenerate) {
        // Every host blessed for: its facts committed beside its goldens.
        const tables = [hosts, ...(await Promise.allSettled(otherTables.map((t) => t.table))).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
        for (const t of tables) {
          const forks = changed.some((f) => f.includes(`.${t.live.id}.`));
          if ((forks || t === hosts) && writeHost(root, t.live.id, t.live.facts) && forks) changed.push(`golden/hosts/${t.live.id}.json`);
        }
      }
      if (full) for (const s of found.skipped) verdicts.push({ id: s.id, pair: 'libvirt-tests-vs-model', status: 'skip', detail: s.why, ms: 0 });
      // How much of libvirt's own suites the model runs, per release (what issue reports ask).
      const byVersion = new Map<string, { family: number; beyond: number; inside: number; same: number }>();
      cases.forEach((c, i) => {
        if (c.source !== 'libvirt') return;
        const v = c.profile.split('@')[1] ?? '9.0.0';
        const n = byVersion.get(v) ?? { family: 0, beyond: 0, inside: 0, same: 0 };
        byVersion.set(v, n);
        if (c.family !== false) { n.family++; return; }
        n.beyond++;
        const m = settled[i].verdicts.find((x) => x.pair === 'libvirt-tests-vs-model');
        if (m && m.status !== 'skip') { n.inside++; if (m.status === 'pass') n.same++; }
      });
      for (const [v, n] of byVersion) notes.push(`libvirt ${v}: NUMA family ${n.family} expected files on every backend; beyond it ${n.beyond} files, ${n.inside} inside the model's vocabulary, ${n.same} of those byte for byte`);
      if (full && !o.regenerate) {
        // Orphans: golden files no case used, or blessed on a host that is not committed.
        const used = new Set(settled.flatMap((r) => r.used));
        // Every discovered case owns its goldens, also those another shard runs.
        const owners = new Set(found.cases.filter((c) => c.source === 'project').map((c) => `${c.op}:${c.name}`));
        for (const f of goldenFilesOnDisk(root)) {
          if (used.has(f)) continue;
          const rel = relative(join(root, 'golden'), f);
          const [dir, file] = rel.split('/');
          const op = dir === 'xml2argv' ? 'argv' : dir === 'xml2xml' ? 'xml' : 'runtime';
          const name = [...owners].filter((k) => k.startsWith(`${op}:`)).map((k) => k.slice(op.length + 1)).find((n) => file.startsWith(`${n}.`));
          const host = name ? file.slice(name.length + 1).replace(/\.[^.]+$/, '') : '';
          const why = !name ? 'no case uses it' : !hosts.known.has(host) ? `its host ${host} has no golden/hosts/${host}.json` : null;
          if (why) verdicts.push({ id: `golden/${rel}`, pair: 'orphans', status: 'fail', detail: `orphaned golden: ${why} (remove it or add the case)`, ms: 0 });
        }
        const named = (host: string): Set<string> => new Set(found.cases.filter((c) => c.host === host).map((c) => c.name));
        for (const { file, why } of emulatedGoldenOrphans(root, named('emulated'), named('tiered'))) {
          verdicts.push({ id: `golden/${file}`, pair: 'orphans', status: 'fail', detail: `orphaned golden: ${why} (remove it or add the case)`, ms: 0 });
        }
        verdicts.push({ id: 'golden/*', pair: 'orphans', status: 'pass', ms: 0 });
      }
      return { verdicts, changed };
    },
    async close() {
      await Promise.allSettled([...backends.values()].map((b) => 'reason' in b ? null : b.close()));
    },
  };
}
