// The verdict parts of the page: the counts, the matrix of cases × pairs, each failure with its
// diff and rerun command, and the skips grouped by reason. Everything a case or libvirt said is
// a text node or an attribute value here: hast-util-to-html escapes it.
import { h } from 'hastscript';
import type { Element, ElementContent } from 'hast';
import { hostOfPair } from '../summary.js';
import type { Verdict } from '../verdict.js';
import { diffHtml } from './diff.js';

export const STATUSES = ['pass', 'fail', 'skip', 'todo'] as const;
const MARK: Record<Verdict['status'], string> = { pass: '✓', fail: '✗', skip: '–', todo: '○' };
const WORD: Record<Verdict['status'], string> = { pass: 'passed', fail: 'failed', skip: 'skipped', todo: 'known gaps' };

export const raw = (value: string): ElementContent => ({ type: 'raw', value }) as unknown as ElementContent;

/** The host a verdict ran on: its own field where the runner set one, else its pair's suffix. */
export const hostOf = (v: Verdict): string => v.host ?? hostOfPair(v.pair);

export function countsOf(verdicts: Verdict[]): Record<Verdict['status'], number> {
  const n = { pass: 0, fail: 0, skip: 0, todo: 0 };
  for (const v of verdicts) n[v.status]++;
  return n;
}

export function countsLine(verdicts: Verdict[]): Element {
  const n = countsOf(verdicts);
  return h('p.counts#counts', [
    h('span', `${verdicts.length} verdicts:`),
    ...STATUSES.map((s) => h(`span.s-${s}`, { dataCount: s }, `${n[s]} ${WORD[s]}`)),
  ]);
}

/** Pairs in column order: the machine's first, then each other host's, each in order of appearance. */
function pairColumns(verdicts: Verdict[]): { pair: string; host: string }[] {
  const seen = new Map<string, string>();
  for (const v of verdicts) if (!seen.has(v.pair)) seen.set(v.pair, hostOf(v));
  const hosts = [...new Set(seen.values())].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1));
  return hosts.flatMap((host) => [...seen].filter(([, x]) => x === host).map(([pair]) => ({ pair, host })));
}

/** Failing verdicts get anchors f-0, f-1, … in the order they are listed. */
export function failureIds(verdicts: Verdict[]): Map<Verdict, string> {
  const ids = new Map<Verdict, string>();
  verdicts.filter((v) => v.status === 'fail').forEach((v, i) => ids.set(v, `f-${i}`));
  return ids;
}

export function matrix(verdicts: Verdict[], anchors: Map<Verdict, string>): Element[] {
  const cols = pairColumns(verdicts);
  const colOf = new Map(cols.map((c, i) => [c.pair, i]));
  const rows = new Map<string, Verdict[][]>();
  for (const v of verdicts) {
    let r = rows.get(v.id);
    if (!r) { r = cols.map(() => []); rows.set(v.id, r); }
    r[colOf.get(v.pair)!].push(v);
  }
  const hostGroups: { host: string; span: number }[] = [];
  for (const c of cols) {
    const last = hostGroups[hostGroups.length - 1];
    if (last && last.host === c.host) last.span++; else hostGroups.push({ host: c.host, span: 1 });
  }
  // One element per verdict (10,000 of them must open in under 2 s): a cell holding one verdict
  // is that verdict's mark itself; only a cell with several holds an <i> per verdict.
  const title = (v: Verdict): string | undefined => (v.status === 'pass' ? undefined : `${v.pair}: ${(v.detail ?? v.status).split('\n')[0].slice(0, 300)}`);
  const face = (v: Verdict): ElementContent => {
    const a = anchors.get(v);
    return a ? h('a', { href: `#${a}` }, MARK[v.status]) : { type: 'text', value: MARK[v.status] };
  };
  const cell = (vs: Verdict[]): Element => vs.length === 1
    ? h(`td.v.${vs[0].status}`, { dataS: vs[0].status, title: title(vs[0]) }, [face(vs[0])])
    : h('td', vs.map((v) => h(`i.v.${v.status}`, { dataS: v.status, title: title(v) }, [face(v)])));
  return [
    h('div.filters', [
      h('label', ['status ', h('select#f-status', [h('option', { value: '' }, 'all'), ...STATUSES.map((s) => h('option', { value: s }, s))])]),
      h('label', ['pair ', h('select#f-pair', [h('option', { value: '' }, 'all'), ...cols.map((c) => h('option', { value: c.pair }, c.pair))])]),
      h('label', ['case ', h('input#f-glob', { type: 'search', placeholder: "glob, e.g. numatune-* or runtime/*", size: 30 })]),
      h('span.counts#matrix-counts', [
        'showing ', h('b#m-rows', String(rows.size)), ' cases, ', h('b#m-total', String(verdicts.length)), ' verdicts: ',
        ...STATUSES.flatMap((s) => [h(`b.s-${s}#m-${s}`, String(countsOf(verdicts)[s])), ` ${WORD[s]} `]),
      ]),
    ]),
    h('table#matrix', [
      h('colgroup', [h('col.idc'), ...cols.map(() => h('col.pc'))]),
      h('thead', [
        h('tr', [h('th'), ...hostGroups.map((g) => h('th', { colSpan: g.span }, g.host ? `host ${g.host}` : 'this machine'))]),
        h('tr', [h('th', 'case'), ...cols.map((c) => h('th', { dataPair: c.pair }, c.pair))]),
      ]),
      h('tbody', [...rows].map(([id, cells]) => h('tr', { dataId: id }, [h('td.id', { title: id }, id), ...cells.map(cell)]))),
    ]),
  ];
}

export function failures(verdicts: Verdict[], anchors: Map<Verdict, string>): Element[] {
  const failed = verdicts.filter((v) => v.status === 'fail');
  if (!failed.length) return [h('p.muted', 'No failures.')];
  return failed.map((v) => h('details.failure', { id: anchors.get(v) }, [
    h('summary', `${v.id} [${v.pair}]${v.diff ? '' : `: ${(v.detail ?? '').split('\n')[0]}`}`),
    ...(v.detail ? [h('pre.detail', v.detail)] : []),
    ...(v.rules?.length ? [h('p', ["the pair's named rules (harness/runner/rules.ts): ", ...v.rules.flatMap((r, i) => [i ? ', ' : '', h('code', r)])])] : [h('p.muted', 'no named rule applied')]),
    ...(v.diff ? [h('div.diff', [raw(diffHtml(v.diff))])] : []),
    ...(v.rerun ? [h('p', ['rerun: ', h('code.rerun', v.rerun), ' ', h('button.copy', { type: 'button' }, 'copy')])] : []),
  ]));
}

export function skipGroups(verdicts: Verdict[]): Element[] {
  const by = new Map<string, Verdict[]>();
  for (const v of verdicts) if (v.status === 'skip' || v.status === 'todo') {
    const k = `${v.status === 'todo' ? 'known gap: ' : ''}${v.detail ?? '(no reason given)'}`;
    by.set(k, [...(by.get(k) ?? []), v]);
  }
  if (!by.size) return [h('p.muted', 'Nothing skipped.')];
  return [...by].sort((a, b) => b[1].length - a[1].length).map(([reason, vs]) => h('details.skips', [
    h('summary', [h('b', String(vs.length)), ` ${reason.split('\n')[0]}`]),
    // One text block, not an element per case: a run skips thousands.
    h('pre.list', vs.map((v) => `${v.id} [${v.pair}]`).join('\n')),
  ]));
}
