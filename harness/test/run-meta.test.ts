// The run metadata behind the HTML report: a run that stopped midway is marked incomplete with
// how far it got, shards' metadata folds into one, --expect-failures is one computation whose
// entries the page shows and whose lines the runner prints.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLine, runMetaOf } from '../runner/run-meta-of.js';
import { expectLines, expectReport } from '../runner/expect-failures.js';
import { emptySuiteMeta, mergeMeta } from '../reporters/run-meta.js';
import { parseRunArgs } from '../runner/options.js';
import { renderReport } from '../reporters/html/page.js';
import type { Verdict } from '../reporters/verdict.js';

const o = parseRunArgs(['--html', 'r.html'], '/tmp', '/tmp/w', 1);
const v = (id: string, status: Verdict['status'], pair = 'golden-vs-model', detail?: string): Verdict => ({ id, pair, status, ms: 0, ...(detail ? { detail } : {}) });

t.test('--html is an option of npm test', async (t) => {
  t.equal(o.html, '/tmp/r.html', 'resolved against the working directory');
  t.equal(commandLine(['--case', 'numatune-*', '--html', 'a b.html']), "npm test -- --case 'numatune-*' --html 'a b.html'", 'the command as a person retypes it');
});

t.test('a run that stopped midway is marked incomplete', async (t) => {
  const state = { args: [], startedAt: new Date(), caseSuite: true, suiteFiles: [] };
  const rec = { suite: 'cases', verdicts: [v('a', 'pass'), v('b', 'pass')], changed: [], notes: [], costs: {}, meta: emptySuiteMeta(), complete: false, selected: 5 };
  const m = runMetaOf(o, state, [rec], [], null);
  t.equal(m.complete, false);
  t.match(m.incomplete, /2 cases reported of 5 selected/);
  t.match(runMetaOf(o, state, [], [], null).incomplete, /left no record/, 'no record at all: incomplete too');
  t.equal(runMetaOf(o, { ...state, interrupted: 'interrupted by SIGINT' }, [{ ...rec, complete: true }], [], null).incomplete, 'interrupted by SIGINT');
  t.equal(runMetaOf(o, state, [{ ...rec, complete: true }], [], null).complete, true, 'a finished record: complete');
  t.match(renderReport(rec.verdicts, m), /INCOMPLETE: the case suite stopped before its end/, 'the page says so at the top');
});

t.test('shards fold into one', async (t) => {
  const part = (shard: string, seconds: number) => ({ ...runMetaOf({ ...o, shard: { index: Number(shard[0]), total: 3 } }, { args: [], startedAt: new Date(), caseSuite: true, suiteFiles: [] }, [{ suite: 'cases', verdicts: [], changed: [], notes: [], costs: {}, meta: { ...emptySuiteMeta(), goldenHosts: { h1: 2 }, backends: [{ backend: 'model', seconds, cases: 1 }] }, complete: true }], [], null) });
  const m = mergeMeta([{ file: 's1.json', meta: part('1/3', 1) }, { file: 's2.json', meta: part('2/3', 2) }]);
  t.equal(m.complete, true);
  t.same(m.goldenHosts, { h1: 4 }, 'golden files used add up');
  t.same(m.backends, [{ backend: 'model', seconds: 3, cases: 2 }], 'busy time per backend adds up');
  t.same(m.parts?.map((p) => p.shard), ['1/3', '2/3']);
  const old = mergeMeta([{ file: 's1.json', meta: part('1/3', 1) }, { file: 'old.json', meta: undefined }]);
  t.equal(old.complete, false, 'a summary without metadata makes the merged page incomplete');
  t.match(old.incomplete, /old\.json has no run metadata/);
});

t.test('--expect-failures: one result, printed and shown', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvh-expect-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'expected.txt');
  writeFileSync(file, 'a [golden-vs-model]\nb [golden-vs-model]\nc [golden-vs-model@emulated]\nd [golden-vs-model] when kvm\n');
  const verdicts = [v('a', 'fail'), v('b', 'pass'), v('c', 'skip', 'golden-vs-model@emulated', 'model@emulated backend: left out by --no-emulated'), v('x', 'fail')];
  const r = expectReport(file, verdicts, { kvm: false });
  t.same(r.entries.map((e) => [e.key, e.state]), [['a [golden-vs-model]', 'seen'], ['b [golden-vs-model]', 'not caught'], ['c [golden-vs-model@emulated]', 'not run'], ['d [golden-vs-model]', 'not for this host']]);
  t.same(r.unexpected, ['x [golden-vs-model]']);
  t.equal(r.passed, false);
  const lines = expectLines(r);
  t.match(lines[0], /1\/3 seen, 1 unexpected, 1 not run/);
  t.equal(lines[lines.length - 1], 'expected-failures: 0 passed, 1 failed');
  const page = renderReport(verdicts, { ...runMetaOf(o, { args: [], startedAt: new Date(), caseSuite: false, suiteFiles: [] }, [], [], r) });
  for (const s of ['seen', 'not caught', 'not run', 'not for this host', 'unexpected failure']) t.match(page, `>${s}<`, `the page shows "${s}"`);
});
