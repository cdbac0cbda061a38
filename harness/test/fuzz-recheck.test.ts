// The fuzzer's answer to a poisoned daemon: a disagreement is re-run at once on a fresh private
// libvirtd (recheck.ts), which tells a wrong answer of the old daemon ('unstable') from a fault
// of the model (confirmed); and a pool that is closed while a worker still sends fails that
// worker with a reason, never with an unhandled rejection. Real daemons; skips where none runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const root = join(import.meta.dirname, '..', '..');
const dist = (m: string): string => join(root, 'dist', 'fuzz', m);
const why = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/usr/sbin/libvirtd') ? 'no /usr/sbin/libvirtd'
  : !existsSync(dist('recheck.js')) ? 'run npm run build first' : !existsSync(join(root, '.cache', 'profiles', 'host.json')) ? 'no host facts (npm run setup)' : null;

const DOMAIN = `<domain type='qemu'>
  <name>lvh-recheck</name>
  <uuid>6c766863-f022-4a11-9e00-00000000ec01</uuid>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>`;

t.test('overSessions throws only once every worker has stopped', async (t) => {
  const { overSessions } = await import(dist('batch.js'));
  let slowDone = false;
  const started: number[] = [];
  const err = await overSessions({ jobs: 2 } as never, 10, async (_w: number, i: number) => {
    started.push(i);
    if (i === 0) throw new Error('worker 0 failed');
    await new Promise((r) => setTimeout(r, 200));
    slowDone = true;
    return i;
  }).catch((e: Error) => e);
  t.match(err, { message: 'worker 0 failed' });
  t.ok(slowDone, 'the other worker finished its index before the error came out');
  t.same(started, [0, 1], 'no index was handed out after the failure');
});

t.test('a disagreement is judged again on a fresh daemon', { skip: why ?? false }, async (t) => {
  const { DaemonPool } = await import(dist('pool.js'));
  const { Batch } = await import(dist('batch.js'));
  const { CONFIRM_PER_CAUSE } = await import(dist('recheck.js'));
  const { model } = await import(dist('verdicts.js'));
  const pool = await DaemonPool.open(1);
  t.teardown(() => pool.close());
  const b = new Batch();
  const add = (real: unknown, mod: unknown): number => {
    b.xmls.push(DOMAIN);
    b.models.push({ argv: mod ?? model('argv', DOMAIN), xml: model('xml', DOMAIN) });
    b.realOut.push({ argv: real, xml: { kind: 'ok', text: '' } });
    return b.xmls.length - 1;
  };
  const result = (index: number, signature: string) => ({ index, verdict: 'disagree', ops: { argv: 'disagree', xml: 'agree' }, signature, diffs: [] });

  // What a poisoned daemon said on a CI run: the fresh one agrees with the model.
  const poisoned = result(add({ kind: 'error', message: 'internal error: Unknown CPU model ' }, undefined), "argv: libvirt error 'internal error: Unknown CPU model ', the model does not give it");
  const restarts0 = pool.restarts;
  await b.rechecker.check(pool, b, poisoned);
  t.equal(poisoned.verdict, 'unstable', 'the fresh daemon gave the model\'s answer', { model: b.models[0].argv });
  t.equal(b.rechecker.out.unstable.length, 1);
  t.equal(pool.restarts, restarts0 + 1, 'the daemon was replaced before the re-run');

  // A model that is wrong: confirmed on a fresh daemon, CONFIRM_PER_CAUSE times, then not re-run.
  const sig = 'argv: output differs: libvirt X | model Y';
  const wrong = { kind: 'ok', text: '/usr/bin/qemu-system-x86_64 -not-what-libvirt-says' };
  for (let k = 0; k < CONFIRM_PER_CAUSE + 2; k++) {
    const r = result(add({ kind: 'ok', text: 'as the run had it' }, wrong), sig);
    await b.rechecker.check(pool, b, r);
    t.equal(r.verdict, 'disagree', `domain ${k} of a wrong model stays a disagreement`);
  }
  t.equal(b.rechecker.out.confirmed, CONFIRM_PER_CAUSE, 'confirmed on a fresh daemon as many times as asked');
  t.equal(b.rechecker.out.rerun, 1 + CONFIRM_PER_CAUSE, 'a confirmed cause\'s further domains were not re-run');
});

t.test('a worker that sends after close() fails with a reason', { skip: why ?? false }, async (t) => {
  const { DaemonPool, DaemonGoneError } = await import(dist('pool.js'));
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => { process.off('unhandledRejection', onUnhandled); });
  const pool = await DaemonPool.open(1);
  const dir = pool.daemon.dir;
  await pool.close();
  const err = await pool.run(0, { index: 0, op: 'argv', xml: DOMAIN }).catch((e: Error) => e);
  t.ok(err instanceof DaemonGoneError, `rejected as a daemon gone: ${(err as Error).message}`);
  t.match((err as Error).message, /stopped: the run is ending/);
  t.notOk(existsSync(dir), 'no daemon was started again in its place');
  await new Promise((r) => setTimeout(r, 100));
  t.same(unhandled, [], 'no unhandled rejection');
});
