// The per-backend summary CI prints at the end of a run: one line per pair with its skip
// reasons grouped, the failing ids, and the closing count line.
import type { Verdict } from './verdict.js';
import { failureKey } from './verdict.js';

export interface Tally { pass: number; fail: number; skip: number; todo: number }

export function tally(verdicts: Verdict[]): Map<string, Tally & { reasons: Map<string, number> }> {
  const by = new Map<string, Tally & { reasons: Map<string, number> }>();
  for (const v of verdicts) {
    let t = by.get(v.pair);
    if (!t) { t = { pass: 0, fail: 0, skip: 0, todo: 0, reasons: new Map() }; by.set(v.pair, t); }
    t[v.status]++;
    if (v.status === 'skip') t.reasons.set(v.detail ?? '', (t.reasons.get(v.detail ?? '') ?? 0) + 1);
  }
  return by;
}

/** The host a pair ran on: the key after '@' (run-hosts.ts), '' for the machine. */
export const hostOfPair = (pair: string): string => /@([a-z0-9-]+)$/.exec(pair)?.[1] ?? '';

export function summaryLines(verdicts: Verdict[], notes: string[] = []): string[] {
  const out = ['', '# summary per backend pair'];
  for (const n of notes) out.push(`# ${n}`);
  // Grouped by host: the machine's pairs first, then each other host's under its name.
  const byHost = [...tally(verdicts)].sort(([a], [b]) => (hostOfPair(a) < hostOfPair(b) ? -1 : hostOfPair(a) > hostOfPair(b) ? 1 : 0));
  let host: string | null = null;
  for (const [pair, t] of byHost) {
    if (hostOfPair(pair) !== host) {
      host = hostOfPair(pair);
      const n = (s: keyof Tally): number => byHost.filter(([p]) => hostOfPair(p) === host).reduce((sum, [, x]) => sum + x[s], 0);
      out.push(`# on ${host ? `host ${host}` : 'this machine'}: ${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped`);
    }
    out.push(`#   ${pair}: ${t.pass} passed, ${t.fail} failed, ${t.skip} skipped${t.todo ? `, ${t.todo} known gaps (cases/known-gaps.json)` : ''}`);
    for (const [r, n] of [...t.reasons].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`#       ${n} skipped: ${r.length > 300 ? `${r.slice(0, 300)}…` : r}`);
    if (t.reasons.size > 12) out.push(`#       … ${t.reasons.size - 12} more skip reasons`);
  }
  const failed = verdicts.filter((v) => v.status === 'fail');
  if (failed.length) {
    out.push('# failing:');
    for (const v of failed.slice(0, 60)) out.push(`#   ${failureKey(v)}${v.diff ? '' : `: ${(v.detail ?? '').split('\n')[0]}`}`);
    if (failed.length > 60) out.push(`#   … ${failed.length - 60} more`);
  }
  const n = (s: Verdict['status']): number => verdicts.filter((v) => v.status === s).length;
  out.push(`cases: ${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped`);
  return out;
}
