// One run, every figure side by side: bare node start-up, the CLI per call and in batch, the
// model in process, libvirt's own test programs of a series build (when one exists), virsh per
// call and the runner's batched virsh session. Nothing is a number measured elsewhere.
//
//   node dist/bench/main.js [--json] [--iterations N] [--warmup N] [--rounds N] [--singles N]
//                           [--tree DIR] [--no-pin] [--no-virsh] [--before REF | --no-before]
//
// One core: unless --no-pin, the process re-executes itself under `taskset -c CPU` (the last CPU
// it may run on), so the JS thread, V8's helper threads and its children share one CPU. The
// start-up rows are the exception: bare node and the CLI run on every CPU, as a real call does.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runModel } from '../backends/model.js';
import type { Operation } from '../backends/types.js';
import { libvirtCases } from '../runner/libvirt-cases.js';
import { benchSession, benchVirsh, type SessionFigures, type VirshFigures } from './real.js';
import { benchStartup, type FamilyInput, type StartupFigures } from './startup.js';
import { printTable } from './table.js';
import { benchTreeTests, type TreeFigures } from './tree-tests.js';
import { loadBefore, type RunModel } from './before.js';
import { memoryTerritory, timeModels, type Loaded, type ModelFigures } from './model.js';

const USAGE = 'usage: node dist/bench/main.js [--json] [--iterations N] [--warmup N] [--rounds N] [--singles N] [--tree DIR] [--no-pin] [--no-virsh] [--before REF | --no-before]';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

interface Options {
  json: boolean;
  iterations: number;
  warmup: number;
  rounds: number;
  singles: number;
  tree: string;
  pin: boolean;
  virsh: boolean;
  /** The commit whose model is timed beside today's; null: none (--no-before). */
  before: string | null | undefined;
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg} (${USAGE})\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    json: false,
    iterations: 2000, // passes over the NUMA family; a few seconds in all
    warmup: 300, // V8 needs a few hundred passes before the code is optimised
    rounds: 15, // alternating start-up rounds (medians of at least 10)
    singles: 10, // single-case runs of each libvirt test program
    tree: process.env.HARNESS_LIBVIRT_TREE ?? join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0'),
    pin: true,
    virsh: true,
    before: undefined,
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
    else if (a === '--rounds') o.rounds = int(argv[++i], a);
    else if (a === '--singles') o.singles = int(argv[++i], a);
    else if (a === '--tree') o.tree = argv[++i] ?? usage('--tree wants a directory');
    else if (a === '--no-pin') o.pin = false;
    else if (a === '--no-virsh') o.virsh = false;
    else if (a === '--before') o.before = argv[++i] ?? usage('--before wants a commit');
    else if (a === '--no-before') o.before = null;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
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
    // The start-up rows run their children on all of these CPUs again, as a CLI call runs.
    env: { ...process.env, LVH_BENCH_PINNED: cpu, LVH_BENCH_CPUS: cpus.join(',') },
  });
  if (r.error) return `not pinned (taskset: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  process.exit(r.status ?? 1);
}

export interface Report {
  node: string;
  pinning: string;
  iterations: number;
  warmup: number;
  libvirtTree: string;
  startup: StartupFigures;
  model: Partial<Record<Operation, ModelFigures>>;
  modelSkipped?: string;
  /** The earlier commit's model on the same family cases, same run (before.ts). */
  modelBefore?: Partial<Record<Operation, ModelFigures>>;
  beforeLabel?: string;
  beforeSkipped?: string;
  /** A second, separately compiled copy of HEAD's model timed the same way: the spread of the
   *  now/before ratio that timing alone gives (identical code when the tree is clean). */
  modelNoise?: Partial<Record<Operation, ModelFigures>>;
  noiseLabel?: string;
  /** libvirt's memory-territory inputs today's model answers: today's and the earlier model. */
  memory?: { now: Partial<Record<Operation, ModelFigures>>; before?: Partial<Record<Operation, ModelFigures>> };
  modelCrashed: { id: string; error: string }[];
  registrationsSkipped: number;
  treeTests: TreeFigures;
  virsh: VirshFigures;
  backend: SessionFigures;
  peakRssMiB: number;
}

interface Family { inputs: FamilyInput[]; ids: string[] }

function family(o: Options, report: Report): Family {
  if (!existsSync(join(o.tree, 'tests', 'qemuxml2argvtest.c'))) {
    report.modelSkipped = `libvirt test tree absent at ${o.tree} (run npm run setup, or pass --tree DIR)`;
    return { inputs: [], ids: [] };
  }
  const { cases, skipped } = libvirtCases(o.tree);
  report.registrationsSkipped = skipped.length;
  const text = cases.filter((c) => c.op === 'argv' || c.op === 'xml');
  return { inputs: text.map((c) => ({ op: c.op as 'argv' | 'xml', profile: c.profile, input: c.input })), ids: text.map((c) => c.id) };
}

/** Today's model (and the earlier commit's, when there is one) on the family and on the memory
 *  territory; a case the model throws on (a model bug) is reported and left out. */
async function benchModel(o: Options, fam: Family, report: Report): Promise<void> {
  if (!fam.inputs.length) return;
  const loaded: Loaded[] = [];
  fam.inputs.forEach((c, i) => {
    const input = readFileSync(c.input);
    try {
      runModel(c.op, input, c.profile);
      loaded.push({ id: fam.ids[i], op: c.op, profile: c.profile, input });
    } catch (e) {
      report.modelCrashed.push({ id: fam.ids[i], error: String((e as Error).message ?? e).split('\n')[0] });
    }
  });
  const before = o.before === null ? { skipped: 'disabled by --no-before' } : await loadBefore(root, o.before);
  const runs: RunModel[] = [runModel];
  if ('run' in before) { runs.push(before.run); report.beforeLabel = before.label; } else report.beforeSkipped = before.skipped;
  // The noise floor only means something beside a before figure.
  const copy = 'run' in before ? await loadBefore(root, 'HEAD') : { skipped: 'no before figure' };
  if ('run' in copy) { runs.push(copy.run); report.noiseLabel = copy.label; }
  const figures = timeModels(runs, loaded, o.iterations, o.warmup);
  [report.model] = figures;
  if ('run' in before) report.modelBefore = figures[1];
  if ('run' in copy) report.modelNoise = figures[2];
  const mem = memoryTerritory(o.tree, runModel);
  if (mem.length) {
    const [now, then] = timeModels(runs.slice(0, 2), mem, Math.max(1, Math.round(o.iterations / 4)), Math.max(1, Math.round(o.warmup / 4)));
    report.memory = { now, before: then };
  }
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
    startup: {},
    model: {},
    modelCrashed: [],
    registrationsSkipped: 0,
    treeTests: {},
    virsh: {},
    backend: {},
    peakRssMiB: 0,
  };
  const fam = family(o, report);
  report.startup = await benchStartup(root, fam.inputs, o.rounds);
  await benchModel(o, fam, report);
  report.treeTests = await benchTreeTests(o.tree, o.singles);
  report.virsh = o.virsh ? await benchVirsh(root) : { skipped: 'disabled by --no-virsh' };
  report.backend = o.virsh ? await benchSession(root) : { skipped: 'disabled by --no-virsh' };
  report.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else printTable(report);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message?.split('\n')[0] ?? String(e)}\n`);
  process.exit(1);
});
