// Verdicts as TAP assertions: a pass, a failure with its diff and rerun command, a skip or a
// todo with its reason.
import type { Test } from 'tap';
import type { Verdict } from './verdict.js';

export function asTap(t: Test, verdicts: Verdict[]): void {
  for (const v of verdicts) {
    const name = v.id.includes('/') && t.name === v.id ? v.pair : `${v.id} [${v.pair}]`;
    if (v.status === 'pass') t.pass(`${name}${v.detail ? ` (${v.detail})` : ''}`);
    else if (v.status === 'skip') t.pass(name, { skip: v.detail ?? 'skipped' });
    else if (v.status === 'todo') t.fail(name, { todo: v.detail ?? 'known gap' });
    else t.fail(`${name}${v.diff ? '' : `: ${v.detail ?? 'failed'}`}`, { diff: v.diff, rules: v.rules, rerun: v.rerun, detail: v.diff ? v.detail : undefined });
  }
}
