#!/usr/bin/env node
// `npm test [-- --case GLOB …] [--regenerate] [--junit FILE] [--no-libvirt]`: turns the
// harness's own options into what node-tap understands (it rejects unknown flags), then runs
// tap. Not named test.* on purpose: tap would pick it up as a test file.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const usage = `usage: npm test -- [--case GLOB]... [--regenerate] [--junit FILE] [--no-libvirt]
  --case GLOB    run only cases whose name (or id) matches; repeatable (e.g. 'numatune-*')
  --regenerate   bless the project's golden files from the real libvirt (never libvirt's own files)
  --junit FILE   also write JUnit XML (each failing case's diff in its failure body)
  --no-libvirt   do not use the real libvirt backend (reported as skipped, with that reason)`;

const cases = [];
let regenerate = false;
let junit = '';
let noLibvirt = false;
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
  else if (a === '--help' || a === '-h') { console.log(usage); process.exit(0); }
  else { console.error(`unknown option: ${a}`); console.error(usage); process.exit(2); }
}

const summaryFile = join(root, '.cache', 'summary.json');
rmSync(summaryFile, { force: true });
const env = {
  ...process.env,
  HARNESS_CASES: JSON.stringify(cases),
  HARNESS_REGENERATE: regenerate ? '1' : '0',
  HARNESS_NO_LIBVIRT: noLibvirt ? '1' : '0',
  HARNESS_JUNIT: junit ? join(process.cwd(), junit) : '',
  HARNESS_SUMMARY: summaryFile,
};
// A subset or a blessing runs the case suite only; the full run adds the unit tests.
const files = cases.length || regenerate ? ['harness/test/cases.test.ts'] : [];
const tapBin = join(root, 'node_modules', '.bin', 'tap');
const r = spawnSync(tapBin, ['--reporter', 'tap', ...files], { cwd: root, env, stdio: 'inherit' });

if (existsSync(summaryFile)) {
  const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
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
process.exit(r.status ?? 1);
