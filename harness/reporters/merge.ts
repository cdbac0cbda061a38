// `libvirt-harness merge-reports`: folds the summaries of several shard runs (npm test --
// --shard I/N --summary-json FILE) into one JUnit file and one summary, and refuses a fold
// where a case ran in two shards.
import { readFileSync } from 'node:fs';
import { writeAtomic } from '../neutral/atomic-file.js';
import { writeJunit } from './junit.js';
import { summaryLines } from './summary.js';
import type { Verdict } from './verdict.js';
import { mergeMeta, type RunMeta } from './run-meta.js';
import { writeReport } from './html/page.js';

export interface RunSummary {
  /** The shard this run was ("2/3"), or null for a whole run. */
  shard: string | null;
  /** Ids of the cases the run selected. */
  cases: string[];
  verdicts: Verdict[];
  notes: string[];
  /** The run's metadata (what the HTML report shows beyond verdicts); absent in older summaries. */
  meta?: RunMeta;
}

export function readSummary(file: string): RunSummary {
  const s = JSON.parse(readFileSync(file, 'utf8')) as RunSummary;
  if (!Array.isArray(s.verdicts) || !Array.isArray(s.cases)) throw new Error(`${file}: not a summary written by npm test -- --summary-json`);
  return s;
}

export function mergeSummaries(parts: { file: string; summary: RunSummary }[]): { merged: RunSummary; problems: string[] } {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { file, summary } of parts) {
    for (const id of summary.cases) {
      const other = seen.get(id);
      if (other) problems.push(`case ${id} ran in both ${other} and ${file}`);
      seen.set(id, file);
    }
  }
  // Suite-level verdicts (unit tests, orphans, registrations outside the profiles) come from
  // shard 1 only, so the shards' verdicts simply add up.
  const verdicts: Verdict[] = parts.flatMap((p) => p.summary.verdicts);
  const notes = [...new Set(parts.flatMap((p) => p.summary.notes))];
  const meta = mergeMeta(parts.map((p) => ({ file: p.file, meta: p.summary.meta })));
  meta.notes = notes;
  return { merged: { shard: null, cases: [...seen.keys()], verdicts, notes, meta }, problems };
}

/** The command: returns its exit status (1 when a case failed or the shards overlap). */
export function mergeReports(files: string[], out: { junit?: string; summaryJson?: string; html?: string }): number {
  const { merged, problems } = mergeSummaries(files.map((file) => ({ file, summary: readSummary(file) })));
  console.log(summaryLines(merged.verdicts, [`merged ${files.length} reports: ${merged.cases.length} cases`, ...merged.notes]).join('\n'));
  for (const p of problems) console.log(`# overlap: ${p}`);
  if (out.junit) writeJunit(out.junit, merged.verdicts);
  if (out.summaryJson) writeAtomic(out.summaryJson, JSON.stringify(merged));
  if (out.html) writeReport(out.html, merged.verdicts, merged.meta!);
  return problems.length || merged.verdicts.some((v) => v.status === 'fail') ? 1 : 0;
}
