// `npm test`: parse the options once, run the suite files under node-tap (the TAP engine),
// then fold everything they produced — case verdicts and every unit test's result read back
// from TAP — into one verdict: the exit status, the summary, JUnit and --expect-failures all
// see the same failures.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import fg from 'fast-glob';
import { availableParallelism, freemem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJunit } from '../reporters/junit.js';
import type { RunSummary } from '../reporters/merge.js';
import { writeAtomic } from '../neutral/atomic-file.js';
import { summaryLines } from '../reporters/summary.js';
import { parseTap, unitVerdicts } from '../reporters/tap-results.js';
import { readSuiteRecords, type Verdict } from '../reporters/verdict.js';
import { defaultJobs, parseRunArgs, RUN_ENV, UsageError, USAGE, type RunOptions } from './options.js';
import { runFactsFile } from './facts-file.js';
import { suiteJs } from './suite-js.js';
import { machineStarted } from './long-pole.js';
import { expectLines, expectReport } from './expect-failures.js';
import { runMetaOf, type RunState } from './run-meta-of.js';
import type { RunMeta } from '../reporters/run-meta.js';
import { writeReport } from '../reporters/html/page.js';
import type { ChildProcess } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Suite files whose verdicts come from the runner library, not from their TAP. */
const CASE_SUITES = new Set(['harness/test/cases.test.ts']);

function suiteFiles(o: RunOptions): string[] {
  // A subset or a blessing runs the case suite; the full run adds the unit tests (a sharded
  // full run: in shard 1, so that the shards together run exactly what one run does).
  if (o.cases.length || o.regenerate || (o.shard && o.shard.index !== 1)) return ['harness/test/cases.test.ts'];
  // The case suite first: it is the longest, the unit tests fill the other core meanwhile.
  const files = fg.sync('harness/test/**/*.test.ts', { cwd: root }).sort();
  return [...files.filter((f) => CASE_SUITES.has(f)), ...files.filter((f) => !CASE_SUITES.has(f))];
}

/** TAP_TYPECHECK=1: the suite files as TypeScript under node-tap's loader, type-checked (slow). */
const LOADER = ['--import=@tapjs/typescript/import', '--enable-source-maps'];
const typecheck = process.env.TAP_TYPECHECK === '1';

/** Each suite file in its own node process (node-tap prints TAP when run directly), several at
 *  once. Not through the `tap` runner: two tap runners in one project (parallel shards, other
 *  users) race on its .tap/ directory. */
const children = new Set<ChildProcess>();

async function runFiles(files: string[], o: RunOptions, jobs: number): Promise<{ file: string; code: number; tap: string; seconds: number }[]> {
  const js = typecheck ? [] : suiteJs(root, files);
  const run = (file: string, i: number): Promise<{ file: string; code: number; tap: string; seconds: number }> => new Promise((done) => {
    const t0 = performance.now();
    const argv = typecheck ? [...LOADER, file] : ['--enable-source-maps', js[i]];
    const child = spawn(process.execPath, argv, { cwd: root, env: { ...process.env, [RUN_ENV]: JSON.stringify(o), TAP_TIMEOUT: '0', TS_NODE_TRANSPILE_ONLY: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let tap = '';
    child.stdout.on('data', (d: Buffer) => { tap += d; });
    child.on('close', (c, sig) => { children.delete(child); done({ file, code: c ?? (sig ? 128 : 1), tap, seconds: (performance.now() - t0) / 1000 }); });
  });
  const out: { file: string; code: number; tap: string; seconds: number }[] = [];
  let next = 0;
  let n = 0;
  // The case suite first; the unit-test files once its VM is up and its cases run (long-pole.ts).
  let caseSuiteEnded = false;
  const gate = CASE_SUITES.has(files[0]!) && files.length > 1 && o.emulated && o.workDir
    ? () => machineStarted(o.workDir, () => caseSuiteEnded) : null;
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, async (_, slot) => {
    if (slot > 0 && gate) await gate();
    while (next < files.length) {
      const i = next++;
      const r = await run(files[i], i);
      if (i === 0) caseSuiteEnded = true;
      out.push(r);
      // Shown as tap shows it: each file a subtest of the run.
      process.stdout.write(`# Subtest: ${r.file}\n${r.tap.replace(/^(?=.)/gm, '    ')}${r.code === 0 ? 'ok' : 'not ok'} ${++n} - ${r.file}\n`);
    }
  }));
  process.stdout.write(`1..${n}\n`);
  return out;
}

/** The host's facts drive every pair: probe the machine's libvirt again when anything the facts
 *  depend on changed since the last probe (scripts/probe-host.mjs --if-stale). A fact the probe
 *  cannot decide stops the run before any pair. A series run's daemon is probed by series.sh. */
function probeHost(o: RunOptions): string | null {
  if (!o.libvirt || o.hostFacts || o.series || o.uri || (process.getuid && process.getuid() !== 0)) return null;
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'probe-host.mjs'), '--if-stale'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? '';
  if (r.status !== 0) throw new UsageError(`the host's facts cannot be decided, so no pair can be judged: ${said || `probe-host exited ${r.status ?? r.signal}`}`);
  return said;
}

/** On Ctrl-C / SIGTERM / SIGHUP the suite files get the signal too (a signal sent to this process
 *  alone, not its group, must not leave them running on: each cleans up what it started), and
 *  with --html the page is written for what they had recorded, marked incomplete; then the run
 *  ends as the signal would end it. */
const signalStatus = (sig: NodeJS.Signals): number => 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as Record<string, number>)[sig]!;

function stopOnSignal(o: RunOptions, state: RunState): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    for (const c of children) c.kill(sig);
    if (!o.html) process.exit(signalStatus(sig));
    try {
      const records = readSuiteRecords(o.workDir);
      const verdicts = records.flatMap((r) => r.verdicts);
      writeReport(o.html!, verdicts, runMetaOf(o, { ...state, interrupted: `interrupted by ${sig}` }, records, [...new Set(records.flatMap((r) => r.notes))], null));
      console.error(`npm test: interrupted by ${sig}; HTML report of what ran: ${o.html}`);
    } catch (e) {
      console.error(`npm test: interrupted by ${sig}; no HTML report: ${(e as Error).message.split('\n')[0]}`);
    }
    rmSync(o.workDir, { recursive: true, force: true });
    process.exit(signalStatus(sig));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, onSignal);
}

/** `npm run versions`' report for the HTML page; a reason instead of it never fails the run. */
async function releasesReport(): Promise<RunMeta['versions']> {
  try {
    const { buildReport } = await import('../versions/main.js');
    const r = buildReport(null);
    return r.releases.length < 2 ? { unavailable: `goldens of ${r.releases.length} release(s) on the emulated topology; two are needed` } : r;
  } catch (e) {
    return { unavailable: (e as Error).message.split('\n')[0] };
  }
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const workDir = join(root, '.cache', 'runs', String(process.pid));
  if (process.argv.includes('--help') || process.argv.includes('-h')) { console.log(USAGE); return 0; }
  let o: RunOptions;
  try {
    o = parseRunArgs(process.argv.slice(2), process.cwd(), workDir, defaultJobs(availableParallelism(), Math.floor(freemem() / 2 ** 20)));
  } catch (e) {
    if (e instanceof UsageError) { console.error(`npm test: ${e.message}\n${USAGE}`); return 2; }
    throw e;
  }
  if (o.expectFailures && !existsSync(o.expectFailures)) { console.error(`npm test: --expect-failures: no such file ${o.expectFailures}`); return 2; }
  try {
    const probed = probeHost(o);
    if (probed) console.log(`# ${probed}`);
  } catch (e) {
    if (e instanceof UsageError) { console.error(`npm test: ${e.message}`); return 2; }
    throw e;
  }
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const files = suiteFiles(o);
  const state: RunState = { args: process.argv.slice(2), startedAt, caseSuite: files.some((f) => CASE_SUITES.has(f)), suiteFiles: [] };
  stopOnSignal(o, state);
  try {
    const ran = await runFiles(files, o, Math.max(2, availableParallelism()));
    state.suiteFiles = ran.map((r) => ({ file: r.file, seconds: r.seconds, exit: r.code }));
    const records = readSuiteRecords(workDir);
    const verdicts: Verdict[] = records.flatMap((r) => r.verdicts);
    const notes = records.flatMap((r) => r.notes);
    for (const r of ran) {
      const f = parseTap(r.file, r.tap, r.code === 0);
      if (!CASE_SUITES.has(f.file)) { verdicts.push(...unitVerdicts(f)); continue; }
      const recorded = records.find((r) => f.file.endsWith(`${r.suite}.test.ts`));
      const failing = recorded?.verdicts.filter((v) => v.status === 'fail').length ?? 0;
      if (!recorded || f.failedLeaves > failing || (!f.ok && !failing))
        verdicts.push({ id: `suite/${f.file}`, pair: 'suite', status: 'fail', ms: 0, detail: recorded ? `${f.failedLeaves} failing assertions in TAP, ${failing} failing verdicts: something failed outside the comparisons (see TAP)` : 'the suite left no verdicts (it crashed before its end: see TAP)' });
    }
    const bad = ran.filter((r) => r.code !== 0).map((r) => `${r.file} (exit ${r.code})`);
    if (bad.length && !verdicts.some((v) => v.status === 'fail')) verdicts.push({ id: 'suite/tap', pair: 'suite', status: 'fail', ms: 0, detail: `${bad.join(', ')} failed without a failing test in the output` });
    const changed = records.flatMap((r) => r.changed);
    if (changed.length) console.log(`# golden files changed:\n${changed.map((f) => `#   ${f}`).join('\n')}`);
    const times = ran.map((r) => `${r.file.replace(/^harness\/test\//, '')} ${r.seconds.toFixed(1)} s`).join(', ');
    console.log(summaryLines(verdicts, [...new Set(notes), `suite files (wall time each, ${Math.max(2, availableParallelism())} at once): ${times}`]).join('\n'));
    if (o.junit) { writeJunit(o.junit, verdicts); console.log(`# JUnit: ${o.junit}`); }
    const costs = Object.assign({}, ...records.map((r) => r.costs ?? {})) as Record<string, number>;
    // --expect-failures, computed once: its lines below, its entries on the page.
    let expect: ReturnType<typeof expectReport> | null = null;
    if (o.expectFailures) {
      const facts = JSON.parse(readFileSync(runFactsFile(o), 'utf8')) as { virtTypes?: string[]; kvmUsable?: boolean };
      expect = expectReport(o.expectFailures, verdicts, { kvm: facts.virtTypes ? facts.virtTypes.includes('kvm') : !!facts.kvmUsable });
    }
    const meta = runMetaOf(o, state, records, [...new Set(notes)], expect);
    if (o.html) {
      meta.versions = await releasesReport();
      writeReport(o.html, verdicts, meta);
      console.log(`# HTML: ${o.html}`);
    }
    if (o.summaryJson) {
      const summary: RunSummary = { shard: o.shard ? `${o.shard.index}/${o.shard.total}` : null, cases: Object.keys(costs), verdicts, notes: [...new Set(notes)], meta };
      writeAtomic(o.summaryJson, JSON.stringify(summary));
      console.log(`# summary JSON: ${o.summaryJson}`);
    }
    if (o.recordCosts) {
      // Rounded, so that a rerun does not rewrite the file for noise; merged with what is there.
      const file = join(root, 'cases', 'costs.json');
      const old = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Record<string, number> : {};
      for (const [id, s] of Object.entries(costs)) old[id] = Math.round(s * 100) / 100;
      writeAtomic(file, JSON.stringify(Object.fromEntries(Object.entries(old).sort(([a], [b]) => (a < b ? -1 : 1))), null, 1) + '\n');
      console.log(`# costs of ${Object.keys(costs).length} cases recorded in cases/costs.json`);
    }
    const failed = verdicts.some((v) => v.status === 'fail');
    if (expect) {
      console.log(expectLines(expect).join('\n'));
      return expect.passed ? 0 : 1;
    }
    return failed ? 1 : 0;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
