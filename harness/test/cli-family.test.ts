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

// libvirt 11.3.0: one program (qemuxmlconftest.c), 27 registrations giving 48 expected files
// (18 .args, 9 .err, 21 .xml), all under the profile x86_64-latest@11.3.0.
t.test('CLI reproduces libvirt 11.3.0\'s NUMA family (qemuxmlconftest layout)', async (t) => {
  const tree11 = join(root, '.cache', 'libvirt-src', 'libvirt-11.3.0');
  if (!existsSync(join(tree11, 'tests', 'qemuxmlconftest.c'))) return t.skip('no libvirt 11.3.0 test data (run bash scripts/fetch-libvirt-tests.sh 11.3.0)');
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) return t.skip('not built (run npm run build)');
  const r = await execa(process.execPath, [join(root, 'scripts', 'cli-family.mjs'), tree11, '--json'], { reject: false, timeout: 300_000 });
  t.equal(r.exitCode, 0, 'every file as libvirt 11.3.0 expects', { stderr: r.stderr });
  const report = JSON.parse(r.stdout) as Report;
  const ext = (e: string): number => report.cases.filter((c) => c.id.endsWith(e)).length;
  t.same([report.cases.length, ext('.args'), ext('.err'), ext('.xml')], [48, 18, 9, 21], '48 files: 18 .args, 9 .err, 21 .xml');
  for (const c of report.cases) t.ok(c.ok, c.id, { detail: c.detail });
  t.ok(report.calls.every((c) => c.profile === 'x86_64-latest@11.3.0'), 'all under x86_64-latest@11.3.0');
});
