#!/usr/bin/env node
// `npm test [-- --case GLOB …] [--regenerate] [--junit FILE] [--no-libvirt]`: turns the
// harness's own options into what node-tap understands (it rejects unknown flags), then runs
// tap. Not named test.* on purpose: tap would pick it up as a test file.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const usage = `usage: npm test -- [--case GLOB]... [--regenerate] [--junit FILE] [--no-libvirt] [--series KEY [--expect-failures FILE]]
  --case GLOB    run only cases whose name (or id) matches; repeatable (e.g. 'numatune-*')
  --regenerate   bless the project's golden files from the real libvirt (never libvirt's own files)
  --junit FILE   also write JUnit XML (each failing case's diff in its failure body)
  --no-libvirt   do not use the real libvirt backend (reported as skipped, with that reason)
  --series KEY   run against a series build (scripts/series.sh does build + daemon + this)
  --expect-failures FILE  pass only if exactly the failures listed in FILE happen (one
                 'CASE-ID [PAIR]' per line, as the summary prints them): proves a broken series is caught`;

const cases = [];
let regenerate = false;
let junit = '';
let noLibvirt = false;
let seriesKey = '';
let expectFailures = '';
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--case' || a.startsWith('--case=')) {
    const v = a.includes('=') ? a.slice(7) : argv[++i];
    if (!v) { console.error('--case needs a glob'); console.error(usage); process.exit(2); }
    cases.push(v);
  } else if (a === '--regenerate') regenerate = true;
  else if (a === '--junit' || a.startsWith('--junit=')) {
    junit = a.includes('=') ? a.slice(8) : argv[++i];
    if (!junit) { console.error('--junit needs a file'); process.exit(2); }
  } else if (a === '--no-libvirt') noLibvirt = true;
  else if (a === '--series') { seriesKey = argv[++i] ?? ''; if (!seriesKey) { console.error('--series needs a key'); process.exit(2); } }
  else if (a === '--expect-failures') { expectFailures = argv[++i] ?? ''; if (!expectFailures) { console.error('--expect-failures needs a file'); process.exit(2); } }
  else if (a === '--help' || a === '-h') { console.log(usage); process.exit(0); }
  else { console.error(`unknown option: ${a}`); console.error(usage); process.exit(2); }
}

// Per run, so two runs at once on one machine do not read each other's summary.
const summaryFile = join(root, '.cache', `summary-${process.pid}.json`);
rmSync(summaryFile, { force: true });
process.on('exit', () => rmSync(summaryFile, { force: true }));
const env = {
  ...process.env,
  HARNESS_CASES: JSON.stringify(cases),
  HARNESS_REGENERATE: regenerate ? '1' : '0',
  HARNESS_NO_LIBVIRT: noLibvirt ? '1' : '0',
  HARNESS_JUNIT: junit ? join(process.cwd(), junit) : '',
  HARNESS_SUMMARY: summaryFile,
  HARNESS_SERIES_KEY: seriesKey,
};
// A subset or a blessing runs the case suite only; the full run adds the unit tests.
const files = seriesKey
  ? ['harness/test/cases.test.ts', 'harness/test/series.test.ts', ...(existsSync(join(root, 'harness/test/runtime.test.ts')) ? ['harness/test/runtime.test.ts'] : [])]
  : regenerate ? ['harness/test/cases.test.ts', 'harness/test/runtime.test.ts']
  : cases.length ? ['harness/test/cases.test.ts', 'harness/test/runtime.test.ts'] : [];
const tapBin = join(root, 'node_modules', '.bin', 'tap');
let r;
let othersStatus = 0;
if (expectFailures) {
  // Two phases: the case suite, whose failures are compared with the list below, and the other
  // suites (tree tests, runtime), which are told which of their cases must fail and must pass.
  const want = readFileSync(expectFailures, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const byPair = (pair) => want.filter((w) => w.endsWith(` [${pair}]`)).map((w) => w.slice(0, -` [${pair}]`.length)).join(',');
  r = spawnSync(tapBin, ['--reporter', 'tap', files[0]], { cwd: root, env, stdio: 'inherit' });
  const others = spawnSync(tapBin, ['--reporter', 'tap', ...files.slice(1)], {
    cwd: root, stdio: 'inherit',
    env: { ...env, HARNESS_SERIES_EXPECT_FAIL: byPair('tree-tests'), HARNESS_RUNTIME_EXPECT_FAIL: byPair('runtime') },
  });
  othersStatus = others.status ?? 1;
} else {
  r = spawnSync(tapBin, ['--reporter', 'tap', ...files], { cwd: root, env, stdio: 'inherit' });
}

if (existsSync(summaryFile)) {
  const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
  if (s.series) console.log(`\n# series under test: ${s.series}`);
  console.log('\n# summary per backend');
  for (const [name, b] of Object.entries(s.backends)) {
    const counts = new Map();
    for (const r of b.skipReasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const why = counts.size ? `\n${[...counts].map(([r, n]) => `#       ${n} skipped: ${r}`).join('\n')}` : '';
    console.log(`#   ${name}: ${b.pass} passed, ${b.fail} failed, ${b.skip} skipped${b.todo ? `, ${b.todo} known gaps (cases/known-gaps.json)` : ''}${why}`);
  }
  if (s.changed?.length) console.log(`# golden files changed:\n${s.changed.map((f) => `#   ${f}`).join('\n')}`);
  if (s.failedIds?.length) console.log(`# failing cases:\n${s.failedIds.slice(0, 50).map((f) => `#   ${f}`).join('\n')}`);
  console.log(`cases: ${s.pass} passed, ${s.fail} failed, ${s.skip} skipped`);
}
if (expectFailures) {
  // A deliberately broken series: the run must fail in exactly the listed places.
  const want = readFileSync(expectFailures, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !/ \[(tree-tests|runtime)\]$/.test(l));
  const got = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')).failedIds ?? [] : [];
  const missing = want.filter((w) => !got.includes(w));
  const extra = got.filter((g) => !want.includes(g));
  console.log(`# expected failures (${expectFailures}): ${want.length - missing.length}/${want.length} seen, ${extra.length} unexpected`);
  for (const m of missing) console.log(`#   NOT caught: ${m}`);
  for (const x of extra) console.log(`#   unexpected failure: ${x}`);
  if (othersStatus) console.log('#   tree tests / runtime did not fail exactly as listed (see their TAP above)');
  const bad = missing.length || extra.length || othersStatus;
  console.log(bad ? 'expected-failures: 0 passed, 1 failed' : 'expected-failures: 1 passed, 0 failed');
  process.exit(bad ? 1 : 0);
}
process.exit(r.status ?? 1);
