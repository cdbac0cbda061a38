// A verdict: one pair on one case (or one unit test, one suite-level check), as every report
// shows it. Suite files write theirs to the run's work directory; the runner reads them all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../runner/goldens.js';
import type { SuiteMeta } from './run-meta.js';

export interface Verdict {
  /** Case id ("project/xml2argv/NAME", "runtime/NAME", "unit/FILE > TEST", "golden/FILE"). */
  id: string;
  /** The pair ("golden-vs-model", …), or "unit", "orphans", "bless", "suite". */
  pair: string;
  /** The host the pair ran on, where the runner says so (reports group by it; without it the
   *  pair id's "@KEY" suffix names the host). */
  host?: string;
  status: 'pass' | 'fail' | 'skip' | 'todo';
  /** Why it skipped, failed or was blessed; the reason of a todo. */
  detail?: string;
  diff?: string;
  rules?: string[];
  rerun?: string;
  ms: number;
}

export interface SuiteRecord {
  suite: string;
  verdicts: Verdict[];
  /** Golden files the suite changed (--regenerate). */
  changed: string[];
  notes: string[];
  /** Seconds the backends spent per case id. */
  costs: Record<string, number>;
  /** What the suite knows of the run beyond verdicts (the case suite only). */
  meta?: SuiteMeta;
  /** false while the suite is still running (a record written on the way); absent or true at its end. */
  complete?: boolean;
  /** Cases the suite selected (the case suite only): with `verdicts`, how far an incomplete run got. */
  selected?: number;
}

export function writeSuiteRecord(workDir: string, r: SuiteRecord): void {
  if (!workDir) return;
  writeAtomic(join(workDir, `verdicts-${r.suite}.json`), JSON.stringify(r));
}

export function readSuiteRecords(workDir: string): SuiteRecord[] {
  if (!existsSync(workDir)) return [];
  return readdirSync(workDir).filter((f) => /^verdicts-.*\.json$/.test(f)).sort()
    .map((f) => JSON.parse(readFileSync(join(workDir, f), 'utf8')) as SuiteRecord);
}

/** How the summary and --expect-failures name a failure. */
export const failureKey = (v: Verdict): string => `${v.id} [${v.pair}]`;
