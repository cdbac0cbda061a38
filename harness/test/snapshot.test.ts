// The emulated host's saved states (harness/emulated/snapshot.ts): a state is used only with its
// own key and whole files, refusals say why, and a save cut short leaves nothing behind - also
// when its process is SIGKILLed (the cleanup registry's reaper removes the half-written files).
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beginSave, findSnapshot, keyOf, removeStaleSaves, type KeyParts } from '../emulated/snapshot.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const parts: KeyParts = { recipe: 'r1', image: 'img 1', kernel: '6.12 a', qemu: 'QEMU 7.2', machine: '-m 3072M -smp 2', node: 'v20' };

function saveFake(cache: string, slot: string, p: KeyParts, state = 'STATE-BYTES', disk = 'QFI-DISK'): void {
  const s = beginSave(cache, slot);
  writeFileSync(join(s.dir, 'state'), state);
  writeFileSync(join(s.dir, 'disk.qcow2'), disk);
  s.commit({ key: keyOf(p), parts: p, stateBytes: state.length, diskBytes: disk.length, saved: '2026-01-01T00:00:00Z', saveSeconds: 1 });
}

t.test('a saved state is found only with the key it was made for', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'lvh-snap-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  t.match(findSnapshot(cache, 'mock8-6.12', parts), { refused: /no saved state for mock8-6\.12/ }, 'nothing saved yet');
  saveFake(cache, 'mock8-6.12', parts);
  const found = findSnapshot(cache, 'mock8-6.12', parts);
  t.ok('snapshot' in found, 'the same parts find it');
  t.same(readdirSync(join(cache, 'snapshots')), ['mock8-6.12'], 'no temporary directory left after a save');

  const otherKernel = { ...parts, kernel: '6.12 b' };
  t.match(findSnapshot(cache, 'mock8-6.12', otherKernel), { refused: /key .* not .*kernel: saved '6\.12 a', now '6\.12 b'/ }, 'another kernel: refused, naming the part');
  const otherMachine = { ...parts, machine: '-m 4096M -smp 2' };
  t.match(findSnapshot(cache, 'mock8-6.12', otherMachine), { refused: /machine: saved '…3072M -smp 2…', now '…4096M -smp 2…'/ }, 'another command line: refused');
});

t.test('truncated, missing or altered files are refused', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'lvh-snap-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  saveFake(cache, 's', parts);
  truncateSync(join(cache, 'snapshots', 's', 'state'), 3);
  t.match(findSnapshot(cache, 's', parts), { refused: /truncated or altered: state has 3 bytes, 11 were saved/ });
  saveFake(cache, 's', parts);
  rmSync(join(cache, 'snapshots', 's', 'disk.qcow2'));
  t.match(findSnapshot(cache, 's', parts), { refused: /lacks disk\.qcow2/ });
  saveFake(cache, 's', parts);
  writeFileSync(join(cache, 'snapshots', 's', 'meta.json'), '{"key": ');
  t.match(findSnapshot(cache, 's', parts), { refused: /unreadable/ });
  saveFake(cache, 's', parts);
  // meta.json edited to claim the new key without its parts: its key no longer hashes its parts.
  writeFileSync(join(cache, 'snapshots', 's', 'meta.json'), JSON.stringify({ key: keyOf({ ...parts, kernel: 'x' }), parts, stateBytes: 11, diskBytes: 8 }));
  t.match(findSnapshot(cache, 's', { ...parts, kernel: 'x' }), { refused: /key/ });
});

t.test('an abandoned save and a dead saver leave nothing', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'lvh-snap-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const s = beginSave(cache, 'x');
  writeFileSync(join(s.dir, 'state'), 'partial');
  s.abandon();
  t.notOk(existsSync(s.dir), 'abandon() removes the directory');
  // A leftover of a process that is gone (its pid in the name) is swept at the next start.
  const stale = join(cache, 'snapshots', '.x.saving-999999999-abcdef');
  mkdirSync(stale, { recursive: true });
  removeStaleSaves(cache);
  t.notOk(existsSync(stale), 'a dead process\'s half-written save is removed');
});

const built = existsSync(join(root, 'dist', 'emulated', 'snapshot.js'));
t.test('SIGKILL in the middle of a save: the reaper removes the half-written state', { skip: built ? false : 'not built (npm run build)' }, async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'lvh-snap-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const script = `import { beginSave } from ${JSON.stringify(join(root, 'dist', 'emulated', 'snapshot.js'))};
    import { writeFileSync } from 'node:fs';
    const s = beginSave(${JSON.stringify(cache)}, 'mock8-6.12');
    writeFileSync(s.dir + '/state', 'x'.repeat(1 << 20));
    process.stdout.write(s.dir + '\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  t.ok(existsSync(dir), 'the save is being written');
  child.kill('SIGKILL');
  let gone = false;
  for (const end = Date.now() + 20_000; Date.now() < end && !gone; await new Promise((r) => setTimeout(r, 200))) gone = !existsSync(dir);
  t.ok(gone, 'removed by the reaper after SIGKILL');
  t.notOk(existsSync(join(cache, 'snapshots', 'mock8-6.12')), 'nothing was put in place');
});
