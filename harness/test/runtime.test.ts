// Self-checks of the runtime backend (the per-case comparisons run in the case suite through
// the pairs table): a deliberate mismatch must be seen as one, and nothing of ours is left
// behind afterwards.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { RUNTIME_PREFIX, RuntimeBackend } from '../backends/runtime.js';
import { observationDocument, stableJson } from '../neutral/runtime-facts.js';
import { compare } from '../runner/compare.js';
import { predictDocument } from '../runtime/compare.js';
import { runOptions } from '../runner/options.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const options = runOptions();
const MISMATCH_CASE = 'numatune-memory-restrictive-cells';
const backend = new RuntimeBackend();
t.teardown(() => backend.close());
const why = !options.libvirt ? 'disabled by --no-libvirt' : await backend.unavailable();

t.test('a restrictive prediction does not match a guest started as strict', async (t) => {
  if (why) return t.skip(`runtime backend: ${why}`);
  const input = readFileSync(join(root, 'cases', `${MISMATCH_CASE}.xml`), 'utf8');
  const strictCopy = input.replace(/mode=(['"])restrictive\1/g, "mode='strict'");
  const o = await backend.observe(strictCopy, `${MISMATCH_CASE}-as-strict`);
  const observed = { kind: 'ok' as const, text: stableJson(observationDocument(o)) };
  const v = compare({ kind: 'ok', text: predictDocument(input).text }, observed, [`prediction (${MISMATCH_CASE}, restrictive)`, 'observed (started as strict)']);
  t.equal(v.same, false, 'the comparison reports a mismatch');
  t.match(v.diff ?? '', /\+\s+"policy": "bind"/, 'the diff shows bind where restrictive leaves the policy default');
  // And the harness is not just failing everything: the strict copy matches its own prediction.
  t.ok(compare({ kind: 'ok', text: predictDocument(strictCopy).text }, observed, ['prediction (strict copy)', 'observed']).same, 'the strict copy matches the strict prediction');
});

t.test('nothing of ours is left behind', async (t) => {
  if (why) return t.skip(`runtime backend: ${why}`);
  await backend.close();
  const list = await execa('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name'], { reject: false, timeout: 30_000 });
  const mine = `${RUNTIME_PREFIX}${process.pid}-`;
  t.same(String(list.stdout).split('\n').filter((n) => n.startsWith(mine)), [], 'no domain of ours (running or defined)');
  const procs: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try { if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`guest=${mine}`)) procs.push(p); } catch { /* gone */ }
  }
  t.same(procs, [], 'no QEMU process of ours');
  const left: string[] = [];
  for (const dir of ['/sys/fs/cgroup/cpuset/machine', '/sys/fs/cgroup/machine.slice', '/sys/fs/cgroup/memory/machine', '/var/lib/libvirt/qemu/ram', '/run/libvirt/qemu']) {
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir)) if (e.replace(/\\x2d/g, '-').includes(mine)) left.push(join(dir, e));
  }
  t.same(left, [], 'no cgroup directory, RAM file or state file of ours');
});
