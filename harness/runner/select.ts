// `--case GLOB`: shell-style globs over case names (or full ids), several allowed.
import type { Case } from './case.js';

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function selectCases(cases: Case[], globs: string[]): Case[] {
  if (!globs.length) return cases;
  const res = globs.map(globToRegExp);
  return cases.filter((c) => res.some((r) => r.test(c.name) || r.test(c.id)));
}
