// The bench report as a table: figure | argv | xml | note.
import type { Report } from './main.js';

const f3 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(3) : x.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b);
const fx = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : `${x.toFixed(2)}x`);

export function printTable(r: Report): void {
  const rows: [string, string, string, string][] = [];
  const skip = (label: string, why: string | undefined): void => { rows.push([label, 'skipped', '', why ?? '']); };

  const s = r.startup;
  if (s.skipped) skip('CLI start-up', s.skipped);
  else {
    rows.push(['bare `node -e 0` ms', f3(s.bareNodeMs), f3(s.bareNodeMs), `median of ${s.rounds} rounds, alternating with the CLI rows below (${s.cpus})`]);
    rows.push(['CLI one file per call ms', f3(s.perCall!.argv.ms), f3(s.perCall!.xml.ms), `${s.perCall!.argv.file} (--profile ${s.perCall!.argv.profile}); ${s.perCall!.xml.file}`]);
    rows.push(['CLI per call / bare node', fx(s.perCall!.argv.overBare), fx(s.perCall!.xml.overBare), 'target ≤ 1.5x']);
    rows.push(['CLI batch ms per file', f3(s.batch!.argv.perFileMs), f3(s.batch!.xml.perFileMs),
      `one call on ${s.batch!.argv.files} / ${s.batch!.xml.files} family files (${f3(s.batch!.argv.ms)} / ${f3(s.batch!.xml.ms)} ms in all, start-up included)`]);
    rows.push(['CLI batch per file / bare node', fx(s.batch!.argv.perFileOverBare), fx(s.batch!.xml.perFileOverBare), 'target ≤ 0.5x']);
    rows.push(['CLI batch ms added per file', f3(s.batch!.argv.marginalMs), f3(s.batch!.xml.marginalMs), '(batch − one-file call) / (N − 1)']);
  }

  if (r.modelSkipped) skip('model', r.modelSkipped);
  else {
    const m = r.model;
    rows.push(['cases (libvirt NUMA family)', String(m.argv?.cases ?? '–'), String(m.xml?.cases ?? '–'), `${r.registrationsSkipped} registrations outside the profiles`]);
    rows.push(['model in process median ms/case', f3(m.argv?.medianMs), f3(m.xml?.medianMs), `per pass over the family, ${r.iterations} passes after ${r.warmup} warm-up`]);
    rows.push(['model in process mean ms/case', f3(m.argv?.meanMs), f3(m.xml?.meanMs), 'mean over all passes (GC pauses included)']);
    if (r.modelCrashed.length) rows.push(['model threw (left out)', String(r.modelCrashed.length), '', r.modelCrashed.map((c) => c.id).join(', ')]);
    const b = r.modelBefore;
    if (!b) skip('model before (same run)', r.beforeSkipped);
    else {
      rows.push(['model before, median ms/case', f3(b.argv?.medianMs), f3(b.xml?.medianMs), `the model at ${r.beforeLabel}, same family, passes interleaved with today's`]);
      rows.push(['model now / before (median)', fx(ratio(m.argv?.medianMs, b.argv?.medianMs)), fx(ratio(m.xml?.medianMs, b.xml?.medianMs)), 'the new vocabulary must not slow the old cases']);
      const c = r.modelNoise;
      if (c) rows.push(['model now / a copy of it (median)', fx(ratio(m.argv?.medianMs, c.argv?.medianMs)), fx(ratio(m.xml?.medianMs, c.xml?.medianMs)), `the timing's own spread: ${r.noiseLabel} compiled apart, same passes; a now/before ratio within it is no slow-down`]);
    }
    const mem = r.memory;
    if (mem) {
      rows.push(['cases (libvirt memory territory)', String(mem.now.argv?.cases ?? '–'), String(mem.now.xml?.cases ?? '–'), 'inputs with <numatune>/<numa>/<memoryBacking>/<maxMemory>/<memory model> that the model answers today']);
      rows.push(['  model now, median ms/case', f3(mem.now.argv?.medianMs), f3(mem.now.xml?.medianMs), `${Math.max(1, Math.round(r.iterations / 4))} passes`]);
      if (mem.before) rows.push(['  model before, median ms/case', f3(mem.before.argv?.medianMs), f3(mem.before.xml?.medianMs), 'the same inputs: before, most were refused as not modelled (a refusal is cheap)']);
    }
  }

  const t = r.treeTests;
  if (t.skipped) skip("libvirt's own test programs", t.skipped);
  else {
    const a = t.suites?.argv;
    const x = t.suites?.xml;
    const progs = [a?.program ?? t.suiteSkipped?.argv ?? '–', x?.program ?? t.suiteSkipped?.xml ?? '–'].join(' / ');
    rows.push(['test program ms/case, start-up incl.', f3(a?.perCaseWithStartupMs), f3(x?.perCaseWithStartupMs),
      `${progs} of series build ${t.build}: one process per case, median of ${a?.singleRuns ?? x?.singleRuns ?? 0} cases`]);
    rows.push(['test program ms/case, start-up excl.', f3(a?.perCaseWithoutStartupMs), f3(x?.perCaseWithoutStartupMs),
      `(all ${a?.cases ?? '–'} / ${x?.cases ?? '–'} NUMA-family cases in one process − one case) / (N − 1); ${a?.passed ?? '–'} / ${x?.passed ?? '–'} passed`]);
    rows.push(['test program (excl.) / model (mean)', fx(a && r.model.argv ? a.perCaseWithoutStartupMs / r.model.argv.meanMs : undefined),
      fx(x && r.model.xml ? x.perCaseWithoutStartupMs / r.model.xml.meanMs : undefined), "same run; each on its own tree's NUMA family"]);
  }

  if (r.virsh.skipped) skip('virsh domxml-to-native', r.virsh.skipped);
  else {
    rows.push(['virsh domxml-to-native per call ms', f3(r.virsh.medianMs), '–', `${r.virsh.note}; ${r.virsh.ok} ok, ${r.virsh.errors} refused`]);
    const cli = r.startup.perCall?.argv.ms;
    if (cli !== undefined) rows.push(['CLI per call / virsh per call', fx(cli / r.virsh.medianMs!), '–', 'one file, a fresh process each']);
  }
  const b = r.backend;
  if (b.skipped) skip('libvirt backend (virsh session)', b.skipped);
  else {
    rows.push(['batched virsh session ms/case', f3(b.argvMedianMs), f3(b.xmlMedianMs), `${b.files} cases/*.xml through the runner's virsh session (xml = define + dumpxml + undefine)`]);
    rows.push(['model (host) median ms, same files', f3(b.modelArgvMedianMs), f3(b.modelXmlMedianMs), 'same run, same inputs, 20 repetitions each']);
    rows.push(['session / model, same files', fx(b.argvRealOverModel), fx(b.xmlRealOverModel), 'ratio of medians']);
  }
  rows.push(['peak RSS', `${r.peakRssMiB.toFixed(1)} MiB`, '', 'process.resourceUsage().maxRSS (the bench process)']);

  const head: [string, string, string, string] = ['figure', 'argv', 'xml', 'note'];
  const w = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((x) => x[i].length)));
  const line = (x: string[]): string => `${x[0].padEnd(w[0])}  ${x[1].padStart(w[1])}  ${x[2].padStart(w[2])}  ${x[3]}`.trimEnd();
  process.stdout.write([
    `libvirt-harness bench: node ${r.node}, ${r.pinning}`,
    `libvirt tree: ${r.libvirtTree}`,
    line(head),
    line(w.map((n) => '-'.repeat(n)).concat('----')),
    ...rows.map(line),
  ].join('\n') + '\n');
}
