// The run parts of the page: how it was run, on which hosts with which versions, against which
// golden hosts and series, how long each backend took, the emulated host's page counts and
// tiering cells, and what became of an --expect-failures list. All from RunMeta.
import { h } from 'hastscript';
import type { Element, ElementContent } from 'hast';
import { chartSvg, type Panel } from '../../emulated/plot.js';
import type { ExpectReport, RunMeta } from '../run-meta.js';
import { raw } from './verdicts.js';

export const table = (head: string[] | null, rows: (string | ElementContent)[][], cls = 'facts'): Element =>
  h(`table.${cls}`, [...(head ? [h('thead', [h('tr', head.map((x) => h('th', x)))])] : []), h('tbody', rows.map((r) => h('tr', r.map((c) => h('td', [typeof c === 'string' ? { type: 'text', value: c } : c])))))]);

export function runFacts(m: RunMeta): Element[] {
  const out: Element[] = [
    table(null, [
      ['command', h('code', m.command)],
      ['started', m.startedAt],
      ['wall time', `${m.seconds.toFixed(1)} s`],
      ...(m.shard ? [['shard', m.shard]] : []),
      ['complete', m.complete ? 'yes' : `no: ${m.incomplete ?? 'the run stopped before its end'}`],
    ]),
  ];
  if (m.parts) out.push(h('h3', 'merged from'), table(['summary', 'shard', 'wall time', 'command'], m.parts.map((p) => [p.file, p.shard ?? '(whole run)', `${p.seconds.toFixed(1)} s`, h('code', p.command)])));
  out.push(h('h3', 'hosts and versions'), m.hosts.length
    ? table(['host', 'golden host id', 'libvirt', 'QEMU', 'kernel', 'facts', 'committed golden host'], m.hosts.map((x) => [
      x.key ? `${x.label} (@${x.key})` : x.label, h('code', x.id), x.libvirt, x.qemu, x.kernel, x.description + (x.simulatedFrom ? ` (simulated from ${x.simulatedFrom})` : ''), x.committed ? 'yes' : 'no: goldens of the nearest host where the input allows',
    ]))
    : h('p.muted', 'No host facts in this run (no case suite ran).'));
  const golden = Object.entries(m.goldenHosts).sort((a, b) => b[1] - a[1]);
  out.push(h('h3', 'golden hosts used'), golden.length ? table(['golden host', 'golden files held to'], golden.map(([id, n]) => [h('code', id), String(n)])) : h('p.muted', 'No golden file was used.'));
  out.push(h('h3', 'series under test'), m.series
    ? h('div', [
      h('p', [`libvirt ${m.series.version} from `, h('code', m.series.tree), ', build key ', h('code', m.series.key)]),
      m.series.patches.length ? h('ol', m.series.patches.map((p) => h('li', [p.subject || '(no subject)', ' ', h('span.muted', `(${p.file})`)]))) : h('p', 'no patches (the clean tree)'),
    ])
    : h('p.muted', "none: the machine's own libvirt"));
  const backends = [...m.backends].sort((a, b) => b.seconds - a.seconds);
  out.push(h('h3', 'durations per backend'), backends.length
    ? table(['backend', 'busy seconds (run() calls summed, concurrent ones add up)', 'cases'], backends.map((b) => [b.backend, b.seconds.toFixed(1), String(b.cases)]))
    : h('p.muted', 'No backend ran.'));
  if (m.suiteFiles.length) out.push(h('h3', 'suite files'), table(['file', 'wall seconds', 'exit'], m.suiteFiles.map((f) => [f.file, f.seconds.toFixed(1), String(f.exit)])));
  if (m.notes.length) out.push(h('details', [h('summary', `run notes (${m.notes.length}, as the summary prints them)`), h('ul', m.notes.map((n) => h('li', n)))]));
  return out;
}

export function emulated(m: RunMeta): Element[] {
  const out: Element[] = [];
  if (m.emulatedRuntime.length) {
    const nodes = [...new Set(m.emulatedRuntime.flatMap((c) => c.mappings.flatMap((x) => Object.keys(x.pages))))].sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')));
    out.push(h('h3', `runtime cases: guest RAM pages per NUMA node (${m.emulatedRuntime.length} cases)`), table(['case', 'memory', ...nodes], m.emulatedRuntime.flatMap((c) => c.refused !== undefined || !c.mappings.length
      ? [[c.id, c.refused !== undefined ? `refused: ${c.refused}` : 'no mapping observed', ...nodes.map(() => '')]]
      : c.mappings.map((x) => [c.id, x.id, ...nodes.map((n) => (x.pages[n] ? String(x.pages[n]) : ''))]))));
  }
  if (m.tiering.length) {
    const at = (c: RunMeta['tiering'][number], k: number): string => Object.entries(c.nodes).map(([n, v]) => [n, v.at(k) ?? 0] as const).filter(([, v]) => v > 0).map(([n, v]) => `${n}=${v}`).join(' ');
    out.push(h('h3', `tiering cells (${m.tiering.length})`), table(['cell', 'kernel', 'libvirt', 'guest', 'domain cpuset.mems', 'pages before', 'pages after', 'pages outside the nodeset'], m.tiering.map((c) => c.startError
      ? [c.id, c.kernel, c.build, c.scenario, `did not start: ${c.startError}`, '', '', '']
      : [c.id, c.kernel, c.build, c.scenario, c.domainMems || '(empty: all)', at(c, 0), at(c, -1), String(c.outside)])));
    const panels: Panel[] = m.tiering.filter((c) => c.t.length).map((c) => ({ title: `${c.kernel}, ${c.build}: ${c.scenario}`, series: { t: c.t, nodes: c.nodes } }));
    if (panels.length) out.push(h('div.plot', [raw(chartSvg('Guest RAM pages per node under pressure on DRAM node 0', panels, Math.min(4, panels.length)))]));
  }
  return out.length ? out : [h('p.muted', 'The emulated host ran no runtime case or tiering cell in this run.')];
}

export function expected(reports: ExpectReport[]): Element[] {
  return reports.map((r) => h('div', [
    h('p', [h(r.passed ? 'b.s-pass' : 'b.s-fail', r.passed ? 'exactly the listed failures' : 'not as listed'), ` ${r.file}${r.shard ? ` (shard ${r.shard})` : ''}: `,
      ...(['seen', 'not run', 'not caught', 'not for this host'] as const).map((s) => `${r.entries.filter((e) => e.state === s).length} ${s}, `),
      `${r.unexpected.length} unexpected${r.vacuous ? '; none of the listed failures ran here' : ''}`]),
    table(['listed failure', 'in this run'], [
      ...r.entries.map((e) => [h('code', e.key), h(e.state === 'seen' ? 'span.s-pass' : e.state === 'not caught' ? 'span.s-fail' : 'span.s-skip', e.state)]),
      ...r.unexpected.map((u) => [h('code', u), h('span.s-fail', 'unexpected failure')]),
    ]),
  ]));
}
