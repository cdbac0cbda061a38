// The cleanup registry and its reaper, for real: a child process defines a domain, starts a
// process and makes a directory, holds them, and is SIGKILLed; the reaper it left behind must
// undefine, kill and remove them - and nothing that is not ours.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cleanup = join(root, 'dist', 'lifecycle', 'cleanup.js');
const virsh = (...args: string[]) => spawnSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 30_000 });
const why = !existsSync(cleanup) ? 'not built (npm run build)'
  : virsh('version').status !== 0 ? 'qemu:///system does not answer (scripts/daemons.sh start)' : null;

const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) if (cond()) return true;
  return cond();
};

t.test('after SIGKILL the reaper releases what the process held', { skip: why ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvh-lifecycle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const uuid = randomUUID();
  const name = `lvh-lifecycle-${process.pid}`;
  writeFileSync(join(dir, 'dom.xml'), `<domain type='qemu'><name>${name}</name><uuid>${uuid}</uuid><memory>65536</memory><os><type arch='x86_64'>hvm</type></os></domain>\n`);
  // Not ours: same prefix rules, but never held. It must survive.
  const otherUuid = randomUUID();
  writeFileSync(join(dir, 'other.xml'), `<domain type='qemu'><name>lvh-lifecycle-other-${process.pid}</name><uuid>${otherUuid}</uuid><memory>65536</memory><os><type arch='x86_64'>hvm</type></os></domain>\n`);
  t.equal(virsh('define', join(dir, 'other.xml')).status, 0, 'a domain the child does not hold');
  t.teardown(() => { virsh('undefine', otherUuid); });
  const scratch = join(dir, 'scratch');
  const child = join(dir, 'child.mjs');
  writeFileSync(child, `
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { hold, processStartTime } from ${JSON.stringify(cleanup)};
const r = spawnSync('virsh', ['-q', '-c', 'qemu:///system', 'define', ${JSON.stringify(join(dir, 'dom.xml'))}]);
if (r.status !== 0) process.exit(3);
hold({ label: 'domain', order: 1, release: async () => {}, releaseSync: () => false,
  reap: { kind: 'virsh', uri: 'qemu:///system', uuid: ${JSON.stringify(uuid)}, prefix: 'lvh-', action: 'undefine', confirmed: true } });
const sleeper = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
sleeper.unref();
await new Promise((r) => setTimeout(r, 200));
hold({ label: 'sleeper', order: 0, release: async () => {}, releaseSync: () => false, reap: { kind: 'kill', pid: sleeper.pid, startTime: processStartTime(sleeper.pid) } });
mkdirSync(${JSON.stringify(scratch)});
hold({ label: 'dir', order: 2, release: async () => {}, releaseSync: () => false, reap: { kind: 'rm', path: ${JSON.stringify(scratch)} } });
process.stdout.write(String(sleeper.pid) + '\\n');
setInterval(() => {}, 1000);
`);
  const p = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sleeperPid = await new Promise<number>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => resolve(Number(String(d).trim())));
    p.on('exit', (c) => reject(new Error(`child exited ${c} before holding anything`)));
  });
  t.equal(virsh('domname', uuid).status, 0, 'the child defined its domain');
  t.ok(existsSync(scratch), 'and made its directory');
  p.kill('SIGKILL');
  t.ok(await until(() => virsh('domname', uuid).status !== 0, 20_000), 'the reaper undefined the held domain');
  t.ok(await until(() => !existsSync(`/proc/${sleeperPid}`) || readFileSync(`/proc/${sleeperPid}/stat`, 'utf8').includes(') Z'), 10_000), 'killed the held process');
  t.ok(await until(() => !existsSync(scratch), 10_000), 'removed the held directory');
  t.equal(virsh('domname', otherUuid).status, 0, 'and left the domain it did not hold alone');
});

t.test('a bounded wait leaves no timer behind', async (t) => {
  const { settledWithin } = await import('../lifecycle/wait.js');
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  t.equal(await settledWithin(Promise.resolve(), 60_000), true, 'a settled promise wins');
  t.equal(await settledWithin(Promise.reject(new Error('x')), 60_000), true, 'a rejection counts as settled');
  t.equal(timers(), before, 'no 60 s timer is pending afterwards (it would hold the process 60 s)');
  t.equal(await settledWithin(new Promise(() => undefined), 50), false, 'a promise that never settles loses to the bound');
  t.equal(timers(), before, 'nor after the bound');
  // A whole process: a power-off-like wait of 20 s must not keep node alive after it is done.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    `import { settledWithin } from ${JSON.stringify(join(root, 'dist', 'lifecycle', 'wait.js'))}; await settledWithin(Promise.resolve(), 20000); console.log('done');`],
  { encoding: 'utf8', timeout: 15_000 });
  t.equal(r.stdout.trim(), 'done', 'the child finished its wait');
  t.equal(r.signal, null, 'and exited by itself, not killed at the 15 s timeout');
});
