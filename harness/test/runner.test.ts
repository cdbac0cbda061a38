// The runner library on its own: every kind of failure becomes a verdict, goldens follow their
// host, options resolve paths, shards split exactly, TAP is read back. Small in-process
// backends stand in for the real ones here: what is tested is the runner, not libvirt.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Outcome } from '../backends/types.js';
import type { CaseBackend } from '../runner/backend.js';
import type { Case } from '../runner/case.js';
import { projectCases, runtimeCases } from '../runner/discover.js';
import { executeCase, Limiter, type Plan } from '../runner/execute.js';
import { chooseGolden, readHosts, type HostTable } from '../runner/goldens.js';
import { committedFacts, hostId } from '../runner/hosts.js';
import { parseRunArgs, UsageError } from '../runner/options.js';
import { shardOf } from '../runner/select.js';
import { parseTap, unitVerdicts } from '../reporters/tap-results.js';
import type { HostFacts } from '../model/host-facts.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const simulated = committedFacts(JSON.parse(readFileSync(join(root, 'cases', 'hosts', 'two-node-intel.json'), 'utf8')) as HostFacts);

function scratch(t: Parameters<Parameters<typeof t.test>[1]>[0]): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvh-runner-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const backend = (id: string, run: (c: Case) => Promise<Outcome>): CaseBackend => ({ id, ops: ['argv', 'xml', 'runtime'], unavailable: async () => null, run, close: async () => {} });

function plan(dir: string, hosts: HostTable, backends: Record<string, CaseBackend>): Plan {
  return {
    root: dir, hosts, backends: new Map(Object.entries(backends)), ctx: { realProfile: 'x86_64-latest' },
    extraRules: [], knownGaps: {}, regenerate: false, hostModelWhy: null, blessFrom: { argv: 'libvirt', xml: 'libvirt', runtime: 'runtime' },
  };
}

t.test('every kind of failure is a verdict', async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, 'cases'));
  writeFileSync(join(dir, 'cases', 'one.xml'), "<domain type='qemu'><name>one</name></domain>\n");
  const hosts: HostTable = { live: { id: hostId(simulated), facts: simulated }, known: new Map([[hostId(simulated), simulated]]) };
  const [argvCase] = projectCases(dir);
  const limits = new Map(['model', 'libvirt'].map((id) => [id, new Limiter(1)]));
  const ok = backend('model', async () => ({ kind: 'ok', text: 'A\n' }));
  const throws = backend('libvirt', async () => { throw new Error('virsh went away: End of file while reading data'); });

  // No golden yet: every pair that needs one fails, saying how to bless it.
  const missing = await executeCase(argvCase, plan(dir, hosts, { model: ok, libvirt: throws }), limits);
  const byPair = Object.fromEntries(missing.verdicts.map((v) => [v.pair, v]));
  t.equal(byPair['golden-vs-model'].status, 'fail');
  t.match(byPair['golden-vs-model'].detail, /no golden file .*one\..*\.args: bless it with npm test -- --regenerate --case 'one'/);
  // A backend that throws is a failure of every pair it is part of, never a skip.
  t.equal(byPair['golden-vs-libvirt'].status, 'fail');
  t.match(byPair['golden-vs-libvirt'].detail, /backend libvirt threw: virsh went away/);
  t.equal(byPair['libvirt-vs-model'].status, 'fail');

  // With a golden: the model agrees, a differing backend fails with a diff and a rerun command.
  mkdirSync(join(dir, 'golden', 'xml2argv'), { recursive: true });
  writeFileSync(join(dir, 'golden', 'xml2argv', `one.${hosts.live.id}.args`), 'A\n');
  const differs = backend('libvirt', async () => ({ kind: 'ok', text: 'B\n' }));
  const r = await executeCase(argvCase, plan(dir, hosts, { model: ok, libvirt: differs }), limits);
  const v = Object.fromEntries(r.verdicts.map((x) => [x.pair, x]));
  t.equal(v['golden-vs-model'].status, 'pass');
  t.equal(v['golden-vs-libvirt'].status, 'fail');
  t.match(v['golden-vs-libvirt'].diff, /-A\n\+B/);
  t.equal(v['golden-vs-libvirt'].rerun, "npm test -- --case 'project/xml2argv/one'");
});

t.test('goldens follow their host', async (t) => {
  const dir = scratch(t);
  // The committed 9.0.0 host: the simulated one differs from it in its NUMA nodes and CPU only.
  const real = [...readHosts(root).values()].find((f) => f.libvirtVersion === simulated.libvirtVersion)!;
  const [a, b] = [hostId(real), hostId(simulated)];
  mkdirSync(join(dir, 'golden', 'hosts'), { recursive: true });
  writeFileSync(join(dir, 'golden', 'hosts', `${a}.json`), JSON.stringify(real));
  mkdirSync(join(dir, 'golden', 'xml2argv'));
  writeFileSync(join(dir, 'golden', 'xml2argv', `plain.${a}.args`), 'x\n');
  writeFileSync(join(dir, 'golden', 'xml2argv', `numa.${a}.args`), 'x\n');
  const onB: HostTable = { live: { id: b, facts: simulated }, known: readHosts(dir) };
  // An input that reads no fact that differs uses host A's golden on host B.
  const plain = chooseGolden(dir, onB, 'argv', 'plain', "<domain type='qemu'><name>p</name></domain>");
  t.match(plain, { kind: 'file', host: a });
  // An input that reads the NUMA nodes is skipped on B, with the facts named.
  const numa = chooseGolden(dir, onB, 'argv', 'numa', "<domain><numatune><memory nodeset='1'/></numatune></domain>");
  t.match(numa, { kind: 'skip', reason: /differs in numaNodes, which the input reads/ });
  // Once B has its own fork, B uses it.
  writeFileSync(join(dir, 'golden', 'xml2argv', `numa.${b}.args`), 'y\n');
  t.match(chooseGolden(dir, onB, 'argv', 'numa', '<numatune/>'), { kind: 'file', host: b });
  // A golden whose host is not committed is never silently used.
  writeFileSync(join(dir, 'golden', 'xml2argv', 'other.lv0-q0-n9-000000.args'), 'z\n');
  t.match(chooseGolden(dir, onB, 'argv', 'other', '<domain/>'), { kind: 'skip', reason: /has no golden\/hosts\/lv0-q0-n9-000000.json/ });
});

t.test("the project's goldens on a simulated second host: skips with reasons, no failure", async (t) => {
  const hosts: HostTable = { live: { id: hostId(simulated), facts: simulated }, known: readHosts(root) };
  const cases = [...projectCases(root), ...runtimeCases(root)];
  const kinds = { file: 0, skip: 0, missing: 0 };
  for (const c of cases) {
    const g = chooseGolden(root, hosts, c.op, c.name, readFileSync(c.input, 'utf8'));
    kinds[g.kind]++;
    // Huge-page inputs blessed only where hugetlbfs is mounted skip on a host without the mount.
    if (g.kind === 'skip') t.match(g.reason, /differs in (numaNodes|hostCpu|kvmCpuModels|virtTypes|hugetlbfs)/);
  }
  t.ok(kinds.skip > 0 && kinds.file > 0, `${cases.length} cases: ${kinds.file} use a golden, ${kinds.skip} skip, ${kinds.missing} have none yet`);
});

t.test('options: paths resolve against the caller, bad values are usage errors', async (t) => {
  const o = parseRunArgs(['--junit', '/abs/out.xml', '--case', 'a*', '--case=b'], '/home/me', '/w', 2);
  t.equal(o.junit, '/abs/out.xml');
  t.same(o.cases, ['a*', 'b']);
  t.equal(parseRunArgs(['--junit', 'rel.xml'], '/home/me', '/w', 2).junit, '/home/me/rel.xml');
  t.throws(() => parseRunArgs(['--shard', '4/3'], '/', '/w', 2), /--shard wants I\/N/);
  t.ok((() => { try { parseRunArgs(['--shard', '0/3'], '/', '/w', 2); } catch (e) { return e instanceof UsageError; } return false; })(), 'a usage error (exit 2), not a crash');
  t.throws(() => parseRunArgs(['--bogus'], '/', '/w', 2), /unknown option: --bogus/);
  t.throws(() => parseRunArgs(['--regenerate', '--host-facts', 'f.json'], '/', '/w', 2), /cannot bless for simulated --host-facts/);
});

t.test('shards are disjoint and together are the whole', async (t) => {
  const cases = [...projectCases(root), ...runtimeCases(root)];
  const costs = { [cases[0].id]: 30 };
  const parts = [1, 2, 3].map((i) => shardOf(cases, { index: i, total: 3 }, costs).map((c) => c.id));
  const all = parts.flat();
  t.equal(all.length, cases.length, 'no case twice, none missing');
  t.same(new Set(all).size, cases.length);
  t.same(shardOf(cases, { index: 2, total: 3 }, costs).map((c) => c.id), parts[1], 'deterministic');
});

t.test('a unit-test failure read back from TAP is a verdict', async (t) => {
  const tap = ['TAP version 14', '# Subtest: adds', '    not ok 1 - should be equal', '      ---', '      found: 3', '      wanted: 4', '      ...', '    1..1', 'not ok 1 - adds', '# Subtest: fine', '    ok 1 - yes', '    1..1', 'ok 2 - fine', '1..2', ''].join('\n');
  const v = unitVerdicts(parseTap('harness/test/x.test.ts', tap, false));
  t.same(v.map((x) => [x.id, x.status]), [['unit/x.test.ts > adds', 'fail'], ['unit/x.test.ts > fine', 'pass']]);
  t.match(v[0].detail, /should be equal[\s\S]*found: 3/);
  const crashed = unitVerdicts(parseTap('harness/test/y.test.ts', 'TAP version 14\n', false));
  t.match(crashed, [{ pair: 'suite', status: 'fail' }], 'a file that failed outside any test is a failure too');
});

t.test('merge-reports adds the shards up and refuses a case that ran twice', async (t) => {
  const { mergeSummaries } = await import('../reporters/merge.js');
  const v = (id: string, status: 'pass' | 'fail') => ({ id, pair: 'golden-vs-model', status, ms: 0 });
  const a = { shard: '1/2', cases: ['x'], verdicts: [v('x', 'pass'), { id: 'unit/u > t', pair: 'unit', status: 'pass' as const, ms: 0 }], notes: [] };
  const b = { shard: '2/2', cases: ['y'], verdicts: [v('y', 'fail')], notes: [] };
  const ok = mergeSummaries([{ file: 'a', summary: a }, { file: 'b', summary: b }]);
  t.same(ok.problems, []);
  t.same(ok.merged.verdicts.map((x) => x.id), ['x', 'unit/u > t', 'y'], 'every verdict of every shard, none twice');
  const twice = mergeSummaries([{ file: 'a', summary: a }, { file: 'a2', summary: a }]);
  t.match(twice.problems, [/case x ran in both a and a2/]);
});

t.test('the qemu-exit-race rule equates only the two wordings of one early QEMU exit', async (t) => {
  const { normalise, QEMU_EXIT_RACE } = await import('../runner/rules.js');
  const a = '{"error": "internal error: process exited while connecting to monitor: qemu-system-x86_64: The nodes select no CPUs"}';
  const b = '{"error": "internal error: qemu unexpectedly closed the monitor: qemu-system-x86_64: The nodes select no CPUs"}';
  const c = '{"error": "internal error: qemu unexpectedly closed the monitor: qemu-system-x86_64: cannot bind memory"}';
  const b11 = `{"error": "internal error: QEMU unexpectedly closed the monitor (vm='lvh-rt-1-x'): qemu-system-x86_64: The nodes select no CPUs"}`;
  t.equal(normalise(b, [QEMU_EXIT_RACE]).text, normalise(a, [QEMU_EXIT_RACE]).text);
  t.equal(normalise(b11, [QEMU_EXIT_RACE]).text, normalise(a, [QEMU_EXIT_RACE]).text, "11.3.0's wording");
  t.same(normalise(b, [QEMU_EXIT_RACE]).applied, ['qemu-exit-race']);
  t.not(normalise(c, [QEMU_EXIT_RACE]).text, normalise(a, [QEMU_EXIT_RACE]).text, "QEMU's own message stays compared");
});

t.test('pairs are declared once and instantiated per host', async (t) => {
  const { pairsOn } = await import('../runner/pairs.js');
  const { MACHINE, EMULATED } = await import('../runner/run-hosts.js');
  const ids = pairsOn([MACHINE, EMULATED]).map((p) => p.id);
  t.ok(ids.includes('golden-vs-libvirt') && ids.includes('golden-vs-libvirt@emulated'), 'the machine keeps bare ids, another host carries its key');
  t.notOk(ids.includes('libvirt-tests-vs-model@emulated'), 'a host-independent pair is judged once, on the machine');
  t.notOk(ids.includes('golden-vs-tiering'), 'a role the machine lacks gives it no pair');
  const emu = pairsOn([EMULATED]);
  const argvCase: Case = { source: 'project', name: 'x', op: 'argv', profile: 'host', id: 'project/xml2argv/x', input: '/x.xml', expect: { kind: 'golden' } };
  const runtimeCase: Case = { ...argvCase, op: 'runtime', id: 'runtime/x' };
  t.equal(emu.find((p) => p.id === 'golden-vs-libvirt@emulated')!.applies(argvCase, { realProfile: 'x86_64-latest' }), true, "the project's argv cases run on the emulated host");
  t.equal(emu.find((p) => p.id === 'golden-vs-runtime@emulated')!.applies(runtimeCase, { realProfile: 'x86_64-latest' }), false, "the machine's runtime cases do not");
  t.equal(emu.find((p) => p.id === 'runtime-vs-model@emulated')!.applies({ ...runtimeCase, host: 'emulated' }, { realProfile: 'x86_64-latest' }), true, "the model predicts the emulated host's runtime cases");
  const unjudged = pairsOn([{ ...EMULATED, skips: { 'runtime-vs-model': 'not judged here yet' } }]);
  t.equal(unjudged.find((p) => p.id === 'runtime-vs-model@emulated')!.applies({ ...runtimeCase, host: 'emulated' }, { realProfile: 'x86_64-latest' }), 'not judged here yet', 'a pair a host does not judge is a skip with its reason');
});

t.test('--host sid swaps the 9.0.0 emulated host for the sid one, with the real libvirt and the 12.8.0 model', async (t) => {
  const { pairsOn } = await import('../runner/pairs.js');
  const { MACHINE, HOSTS, runHosts, SID } = await import('../runner/run-hosts.js');
  t.same(runHosts({}), HOSTS, 'a default run: the machine and the 9.0.0 emulated host');
  t.same(runHosts({ sid: true }).map((h) => h.key), ['', 'sid'], 'never two emulated VMs in one run');
  const ids = pairsOn([MACHINE, SID]).map((p) => p.id).filter((id) => id.endsWith('@sid'));
  t.same(ids, ['golden-vs-model@sid', 'golden-vs-libvirt@sid', 'libvirt-vs-model@sid', 'libvirt-vs-model(tests)@sid'], 'the model of 12.8.0 is judged there too');
  const argvCase: Case = { source: 'project', name: 'x', op: 'argv', profile: 'host', id: 'project/xml2argv/x', input: '/x.xml', expect: { kind: 'golden' } };
  const sidPairs = pairsOn([SID]);
  const golden = sidPairs.find((p) => p.id === 'golden-vs-libvirt@sid');
  const tests = sidPairs.find((p) => p.id === 'libvirt-vs-model(tests)@sid')!;
  t.equal(sidPairs.find((p) => p.id === 'libvirt-vs-model@sid')!.applies(argvCase, { realProfile: 'none' }), true, "the model meets libvirt 12.8 on the project's cases");
  t.equal(golden!.applies(argvCase, { realProfile: 'x86_64-latest' }), true);
  t.notOk(sidPairs.some((p) => p.template === 'libvirt-tests-vs-libvirt'), "libvirt's expected files are other releases': not judged there");
  const reg11: Case = { ...argvCase, source: 'libvirt', family: false, id: 'libvirt/qemuxmlconf/x.x86_64-latest.args', profile: 'x86_64-latest@11.3.0' };
  t.equal(tests.applies(reg11, { realProfile: 'none' }), true, "11.3.0's registrations for its newest QEMU meet the 12.8 daemon");
  t.equal(tests.applies({ ...reg11, profile: 'x86_64-9.2.0@11.3.0' }, { realProfile: 'none' }), false, 'one registration per input: the x86_64-latest one');
  t.equal(tests.applies({ ...reg11, profile: 'x86_64-latest' }, { realProfile: 'none' }), false, "9.0.0's registrations stay on the machine");
  t.equal(tests.skipAfter!({ kind: 'error', message: 'internal error: Child process (/usr/libexec/virtiofsd --print-capabilities) unexpected exit status 127: libvirt:  error : cannot execute binary /usr/libexec/virtiofsd: No such file or directory' }, { kind: 'ok', text: '' }, reg11), 'host lacks /usr/libexec/virtiofsd');
  t.match(tests.skipAfter!({ kind: 'ok', text: '' }, { kind: 'error', message: 'not modelled: element <tpm>' }, reg11), /outside the model's vocabulary/);
  t.equal(tests.skipAfter!({ kind: 'error', message: 'unsupported configuration: x' }, { kind: 'ok', text: '' }, reg11), null, 'any other answer is judged');
  const { parseRunArgs } = await import('../runner/options.js');
  const o = parseRunArgs(['--host', 'sid', '--case', 'numatune-*'], '/', '/tmp', 1);
  t.ok(o.sid && !o.emulated, '--host sid');
  t.throws(() => parseRunArgs(['--host', 'trixie'], '/', '/tmp', 1), /--host wants 'emulated' or 'sid'/);
});

t.test('--regenerate prepares backends only for the cases it blesses in the run', async (t) => {
  const { blessedByRun } = await import('../runner/execute.js');
  const c: Case = { source: 'project', name: 'x', op: 'argv', profile: 'host', id: 'project/xml2argv/x', input: '/x.xml', expect: { kind: 'golden' } };
  t.ok(blessedByRun(c), "a project argv case is blessed from the real libvirt");
  t.notOk(blessedByRun({ ...c, op: 'runtime', host: 'emulated' }), 'an emulated runtime case is blessed inside the VM (run-cases.js --bless): nothing boots for it');
  t.notOk(blessedByRun({ ...c, op: 'runtime', host: 'tiered' }), 'nor a tiering cell');
  t.notOk(blessedByRun({ ...c, source: 'libvirt' }), "libvirt's own expected files are not the project's to bless");
});

t.test('facts read through a view: named nodes, the virt type\'s default CPU, the host CPU only with KVM on both', async (t) => {
  const { factsRead } = await import('../runner/hosts.js');
  const one = simulated;
  const eight = { ...simulated, numaNodes: Array.from({ length: 8 }, (_, id) => ({ id, cpus: id < 2 ? [id] : [] })) };
  const nodeset = (ns: string): string => `<domain type='qemu'><numatune><memory nodeset='${ns}'/></numatune></domain>`;
  t.same(factsRead(nodeset('0'), 'argv', one, eight), [], 'a nodeset naming nodes both hosts have reads nothing that differs');
  t.same(factsRead(nodeset('0-1,^1'), 'argv', one, eight), []);
  t.same(factsRead(nodeset('5'), 'argv', one, eight), ['numaNodes'], 'a node only one host has');
  t.same(factsRead(nodeset('x'), 'argv', one, eight), ['numaNodes'], 'an unreadable nodeset counts every node');
  t.same(factsRead("<domain><numatune><memory placement='auto'/></numatune></domain>", 'argv', one, eight), ['numaNodes'], "numad's advice reads every node");
  t.same(factsRead(nodeset('0'), 'runtime', one, eight), ['numaNodes'], 'the runtime reads every node (inherited cpuset.mems)');
  const noKvm = { ...simulated, virtTypes: ['qemu'], defaultCpuModels: { ...simulated.defaultCpuModels!, kvm: {} }, hostCpu: { vendor: 'AMD', model: 'x' }, kvmCpuModels: {} };
  const kvmXml = "<domain type='kvm'><cpu><model>qemu64</model></cpu></domain>";
  t.same(factsRead(kvmXml, 'argv', simulated, noKvm).sort(), ['defaultCpuModels', 'virtTypes'], 'no KVM on one side: the host CPU is never consulted');
  t.same(factsRead("<domain type='qemu'/>", 'argv', simulated, noKvm), [], "a TCG guest does not see KVM's default CPU");
});

t.test('listed failures may hold only where the host has KVM, or lacks it', async (t) => {
  const { listedFailures } = await import('../runner/expect-failures.js');
  const text = '# comment\na [p]\nb [p] when kvm\nc [q] when no-kvm\n';
  t.same(listedFailures(text, { kvm: true }), { want: ['a [p]', 'b [p]'], elsewhere: ['c [q]'] });
  t.same(listedFailures(text, { kvm: false }), { want: ['a [p]', 'c [q]'], elsewhere: ['b [p]'] });
});

t.test('the emulated VM first: the machine waits for it, bounded, and the unit files for the marker', async (t) => {
  const { machineStarted, markMachineStarted, vmFirst } = await import('../runner/long-pole.js');
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  t.equal(await vmFirst([]), null, 'no VM starting: no wait, no note');
  let up = false;
  const vm = new Promise<void>((r) => setTimeout(() => { up = true; r(); }, 150));
  t.match(await vmFirst([vm]), /began once the emulated VM was up \(0\.[1-9] s/, 'waits for the VM that is starting');
  t.ok(up, 'and returns only once it is up');
  t.match(await vmFirst([Promise.reject(new Error('no image'))]), /once the emulated VM was up \(0\.0 s/, 'a VM that failed to start holds no one');
  const t0 = performance.now();
  t.match(await vmFirst([new Promise(() => undefined)], 200), /began after 0\.[2-4] s without the emulated VM/, 'a VM still booting holds the machine no longer than the bound');
  t.ok(performance.now() - t0 < 1000, 'the bound is kept');
  const dir = scratch(t);
  setTimeout(() => markMachineStarted(dir), 200);
  t.equal(await machineStarted(dir, () => false, 5000), true, 'the unit files start once the case suite leaves its marker');
  const other = scratch(t);
  let ended = false;
  setTimeout(() => { ended = true; }, 200);
  t.equal(await machineStarted(other, () => ended, 5000), false, 'or once the case suite ended without one (a crash holds no one)');
  t.equal(await machineStarted(other, () => false, 300), false, 'or after the bound');
  t.equal(timers(), before, 'no timer is left pending after any of these waits');
});
