// The emulated host's saved states (harness/emulated/snapshot.ts): a state is used only with its
// own key and whole files (the stream, the disk and the guest RAM files), refusals say why, a
// save cut short leaves nothing behind - also when its process is SIGKILLed (the cleanup
// registry's reaper removes the half-written files, RAM files included) - and the key is the
// same whatever backs the guest's RAM (machine.ts keyedArgs).
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beginSave, findSnapshot, keyOf, ramSizes, removeStaleSaves, type KeyParts } from '../emulated/snapshot.js';
import { keyedArgs, machineArgs } from '../emulated/machine.js';
import { loadTopology } from '../emulated/topology.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const parts: KeyParts = { recipe: 'r1', image: 'img 1', kernel: '6.12 a', qemu: 'QEMU 7.2', machine: '-m 3072M -smp 2', node: 'v20' };

function saveFake(cache: string, slot: string, p: KeyParts, state = 'STATE-BYTES', disk = 'QFI-DISK'): void {
  const s = beginSave(cache, slot);
  writeFileSync(join(s.dir, 'state'), state);
  writeFileSync(join(s.dir, 'disk.qcow2'), disk);
  writeFileSync(join(s.dir, 'ram', 'm0'), 'RAM-OF-NODE-0');
  writeFileSync(join(s.dir, 'ram', 'm1'), 'RAM-OF-NODE-1');
  s.commit({ key: keyOf(p), parts: p, stateBytes: state.length, diskBytes: disk.length, ramBytes: ramSizes(s.dir), saved: '2026-01-01T00:00:00Z', saveSeconds: 1 });
}

t.test('a saved state is found only with the key it was made for', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'lvh-snap-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  t.match(findSnapshot(cache, 'mock8-6.12', parts), { refused: /no saved state for mock8-6\.12/ }, 'nothing saved yet');
  saveFake(cache, 'mock8-6.12', parts);
  const found = findSnapshot(cache, 'mock8-6.12', parts);
  t.ok('snapshot' in found, 'the same parts find it');
  t.same('snapshot' in found && found.snapshot.meta.ramBytes, { m0: 13, m1: 13 }, 'meta.json records the RAM files and their sizes');
  if ('snapshot' in found) t.equal(found.snapshot.ram, join(cache, 'snapshots', 'mock8-6.12', 'ram'), 'its RAM files are in the slot');
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

t.test('a guest RAM file missing or truncated is refused, naming it', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'lvh-snap-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  saveFake(cache, 's', parts);
  rmSync(join(cache, 'snapshots', 's', 'ram', 'm1'));
  t.match(findSnapshot(cache, 's', parts), { refused: /saved state of s lacks ram\/m1$/ }, 'missing');
  saveFake(cache, 's', parts);
  truncateSync(join(cache, 'snapshots', 's', 'ram', 'm0'), 4);
  t.match(findSnapshot(cache, 's', parts), { refused: /truncated or altered: ram\/m0 has 4 bytes, 13 were saved/ }, 'truncated');
  saveFake(cache, 's', parts);
  truncateSync(join(cache, 'snapshots', 's', 'ram', 'm0'), 1 << 20);
  t.match(findSnapshot(cache, 's', parts), { refused: /ram\/m0 has 1048576 bytes, 13 were saved/ }, 'grown');
  // A meta.json of the old layout (RAM in the stream) names no RAM files: refused too, even
  // with a matching key (the recipe in the key already parts them).
  saveFake(cache, 's', parts);
  writeFileSync(join(cache, 'snapshots', 's', 'meta.json'), JSON.stringify({ key: keyOf(parts), parts, stateBytes: 11, diskBytes: 8 }));
  t.match(findSnapshot(cache, 's', parts), { refused: /records no guest RAM files/ });
});

t.test('the key covers what the guest sees, not what backs its RAM', async (t) => {
  const mock8 = loadTopology('mock8');
  const plain = machineArgs(mock8, '/k');
  const saving = machineArgs(mock8, '/k', { dir: '/c/snapshots/.mock8-6.12.saving-1-abcdef/ram', share: true });
  const restoring = machineArgs(mock8, '/k', { dir: '/c/snapshots/mock8-6.12/ram', share: false });
  t.ok(plain.includes('memory-backend-ram,id=m0,size=384M'), 'a plain boot: anonymous memory, as before');
  t.notOk(plain.some((a) => a.includes('mem-path')), 'a plain boot: no files');
  t.ok(saving.includes('memory-backend-file,id=m3,size=384M,mem-path=/c/snapshots/.mock8-6.12.saving-1-abcdef/ram/m3,share=on'), 'the saved boot: shared files');
  t.ok(restoring.includes('memory-backend-file,id=m7,size=384M,mem-path=/c/snapshots/mock8-6.12/ram/m7,share=off'), 'a restore: private mappings');
  const key = (m: string[]) => keyOf({ ...parts, machine: keyedArgs(m).join(' ') });
  t.equal(key(saving), key(plain), 'saved boot and plain boot: one key');
  t.equal(key(restoring), key(plain), 'restore and plain boot: one key');
  t.ok(keyedArgs(plain).includes('memory-backend,id=m0,size=384M'), 'normalised to id and size');
  t.not(key(machineArgs(loadTopology('tiered'), '/k')), key(plain), 'another topology: another key');
  const bigger = { ...mock8, nodes: mock8.nodes.map((n) => (n.id === 5 ? { ...n, memMiB: 512 } : n)) };
  t.not(key(machineArgs(bigger, '/k', { dir: '/r', share: false })), key(plain), 'a node of another size: another key');
  t.throws(() => machineArgs(mock8, '/k', { dir: '/a,b', share: true }), /comma/, 'a comma would end mem-path');
});

t.test('an abandoned save and a dead saver leave nothing', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'lvh-snap-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const s = beginSave(cache, 'x');
  writeFileSync(join(s.dir, 'state'), 'partial');
  writeFileSync(join(s.dir, 'ram', 'm0'), 'partial RAM');
  s.abandon();
  t.notOk(existsSync(s.dir), 'abandon() removes the directory, RAM files with it');
  t.same(readdirSync(join(cache, 'snapshots')), [], 'nothing left');
  // A leftover of a process that is gone (its pid in the name) is swept at the next start.
  const stale = join(cache, 'snapshots', '.x.saving-999999999-abcdef');
  mkdirSync(join(stale, 'ram'), { recursive: true });
  writeFileSync(join(stale, 'ram', 'm0'), 'RAM');
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
    for (let n = 0; n < 8; n++) writeFileSync(s.dir + '/ram/m' + n, 'r'.repeat(1 << 16));
    process.stdout.write(s.dir + '\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  t.ok(existsSync(dir), 'the save is being written');
  t.equal(readdirSync(join(dir, 'ram')).length, 8, 'with its RAM files');
  child.kill('SIGKILL');
  let gone = false;
  for (const end = Date.now() + 20_000; Date.now() < end && !gone; await new Promise((r) => setTimeout(r, 200))) gone = !existsSync(dir);
  t.ok(gone, 'removed by the reaper after SIGKILL, RAM files with it');
  t.notOk(existsSync(join(cache, 'snapshots', 'mock8-6.12')), 'nothing was put in place');
});
