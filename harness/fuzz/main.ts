// Differential fuzzing: generated domains through the model (host profile) and the real
// libvirt (argv and xml) of a private daemon the run owns (pool.ts; never qemu:///system; its
// crashes are findings, findings.ts), compared with the project's rules. Every disagreement is shrunk with
// fast-check (replaying its seed and path; shrinking re-runs libvirt, within a budget) and
// written as a project case with goldens from the real libvirt.
//
//   npm run fuzz -- [--seed S] [--count N] [--out cases/] [--json] [--jobs J]
//                   [--shrink-budget B] [--per-cause K] [--no-write] [--require-reach]
//
// Same seed, same domains, same verdicts, same cases: generation is fast-check's (seeded),
// results are kept by index whatever order the libvirt sessions finish in, and shrinking is
// bounded by a count of libvirt evaluations, never by time.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import fc from 'fast-check';
import type { Operation, Outcome } from '../backends/types.js';
import { loadProfile } from '../profiles/load.js';
import { alignHugetlbfs } from './daemon-facts.js';
import { shrink, writeCase, type Written } from './disagreements.js';
import { crashFindings, type CrashCaseReport, type CrashKind } from './findings.js';
import { parseArgs } from './options.js';
import { DaemonPool, type RealResult } from './pool.js';
import { aimsMet, missed, modelTemplates, outsideCatalogue, reachOf } from './reach.js';
import { renderDomain } from './render.js';
import { buildReport, formatReport, type Counts } from './report.js';
import type { DomainSpec } from './spec.js';
import { causeOp, hostDomainSpec, judge, model, normaliseMessage, opVerdict, OPS, PROFILE, type Result } from './verdicts.js';

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

/** Run `fn` over 0..n-1 with one worker per session; results by index. */
async function overSessions<T>(pool: DaemonPool, n: number, fn: (w: number, i: number) => Promise<T>, progress?: (done: number) => void): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  let done = 0;
  await Promise.all(Array.from({ length: pool.jobs }, async (_, w) => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      out[i] = await fn(w, i);
      progress?.(++done);
    }
  }));
  return out;
}

// ---------------------------------------------------------------------------------------------

function bump(c: Counts, msg: string, col: number): void {
  let row = c.get(msg);
  if (!row) c.set(msg, (row = [0, 0, 0, 0]));
  row[col]++;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const log = (s: string): void => { process.stderr.write(`fuzz: ${s}\n`); };

  // 1. The domains, exactly as fc.check generates them for this seed (so a path replays one).
  const specs: DomainSpec[] = [];
  fc.check(fc.property(hostDomainSpec(), (s) => { specs.push(s); }), { seed: o.seed, numRuns: o.count });
  const xmls = specs.map(renderDomain);
  const tGen = performance.now();

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
  const tModel0 = performance.now();
  const models = xmls.map((x) => ({ argv: model('argv', x), xml: model('xml', x) }));
  const tModel = performance.now();
  const stopOnSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`fuzz: ${sig}: stopping the private libvirtd\n`);
    void pool.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const errors: Counts = new Map();
  const refusedBy = new Map<string, number>(); // libvirt's first error per domain
  const realOut: (Record<Operation, Outcome> | null)[] = new Array(xmls.length).fill(null);
  const infra: string[] = [];
  let results: Result[] = [];
  let written: Written[] = [];
  const crashKinds: CrashKind[] = [];
  const crashCases: CrashCaseReport[] = [];
  const unstable: { index: number; op: Operation; run: string; fresh: string }[] = [];
  const garbled: { index: number; op: Operation; libvirt: string; model: string }[] = [];
  const crashNotes: string[] = [];
  const byCause = new Map<string, Result[]>();
  let tRun = performance.now();
  try {
    const step = Math.max(100, Math.ceil(o.count / 10));
    results = await overSessions(pool, xmls.length, async (w, i) => {
      OPS.forEach((op, k) => { const m = models[i][op]; if (m.kind === 'error') bump(errors, normaliseMessage(m.message), k); });
      const r = {} as Record<Operation, Outcome>;
      for (const op of OPS) {
        let out: RealResult;
        try {
          out = await pool.run(w, { index: i, op, xml: xmls[i] });
        } catch (e) {
          // Infrastructure (virsh timing out, …): a skip with its reason, never an end.
          infra.push(`#${i} ${op}: ${(e as Error).message.split('\n')[0]}`);
          return { index: i, verdict: 'skip', ops: { argv: 'skip', xml: 'skip' }, diffs: [] } satisfies Result;
        }
        if (out.kind === 'crash') return { index: i, verdict: 'crash', ops: { argv: op === 'argv' ? 'crash' : 'skip', xml: op === 'xml' ? 'crash' : 'skip' }, diffs: [] } satisfies Result;
        r[op] = out;
      }
      realOut[i] = r;
      OPS.forEach((op, k) => { if (r[op].kind === 'error') bump(errors, normaliseMessage((r[op] as { message: string }).message), 2 + k); });
      const first = OPS.map((op) => r[op]).find((x) => x.kind === 'error');
      if (first && first.kind === 'error') refusedBy.set(normaliseMessage(first.message), (refusedBy.get(normaliseMessage(first.message)) ?? 0) + 1);
      return judge(i, r, models[i]);
    }, (done) => { if (done % step === 0 && done < o.count) log(`${done}/${o.count} (${((performance.now() - t0) / 1000).toFixed(1)} s)`); });
    tRun = performance.now();

    // 3. A disagreement is first re-run on a fresh daemon: libvirt 9.0.0 corrupts its heap on some
    // error paths, after which its messages can come out garbled ("XML erro"). When the fresh
    // daemon's answer agrees with the model, libvirt's answer depended on what the daemon had
    // seen before: 'unstable', a libvirt finding, not a model disagreement.
    for (const r of results.filter((x) => x.verdict === 'disagree').slice(0, 40)) {
      const op = causeOp(r.signature!);
      await pool.fresh();
      const again = await pool.run(0, { index: r.index, op, xml: xmls[r.index] }, false);
      if (again.kind === 'crash') {
        // It kills a fresh daemon alone: a crash, which the run met as a garbled answer.
        again.event.culprit = { index: r.index, op, xml: xmls[r.index] };
        r.verdict = 'crash';
        r.ops[op] = 'crash';
        continue;
      }
      const mod = models[r.index][op];
      // Cut short on a fresh daemon too ('XML erro' where the model says 'XML error: Missing …'):
      // the message was freed before it was sent, a libvirt heap bug on this input alone
      // ('garbled', a libvirt finding listed with its input, not a model disagreement).
      if (again.kind === 'error' && mod.kind === 'error' && again.message.length < mod.message.length && mod.message.startsWith(again.message)) {
        r.verdict = 'garbled';
        garbled.push({ index: r.index, op, libvirt: again.message, model: mod.message });
        continue;
      }
      if (opVerdict(again, mod).verdict !== 'agree') continue;
      const run = realOut[r.index]![op];
      r.verdict = 'unstable';
      unstable.push({ index: r.index, op, run: run.kind === 'error' ? run.message : '(output)', fresh: again.kind === 'error' ? again.message : '(output)' });
    }

    const events = pool.events.slice();

    // 4. Crashes: shrunk on private daemons, one case per kind (findings.ts).
    const found = await crashFindings(pool, o, events, xmls, log);
    crashKinds.push(...found.kinds);
    crashCases.push(...found.cases);
    crashNotes.push(...found.notes);
    infra.push(...found.errors);

    // 5. Shrink the first few disagreements of each kind, and write them as cases.
    for (const r of results) if (r.verdict === 'disagree') {
      const list = byCause.get(r.signature!) ?? [];
      list.push(r);
      byCause.set(r.signature!, list);
    }
    const toShrink = [...byCause.values()].flatMap((l) => l.slice(0, o.perCause));
    if (toShrink.length) log(`shrinking ${toShrink.length} disagreement(s) of ${byCause.size} kind(s)`);
    try {
      const shrunk = await overSessions(pool, toShrink.length, (w, k) =>
        shrink(pool, w, o.seed, toShrink[k].index, xmls[toShrink[k].index], toShrink[k].signature!, o.shrinkBudget));
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
  const tEnd = performance.now();
  const machineAfter = machineDaemon();

  // 6. Report (always, whatever happened above).
  const templates = modelTemplates();
  // The model's errors beside libvirt's answer on the same domain and operation (reach.ts).
  const said = models.flatMap((mo, i) => OPS.flatMap((op) => {
    const m = mo[op];
    const r = realOut[i]?.[op];
    return m.kind === 'error' && r ? [{ model: m.message, libvirt: r.kind === 'error' ? r.message : null }] : [];
  }));
  const reached = reachOf(templates, said, loadProfile(PROFILE));
  const outside = outsideCatalogue(templates, said, normaliseMessage);
  const shares = { raw: 0, tame: 0, fault: 0 };
  for (const x of specs) shares[x.share ?? 'raw']++;
  // Did a fault make libvirt say what it aimed at? (Its first error of argv or xml.)
  const aims = aimsMet(templates, specs.flatMap((x, i) => (x.aim && realOut[i]
    ? [{ aim: x.aim, libvirt: OPS.map((op) => { const r = realOut[i]![op]; return r.kind === 'error' ? r.message : null; }) }] : [])));
  const causes = [...byCause].map(([signature, list]) => ({
    signature,
    domains: list.length,
    first: list[0].index,
    diff: list[0].diffs.join('\n'),
    cases: written.filter((w) => w.signature === signature).map((w) => ({
      name: w.name, file: relative(process.cwd(), w.file), goldens: w.goldens.map((g) => relative(process.cwd(), g)),
      from: w.from, path: w.path, shrinks: w.shrinks, libvirtRuns: w.libvirtRuns, diff: w.diffs.join('\n'), xml: w.xml,
    })),
  }));
  const accepted = realOut.filter((r) => r && r.argv.kind === 'ok' && r.xml.kind === 'ok').length;
  const refused = realOut.filter((r) => r && (r.argv.kind === 'error' || r.xml.kind === 'error')).length;
  const report = buildReport({
    o, results, seconds: { total: (tEnd - t0) / 1000, generate: (tGen - t0) / 1000, model: (tModel - tModel0) / 1000, libvirt: (tRun - tModel + tModel0 - tGen) / 1000, shrink: (tEnd - tRun) / 1000 },
    accepted, refused, refusedBy, errors, reached, outside, shares, aims, causes, crashKinds, crashCases, crashNotes, unstable, garbled, infra,
    machine: { before: machineBefore, after: machineAfter }, restarts: pool.restarts,
  });
  process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  // Crashes are libvirt's bugs, reported and written as cases, but not a failure of the run: a
  // corrupted heap dies at varying times, so whether a run meets one is not repeatable. The
  // exit status guards the model (disagreements), the harness (infrastructure) and the machine.
  // --require-reach adds the catalogue: every message reached or exempt (reach.ts).
  process.exitCode = report.figures.disagree || infra.length || !report.machineDaemon.same || (o.requireReach && missed(reached).length) ? 1 : 0;
}

main().catch((e: Error) => {
  process.stderr.write(`fuzz: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
