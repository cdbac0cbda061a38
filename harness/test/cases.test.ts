// The case suite through node-tap: the runner library (harness/runner/suite.ts) produces the
// verdicts; this file only shows each case's verdicts as TAP and leaves them for the reports.
import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The built runner (npm test builds it when harness/ is newer): loading it through the test
// loader's TypeScript transpiler cost about a second per run.
import { runOptions } from '../../dist/runner/options.js';
import { startSuite } from '../../dist/runner/suite.js';
import { writeSuiteRecord, type Verdict } from '../../dist/reporters/verdict.js';
import { asTap } from '../../dist/reporters/tap.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const options = runOptions();
const run = await startSuite(root, options);
for (const n of run.notes) t.comment(n);

const all: Verdict[] = [];
const changed: string[] = [];
const costs: Record<string, number> = {};
const record = (complete: boolean) => ({ suite: 'cases', verdicts: all, changed, notes: run.notes, costs, meta: run.meta, complete, selected: run.cases.length });
// Written on the way too (at most every 2 s), so that a run that dies midway still has a
// report of what it got, marked incomplete (runner/main.ts).
let lastWrite = 0;
const progress = (): void => {
  if (Date.now() - lastWrite < 2000) return;
  lastWrite = Date.now();
  writeSuiteRecord(options.workDir, record(false));
};
t.teardown(async () => {
  await run.close();
  writeSuiteRecord(options.workDir, record(true));
});

run.cases.forEach((c, i) => {
  t.test(c.id, async (tt) => {
    const r = await run.results[i];
    all.push(...r.verdicts);
    changed.push(...r.blessed);
    costs[c.id] = r.seconds;
    asTap(tt, r.verdicts);
    progress();
  });
});
t.test('suite checks', async (tt) => {
  const r = await run.finish();
  all.push(...r.verdicts);
  changed.push(...r.changed);
  if (options.regenerate) tt.comment(changed.length ? `golden files changed:\n${changed.join('\n')}` : 'no golden file changed');
  asTap(tt, r.verdicts);
  if (!r.verdicts.length) tt.pass('no suite-level checks in a subset run');
});
