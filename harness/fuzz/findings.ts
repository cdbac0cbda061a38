// Crash findings of a run: each input that killed a fresh daemon alone is shrunk on private
// daemons and written as a crash case, one per kind (the signature of its death, else the shape
// of its minimal form); a kind already under cases/crashes/ is only counted. Deaths are grouped
// into kinds for the report.
import { join, relative } from 'node:path';
import type { Operation } from '../backends/types.js';
import { crashCase, knownCrashes, reproduce, runsToCrash, shrinkCrash, writeCrashCase, type CrashCase } from './crashes.js';
import type { CrashEvent, DaemonPool } from './pool.js';
import type { Replay } from './replay.js';

/** One kind of daemon death in the run, and the case written (or already known) for it. */
export interface CrashKind {
  signature: string;
  events: number;
  /** Inputs that kill a fresh daemon alone (run indices). */
  inputs: number[];
  /** Deaths no in-flight input reproduced alone; their daemons' recent inputs, by index. */
  unattributed: { inFlight: number[]; history: number[] }[];
  /** The crash cases its inputs shrank to. */
  cases: string[];
}

/** A crash case (cases/crashes/NAME.xml) this run wrote or found already there. */
export interface CrashCaseReport {
  name: string;
  file: string;
  status: 'wrote' | 'would write' | 'known';
  inputs: number[];
  signatures: string[];
  shrinks?: number;
  daemonRuns?: number;
  reproduced?: boolean;
  xml?: string;
  backtrace?: string[];
  noBacktrace?: string;
}

/** Deaths to attribute by their daemon's recent inputs, and how many inputs each (a fresh daemon per input). */
const ATTRIBUTE_MAX = 2;
const SUSPECTS_MAX = 6;
/** Daemon runs per crash shrink: every crashing step costs a daemon restart (about a second). */
const CRASH_SHRINK_MAX = 60;

export interface FindingOptions { seed: number; crashDir: string; write: boolean; shrinkBudget: number; perCause: number }

export async function crashFindings(pool: DaemonPool, o: FindingOptions, events: CrashEvent[], xmls: string[], replays: Replay[], log: (s: string) => void):
  Promise<{ kinds: CrashKind[]; cases: CrashCaseReport[]; notes: string[]; errors: string[] }> {
  const crashKinds: CrashKind[] = [];
  const crashCases: CrashCaseReport[] = [];
  const crashNotes: string[] = [];
  const infra: string[] = [];
  // A death no in-flight input reproduced alone: a corrupted heap dies later than the input
  // that corrupted it. Each of the daemon's last inputs is sent alone (REPEAT times) to a fresh
  // daemon; the first that kills it is the culprit.
  let attributions = 0;
  for (const ev of events.filter((e) => !e.culprit)) {
    if (attributions++ >= ATTRIBUTE_MAX) break;
    const seen = new Set<string>();
    const suspects = [...ev.inFlight, ...ev.history.slice().reverse()].filter((x) => x.index >= 0 && !seen.has(`${x.index}:${x.op}`) && seen.add(`${x.index}:${x.op}`)).slice(0, SUSPECTS_MAX);
    for (const sent of suspects) {
      await pool.fresh();
      const r = await runsToCrash(pool, sent.op, sent.xml);
      if (!r) continue;
      r.event.culprit = sent;
      ev.culprit = sent;
      events.push(r.event);
      log(`attributed a death to #${sent.index} (${r.event.signature}), ${r.n} send(s) alone`);
      break;
    }
  }
  const known = knownCrashes(o.crashDir);
  const culprits = new Map<number, { op: Operation; signature: string }>();
  // The re-run alone (one input in flight, on a fresh daemon) tells the cleanest signature.
  for (const ev of [...events].sort((a, b) => a.inFlight.length - b.inFlight.length)) {
    if (ev.culprit && !culprits.has(ev.culprit.index)) culprits.set(ev.culprit.index, { op: ev.culprit.op, signature: ev.signature });
  }
  const caseOf = (c: { name: string; file?: string }, status: CrashCaseReport['status']): CrashCaseReport => {
    let r = crashCases.find((x) => x.name === c.name);
    if (!r) crashCases.push(r = { name: c.name, file: relative(process.cwd(), join(o.crashDir, `${c.name}.xml`)), status, inputs: [], signatures: [] });
    return r;
  };
  let shrinks = 0;
  for (const [index, { op, signature }] of [...culprits].sort((a, b) => a[0] - b[0])) {
    const cheap = known.find((k) => k.signatures?.includes(signature)) ?? crashCases.find((k) => k.signatures.includes(signature));
    if (cheap) {
      const r = caseOf(cheap, 'known');
      r.inputs.push(index);
      continue;
    }
    if (o.shrinkBudget === 0 || shrinks >= o.perCause * 2) continue;
    shrinks++;
    try {
      log(`shrinking the crash '${signature}' (from #${index})`);
      await pool.fresh();
      pool.backtraces = false;
      const s = await shrinkCrash(pool, replays[index], index, op, xmls[index], signature, Math.min(o.shrinkBudget, CRASH_SHRINK_MAX));
      pool.backtraces = true;
      const ev = await reproduce(pool, s);
      if (!ev) {
        crashNotes.push(`crash #${index} (${signature}) did not kill a fresh daemon again after shrinking: no case written`);
        continue;
      }
      const c: CrashCase = crashCase(o.seed, s, ev, events.find((e) => e.culprit?.index === index)!);
      const same = known.find((k) => k.signature === c.signature || k.shape === c.shape);
      if (same) {
        const r = caseOf(same, 'known');
        r.inputs.push(index);
        r.signatures = [...new Set([...r.signatures, signature])];
        continue;
      }
      const r = caseOf(c, o.write ? 'wrote' : 'would write');
      r.inputs.push(index);
      r.signatures = [...new Set([...r.signatures, ...c.signatures, signature])];
      if (r.xml === undefined) {
        Object.assign(r, { shrinks: s.shrinks, daemonRuns: s.daemonRuns, reproduced: ev !== null, xml: s.xml, backtrace: c.backtrace.slice(0, 12), noBacktrace: c.noBacktrace });
        c.signatures = r.signatures;
        if (o.write) writeCrashCase(o.crashDir, c);
        known.push(c);
      }
    } catch (e) {
      pool.backtraces = true;
      infra.push(`shrinking crash #${index}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // Kinds: a death with a culprit counts under the culprit's own (clean, re-run alone)
  // signature; with several inputs in flight the log mixes their errors.
  const kinds = new Map<string, CrashEvent[]>();
  for (const ev of events) {
    const key = ev.culprit ? culprits.get(ev.culprit.index)?.signature ?? ev.signature : ev.signature;
    kinds.set(key, [...(kinds.get(key) ?? []), ev]);
  }
  for (const [signature, evs] of kinds) {
    const inputs = [...new Set(evs.flatMap((e) => (e.culprit ? [e.culprit.index] : [])))].sort((a, b) => a - b);
    crashKinds.push({
      signature, events: evs.length, inputs,
      unattributed: evs.filter((e) => !e.culprit).map((e) => ({ inFlight: e.inFlight.map((x) => x.index), history: e.history.map((x) => x.index) })),
      cases: crashCases.filter((c) => c.inputs.some((i) => inputs.includes(i))).map((c) => c.name),
    });
  }
  return { kinds: crashKinds, cases: crashCases, notes: crashNotes, errors: infra };
}
