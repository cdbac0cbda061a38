// A SIGKILLed CLI inside the emulated host (the guest's OOM killer) is one error naming the guest
// kernel's words, never 22 "gave nothing" answers. The channel is a stand-in here: what is under
// test is how runRuntimeBatch reads a killed call, not the VM.
import t from 'tap';
import { InsideKilled, runRuntimeBatch } from '../emulated/inside.js';
import type { EmulatedHost } from '../emulated/vm.js';

const host = (dmesg: string): EmulatedHost => ({
  run: async (script: string) => (script.startsWith('dmesg')
    ? { stdout: dmesg, stderr: '', code: 0 }
    : { stdout: '==> /tmp/lvh/a.xml <==\n{"match":true}\n', stderr: 'Killed\n', code: 137 }),
}) as unknown as EmulatedHost;

const inputs = [{ name: 'a', data: new Uint8Array([60]) }, { name: 'b', data: new Uint8Array([60]) }];

t.test('exit 137 inside is InsideKilled with the OOM lines, timestamps off', async (t) => {
  const oom = '[  812.123456] Out of memory: Killed process 4242 (node) total-vm:1000kB\n[  812.2] oom_reaper: reaped process 4242 (node)\n';
  const e = await runRuntimeBatch(host(oom), inputs, { profile: 'emulated', uriArgs: [], jobs: 3 }).then(() => null, (x: unknown) => x);
  t.ok(e instanceof InsideKilled, 'the kill is its own error');
  t.match((e as Error).message, /killed \(SIGKILL\); the guest kernel says: Out of memory: Killed process 4242 \(node\)/);
  t.notMatch((e as Error).message, /\[\s*812/, 'no kernel timestamps');
});

t.test('no OOM line: said so, still InsideKilled', async (t) => {
  const e = await runRuntimeBatch(host(''), inputs, { profile: 'emulated', uriArgs: [], jobs: 3 }).then(() => null, (x: unknown) => x);
  t.ok(e instanceof InsideKilled);
  t.match((e as Error).message, /logged no OOM kill/);
});
