// The page's "between libvirt releases" part: `npm run versions`' report (harness/versions/) as
// it stands for this checkout's goldens, per pair of releases the counts by kind of difference,
// then the larger groups with the model switch that explains each (or "capability data",
// "unexplained"). Computed when the page is written (a few seconds), never read from a file an
// earlier run left behind.
import { h } from 'hastscript';
import type { Element } from 'hast';
import type { RunMeta } from '../run-meta.js';
import { table as cellTable } from './run.js';

const KINDS = ['changed output', 'new error', 'error gone', 'error reworded'] as const;

export function releases(m: RunMeta, top = 12): Element[] {
  const v = m.versions;
  if (!v) return [h('p.muted', 'Not computed for this page (a merged or interrupted report).')];
  if ('unavailable' in v) return [h('p.muted', `Not available: ${v.unavailable}`)];
  const out: Element[] = [
    h('p', `The project's argv/xml cases as each release's real daemon answered them on the emulated topology: ${v.releases.map((r) => `libvirt ${r.version} (QEMU ${r.qemu}, host ${r.host}, ${r.goldens} goldens)`).join(', ')}.`),
    cellTable(['from → to', 'compared', 'unchanged', ...KINDS, 'not comparable'], v.transitions.map((t) =>
      [`${t.from} → ${t.to}`, String(t.compared), String(t.same), ...KINDS.map((k) => String(t.byKind[k] ?? 0)), String(t.notComparable)])),
  ];
  for (const t of v.transitions) {
    const groups = v.groups.filter((g) => g.from === t.from && g.to === t.to).sort((a, b) => b.inputs.length - a.inputs.length);
    if (!groups.length) continue;
    const shown = groups.slice(0, top);
    out.push(h('h3', `${t.from} → ${t.to}: ${groups.length} groups${groups.length > shown.length ? ` (the ${shown.length} largest)` : ''}`),
      cellTable(['operation', 'kind', 'what differs', 'inputs', 'e.g.', 'explained by'], shown.map((g) => [
        g.op, g.kind, g.signature.join(' '), String(g.inputs.length), g.inputs[0] ?? '',
        Object.entries(g.explainedBy).map(([why, n]) => `${why} (${n})`).join(', ') || 'unexplained',
      ])));
  }
  return out;
}
