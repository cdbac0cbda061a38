// The host's end of the emulated host's command channel with commands side by side: each call
// gets its own answer whatever order the guest answers in, a late answer of a timed-out call
// disturbs no other, and answers are gzip in base64 (guest/init.sh). The guest here is a
// stand-in on a unix socket that speaks the protocol; the real one runs in cases.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { Channel, ChannelError } from '../emulated/channel.js';

const field = (s: string): string => gzipSync(Buffer.from(s)).toString('base64');
const answer = (id: string, out: string, err: string, rc: number): string => `@@BEGIN ${id}\n${field(out)}\n${field(err)}\n@@END ${id} ${rc}\n`;

/** A guest that hands each command line ("ID BASE64(script)") to `reply`, which answers when it likes. */
async function guest(reply: (sock: Socket, id: string, script: string) => void): Promise<{ path: string; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'lvh-channel-'));
  const path = join(dir, 'cmd.sock');
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [id, b64] = line.split(' ');
        reply(sock, id!, Buffer.from(b64!, 'base64').toString('utf8'));
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, close: () => { server.close(); rmSync(dir, { recursive: true, force: true }); } };
}

t.test('answers out of order reach their own calls', async (t) => {
  // The stand-in waits for all five calls, then answers "sleep 0" first and "sleep 4" last, one
  // write at a time: the order is the test's, not the timers' (a loaded machine reorders timers).
  const waiting: { sock: Socket; id: string; script: string; n: number }[] = [];
  const g = await guest(async (sock, id, script) => {
    waiting.push({ sock, id, script, n: Number(/sleep (\d+)/.exec(script)?.[1] ?? 0) });
    if (waiting.length < 5) return;
    for (const w of waiting.sort((a, b) => a.n - b.n)) {
      w.sock.write(answer(w.id, `out of ${w.script}\n`, `err of ${w.script}\n`, w.n));
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  t.teardown(g.close);
  const ch = await Channel.open(g.path);
  t.teardown(() => ch.close());
  const order: string[] = [];
  const calls = [4, 1, 3, 0, 2].map((n) => ch.run(`sleep ${n}`, 5_000).then((r) => { order.push(`sleep ${n}`); return r; }));
  const results = await Promise.all(calls);
  results.forEach((r, i) => {
    const n = [4, 1, 3, 0, 2][i];
    t.same(r, { stdout: `out of sleep ${n}\n`, stderr: `err of sleep ${n}\n`, code: n }, `sleep ${n}: its own answer`);
  });
  t.same(order, ['sleep 0', 'sleep 1', 'sleep 2', 'sleep 3', 'sleep 4'], 'each returned when its answer came, not in the order sent');
});

t.test('a timed-out call: its error names it, and its late answer disturbs no later call', async (t) => {
  const g = await guest((sock, id, script) => {
    if (script === 'slow') setTimeout(() => sock.write(answer(id, 'late\n', '', 0)), 300);
    else setTimeout(() => sock.write(answer(id, `${script}\n`, '', 0)), 400);
  });
  t.teardown(g.close);
  const ch = await Channel.open(g.path);
  t.teardown(() => ch.close());
  const slow = await ch.run('slow', 100).then(() => null, (e: unknown) => e);
  t.ok(slow instanceof ChannelError, 'a ChannelError');
  t.match((slow as Error).message, /command timed out after 0\.1 s in the emulated host: slow/);
  // The late answer arrives (300 ms) while this call waits (answered at 400 ms).
  const next = await ch.run('next', 2_000);
  t.same(next, { stdout: 'next\n', stderr: '', code: 0 }, 'the next call gets its own answer, not the late one');
});

t.test('the power-off answer has empty fields', async (t) => {
  const g = await guest((sock, id) => sock.write(`@@BEGIN ${id}\n\n\n@@END ${id} 0\n`));
  t.teardown(g.close);
  const ch = await Channel.open(g.path);
  t.teardown(() => ch.close());
  t.same(await ch.run('@@POWEROFF', 2_000), { stdout: '', stderr: '', code: 0 });
});

t.test('a closed channel fails the calls waiting on it', async (t) => {
  const g = await guest((sock) => setTimeout(() => sock.destroy(), 50));
  t.teardown(g.close);
  const ch = await Channel.open(g.path);
  const e = await Promise.all([ch.run('a', 5_000), ch.run('b', 5_000)]).then(() => null, (x: unknown) => x);
  t.ok(e instanceof ChannelError, 'ChannelError');
  t.match((e as Error).message, /channel closed/);
});
