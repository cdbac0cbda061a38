// Compares two outcomes (expected file, model, real libvirt) and explains a mismatch with a
// unified diff, the way a reviewer wants to read it.
import { createTwoFilesPatch } from 'diff';
import { readFileSync } from 'node:fs';
import type { Outcome } from '../backends/types.js';
import type { Case } from './case.js';
import { normalise, type Rule } from './rules.js';

export type Expected = Outcome | { kind: 'error-any' } | { kind: 'missing'; file: string };

export function expectedOf(c: Case): Expected {
  switch (c.expect.kind) {
    case 'text': return { kind: 'ok', text: readFileSync(c.expect.file, 'utf8') };
    case 'error': return { kind: 'error', message: readFileSync(c.expect.file, 'utf8').replace(/\n+$/, '') };
    case 'error-any': return { kind: 'error-any' };
    case 'missing': return { kind: 'missing', file: c.expect.file };
  }
}

const render = (o: Expected): string =>
  o.kind === 'ok' ? o.text : o.kind === 'error' ? `error: ${o.message}\n` : o.kind === 'error-any' ? 'error: (any)\n' : o.kind === 'skip' ? `skip: ${o.reason}\n` : `missing: ${o.file}\n`;

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
  if (a.text === b.text) return { same: true, rules: [...new Set([...a.applied, ...b.applied])] };
  return { same: false, diff: createTwoFilesPatch(labels[0], labels[1], a.text, b.text, '', '', { context: 3 }), rules: [...new Set([...a.applied, ...b.applied])] };
}
