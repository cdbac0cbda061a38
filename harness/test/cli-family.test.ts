// libvirt's NUMA-family registrations through the compiled CLI, byte for byte against libvirt's
// expected files: batched per (operation, profile) as real processes, plus single-file calls
// that must print what the batch printed (scripts/cli-family.mjs does the work).
import t from 'tap';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tree = join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0');

interface Report {
  cases: { id: string; ok: boolean; detail: string | null }[];
  singles: string[];
  calls: { op: string; profile: string; files: number; status: number | null }[];
}

t.test('CLI reproduces every NUMA-family registration', async (t) => {
  if (!existsSync(join(tree, 'tests', 'qemuxml2argvtest.c'))) return t.skip('no libvirt test data (run bash scripts/fetch-libvirt-tests.sh)');
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) return t.skip('not built (run npm run build)');
  const r = await execa(process.execPath, [join(root, 'scripts', 'cli-family.mjs'), tree, '--json'], { reject: false, timeout: 300_000 });
  t.equal(r.exitCode, 0, 'every case as libvirt expects', { stderr: r.stderr });
  const report = JSON.parse(r.stdout) as Report;
  t.equal(report.cases.length, 40, 'all 40 registrations');
  for (const c of report.cases) t.ok(c.ok, c.id, { detail: c.detail });
  t.ok(report.calls.some((c) => c.files > 1), 'cases went through batch calls');
  t.ok(report.singles.length >= 2, `single-file calls agree with the batch (${report.singles.join(', ')})`);
  t.ok(report.calls.length < report.cases.length, `${report.calls.length} CLI processes for ${report.cases.length} cases`);
});
