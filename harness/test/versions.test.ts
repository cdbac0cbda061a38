// The model and the runner across libvirt releases: profile names with a version, behaviour
// switches as data, and libvirt's two test layouts told apart by the tree's files.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runModel, runModelWith } from '../backends/model.js';
import { BEHAVIOUR_9_0_0 } from '../model/profile.js';
import { hostProfile, loadProfile, profileProblem } from '../profiles/load.js';
import { detectLayout, inNumaFamily, libvirtCases, treeRegistrations, treeVersion } from '../runner/libvirt-cases.js';
import type { HostFacts } from '../model/host-facts.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tree9 = join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0');
const tree11 = join(root, '.cache', 'libvirt-src', 'libvirt-11.3.0');

t.test('profile names take an optional libvirt version', async (t) => {
  const p9 = loadProfile('x86_64-latest');
  t.equal(p9.libvirtVersion, '9.0.0', 'no version means 9.0.0');
  t.same(p9.behaviour, BEHAVIOUR_9_0_0, "9.0.0's behaviour is the default");
  t.same(loadProfile('x86_64-latest@9.0.0').flags, p9.flags, '@9.0.0 is the same profile');
  const p11 = loadProfile('x86_64-latest@11.3.0');
  t.equal(p11.libvirtVersion, '11.3.0');
  t.equal(p11.behaviour.memorySizeArg, 'size-k');
  t.ok(p11.behaviour.restrictiveMemnodeNeedsRestrictiveMemory, 'the reverse restrictive check is an 11.3.0 switch');
  t.ok(p11.flags.machineAcpi && p11.flags.smpClusters && p11.flags.backingMaskProtocol, "QEMU 10.0's capabilities");
  t.same(p11.hostNodes, [0, 1, 2, 3], "11.3.0's mock host has nodes 0-3");
  t.ok(loadProfile('x86_64-latest.abi-update@11.3.0').abiUpdate, '.abi-update parses as *_ABI_UPDATE');
  t.match(profileProblem('x86_64-latest@13.0.0'), /model covers libvirt 9\.0\.0, 11\.3\.0 and 12\.8\.0/);
  const p12 = loadProfile('x86_64-11.1.0@12.8.0');
  t.equal(p12.libvirtVersion, '12.8.0');
  t.equal(p12.behaviour.memorySizeArg, 'size-k', "12.8.0 has 11.3.0's switches");
  t.ok(p12.flags.objectMonitorQmp && !p11.flags.objectMonitorQmp, "QEMU 11.1 under 12.8.0 has object-monitor-qmp; 11.3.0's profiles do not know it");
  t.match(profileProblem('nocaps@11.3.0'), /unknown profile 'nocaps@11\.3\.0'/);
});

t.test('host takes the version of the daemon it probed', async (t) => {
  const facts: HostFacts = {
    libvirtVersion: '11.3.0', qemuVersion: '7.2.0', qemuBinary: '/usr/bin/qemu-system-x86_64', daemonPath: '/usr/bin',
    stateDirTemplate: '/var/lib/libvirt/qemu/domain--1-{name}', monitorTemplate: 'path=/m.sock', machineAliases: {},
    numaNodes: [{ id: 0, memoryKiB: 1024, cpus: [0] }], kvmUsable: false, virtTypes: ['qemu'],
    defaultCpuModels: { qemu: { x86_64: 'qemu64', i686: 'qemu32' }, kvm: {} }, emulators: { x86_64: '/usr/bin/qemu-system-x86_64' },
  };
  const h = hostProfile(facts);
  t.equal(h.libvirtVersion, '11.3.0');
  t.equal(h.behaviour.memorySizeArg, 'size-k', "11.3.0's behaviour");
  t.notOk(h.flags.machineAcpi, "QEMU 7.2's capabilities under 11.3.0: no acpi= on -machine");
  t.equal(hostProfile({ ...facts, libvirtVersion: '9.0.0' }).behaviour.memorySizeArg, 'mib');
  t.throws(() => hostProfile({ ...facts, libvirtVersion: '13.0.0' }), /model covers libvirt 9\.0\.0, 11\.3\.0 and 12\.8\.0/);
  const sid = hostProfile({ ...facts, libvirtVersion: '12.8.0', qemuVersion: '11.1.3' });
  t.ok(sid.libvirtVersion === '12.8.0' && sid.flags.objectMonitorQmp, 'the sid host (12.8.0, QEMU 11.1): x86_64-11.1.0@12.8.0');
  t.throws(() => hostProfile({ ...facts, libvirtVersion: '12.8.0' }), /no capability data for QEMU 7\.2\.0 under libvirt 12\.8\.0/);
});

t.test('a KVM guest gets the default CPU the probe found for KVM', async (t) => {
  const facts: HostFacts = {
    libvirtVersion: '9.0.0', qemuVersion: '7.2.0', qemuBinary: '/usr/bin/qemu-system-x86_64', daemonPath: '/usr/bin',
    stateDirTemplate: '/var/lib/libvirt/qemu/domain--1-{name}', monitorTemplate: 'path=/m.sock', machineAliases: {},
    numaNodes: [{ id: 0, memoryKiB: 1024, cpus: [0] }], kvmUsable: true, virtTypes: ['qemu', 'kvm'],
    // Invented to tell the two apart: on the hosts probed so far both accelerators say qemu64.
    defaultCpuModels: { qemu: { x86_64: 'qemu64', i686: 'qemu32' }, kvm: { x86_64: 'kvm64', i686: 'kvm32' } },
    emulators: { x86_64: '/usr/bin/qemu-system-x86_64' }, kvmCpuModels: {},
  };
  const dom = (type: string): string => `<domain type='${type}'><name>g</name><uuid>9f4b6512-e73a-4a25-93e8-5307802821ce</uuid>
    <memory unit='KiB'>131072</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
    <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>`;
  const profile = hostProfile(facts);
  const cpuOf = (type: string): string | undefined => {
    const out = runModelWith('xml', dom(type), profile);
    return out.kind === 'ok' ? /<model fallback='forbid'>([^<]+)<\/model>/.exec(out.text)?.[1] : `error: ${(out as { message: string }).message}`;
  };
  t.equal(cpuOf('kvm'), 'kvm64', "the KVM accelerator's default");
  t.equal(cpuOf('qemu'), 'qemu64', "TCG's default");
  const noKvm = hostProfile({ ...facts, kvmUsable: false, virtTypes: ['qemu'], defaultCpuModels: { qemu: facts.defaultCpuModels!.qemu, kvm: {} } });
  t.equal(noKvm.kvmDefaultCpuModel, undefined, 'a host without KVM has no KVM default');
});

const mixed = (memMode: string): string => `<domain type='qemu'><name>g</name><uuid>9f4b6512-e73a-4a25-93e8-5307802821ce</uuid>
<memory unit='KiB'>2097152</memory><vcpu>2</vcpu>
<numatune><memory mode='${memMode}' nodeset='0'/><memnode cellid='1' mode='restrictive' nodeset='0'/></numatune>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu><numa><cell id='0' cpus='0' memory='1048576' unit='KiB'/><cell id='1' cpus='1' memory='1048576' unit='KiB'/></numa></cpu>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>`;

t.test("11.3.0's rule: a restrictive memnode needs a restrictive <memory>; 9.0.0 has no such rule", async (t) => {
  const msg = "XML error: 'restrictive' mode is required in memory element when mode is 'restrictive' in memnode element";
  for (const op of ['argv', 'xml'] as const) {
    t.same(runModel(op, mixed('strict'), 'x86_64-latest@11.3.0'), { kind: 'error', message: msg }, `${op}: 11.3.0 refuses`);
    t.equal(runModel(op, mixed('strict'), 'x86_64-latest').kind, 'ok', `${op}: 9.0.0 accepts`);
    t.equal(runModel(op, mixed('restrictive'), 'x86_64-latest@11.3.0').kind, 'ok', `${op}: 11.3.0 accepts restrictive on both`);
  }
});

t.test("libvirt's test layouts are told apart by the tree's files", async (t) => {
  if (!existsSync(join(tree9, 'tests')) || !existsSync(join(tree11, 'tests')))
    return t.skip('libvirt 9.0.0 and 11.3.0 test data needed (bash scripts/fetch-libvirt-tests.sh; … 11.3.0)');
  t.equal(detectLayout(tree9), 'xml2argv+xml2xml');
  t.equal(detectLayout(tree11), 'qemuxmlconf');
  t.equal(detectLayout(root), null, 'not a libvirt tree');
  t.equal(treeVersion(tree11), '11.3.0');
  const { regs } = treeRegistrations(tree11);
  t.equal(regs.length, 1311, "qemuxmlconftest.c's 1,311 registrations");
  const family = inNumaFamily(regs);
  t.equal(family.length, 27, 'NUMA family: 27 registrations');
  t.ok(family.every((r) => r.profile === 'x86_64-latest@11.3.0'), 'all under x86_64-latest@11.3.0');
  const { cases, skipped } = libvirtCases(tree11);
  t.equal(cases.length, 48, '48 expected files');
  t.equal(skipped.length, 0);
  t.ok(cases.every((c) => /^libvirt\/qemuxmlconf\/[^/]+\.x86_64-latest\.(args|err|xml)$/.test(c.id)), 'ids name the expected file');
  const all = libvirtCases(tree11, false);
  t.ok(all.skipped.length > 0 && all.skipped.every((s) => s.why.length > 0), 'every skipped registration says why');
  t.ok(all.skipped.some((s) => /arch ppc64/.test(s.why)), 'other arches are skipped with the reason');
  t.ok(all.skipped.some((s) => /ARG_QEMU_CAPS_DEL/.test(s.why)), 'changed capabilities are skipped with the reason');
  t.equal(libvirtCases(tree9).cases.length, 40, "9.0.0's family unchanged: 40");
});

t.test('a tree newer than the model: cases for the tree\'s own tests, the model skipped with the reason', async (t) => {
  if (!existsSync(join(tree11, 'tests', 'qemuxmlconftest.c'))) return t.skip('libvirt 11.3.0 test data needed');
  // A stand-in for a checkout at master: 11.3.0's tests under a newer version number.
  const dir = mkdtempSync(join(tmpdir(), 'lvh-newer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(join(tree11, 'tests'), join(dir, 'tests'));
  writeFileSync(join(dir, 'meson.build'), "project(\n  'libvirt', 'c',\n  version: '13.0.0',\n)\n");
  const why = 'libvirt 13.0.0 is not modelled: model covers libvirt 9.0.0, 11.3.0 and 12.8.0';
  const skipped = libvirtCases(dir);
  t.equal(skipped.cases.length, 0, 'by default: no cases');
  t.ok(skipped.skipped.length === 27 && skipped.skipped.every((s) => s.why === why), 'every registration skipped with the reason');
  const kept = libvirtCases(dir, true, { unmodelled: 'case' });
  t.equal(kept.cases.length, 48, "unmodelled: 'case' keeps the 48 files for the tree's own tests");
  t.ok(kept.cases.every((c) => c.modelWhy === why), 'each says why the model sits out');
});

t.test("12.0.0's rule: a memory device's own nodemask is a strict binding, whatever the numatune mode", async (t) => {
  for (const mode of ['interleave', 'preferred', 'restrictive']) {
    const input = readFileSync(join(root, 'cases', `memory-${mode}-ram-dimm.xml`));
    const o11 = runModel('argv', input, 'x86_64-latest@11.3.0');
    const o12 = runModel('argv', input, 'x86_64-11.1.0@12.8.0');
    if (o11.kind !== 'ok' || o12.kind !== 'ok') return t.fail(`${mode}: both should build`);
    const dimm = (text: string): string => text.split('\n').find((l) => l.includes('"id":"memdimm0"')) ?? '';
    t.match(dimm(o12.text), /"host-nodes":\[0\],"policy":"bind"/, `${mode}: 12.8.0 binds the dimm to its nodemask`);
    t.notMatch(dimm(o11.text), /"policy":"bind"/, `${mode}: 11.3.0 follows <memory mode>`);
  }
});

t.test('12.8.0: a NUMA cell without memory is a memoryless node (no backend, no memdev)', async (t) => {
  const input = readFileSync(join(root, 'cases', 'fuzz-01b0800dc6.xml'));
  const o11 = runModel('argv', input, 'x86_64-latest@11.3.0');
  const o12 = runModel('argv', input, 'x86_64-11.1.0@12.8.0');
  if (o11.kind !== 'ok' || o12.kind !== 'ok') return t.fail('both should build');
  t.match(o12.text, /-numa node,nodeid=0,cpus=0 \\\n/, '12.8.0: no memdev');
  t.notMatch(o12.text, /ram-node0/, '12.8.0: no backend object');
  t.match(o11.text, /-numa node,nodeid=0,cpus=0,memdev=ram-node0 \\\n/, '11.3.0: a backend of size 0');
});

/** A small domain with one (or two) virtio videos on the given machine type. */
const videoDomain = (machine: string, videos: string): Buffer => Buffer.from(`<domain type='qemu'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory unit='KiB'>219100</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='${machine}'>hvm</type></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>${videos}</devices></domain>`);
const virtio = "<video><model type='virtio' heads='1'/></video>";

t.test("12.8.0: QEMU 11.1's machine types are the sid daemon's list; a dropped one is refused in libvirt's words", async (t) => {
  const p12 = loadProfile('x86_64-11.1.0@12.8.0');
  t.ok(p12.machineTypes?.x86_64?.includes('pc-i440fx-11.1') && p12.machineTypes.x86_64.includes('q35'), 'names and aliases are listed');
  t.notOk(p12.machineTypes?.x86_64?.includes('pc-i440fx-4.2'), 'QEMU 11.1 has no machine older than 5.2');
  const old = runModel('argv', videoDomain('pc-i440fx-4.2', ''), 'x86_64-11.1.0@12.8.0');
  t.same(old, { kind: 'error', message: "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support machine type 'pc-i440fx-4.2'" });
  t.equal(runModel('argv', videoDomain('pc-i440fx-5.2', ''), 'x86_64-11.1.0@12.8.0').kind, 'ok', 'pc-i440fx-5.2 is still there');
  t.equal(runModel('argv', videoDomain('pc-i440fx-4.2', ''), 'x86_64-latest@11.3.0').kind, 'ok', "a profile without a machine list (libvirt's tests) refuses none");
});

t.test('12.8.0 records the QEMU device of a virtio video in the XML (videoDeviceRecorded); 11.3.0 does not', async (t) => {
  const two = videoDomain('pc', virtio + virtio);
  const o12 = runModel('xml', two, 'x86_64-11.1.0@12.8.0');
  const o11 = runModel('xml', two, 'x86_64-latest@11.3.0');
  if (o12.kind !== 'ok' || o11.kind !== 'ok') return t.fail(`both should define: ${JSON.stringify([o12, o11])}`);
  t.match(o12.text, /<model type='virtio' heads='1' primary='yes' device='virtio-vga'\/>[\s\S]*<model type='virtio' heads='1' device='virtio-gpu'\/>/, 'primary VGA-compatible, the other plain');
  t.notMatch(o11.text, /device=/, '11.3.0 writes no device');
  const vhost = runModel('xml', videoDomain('pc', "<video><driver name='vhostuser'/><model type='virtio' heads='1'/></video>"), 'x86_64-11.1.0@12.8.0');
  t.match(vhost.kind === 'ok' ? vhost.text : vhost.message, /device='vhost-user-vga'/, 'a vhost-user primary is vhost-user-vga');
});

t.test("libvirt 11.3.0's test inputs inside the model's vocabulary run through 12.8.0 without a crash", async (t) => {
  if (!existsSync(join(tree11, 'tests', 'qemuxmlconftest.c'))) return t.skip('libvirt 11.3.0 test data needed');
  // No 12.x test data exists: the check is that the model answers (output or libvirt's error),
  // under the capability profile and under the sid host's committed facts.
  const { hostFactsPath, useHostFacts } = await import('../profiles/load.js');
  useHostFacts(join(root, 'golden', 'hosts', 'lv12.8.0-q11.1-n8-7ba589.json'));
  t.teardown(() => useHostFacts(hostFactsPath));
  let inside = 0;
  const crashes: string[] = [];
  for (const c of libvirtCases(tree11, false, { unmodelled: 'case' }).cases) {
    if (c.modelWhy || !c.profile.startsWith('x86_64-')) continue;
    const input = readFileSync(c.input);
    const own = runModel(c.op, input, c.profile);
    if (own.kind === 'error' && own.message.startsWith('not modelled:')) continue;
    inside++;
    const p12 = `${c.profile.replace(/^x86_64-[^.@]+/, 'x86_64-11.1.0').replace(/@[0-9.]+$/, '')}@12.8.0`;
    for (const p of [p12, 'host']) {
      try {
        runModel(c.op, input, p);
      } catch (e) {
        crashes.push(`${c.id} [${p}]: ${String(e)}`);
      }
    }
  }
  t.ok(inside >= 300, `${inside} registrations inside the vocabulary`);
  t.same(crashes, [], 'no crash');
});
