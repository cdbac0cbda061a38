// What one `npm test` run is asked to do, parsed once (scripts/run-suite.mjs) and handed to the
// suite files as one typed object. node-tap runs each suite file in its own process, so the
// object crosses that boundary as JSON in a single variable (LVH_RUN), never as loose flags.
import { resolve } from 'node:path';

export interface Shard { index: number; total: number }

export interface RunOptions {
  /** --case GLOB…: shell-style globs over case names or ids; empty = everything. */
  cases: string[];
  /** --regenerate: bless golden/ from the real side (never from the model). */
  regenerate: boolean;
  /** --junit FILE, resolved against the caller's working directory. */
  junit: string | null;
  /** --no-libvirt: the real backends are skipped with that reason. */
  libvirt: boolean;
  /** --series KEY: the real libvirt is a series build's private daemon. */
  series: string | null;
  /** --uri URI: the real libvirt is this daemon (scripts/kvm-hidden.sh's private one), its facts
   *  probed by the caller into --live-facts FILE. */
  uri: string | null;
  liveFacts: string | null;
  /** --expect-failures FILE: pass only when exactly these failures happen. */
  expectFailures: string | null;
  /** --host-facts FILE: judge goldens as if on the host these facts describe (a simulation:
   *  the real backends then skip, since they run on this machine, not that one). */
  hostFacts: string | null;
  /** --shard I/N: a deterministic part of the selected cases. */
  shard: Shard | null;
  /** --summary-json FILE: every verdict as JSON (what merge-reports folds together). */
  summaryJson: string | null;
  /** --html FILE: one self-contained HTML report of the run (harness/reporters/html/). */
  html: string | null;
  /** --no-emulated: leave the emulated multi-node host out (said so in the summary). */
  emulated: boolean;
  /** --host sid: the emulated sid host (libvirt 12.8) instead of the 9.0.0 one. */
  sid?: boolean;
  /** --tiering: run the tiering cells (tiering/*) too: about 60 s each plus a boot per kernel. */
  tiering: boolean;
  /** --record-costs: write each case's measured seconds to cases/costs.json (shard balance). */
  recordCosts: boolean;
  /** Guests started at once by the runtime backend. */
  runtimeJobs: number;
  /** Where the suite files leave their verdicts for the reports (set by the runner). */
  workDir: string;
}

export const USAGE = `usage: npm test -- [--case GLOB]... [--regenerate] [--junit FILE] [--no-libvirt] [--no-emulated] [--tiering]
                [--series KEY] [--expect-failures FILE] [--host-facts FILE] [--shard I/N] [--jobs N]
                [--summary-json FILE] [--html FILE] [--record-costs]
  --case GLOB    run only cases whose name or id matches; repeatable ('numatune-*', 'runtime/*')
  --regenerate   bless the project's goldens from the real libvirt and real guests (atomically)
  --junit FILE   also write JUnit XML: every failure (pairs, goldens, backends, unit tests)
  --no-libvirt   leave the real backends out (reported as skipped, with that reason)
  --host emulated  include the emulated multi-node host's pairs (the default where its image exists)
  --host sid     the emulated sid host (libvirt 12.8, QEMU 11.1, kernel 7.2) instead of the 9.0.0 one:
                 the project's argv/xml cases through its libvirt (golden-vs-libvirt@sid)
  --no-emulated  leave the emulated multi-node host out (its cases are skipped, with that reason)
  --tiering      also run the tiering cells (tiering/KERNEL/SCENARIO on the tiered host, ~60 s each)
  --series KEY   run against a series build (npm run series does build + daemon + this)
  --uri URI --live-facts FILE  the real libvirt is the daemon at URI, probed into FILE
                 (scripts/kvm-hidden.sh does both for a daemon that does not see /dev/kvm)
  --expect-failures FILE  pass only if exactly the failures listed in FILE happen
                 (one 'CASE-ID [PAIR]' per line, as the summary prints them)
  --host-facts FILE  judge goldens as on the host FILE describes (golden/hosts/*.json format)
  --shard I/N    run shard I of N (1-based) of the selected cases, balanced by recorded cost
  --summary-json FILE  every verdict as JSON (libvirt-harness merge-reports folds shards)
  --html FILE    one self-contained HTML report: hosts, matrix, failures with diffs, skips
  --record-costs write each case's measured seconds to cases/costs.json (balances --shard)
  --jobs N       runtime guests started at once (default: by cores and memory)`;

export class UsageError extends Error {}

export function defaultJobs(cores: number, freeMiB: number): number {
  // A paused guest spends most of its life waiting on libvirtd (destroy took ~1.4 s until the
  // daemons ran under a subreaper, scripts/lib/reaper.sh; 0.4 s since) and costs little memory:
  // four per core kept this 2-core machine busy (the 24 numatune runtime cases: 10.3 s of run
  // with 6 at once, 9.2 s with 12), never more than memory allows at 512 MiB each.
  return Math.max(1, Math.min(cores * 4, Math.floor(freeMiB / 512), 12));
}

export function parseRunArgs(argv: string[], cwd: string, workDir: string, jobs: number): RunOptions {
  const o: RunOptions = { cases: [], regenerate: false, junit: null, libvirt: true, series: null, uri: null, liveFacts: null, expectFailures: null, hostFacts: null, shard: null, summaryJson: null, html: null, recordCosts: false, emulated: true, tiering: false, runtimeJobs: jobs, workDir };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (!v) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--case': o.cases.push(value()); break;
      case '--regenerate': o.regenerate = true; break;
      case '--junit': o.junit = resolve(cwd, value()); break;
      case '--no-libvirt': o.libvirt = false; break;
      case '--no-emulated': o.emulated = false; break;
      case '--tiering': o.tiering = true; break;
      case '--host': {
        // The emulated host's pairs run by default where its image exists; naming it says so.
        const h = value();
        if (h !== 'emulated' && h !== 'sid') throw new UsageError(`--host wants 'emulated' or 'sid' (the machine itself is always a host of the run)`);
        if (h === 'sid') { o.sid = true; o.emulated = false; } else o.emulated = true;
        break;
      }
      case '--series': o.series = value(); break;
      case '--uri': o.uri = value(); break;
      case '--live-facts': o.liveFacts = resolve(cwd, value()); break;
      case '--expect-failures': o.expectFailures = resolve(cwd, value()); break;
      case '--host-facts': o.hostFacts = resolve(cwd, value()); break;
      case '--shard': {
        const m = /^(\d+)\/(\d+)$/.exec(value());
        if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard wants I/N with 1 <= I <= N, e.g. 2/3`);
        o.shard = { index: Number(m[1]), total: Number(m[2]) };
        break;
      }
      case '--summary-json': o.summaryJson = resolve(cwd, value()); break;
      case '--html': o.html = resolve(cwd, value()); break;
      case '--record-costs': o.recordCosts = true; break;
      case '--jobs': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new UsageError('--jobs wants a positive integer');
        o.runtimeJobs = n;
        break;
      }
      default: throw new UsageError(`unknown option: ${argv[i]}`);
    }
  }
  if (o.regenerate && o.hostFacts) throw new UsageError('--regenerate needs the real host: it cannot bless for simulated --host-facts');
  if (!o.uri !== !o.liveFacts) throw new UsageError('--uri and --live-facts go together (the daemon and its probed facts)');
  if (o.uri && o.series) throw new UsageError('--uri and --series both name the real libvirt: give one');
  return o;
}

export const RUN_ENV = 'LVH_RUN';

/** The options of the run this suite file belongs to; a suite file started by hand runs everything. */
export function runOptions(): RunOptions {
  const raw = process.env[RUN_ENV];
  if (raw) return JSON.parse(raw) as RunOptions;
  return { cases: [], regenerate: false, junit: null, libvirt: true, series: null, uri: null, liveFacts: null, expectFailures: null, hostFacts: null, shard: null, summaryJson: null, html: null, recordCosts: false, emulated: true, tiering: false, runtimeJobs: 2, workDir: '' };
}
