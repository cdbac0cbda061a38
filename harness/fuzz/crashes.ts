// Inputs that kill libvirtd: shrunk against private daemons (a fresh one after every death),
// reproduced once more on a brand-new daemon for the backtrace, and written as
// cases/crashes/NAME.xml + NAME.json (what an upstream bug report needs; see crash-report.ts).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeAtomic } from '../neutral/atomic-file.js';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Operation } from '../backends/types.js';
import { LIBVIRTD } from './daemon.js';
import { renderDomain } from './render.js';
import { arbitraryOf, describeReplay, type Replay } from './replay.js';
import type { CrashEvent, DaemonPool } from './pool.js';

export interface CrashCase {
  name: string;
  /** The minimal input with its values masked: what groups crashes into cases. */
  shape: string;
  /** How the fresh daemon died on the minimal input. */
  signature: string;
  /** Every signature seen for inputs that shrink to this case (heap corruption varies). */
  signatures: string[];
  libvirt: { daemon: string; package: string | null };
  op: Operation;
  /** The command that reproduces it against a libvirtd of that version. */
  command: string;
  /** The same through the harness (a private daemon, never the machine's). */
  harnessCommand: string;
  how: string;
  logTail: string[];
  stderrTail: string[];
  backtrace: string[];
  noBacktrace?: string;
  /** How many times the input was sent to a fresh daemon before it died (1: at once). */
  sends: number | null;
  /** The run (its --seed and the input's index) and how to replay the minimal input (replay.ts;
   * `path` is replay.path; cases written before descriptors have the main draw's path only). */
  found: { seed: number; index: number; path: string; replay?: Replay; shrinks: number; daemonRuns: number; reproduced: boolean };
  xml: string;
}

export function libvirtVersion(): { daemon: string; package: string | null } {
  const v = spawnSync(LIBVIRTD, ['--version'], { encoding: 'utf8' });
  const p = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libvirt-daemon'], { encoding: 'utf8' });
  return { daemon: (v.stdout ?? '').trim() || 'unknown', package: p.status === 0 ? p.stdout.trim() : null };
}

const opCommand = (op: Operation, file: string): string =>
  op === 'argv' ? `virsh domxml-to-native qemu-argv ${file}` : `virsh define ${file}`;

export interface ShrunkCrash { index: number; op: Operation; signature: string; xml: string; replay: Replay; shrinks: number; daemonRuns: number; event?: CrashEvent }

/** Replay input `index` of the run by its descriptor and shrink it while it still kills a daemon the same way. */
export async function shrinkCrash(pool: DaemonPool, replay: Replay, index: number, op: Operation, original: string, signature: string, budget: number): Promise<ShrunkCrash> {
  let calls = 0;
  let runs = 0;
  let fatal: unknown;
  let first: string | undefined;
  const prop = fc.asyncProperty(arbitraryOf(replay.source), async (spec) => {
    const xml = renderDomain(spec);
    if (calls++ === 0 && xml !== original) fatal = new Error(`replaying #${index} (${describeReplay(replay)}) gave another domain than the run did`);
    if (fatal !== undefined || runs >= budget) return true;
    runs++;
    try {
      // The same death as the original's (first evaluation): shrinking must not hop to another bug.
      const r = await runsToCrash(pool, op, xml);
      if (calls === 1) first = r?.event.signature;
      return r === null || (first !== undefined && r.event.signature !== first);
    } catch (e) {
      fatal = e;
      return true;
    }
  });
  const details = await fc.check(prop, { seed: replay.seed, path: replay.path, numRuns: 1 });
  if (fatal !== undefined) throw fatal;
  if (!details.failed || !details.counterexample) {
    // It crashed in the run but not alone on this daemon: keep the original as it is.
    return { index, op, signature, xml: original, replay, shrinks: 0, daemonRuns: runs };
  }
  const xml = renderDomain(details.counterexample[0]);
  return { index, op, signature, xml, replay: { ...replay, path: details.counterexamplePath ?? replay.path }, shrinks: details.numShrinks, daemonRuns: runs };
}

/**
 * Send the same input up to REPEAT times; the run that killed the daemon (1-based), or null.
 * A corrupted heap often dies on a later call, not on the corrupting one.
 */
export const REPEAT = 3;
export async function runsToCrash(pool: DaemonPool, op: Operation, xml: string): Promise<{ n: number; event: CrashEvent } | null> {
  for (let n = 1; n <= REPEAT; n++) {
    const r = await pool.run(0, { index: -1, op, xml }, false);
    if (r.kind === 'crash') return { n, event: r.event };
  }
  return null;
}

/** Run the minimal input on a brand-new daemon: the death report of the case, and after how many sends. */
export async function reproduce(pool: DaemonPool, s: ShrunkCrash): Promise<{ n: number; event: CrashEvent } | null> {
  await pool.fresh();
  return runsToCrash(pool, s.op, s.xml);
}

/** The input's elements and attributes with every value masked. */
export function crashShape(xml: string): string {
  return xml.replace(/<!--[\s\S]*?-->/g, '').replace(/='[^']*'/g, "='…'").replace(/>[^<]+</g, '>…<').replace(/\s+/g, ' ').trim();
}

/** A file name: the libvirt function of the signature (one case per signature), else a hash. */
export function crashName(signature: string): string {
  const fn = / in (\w+)$/.exec(signature)?.[1];
  return fn ? `crash-${fn}` : `crash-${createHash('sha256').update(signature).digest('hex').slice(0, 8)}`;
}

/** Crash cases already on disk. */
export function knownCrashes(dir: string): CrashCase[] {
  if (!existsSync(dir)) return [];
  const out: CrashCase[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    try {
      const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CrashCase;
      if (c.shape && c.name) out.push(c);
    } catch { /* not ours */ }
  }
  return out;
}

const atomicWrite = (file: string, body: string): void => { writeAtomic(file, body); };

export function crashCase(seed: number, s: ShrunkCrash, rep: { n: number; event: CrashEvent } | null, fallback: CrashEvent): CrashCase {
  const ev = rep?.event;
  const d = (ev ?? fallback).death;
  const signature = (ev ?? fallback).signature;
  const shape = crashShape(s.xml);
  const name = crashName(signature);
  return {
    name,
    shape,
    signature,
    signatures: [...new Set([signature, s.signature])],
    libvirt: libvirtVersion(),
    op: s.op,
    command: rep && rep.n > 1 ? `for i in $(seq ${rep.n}); do ${opCommand(s.op, `${name}.xml`)}; done` : opCommand(s.op, `${name}.xml`),
    sends: rep?.n ?? null,
    harnessCommand: `npm run crash-report -- --check cases/crashes/${name}.xml`,
    how: d.how,
    logTail: d.logTail,
    stderrTail: d.stderrTail,
    backtrace: d.backtrace ?? [],
    noBacktrace: d.noBacktrace,
    found: { seed, index: s.index, path: s.replay.path, replay: s.replay, shrinks: s.shrinks, daemonRuns: s.daemonRuns, reproduced: ev !== undefined },
    xml: s.xml,
  };
}

export function writeCrashCase(dir: string, c: CrashCase): string {
  const file = join(dir, `${c.name}.xml`);
  const replay = c.found.replay ? describeReplay(c.found.replay) : `fast-check path ${c.found.path}`.replace(/-{2,}/g, '-');
  atomicWrite(file, `<!-- from the fuzzer: npm run fuzz with seed ${c.found.seed}; replay: ${replay}; kills libvirtd (${c.signature.replace(/-+/g, '-')}); see ${c.name}.json -->\n${c.xml}`);
  atomicWrite(join(dir, `${c.name}.json`), JSON.stringify(c, null, 2) + '\n');
  return file;
}
