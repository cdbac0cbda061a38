// The run's metadata (reporters/run-meta.ts) as main.ts knows it at the end of a run, or when
// it is interrupted: the case suite's own part from its record, the command, the times, the
// suite files, and whether the run got to its end.
import type { ExpectReport, RunMeta, SuiteFileTime } from '../reporters/run-meta.js';
import { emptySuiteMeta } from '../reporters/run-meta.js';
import type { SuiteRecord } from '../reporters/verdict.js';
import type { RunOptions } from './options.js';

/** The command as a person would retype it. */
export function commandLine(args: string[]): string {
  const q = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return `npm test${args.length ? ` -- ${args.map(q).join(' ')}` : ''}`;
}

export interface RunState {
  args: string[];
  startedAt: Date;
  /** The case suite was among the files run (it writes the metadata). */
  caseSuite: boolean;
  suiteFiles: SuiteFileTime[];
  /** Set when the run did not get to its end (a signal). */
  interrupted?: string;
}

export function runMetaOf(o: RunOptions, s: RunState, records: SuiteRecord[], notes: string[], expect: ExpectReport | null): RunMeta {
  const cases = records.find((r) => r.suite === 'cases');
  const why = s.interrupted
    ?? (s.caseSuite && !cases ? 'the case suite left no record (it died before its first case)'
      : cases && cases.complete === false ? `the case suite stopped before its end (${new Set(cases.verdicts.map((v) => v.id)).size} cases reported of ${cases.selected ?? '?'} selected)`
        : undefined);
  return {
    ...(cases?.meta ?? emptySuiteMeta()),
    command: commandLine(s.args),
    startedAt: s.startedAt.toISOString(),
    seconds: (Date.now() - s.startedAt.getTime()) / 1000,
    shard: o.shard ? `${o.shard.index}/${o.shard.total}` : null,
    suiteFiles: s.suiteFiles,
    complete: !why,
    ...(why ? { incomplete: why } : {}),
    expectFailures: expect ? [expect] : [],
    notes,
  };
}
