// libvirt's NUMA-family registrations through the compiled CLI, one process per case, byte
// for byte against libvirt's expected files (scripts/cli-family.mjs does the work).
import t from 'tap';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tree = join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0');

t.test('CLI reproduces every NUMA-family registration', async (t) => {
  if (!existsSync(join(tree, 'tests', 'qemuxml2argvtest.c'))) return t.skip('no libvirt test data (run bash scripts/fetch-libvirt-tests.sh)');
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) return t.skip('not built (run npm run build)');
  const r = await execa(process.execPath, [join(root, 'scripts', 'cli-family.mjs'), tree], { reject: false, timeout: 300_000 });
  t.equal(r.exitCode, 0, r.stdout);
  t.match(r.stdout, /: 40\/40$/m, 'all 40 registrations');
});
