// One comparison for every pair (argv, xml, runtime documents, test-program verdicts): both
// sides rendered as text, the named rules applied to both, and a unified diff when they differ.
import { createTwoFilesPatch } from 'diff';
import { readFileSync } from 'node:fs';
import type { Outcome } from '../backends/types.js';
import type { Expectation, Operation } from './case.js';
import { normalise, type Rule } from './rules.js';

export type Expected = Outcome | { kind: 'error-any' };

/** A reference file as an outcome: .err files hold libvirt's one-line message. */
export function expectedOf(e: Exclude<Expectation, { kind: 'golden' }> | { kind: 'golden-file'; file: string }, op: Operation): Expected {
  if (e.kind === 'error-any') return e;
  const body = readFileSync(e.file, 'utf8');
  const isError = e.kind === 'error' || (e.kind === 'golden-file' && e.file.endsWith('.err') && op !== 'runtime');
  return isError ? { kind: 'error', message: body.replace(/\n+$/, '') } : { kind: 'ok', text: body };
}

const render = (o: Expected): string =>
  o.kind === 'ok' ? o.text : o.kind === 'error' ? `error: ${o.message}\n` : o.kind === 'error-any' ? 'error: (any)\n' : `skip: ${o.reason}\n`;

export interface Verdict {
  same: boolean;
  diff?: string;
  rules: string[];
}

/** Does `actual` match `expected`? Rules apply to both sides and are reported when they matter. */
export function compare(expected: Expected, actual: Outcome, labels: [string, string], rules: Rule[] = []): Verdict {
  if (expected.kind === 'error-any') return { same: actual.kind === 'error', diff: actual.kind === 'error' ? undefined : `expected a failure, ${labels[1]} gave:\n${render(actual)}`, rules: [] };
  const a = normalise(render(expected), rules);
  const b = normalise(render(actual), rules);
  const applied = [...new Set([...a.applied, ...b.applied])];
  if (a.text === b.text) return { same: true, rules: applied };
  return { same: false, diff: createTwoFilesPatch(labels[0], labels[1], a.text, b.text, '', '', { context: 3 }), rules: applied };
}
