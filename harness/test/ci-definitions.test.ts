// The CI definitions are run, not just written. .gitlab-ci.yml runs end to end under
// gitlab-ci-local (shell executor: 3 shards in parallel, each `npm run setup` + its part of
// `npm test`, then the report job merging them into JUnit, summary and HTML) in a scratch copy
// of the project, on a small case set passed through the definition's LVH_TEST_ARGS; the
// GitHub workflow is validated against the workflow schema @action-validator/core ships (no
// network). A broken definition fails the suite.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

t.test('the GitHub workflow is valid', async (t) => {
  const { validateWorkflow } = require('@action-validator/core') as typeof import('@action-validator/core');
  const text = readFileSync(join(root, '.github', 'workflows', 'harness.yml'), 'utf8');
  t.same(validateWorkflow(text).errors, [], '.github/workflows/harness.yml against the workflow schema');
  t.ok(validateWorkflow(text.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest')).errors.length > 0, 'the validator refuses a job without runs-on (it can fail)');
  t.match(text, /merge-reports summary-\*\.json [^\n]*--html report\.html/, 'the report job merges the shards into one HTML page');
  t.match(text, /name: html-report\n\s+path: report\.html/, 'and keeps it as an artifact');
});

/** Hard links where the file system allows (node_modules: read, never written by a job). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const [a, b] = [join(from, e.name), join(to, e.name)];
    if (e.isDirectory()) linkTree(a, b);
    else if (e.isSymbolicLink()) cpSync(a, b, { verbatimSymlinks: true });
    else linkSync(a, b);
  }
}

/** A scratch clone of the working tree as CI sees it: the tracked files (with their times, so the
 *  build step sees dist/ up to date and skips), dist/, node_modules linked, the cache's inputs
 *  (libvirt's trees, host facts) linked, its own .cache/runs and .cache/actual; a git repo. */
function scratchClone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvh-glcl-'));
  const files = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
  for (const f of files) if (existsSync(join(root, f))) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(root, f), join(dir, f), { preserveTimestamps: true });
  }
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
  // dist/ as new as the project's own, so the copy's build step sees the same freshness.
  const st = statSync(join(root, 'dist', 'cli', 'main.js'));
  utimesSync(join(dir, 'dist', 'cli', 'main.js'), st.atime, st.mtime);
  linkTree(join(root, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, '.cache'));
  for (const e of readdirSync(join(root, '.cache'))) if (!['runs', 'actual'].includes(e)) symlinkSync(join(root, '.cache', e), join(dir, '.cache', e));
  const git = (...a: string[]) => spawnSync('git', ['-c', 'user.name=libvirt-harness', '-c', 'user.email=libvirt-harness@localhost', ...a], { cwd: dir });
  git('init', '-q'); git('add', '-A'); git('commit', '-qm', 'scratch clone for gitlab-ci-local');
  return dir;
}

const counts = (xml: string): { tests: number; failures: number; skipped: number } => {
  const m = /<testsuites[^>]*\btests="(\d+)"[^>]*\bfailures="(\d+)"[^>]*\bskipped="(\d+)"/.exec(xml)!;
  return { tests: Number(m[1]), failures: Number(m[2]), skipped: Number(m[3]) };
};

const CASES = ['--case', 'numatune-auto-strict', '--case', 'numatune-auto-restrictive', '--no-emulated'];
const cannot = process.getuid?.() !== 0 ? "each shard runs npm run setup, which needs root"
  : spawnSync('rsync', ['--version']).error ? 'no rsync (gitlab-ci-local copies the tracked files with it; npm run setup installs it)'
    : !existsSync(join(root, 'node_modules', '.lvh-lock.sha256')) ? 'node_modules not installed by npm run setup (no stamp): the shards would reinstall them'
      : null;

t.test('.gitlab-ci.yml runs end to end under gitlab-ci-local', { skip: cannot ?? false, timeout: 1_800_000 }, async (t) => {
  const dir = scratchClone();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(dir, 'node_modules', 'gitlab-ci-local', 'dist', 'index.js'), '--force-shell-executor',
    '--variable', 'LVH_NO_EMULATED=1', '--variable', `LVH_TEST_ARGS=${CASES.join(' ')}`],
  { cwd: dir, encoding: 'utf8', timeout: 1_500_000, env: { ...process.env, LVH_RUN: '' }, maxBuffer: 64 * 2 ** 20 });
  const seconds = (performance.now() - t0) / 1000;
  const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-40).join('\n');
  t.comment(`gitlab-ci-local: ${seconds.toFixed(0)} s, exit ${r.status}`);
  t.equal(r.status, 0, 'the pipeline passes', { tail });
  for (const job of ['harness: [1/3]', 'harness: [2/3]', 'harness: [3/3]', 'report']) t.match(r.stdout, new RegExp(`PASS\\s+${job.replace(/[[\]/]/g, '\\$&')}`), `job ${job} passed`);
  t.ok(existsSync(join(dir, 'report.html')), 'the report job wrote the merged HTML');
  const merged = counts(readFileSync(join(dir, 'merged.xml'), 'utf8'));
  const shards = [1, 2, 3].map((i) => counts(readFileSync(join(dir, `junit-${i}.xml`), 'utf8')));
  t.equal(merged.tests, shards.reduce((s, x) => s + x.tests, 0), 'the merged JUnit holds every shard testcase');
  // The same cases unsharded, in the same copy: the merge must equal it in counts.
  const whole = spawnSync(process.execPath, ['scripts/run-suite.mjs', ...CASES, '--junit', 'whole.xml'], { cwd: dir, encoding: 'utf8', timeout: 600_000, env: { ...process.env, LVH_RUN: '' } });
  t.equal(whole.status, 0, 'the unsharded run passes');
  t.same(merged, counts(readFileSync(join(dir, 'whole.xml'), 'utf8')), `merged from 3 shards = unsharded (${JSON.stringify(merged)})`);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  t.match(html, new RegExp(`${merged.tests} verdicts:`), 'the merged page counts the same verdicts');
});
