// Start-up cost, measured side by side in one run: bare `node -e 0`, the CLI on one file (argv
// and xml), and the CLI on many files in one call (the cost per file). All alternate round by
// round; figures are medians.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, median } from './stats.js';

export interface StartupFigures {
  skipped?: string;
  rounds?: number;
  bareNodeMs?: number;
  /** One file per call: the median wall time and its ratio to bare node. */
  perCall?: Record<'argv' | 'xml', { file: string; profile: string; ms: number; overBare: number; exit: number | null }>;
  /** One call on `files` files: wall time, per file, and per file over bare node. */
  /** perFileMs: the call's time over its files (start-up shared); marginalMs: what a file adds,
   *  (batch − one-file call) / (N − 1). */
  batch?: Record<'argv' | 'xml', { files: number; profile: string; ms: number; perFileMs: number; perFileOverBare: number; marginalMs: number; exit: number | null }>;
  /** 'all CPUs (…)' or 'as the bench process' */
  cpus?: string;
}

export interface FamilyInput { op: 'argv' | 'xml'; profile: string; input: string }

export async function benchStartup(root: string, family: FamilyInput[], rounds: number): Promise<StartupFigures> {
  const cli = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) return { skipped: `${cli} not built (npm run build)` };
  if (!family.length) return { skipped: "no NUMA-family inputs (libvirt's test tree absent)" };
  // Under the bench's one-CPU pinning, children get every CPU back (see main.ts): V8 starts
  // helper threads, and squeezing them onto one CPU would time something no caller sees.
  const cpus = process.env.LVH_BENCH_CPUS;
  const run = (args: string[]): { cmd: string; args: string[] } =>
    cpus ? { cmd: 'taskset', args: ['-c', cpus, process.execPath, ...args] } : { cmd: process.execPath, args };
  const one = (op: 'argv' | 'xml'): FamilyInput => family.find((c) => c.op === op && c.profile === 'x86_64-latest') ?? family.find((c) => c.op === op) ?? family[0];
  const single = { argv: one('argv'), xml: one('xml') };
  // The batch: every family input of the operation, under one profile (cases of another profile
  // may be refused; a refusal costs the same work up to the error).
  const batchFiles = (op: 'argv' | 'xml'): string[] => [...new Set(family.filter((c) => c.op === op).map((c) => c.input))];
  const batch = { argv: batchFiles('argv'), xml: batchFiles('xml') };
  const cmds = [
    run(['-e', '0']),
    run([cli, 'argv', '--profile', single.argv.profile, single.argv.input]),
    run([cli, 'xml', '--profile', single.xml.profile, single.xml.input]),
    run([cli, 'argv', '--profile', 'x86_64-latest', ...batch.argv]),
    run([cli, 'xml', '--profile', 'x86_64-latest', ...batch.xml]),
  ];
  const s = await alternate(cmds, rounds);
  const ms = s.map((list) => median(list.map((x) => x.ms)));
  const bare = ms[0];
  const rel = (p: string): string => (p.startsWith(root + '/') ? p.slice(root.length + 1) : p);
  const batchOf = (op: 'argv' | 'xml', i: number, one: number) => ({
    files: batch[op].length, profile: 'x86_64-latest', ms: ms[i], perFileMs: ms[i] / batch[op].length,
    perFileOverBare: ms[i] / batch[op].length / bare, marginalMs: (ms[i] - ms[one]) / Math.max(1, batch[op].length - 1), exit: s[i][0].code,
  });
  return {
    rounds,
    cpus: cpus ? `cpus ${cpus}` : 'as the bench process',
    bareNodeMs: bare,
    perCall: {
      argv: { file: rel(single.argv.input), profile: single.argv.profile, ms: ms[1], overBare: ms[1] / bare, exit: s[1][0].code },
      xml: { file: rel(single.xml.input), profile: single.xml.profile, ms: ms[2], overBare: ms[2] / bare, exit: s[2][0].code },
    },
    batch: { argv: batchOf('argv', 3, 1), xml: batchOf('xml', 4, 2) },
  };
}
