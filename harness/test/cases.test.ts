// One TAP test per case and backend: the expected file (golden or libvirt's), the model and
// the real libvirt are compared pairwise. Selection and modes come from scripts/run-suite.mjs.
import t, { type Test } from 'tap';

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runModel } from '../backends/model.js';
import type { Backend, Outcome } from '../backends/types.js';
import type { Case } from '../runner/case.js';
import { compare, expectedOf } from '../runner/compare.js';
import { goldenOnDisk, projectCases } from '../runner/project-cases.js';
import { libvirtCases } from '../runner/libvirt-cases.js';
import { LIBVIRT_TESTS_VS_REAL_RULES, PROJECT_RULES as BASE_PROJECT_RULES, seriesPaths } from '../runner/rules.js';
import { describeSeriesBuild, loadSeriesBuild, type SeriesBuild } from '../series/manifest.js';
import { selectCases } from '../runner/select.js';
import { writeGolden } from '../runner/golden-writer.js';
import { Tally } from '../reporters/tally.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const globs: string[] = JSON.parse(process.env.HARNESS_CASES ?? '[]');
const regenerate = process.env.HARNESS_REGENERATE === '1';
const libvirtTree = process.env.HARNESS_LIBVIRT_TREE ?? join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0');
const actualDir = join(root, '.cache', 'actual');

const rerun = (c: Case): string => `npm test -- --case '${c.id}'`;

function saveActual(c: Case, backend: string, o: Outcome): string {
  const file = join(actualDir, `${c.id}.${backend}.${o.kind === 'ok' ? (c.op === 'argv' ? 'args' : 'xml') : 'err'}`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, o.kind === 'ok' ? o.text : o.kind === 'error' ? o.message + '\n' : `skip: ${o.reason}\n`);
  return file;
}

// --series KEY: "the real libvirt" is the one a patch series built (scripts/build-libvirt.sh),
// running as a private daemon (scripts/series-daemon.sh); the model stays the reference.
const seriesKey = process.env.HARNESS_SERIES_KEY ?? '';
const series: SeriesBuild | null = seriesKey ? (() => {
  const b = loadSeriesBuild(seriesKey);
  if ('missing' in b) throw new Error(b.missing);
  return b;
})() : null;
if (series) t.comment(`real libvirt: ${describeSeriesBuild(series)} at ${series.uri}`);
const PROJECT_RULES = series ? [...BASE_PROJECT_RULES, seriesPaths(series.key)] : BASE_PROJECT_RULES;
const REAL_RULES = series ? [...LIBVIRT_TESTS_VS_REAL_RULES, seriesPaths(series.key)] : LIBVIRT_TESTS_VS_REAL_RULES;

async function realBackend(): Promise<{ backend?: Backend; why?: string }> {
  if (process.env.HARNESS_NO_LIBVIRT === '1') return { why: 'disabled by --no-libvirt' };
  try {
    const { LibvirtBackend } = await import('../backends/libvirt.js');
    const b: Backend = new LibvirtBackend(series ? { uri: series.uri } : {});
    const why = await b.unavailable();
    return why ? { why } : { backend: b };
  } catch (e) {
    return { why: `libvirt backend failed to load: ${(e as Error).message}` };
  }
}

const project = selectCases(projectCases(root), globs);
const gapsFile = join(root, 'cases', 'known-gaps.json');
const knownGaps: Record<string, string> = existsSync(gapsFile) ? JSON.parse(readFileSync(gapsFile, 'utf8')) : {};
const haveTree = existsSync(join(libvirtTree, 'tests', 'qemuxml2argvtest.c'));
const fromLibvirt = haveTree ? libvirtCases(libvirtTree) : { cases: [], skipped: [] };
const libvirt = selectCases(fromLibvirt.cases, globs);

const { backend: real, why: realWhy } = await realBackend();
const tally = new Tally();
t.teardown(async () => {
  await real?.close();
  if (series) tally.series = describeSeriesBuild(series);
  if (process.env.HARNESS_SUMMARY) tally.writeSummary(process.env.HARNESS_SUMMARY);
  if (process.env.HARNESS_JUNIT) tally.writeJunit(process.env.HARNESS_JUNIT);
});

/** A listed known gap: the model must refuse it as 'not modelled' (todo); if it matches, the list is stale. */
function checkModel(s: Test, c: Case, pair: string, model: Outcome, v: { same: boolean; diff?: string; rules: string[] }): void {
  const gap = knownGaps[c.name] ?? knownGaps[`${c.name}:${c.op}`];
  if (!gap || c.source !== 'project') return check(s, c, pair, v);
  if (v.same) {
    tally.record(c.id, pair, 'fail', `known gap now matches: remove '${c.name}' from cases/known-gaps.json`);
    s.fail(`known gap now matches: remove '${c.name}' from cases/known-gaps.json`);
  } else if (model.kind === 'error' && model.message.startsWith('not modelled:')) {
    tally.record(c.id, pair, 'todo', gap);
    s.ok(false, `${pair}: known gap`, { todo: gap });
  } else check(s, c, pair, v);
}

/** Assert and record one pair's verdict. */
function check(s: Test, c: Case, pair: string, v: { same: boolean; diff?: string; rules: string[] }): void {
  tally.record(c.id, pair, v.same ? 'pass' : 'fail', v.diff ? `${v.diff}\n${rerun(c)}` : undefined);
  s.ok(v.same, `${pair} agree`, { diff: v.diff, rules: v.rules, rerun: rerun(c) });
}
function skip(s: Test, c: Case, pair: string, why: string): void {
  tally.record(c.id, pair, 'skip', why);
  s.skip(why);
}

const used = new Set<string>();

for (const c of project) {
  if (c.expect.kind !== 'missing') used.add(c.expect.file);
  t.test(c.id, async (tt) => {
    const input = readFileSync(c.input);
    const model = runModel(c.op, input, c.profile);
    let realOut: Outcome | undefined;
    if (real) realOut = c.op === 'argv' ? await real.argv(input.toString('utf8'), c.profile) : await real.xml(input.toString('utf8'), c.profile);
    if (regenerate) {
      if (series) return tt.skip('--regenerate blesses from the installed libvirt only, never from a series under test');
      if (!realOut) return tt.skip(`--regenerate needs the real libvirt: ${realWhy}`);
      tally.changed.push(...writeGolden(c.goldenBase!, c.op, realOut));
      tt.pass(`blessed from the real libvirt`);
      return;
    }
    const expected = expectedOf(c);
    if (expected.kind === 'missing') {
      tt.fail(`no golden file ${c.expect.kind === 'missing' ? c.expect.file : ''}: bless it with npm test -- --regenerate --case '${c.name}'`);
      return;
    }
    tt.test('golden vs model', async (s) => {
      const v = compare(expected, model, ['golden', 'model'], PROJECT_RULES);
      if (!v.same) saveActual(c, 'model', model);
      checkModel(s, c, 'golden-vs-model', model, v);
    });
    tt.test('golden vs libvirt', async (s) => {
      if (!realOut) return skip(s, c, 'golden-vs-libvirt', `libvirt backend: ${realWhy}`);
      const v = compare(expected, realOut, ['golden', 'libvirt'], PROJECT_RULES);
      if (!v.same) saveActual(c, 'libvirt', realOut);
      check(s, c, 'golden-vs-libvirt', v);
    });
    tt.test('libvirt vs model', async (s) => {
      if (!realOut) return skip(s, c, 'libvirt-vs-model', `libvirt backend: ${realWhy}`);
      checkModel(s, c, 'libvirt-vs-model', model, compare(realOut, model, ['libvirt', 'model'], PROJECT_RULES));
    });
  });
}

if (!haveTree) {
  tally.record('libvirt/*', 'libvirt-tests-vs-model', 'skip', `no libvirt test data (run bash scripts/fetch-libvirt-tests.sh)`);
  t.test('libvirt test data', (tt) => { tt.skip(`no libvirt test data at ${libvirtTree} (run bash scripts/fetch-libvirt-tests.sh)`); tt.end(); });
}
/** The profile whose capabilities the real QEMU on this host has (QEMU 7.2 = x86_64-latest). */
const REAL_PROFILE = 'x86_64-latest';

for (const c of libvirt) {
  t.test(c.id, async (tt) => {
    const input = readFileSync(c.input);
    const expected = expectedOf(c);
    const label = `libvirt ${c.expect.kind === 'text' || c.expect.kind === 'error' ? c.expect.file.split('/tests/')[1] : 'failure'}`;
    const model = runModel(c.op, input, c.profile);
    const v = compare(expected, model, [label, 'model'], []);
    if (!v.same) saveActual(c, 'model', model);
    tt.test('libvirt tests vs model', async (s) => check(s, c, 'libvirt-tests-vs-model', v));

    // The same input on the real libvirt: against libvirt's expected file where that file was
    // made for this host's capabilities, and always against the model's host prediction.
    let realOut: Outcome | undefined;
    if (real) realOut = c.op === 'argv' ? await real.argv(input.toString('utf8'), 'host') : await real.xml(input.toString('utf8'), 'host');
    tt.test('libvirt tests vs real libvirt', async (s) => {
      if (!realOut) return skip(s, c, 'libvirt-tests-vs-libvirt', `libvirt backend: ${realWhy}`);
      if (c.profile !== REAL_PROFILE) return skip(s, c, 'libvirt-tests-vs-libvirt', `expected file is for profile ${c.profile}; this host's QEMU 7.2 matches ${REAL_PROFILE} only`);
      if (c.op === 'xml') return skip(s, c, 'libvirt-tests-vs-libvirt', 'xml2xml test outputs skip post-parse steps the daemon runs (machine alias, default CPU)');
      const lacking = realOut.kind === 'error' ? /NUMA node (\d+) is unavailable/.exec(realOut.message) : null;
      if (lacking && expected.kind === 'ok') return skip(s, c, 'libvirt-tests-vs-libvirt', `host lacks NUMA node ${lacking[1]}`);
      const r = compare(expected, realOut, [label, 'libvirt'], REAL_RULES);
      if (!r.same) saveActual(c, 'libvirt', realOut);
      check(s, c, 'libvirt-tests-vs-libvirt', r);
    });
    tt.test('real libvirt vs model (host profile)', async (s) => {
      if (!realOut) return skip(s, c, 'libvirt-vs-model(host)', `libvirt backend: ${realWhy}`);
      const hostModel = runModel(c.op, input, 'host');
      const r = compare(realOut, hostModel, ['libvirt', 'model (host)'], PROJECT_RULES);
      if (!r.same) saveActual(c, 'model-host', hostModel);
      checkModel(s, c, 'libvirt-vs-model(host)', hostModel, r);
    });
  });
}
if (!globs.length) {
  for (const s of fromLibvirt.skipped) t.test(s.id, (tt) => { tally.record(s.id, 'libvirt-tests-vs-model', 'skip', s.why); tt.skip(s.why); tt.end(); });
}

t.test('golden files', async (tt) => {
  if (regenerate) {
    tt.comment(tally.changed.length ? `changed:\n${tally.changed.join('\n')}` : 'no golden file changed');
    return tt.pass('regenerated');
  }
  if (globs.length) return tt.skip('orphan check runs on the full suite only');
  const orphans = goldenOnDisk(root).filter((f) => !used.has(f));
  tt.same(orphans, [], 'no orphaned golden files (references no case used)');
});
