// Model speed on libvirt's NUMA family (xml2argv and xml2xml), in one process on one core,
// against libvirt's own C test programs (reference figures measured elsewhere) and, when
// qemu:///system answers, against the real libvirt through `virsh domxml-to-native`.
//
//   node dist/bench/main.js [--json] [--iterations N] [--warmup N] [--tree DIR] [--no-pin] [--no-virsh]
//
// One core: unless --no-pin, the process re-executes itself under `taskset -c CPU` (the last CPU
// it may run on), so the JS thread, V8's helper threads and the virsh children share one CPU.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import fg from 'fast-glob';
import { runModel } from '../backends/model.js';
import type { Operation } from '../backends/types.js';
import { libvirtCases } from '../runner/libvirt-cases.js';

const REFERENCE_MS: Record<Operation, number> = { argv: 2, xml: 0.85 }; // qemuxml2argvtest, qemuxml2xmltest
const TARGET_MS: Record<Operation, number> = { argv: 0.2, xml: 0.085 };
const VIRSH_FILES = 20;
const OPS: Operation[] = ['argv', 'xml'];

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

interface Options {
  json: boolean;
  iterations: number;
  warmup: number;
  tree: string;
  pin: boolean;
  virsh: boolean;
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg} (usage: node dist/bench/main.js [--json] [--iterations N] [--warmup N] [--tree DIR] [--no-pin] [--no-virsh])\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    json: false,
    iterations: 2000, // passes over the NUMA family; a few seconds in all
    warmup: 300, // V8 needs a few hundred passes before the code is optimised
    tree: process.env.HARNESS_LIBVIRT_TREE ?? join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0'),
    pin: true,
    virsh: true,
  };
  const int = (v: string | undefined, name: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) usage(`${name} wants a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--iterations') o.iterations = int(argv[++i], a);
    else if (a === '--warmup') o.warmup = int(argv[++i], a);
    else if (a === '--tree') o.tree = argv[++i] ?? usage('--tree wants a directory');
    else if (a === '--no-pin') o.pin = false;
    else if (a === '--no-virsh') o.virsh = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node dist/bench/main.js [--json] [--iterations N] [--warmup N] [--tree DIR] [--no-pin] [--no-virsh]\n');
      process.exit(0);
    } else usage(`unknown option '${a}'`);
  }
  return o;
}

/** Re-run under taskset on one CPU; returns a description of the pinning, or exits with the child's status. */
function pinToOneCore(o: Options): string {
  const pinned = process.env.LVH_BENCH_PINNED;
  if (pinned) return `pinned to cpu ${pinned} (taskset)`;
  if (!o.pin) return 'not pinned (--no-pin)';
  let cpus: number[] = [];
  try {
    const list = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
    for (const part of list.split(',')) {
      const [a, b] = part.split('-').map(Number);
      for (let c = a; c <= (b ?? a); c++) if (Number.isInteger(c)) cpus.push(c);
    }
  } catch {
    cpus = [];
  }
  if (!cpus.length) return 'not pinned (no /proc/self/status Cpus_allowed_list)';
  const cpu = String(cpus[cpus.length - 1]);
  const r = spawnSync('taskset', ['-c', cpu, process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, LVH_BENCH_PINNED: cpu },
  });
  if (r.error) return `not pinned (taskset: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  process.exit(r.status ?? 1);
}

const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

interface ModelFigures {
  cases: number;
  calls: number;
  medianMs: number;
  meanMs: number;
  casesPerSecond: number;
  referenceMs: number;
  referenceOverModel: number;
  targetMs: number;
  targetMet: boolean;
}

interface Report {
  node: string;
  pinning: string;
  iterations: number;
  warmup: number;
  libvirtTree: string;
  model: Partial<Record<Operation, ModelFigures>>;
  modelSkipped?: string;
  modelCrashed: { id: string; error: string }[];
  registrationsSkipped: number;
  virsh: {
    skipped?: string;
    files?: number;
    ok?: number;
    errors?: number;
    medianMs?: number;
    meanMs?: number;
    modelSameFilesMedianMs?: number;
    realOverModel?: number;
    realOverModelSameFiles?: number;
    note?: string;
  };
  /** The libvirt backend as the runner uses it: one long-lived virsh session, every project case. */
  backend: {
    skipped?: string;
    files?: number;
    argvMedianMs?: number;
    xmlMedianMs?: number;
    modelArgvMedianMs?: number;
    modelXmlMedianMs?: number;
    argvRealOverModel?: number;
    xmlRealOverModel?: number;
  };
  peakRssMiB: number;
  reference: string;
}

/** Real libvirt through the runner's backend vs the model (host profile) on the same files, same run. */
async function benchBackend(o: Options, report: Report): Promise<void> {
  if (!o.virsh) { report.backend.skipped = 'disabled by --no-virsh'; return; }
  const { LibvirtBackend } = await import('../backends/libvirt.js');
  const backend = new LibvirtBackend();
  try {
    const why = await backend.unavailable();
    if (why) { report.backend.skipped = why; return; }
    const files = fg.sync('cases/*.xml', { cwd: root, absolute: true }).sort();
    const inputs = files.map((f) => readFileSync(f, 'utf8'));
    const times = { argv: [] as number[], xml: [] as number[], margv: [] as number[], mxml: [] as number[] };
    for (const text of inputs) {
      let t0 = performance.now(); await backend.argv(text, 'host'); times.argv.push(performance.now() - t0);
      t0 = performance.now(); await backend.xml(text, 'host'); times.xml.push(performance.now() - t0);
      for (let i = 0; i < 20; i++) {
        t0 = performance.now(); runModel('argv', text, 'host'); times.margv.push(performance.now() - t0);
        t0 = performance.now(); runModel('xml', text, 'host'); times.mxml.push(performance.now() - t0);
      }
    }
    const b = report.backend;
    b.files = files.length;
    b.argvMedianMs = median(times.argv); b.xmlMedianMs = median(times.xml);
    b.modelArgvMedianMs = median(times.margv); b.modelXmlMedianMs = median(times.mxml);
    b.argvRealOverModel = b.argvMedianMs / b.modelArgvMedianMs;
    b.xmlRealOverModel = b.xmlMedianMs / b.modelXmlMedianMs;
  } finally {
    await backend.close();
  }
}

function benchModel(o: Options, report: Report): void {
  if (!existsSync(join(o.tree, 'tests', 'qemuxml2argvtest.c'))) {
    report.modelSkipped = `libvirt test tree absent at ${o.tree} (run npm run setup, or pass --tree DIR)`;
    return;
  }
  const { cases, skipped } = libvirtCases(o.tree);
  report.registrationsSkipped = skipped.length;
  // Inputs in memory first; a case the model throws on (a model bug) is reported and left out.
  const loaded: { id: string; op: Operation; profile: string; input: Buffer }[] = [];
  for (const c of cases) {
    if (c.op === 'runtime') continue;
    const input = readFileSync(c.input);
    try {
      runModel(c.op, input, c.profile);
      loaded.push({ id: c.id, op: c.op, profile: c.profile, input });
    } catch (e) {
      report.modelCrashed.push({ id: c.id, error: String((e as Error).message ?? e).split('\n')[0] });
    }
  }
  for (let i = 0; i < o.warmup; i++) for (const c of loaded) runModel(c.op, c.input, c.profile);

  // Throughput: each sample is one whole pass over an operation's cases (the way a test
  // program runs them), divided by the number of cases. Timing single sub-millisecond calls
  // would mostly measure the timer and whichever call a GC pause lands on.
  const samples: Record<Operation, number[]> = { argv: [], xml: [] };
  const total: Record<Operation, number> = { argv: 0, xml: 0 };
  for (let i = 0; i < o.iterations; i++) {
    for (const op of OPS) {
      const list = loaded.filter((c) => c.op === op);
      if (!list.length) continue;
      const t0 = performance.now();
      for (const c of list) runModel(c.op, c.input, c.profile);
      const dt = performance.now() - t0;
      samples[op].push(dt / list.length);
      total[op] += dt;
    }
  }
  for (const op of OPS) {
    const n = loaded.filter((c) => c.op === op).length;
    if (!n) continue;
    const meanMs = total[op] / (samples[op].length * n);
    report.model[op] = {
      cases: n,
      calls: samples[op].length * n,
      medianMs: median(samples[op]),
      meanMs,
      casesPerSecond: 1000 / meanMs,
      referenceMs: REFERENCE_MS[op],
      referenceOverModel: REFERENCE_MS[op] / meanMs,
      targetMs: TARGET_MS[op],
      targetMet: meanMs <= TARGET_MS[op],
    };
  }
}

async function benchVirsh(o: Options, report: Report): Promise<void> {
  if (!o.virsh) {
    report.virsh.skipped = 'disabled by --no-virsh';
    return;
  }
  const probe = await execa('virsh', ['-c', 'qemu:///system', 'version'], { reject: false, timeout: 15_000 });
  if (probe.exitCode !== 0) {
    const why = probe.failed && (probe as { code?: string }).code === 'ENOENT' ? 'virsh not installed'
      : probe.timedOut ? 'virsh -c qemu:///system version timed out'
      : `virsh -c qemu:///system version: ${String(probe.stderr || probe.stdout || probe.message).trim().split('\n')[0]}`;
    report.virsh.skipped = why;
    return;
  }
  const all = fg.sync('cases/*.xml', { cwd: root, absolute: true }).sort();
  if (!all.length) {
    report.virsh.skipped = `no cases/*.xml under ${root}`;
    return;
  }
  // Evenly spaced over the sorted list, so every family of cases is represented.
  const n = Math.min(VIRSH_FILES, all.length);
  const files = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]);
  const times: number[] = [];
  let ok = 0;
  for (const f of files) {
    const t0 = performance.now();
    const r = await execa('virsh', ['-c', 'qemu:///system', 'domxml-to-native', 'qemu-argv', f], { reject: false, timeout: 30_000 });
    times.push(performance.now() - t0);
    if (r.exitCode === 0) ok++;
  }
  report.virsh.files = files.length;
  report.virsh.ok = ok;
  report.virsh.errors = files.length - ok;
  report.virsh.medianMs = median(times);
  report.virsh.meanMs = mean(times);
  report.virsh.note = `${files.length} of ${all.length} cases/*.xml, 1 run each, a fresh virsh process per call (wall clock)`;
  const m = report.model.argv;
  if (m) report.virsh.realOverModel = report.virsh.medianMs / m.medianMs;

  // The model on the very same files (host profile), for an like-for-like ratio.
  try {
    const inputs = files.map((f) => readFileSync(f));
    for (let i = 0; i < o.warmup; i++) for (const b of inputs) runModel('argv', b, 'host');
    const s: number[] = [];
    for (let i = 0; i < o.iterations; i++)
      for (const b of inputs) {
        const t0 = performance.now();
        runModel('argv', b, 'host');
        s.push(performance.now() - t0);
      }
    report.virsh.modelSameFilesMedianMs = median(s);
    report.virsh.realOverModelSameFiles = report.virsh.medianMs / report.virsh.modelSameFilesMedianMs;
  } catch (e) {
    report.virsh.note += `; model on the same files not measured: ${String((e as Error).message).split('\n')[0]}`;
  }
}

const f3 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(3) : x.toFixed(1));
const fx = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : `${x.toFixed(1)}x`);

function printTable(r: Report): void {
  const rows: [string, string, string, string][] = [];
  const row = (label: string, f: (op: Operation, m: ModelFigures) => string, note = ''): void => {
    rows.push([label, ...OPS.map((op) => (r.model[op] ? f(op, r.model[op]!) : '–')) as [string, string], note]);
  };
  if (r.modelSkipped) rows.push(['model', 'skipped', '', r.modelSkipped]);
  else {
    row('cases (libvirt NUMA family)', (_, m) => String(m.cases), `${r.registrationsSkipped} registrations outside the profiles`);
    row('model median ms/case (per pass)', (_, m) => f3(m.medianMs), `${r.iterations} iterations after ${r.warmup} warm-up`);
    row('model mean ms/case', (_, m) => f3(m.meanMs));
    row('model cases/s', (_, m) => Math.round(m.casesPerSecond).toLocaleString('en-US'));
    row('reference ms/case', (_, m) => String(m.referenceMs), 'reference, measured elsewhere: qemuxml2argvtest ~2 ms/case, qemuxml2xmltest ~0.85 ms/case');
    row('reference / model (mean)', (_, m) => fx(m.referenceOverModel));
    row('target ms/case', (_, m) => `≤ ${m.targetMs}`);
    row('target met (mean)', (_, m) => (m.targetMet ? 'yes' : 'NO'));
    if (r.modelCrashed.length) rows.push(['model threw (left out)', String(r.modelCrashed.length), '', r.modelCrashed.map((c) => c.id).join(', ')]);
  }
  if (r.virsh.skipped) rows.push(['real libvirt (virsh)', 'skipped', '', r.virsh.skipped]);
  else {
    rows.push(['virsh domxml-to-native median ms', f3(r.virsh.medianMs), '–', `${r.virsh.note}; ${r.virsh.ok} ok, ${r.virsh.errors} refused`]);
    rows.push(['real / model (argv median)', fx(r.virsh.realOverModel), '–', 'model on libvirt NUMA family']);
    if (r.virsh.modelSameFilesMedianMs !== undefined)
      rows.push(['real / model, same files', fx(r.virsh.realOverModelSameFiles), '–', `model median ${f3(r.virsh.modelSameFilesMedianMs)} ms on those files (host profile)`]);
  }
  rows.push(['peak RSS', `${r.peakRssMiB.toFixed(1)} MiB`, '', 'process.resourceUsage().maxRSS']);

  const b = r.backend;
  if (b.skipped) rows.push(['libvirt backend (virsh session)', 'skipped', '', b.skipped]);
  else {
    rows.push(['libvirt backend median ms/case', f3(b.argvMedianMs!), f3(b.xmlMedianMs!), `${b.files} cases/*.xml through the runner's batched virsh session (xml = define + dumpxml + undefine)`]);
    rows.push(['model (host) median ms, same files', f3(b.modelArgvMedianMs!), f3(b.modelXmlMedianMs!), 'same run, same inputs, 20 repetitions each']);
    rows.push(['real / model, same files', fx(b.argvRealOverModel!), fx(b.xmlRealOverModel!), 'ratio of medians']);
  }
  const head: [string, string, string, string] = ['figure', 'argv', 'xml', 'note'];
  const w = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((x) => x[i].length)));
  const line = (x: string[]): string => `${x[0].padEnd(w[0])}  ${x[1].padStart(w[1])}  ${x[2].padStart(w[2])}  ${x[3]}`.trimEnd();
  const out = [
    `libvirt-harness bench: node ${r.node}, ${r.pinning}`,
    `libvirt tree: ${r.libvirtTree}`,
    line(head),
    line(w.map((n) => '-'.repeat(n)).concat('----')),
    ...rows.map(line),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const pinning = pinToOneCore(o);
  const report: Report = {
    node: process.version,
    pinning,
    iterations: o.iterations,
    warmup: o.warmup,
    libvirtTree: relative(process.cwd(), o.tree) || o.tree,
    model: {},
    modelCrashed: [],
    registrationsSkipped: 0,
    virsh: {},
    backend: {},
    peakRssMiB: 0,
    reference: 'reference, measured elsewhere: qemuxml2argvtest ~2 ms/case, qemuxml2xmltest ~0.85 ms/case',
  };
  benchModel(o, report);
  await benchVirsh(o, report);
  await benchBackend(o, report);
  report.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else printTable(report);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message?.split('\n')[0] ?? String(e)}\n`);
  process.exit(1);
});
