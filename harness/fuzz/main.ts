// Differential fuzzing: generated domains through the model (host profile) and the real
// libvirt (argv and xml) of a private daemon the run owns (pool.ts; never qemu:///system; its
// crashes are findings, findings.ts), compared with the project's rules. Every disagreement is shrunk with
// fast-check (replaying its arbitrary, seed and path, replay.ts; shrinking re-runs libvirt,
// within a budget) and written as a project case with goldens from the real libvirt. After the
// main draw, a top-up (topup.ts) aims a few more domains at each catalogue message it missed.
//
//   npm run fuzz -- [--seed S] [--count N] [--top-up K] [--out cases/] [--json] [--jobs J]
//                   [--shrink-budget B] [--per-cause K] [--no-write] [--require-reach]
//
// Same seed, same domains, same verdicts, same cases: generation is fast-check's (seeded, the
// top-up's seeds derived from the run's), results are kept by index whatever order the libvirt
// sessions finish in, and shrinking is bounded by a count of libvirt evaluations, never by time.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { loadProfile } from '../profiles/load.js';
import { Batch, overSessions } from './batch.js';
import { alignHugetlbfs } from './daemon-facts.js';
import { shrink, writeCase, type Written } from './disagreements.js';
import { crashFindings } from './findings.js';
import { parseArgs } from './options.js';
import { DaemonPool } from './pool.js';
import { aimsMet, missed, modelTemplates, orphanAims, outsideCatalogue, reachOf } from './reach.js';
import { FAULTS } from './faults.js';
import { draw } from './replay.js';
import { renderDomain } from './render.js';
import { buildReport, formatReport, type ReportInput } from './report.js';
import { topUpAims, topUpSeed } from './topup.js';
import { normaliseMessage, PROFILE, type Result } from './verdicts.js';

// ---------------------------------------------------------------------------------------------
// The real libvirt: sessions on a private daemon (pool.ts), never the machine's

/** The machine's own libvirtd (pid file + start time): it must be the same after a run. */
export function machineDaemon(): string {
  try {
    const pid = readFileSync('/run/libvirtd.pid', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid}@${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return 'none';
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const secs = (): number => (performance.now() - t0) / 1000;
  const log = (s: string): void => { process.stderr.write(`fuzz: ${s}\n`); };
  const templates = modelTemplates();

  // 1. The domains, exactly as fc.check generates them for this seed (so a path replays one).
  const b = new Batch();
  const drawn = draw({ kind: 'main' }, o.seed, o.count);
  const tGen = secs();

  // 2. The real libvirt: a private daemon, replaced whenever it dies; then the model, told the
  // facts of that daemon where they differ from the machine's (daemon-facts.ts).
  const machineBefore = machineDaemon();
  let pool: DaemonPool;
  try {
    pool = await DaemonPool.open(o.jobs);
  } catch (e) {
    process.stderr.write(`fuzz: a private libvirtd is needed: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const factsNote = await alignHugetlbfs(pool.uri);
  if (factsNote) log(factsNote);
  const profile = loadProfile(PROFILE);
  const tModel0 = secs();
  b.add(drawn.specs, drawn.replays);
  const tModel = secs();
  const stopOnSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`fuzz: ${sig}: stopping the private libvirtd\n`);
    void pool.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  let written: Written[] = [];
  let findings: Awaited<ReturnType<typeof crashFindings>> = { kinds: [], cases: [], notes: [], errors: [] };
  const byCause = new Map<string, Result[]>();
  const infra: string[] = [];
  // --require-reach: a fault aimed at a message the catalogue no longer has is the harness's own
  // error (no reach figure would show it; only fuzz-reach.test.ts caught one, after 24bfa24).
  if (o.requireReach) for (const a of orphanAims(templates, FAULTS.map((f) => f.aim))) infra.push(`a fault aims at a message the model's catalogue does not have: ${a}`);
  // What the main draw reached, before the top-up: the top-up's aims.
  let reachedMain = reachOf(templates, [], profile);
  const topUp: ReportInput['topUp'] = { perAim: o.topUp, aims: [], from: o.count, to: o.count, seconds: 0 };
  let tRun = tModel;
  try {
    const step = Math.max(100, Math.ceil(o.count / 10));
    await b.runLibvirt(pool, 0, o.count, (done) => { if (done % step === 0 && done < o.count) log(`${done}/${o.count} (${secs().toFixed(1)} s)`); });
    tRun = secs();

    // 3. The top-up: a few domains aimed at each message the main draw missed (topup.ts).
    reachedMain = reachOf(templates, b.said(), profile);
    const aims = o.topUp > 0 ? topUpAims(reachedMain) : [];
    for (const aim of aims) {
      const d = draw({ kind: 'top-up', aim }, topUpSeed(o.seed, aim), o.topUp);
      const { from, to } = b.add(d.specs, d.replays);
      topUp.aims.push({ aim, seed: d.replays[0].seed, from, to });
    }
    topUp.to = b.specs.length;
    if (aims.length) {
      log(`top-up: ${topUp.to - topUp.from} domain(s) aimed at ${aims.length} message(s) the main draw missed`);
      await b.runLibvirt(pool, topUp.from, topUp.to);
    }
    topUp.seconds = secs() - tRun;

    // 4. Crashes: shrunk on private daemons, one case per kind (findings.ts).
    findings = await crashFindings(pool, o, pool.events.slice(), b.xmls, b.replays, log);

    // 5. Shrink the first few disagreements of each kind, and write them as cases.
    for (const r of b.results) if (r.verdict === 'disagree') {
      const list = byCause.get(r.signature!) ?? [];
      list.push(r);
      byCause.set(r.signature!, list);
    }
    const toShrink = [...byCause.values()].flatMap((l) => l.slice(0, o.perCause));
    if (toShrink.length) log(`shrinking ${toShrink.length} disagreement(s) of ${byCause.size} kind(s)`);
    try {
      const shrunk = await overSessions(pool, toShrink.length, (w, k) =>
        shrink(pool, w, b.replays[toShrink[k].index], toShrink[k].index, b.xmls[toShrink[k].index], toShrink[k].signature!, o.shrinkBudget));
      // Several domains of one kind often shrink to the same case: write each once.
      const seen = new Set<string>();
      const unique = shrunk.filter((s) => { const x = renderDomain(s.spec); if (seen.has(x)) return false; seen.add(x); return true; });
      written = await overSessions(pool, unique.length, (w, k) => writeCase(pool, w, o, unique[k]));
    } catch (e) {
      infra.push(`shrinking disagreements: ${(e as Error).message.split('\n')[0]}`);
    }
  } finally {
    await pool.close().catch(() => undefined);
    process.removeListener('SIGINT', stopOnSignal);
    process.removeListener('SIGTERM', stopOnSignal);
  }
  const tEnd = secs();
  const machineAfter = machineDaemon();
  const allInfra = [...b.infra, ...findings.errors, ...infra];

  // 6. Report (always, whatever happened above).
  const said = b.said();
  const reached = reachOf(templates, said, profile);
  const outside = outsideCatalogue(templates, said, normaliseMessage);
  const shares = { raw: 0, tame: 0, fault: 0 };
  for (const x of b.specs.slice(0, o.count)) if (x.share !== 'top-up') shares[x.share ?? 'raw']++;
  // Did a fault make libvirt say what it aimed at? (Its first error of argv or xml.) The main
  // draw's faults and the top-up's apart.
  const aims = aimsMet(templates, b.aimed(0, o.count));
  const topUpAimsMet = aimsMet(templates, b.aimed(topUp.from, topUp.to));
  const causes = [...byCause].map(([signature, list]) => ({
    signature,
    domains: list.length,
    first: list[0].index,
    diff: list[0].diffs.join('\n'),
    cases: written.filter((w) => w.signature === signature).map((w) => ({
      name: w.name, file: relative(process.cwd(), w.file), goldens: w.goldens.map((g) => relative(process.cwd(), g)),
      from: w.from, replay: w.replay, shrinks: w.shrinks, libvirtRuns: w.libvirtRuns, diff: w.diffs.join('\n'), xml: w.xml,
    })),
  }));
  const accepted = b.realOut.filter((r) => r && r.argv.kind === 'ok' && r.xml.kind === 'ok').length;
  const refused = b.realOut.filter((r) => r && (r.argv.kind === 'error' || r.xml.kind === 'error')).length;
  const report = buildReport({
    o, results: b.results, seconds: { total: tEnd, generate: tGen, model: tModel - tModel0, libvirt: tRun - tModel + tModel0 - tGen, topUp: topUp.seconds, shrink: tEnd - tRun - topUp.seconds },
    accepted, refused, refusedBy: b.refusedBy, errors: b.errors, reached, reachedMain, outside, shares, aims, topUp, topUpAimsMet, causes,
    crashKinds: findings.kinds, crashCases: findings.cases, crashNotes: findings.notes, unstable: b.rechecker.out.unstable, garbled: b.rechecker.out.garbled, rechecks: { rerun: b.rechecker.out.rerun, confirmed: b.rechecker.out.confirmed }, infra: allInfra,
    machine: { before: machineBefore, after: machineAfter }, restarts: pool.restarts,
  });
  process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  // Crashes are libvirt's bugs, reported and written as cases, but not a failure of the run: a
  // corrupted heap dies at varying times, so whether a run meets one is not repeatable. The
  // exit status guards the model (disagreements), the harness (infrastructure) and the machine.
  // --require-reach adds the catalogue: every message reached or exempt (reach.ts), top-up included.
  process.exitCode = report.figures.disagree || allInfra.length || !report.machineDaemon.same || (o.requireReach && missed(reached).length) ? 1 : 0;
}

main().catch((e: Error) => {
  process.stderr.write(`fuzz: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
