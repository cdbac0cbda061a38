// Selection: `--case GLOB` (shell-style, over case names or full ids, several allowed) and
// `--shard I/N` (a deterministic, disjoint part, balanced by recorded cost).
import type { Case } from './case.js';
import type { Shard } from './options.js';

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function selectCases<C extends { name: string; id: string }>(cases: C[], globs: string[]): C[] {
  if (!globs.length) return cases;
  const res = globs.map(globToRegExp);
  return cases.filter((c) => res.some((r) => r.test(c.name) || r.test(c.id)));
}

/** Seconds a case is expected to take, from a previous run's record, else by kind. */
export function estimatedCost(c: Case, recorded: Record<string, number>): number {
  return recorded[c.id] ?? (c.op === 'runtime' ? 2 : 0.01);
}

/** Greedy longest-first assignment to the least loaded shard: every case lands in exactly one
 *  shard, the same one for the same inputs, whatever machine computes it. */
export function shardOf(cases: Case[], shard: Shard, recorded: Record<string, number>): Case[] {
  const order = [...cases].sort((a, b) => estimatedCost(b, recorded) - estimatedCost(a, recorded) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const load = new Array<number>(shard.total).fill(0);
  const mine = new Set<string>();
  for (const c of order) {
    let k = 0;
    for (let j = 1; j < load.length; j++) if (load[j] < load[k]) k = j;
    load[k] += estimatedCost(c, recorded);
    if (k === shard.index - 1) mine.add(c.id);
  }
  return cases.filter((c) => mine.has(c.id));
}
