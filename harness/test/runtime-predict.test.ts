// The runtime model and the runtime backend's parsers, without starting anything (no root needed).
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseGpa2hva, parseMaps, parseNumaMapsLine, rewriteForStart } from '../backends/runtime.js';
import { isBackendFile } from '../backends/guest-ram.js';
import { mapBackend, parseFlatView, piecesOf, probesOf } from '../backends/guest-ram.js';
import { NUMAD_FAILED, predictRuntimeXml, stableJson } from '../model/runtime-predict.js';
import { loadProfile } from '../profiles/load.js';
import type { Profile } from '../model/profile.js';
import { readXml } from '../xml/read.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const xml = (name: string): string => readFileSync(join(root, 'cases', `${name}.xml`), 'utf8');
// A host-like profile that does not need the probed host file: the runtime facts a probe of
// this kind of machine gives (cgroup v1 with cpuset, libvirt with numa_set_preferred_many, no numad).
const runtime = { preferredMany: true, cgroup: 'v1', cpusetController: true } as const;
const base: Profile = { ...loadProfile('x86_64-latest'), runtime };
const host: Profile = { ...base, name: 'host-like', hostNodes: [0], autoNodeset: null, abiUpdate: true, numad: { error: NUMAD_FAILED } };

t.test('numa_maps lines', async (tt) => {
  tt.same(parseNumaMapsLine('7fff3854d000 prefer (many):0 stack anon=4 dirty=4 active=1 N0=4 kernelpagesize_kB=4'),
    { start: '7fff3854d000', policy: 'prefer (many)', nodes: '0', path: undefined, pages: { 0: 4 }, pageKiB: 4 });
  tt.same(parseNumaMapsLine('7f5a97ffe000 bind:0 file=/var/lib/libvirt/qemu/ram/5-x/ram-node1'),
    { start: '7f5a97ffe000', policy: 'bind', nodes: '0', path: '/var/lib/libvirt/qemu/ram/5-x/ram-node1', pages: {}, pageKiB: 4 });
  // hugetlbfs (a mem-path directory): counts are huge pages, their size given by the kernel.
  const huge = parseNumaMapsLine('7f1c40000000 bind:1,5 file=/dev/hugepages/libvirt/qemu/3-g/qemu_back_mem.ram-node0.Ab12Cd\\040(deleted) huge dirty=32 N1=20 N5=12 kernelpagesize_kB=2048')!;
  tt.same([huge.policy, huge.nodes, huge.pages, huge.pageKiB], ['bind', '1,5', { 1: 20, 5: 12 }, 2048]);
  tt.equal(parseNumaMapsLine('7f22ab800000 default')!.policy, 'default');
  tt.same(parseNumaMapsLine('55c5868ac000 interleave=static:0-1 heap anon=2 N0=1 N1=1')!.pages, { 0: 1, 1: 1 });
  tt.equal(parseNumaMapsLine('55c5868ac000 interleave=static:0-1 heap')!.nodes, '0-1');
  tt.equal(parseNumaMapsLine('garbage'), null);
});

t.test("a backend's file: named for it, QEMU's unlinked mem-path file, or its memfd", async (tt) => {
  tt.ok(isBackendFile('/var/lib/libvirt/qemu/ram/5-x/ram-node1', 'ram-node1'));
  tt.ok(isBackendFile('/dev/hugepages/libvirt/qemu/3-g/qemu_back_mem.ram-node0.Ab12Cd (deleted)', 'ram-node0'));
  tt.ok(isBackendFile('/memfd:memory-backend-memfd (deleted)', 'memdimm0'), 'a memfd, named after its type');
  tt.notOk(isBackendFile('/dev/hugepages/libvirt/qemu/3-g/qemu_back_mem.ram-node1.Ab12Cd (deleted)', 'ram-node0'), 'another backend');
  tt.notOk(isBackendFile('/memfd:something-else (deleted)', 'ram-node1'), 'a memfd QEMU did not make');
  tt.notOk(isBackendFile('/var/lib/libvirt/qemu/ram/5-x/ram-node10', 'ram-node1'));
});

t.test('maps and gpa2hva', async (tt) => {
  const v = parseMaps('7f22ab800000-7f22bb800000 rw-p 00000000 00:00 0 \n7f5a97ffe000-7f5aa7ffe000 rw-p 00000000 fe:00 1475523                    /var/lib/libvirt/qemu/ram/5-x/ram-node1\n');
  tt.equal(v.length, 2);
  tt.equal(v[0].end - v[0].start, 0x10000000n);
  tt.equal(v[1].path, '/var/lib/libvirt/qemu/ram/5-x/ram-node1');
  const h = parseGpa2hva('Host virtual address for 0x10000000 (ram-node1) is 0x7fee07c00000\r\n\r\nHost virtual address for 0x0 (pc.ram) is 0x7f0000000000\n');
  tt.same(h.get(0x10000000n), { region: 'ram-node1', hva: 0x7fee07c00000n });
  tt.same(h.get(0n), { region: 'pc.ram', hva: 0x7f0000000000n });
});

// `info mtree -f` of a q35 guest with 3 GiB in three 1 GiB cells (QEMU 7.2, trimmed): q35 keeps
// 2 GiB below 4 GiB, so ram-node2 lies wholly at 4 GiB and ram-node0 is cut by the ROMs.
const FLAT = `FlatView #0
 AS "mch", root: bus master container
 Root memory region: (none)
  No rendered FlatView

FlatView #1
 AS "memory", root: system
 AS "cpu-memory-0", root: system
 Root memory region: system
  0000000000000000-00000000000bffff (prio 0, ram): ram-node0 KVM
  00000000000c0000-00000000000dffff (prio 1, rom): pc.rom KVM
  00000000000e0000-00000000000fffff (prio 0, rom): pc.bios @0000000000020000 KVM
  0000000000100000-000000003fffffff (prio 0, ram): ram-node0 @0000000000100000 KVM
  0000000040000000-000000007fffffff (prio 0, ram): ram-node1 KVM
  00000000fec00000-00000000fec00fff (prio 0, i/o): ioapic
  0000000100000000-000000013fffffff (prio 0, ram): ram-node2 KVM

FlatView #2
 AS "cpu-smm-0", root: memory
 Root memory region: memory
  0000000000000000-00000000000bffff (prio 0, ram): ram-node7
`;

t.test('guest RAM split around the PCI hole', async (tt) => {
  const G = 1n << 30n;
  const flat = parseFlatView(FLAT);
  tt.equal(flat.filter((p) => p.region === 'ram-node7').length, 0, 'only the flat view of the "memory" address space');
  tt.same(flat.find((p) => p.region === 'pc.bios'), { gpa: 0xe0000n, len: 0x20000n, region: 'pc.bios', offset: 0x20000n });
  const ids = [0, 1, 2].map((n) => ({ id: `ram-node${n}`, size: Number(G) }));
  const pieces = piecesOf(ids, flat);
  tt.same(pieces.get('ram-node2'), [{ gpa: 4n * G, len: G, region: 'ram-node2', offset: 0n }]);
  tt.equal(pieces.get('ram-node0')!.length, 2);
  tt.throws(() => piecesOf([{ id: 'mem-dimm0', size: 1 }], flat), /not mapped into guest memory/);
  tt.throws(() => piecesOf([{ id: 'ram-node1', size: Number(G) / 2 }], flat), /beyond its size/);
  tt.throws(() => parseFlatView('FlatView #0\n AS "I/O", root: io\n'), /no flat view/);
  // QEMU's answers for every probe: each backend at its own base (cells mapped out of order here).
  const bases = new Map([['ram-node0', 0x7f0000000000n], ['ram-node1', 0x7e0000000000n], ['ram-node2', 0x7d0000000000n]]);
  const hva = (region: string, gpa: bigint): string => {
    const p = pieces.get(region)!.find((x) => gpa >= x.gpa && gpa < x.gpa + x.len)!;
    return `Host virtual address for 0x${gpa.toString(16)} (${region}) is 0x${(bases.get(region)! + p.offset + gpa - p.gpa).toString(16)}\r\n`;
  };
  const probes = probesOf(pieces.values());
  tt.equal(probes.length, 8);
  const owner = (gpa: bigint): string => [...pieces].find(([, l]) => l.some((x) => gpa >= x.gpa && gpa < x.gpa + x.len))![0];
  const hvas = parseGpa2hva(probes.map((g) => hva(owner(g), g)).join('\n'));
  const vmas = parseMaps([...bases.values()].map((b) => `${b.toString(16)}-${(b + G).toString(16)} rw-p 00000000 00:00 0 `).join('\n'));
  const numa = new Map([...bases.values()].map((b, i) => [b.toString(16), parseNumaMapsLine(`${b.toString(16)} bind:0 anon=${i + 1} N0=${i + 1}`)!]));
  const m2 = mapBackend('ram-node2', Number(G), pieces.get('ram-node2')!, hvas, vmas, numa);
  tt.same(m2.fact, { id: 'ram-node2', policy: 'bind', nodes: '0' });
  tt.same([m2.detail.hva, m2.detail.pages, m2.detail.method], ['0x7d0000000000', { 0: 3 }, 'gpa2hva+size']);
  const m0 = mapBackend('ram-node0', Number(G), pieces.get('ram-node0')!, hvas, vmas, numa);
  tt.same([m0.detail.hva, m0.detail.pages, m0.detail.method], ['0x7f0000000000', { 0: 1 }, 'gpa2hva+size, 2 guest ranges']);
  // A piece that QEMU places elsewhere than base + offset is refused, never reported.
  const skewed = new Map(hvas);
  skewed.set(0x100000n, { region: 'ram-node0', hva: 0x7f0000000000n + 0x200000n });
  tt.throws(() => mapBackend('ram-node0', Number(G), pieces.get('ram-node0')!, skewed, vmas, numa), /not contiguous/);
  // The old assumption (cells back to back from 0) would look for ram-node2 at 2 GiB: QEMU names another region there.
  tt.throws(() => mapBackend('ram-node2', Number(G), [{ gpa: 2n * G, len: G, region: 'ram-node2', offset: 0n }], hvas, vmas, numa), /does not place/);
  // A mapping smaller than the backend is refused.
  const short = parseMaps(`7d0000000000-${(0x7d0000000000n + G / 2n).toString(16)} rw-p 00000000 00:00 0 `);
  tt.throws(() => mapBackend('ram-node2', Number(G), pieces.get('ram-node2')!, hvas, short, numa), /no mapping covers/);
});

t.test('rewrite for start: only the root\'s name, uuid and type', async (tt) => {
  const input = `<!-- <name>in-a-comment</name> <domain type='kvm'> -->\n<domain type="qemu">\n  <name>orig</name>\n  <uuid>6c766863-0054-4a11-9e00-00005eed0054</uuid>\n  <cpu><model>x</model></cpu>\n</domain>\n`;
  const out = rewriteForStart(input, 'lvh-rt-1-1-abc-orig', '11111111-2222-3333-4444-555555555555', 'kvm');
  tt.match(out, /^<!-- <name>in-a-comment<\/name> <domain type='kvm'> -->/);
  tt.match(out, /<domain type='kvm'>\n  <name>lvh-rt-1-1-abc-orig<\/name>\n  <uuid>11111111-2222-3333-4444-555555555555<\/uuid>/);
  const noUuid = rewriteForStart("<domain type='qemu'><name>a</name></domain>", 'lvh-rt-x', '11111111-2222-3333-4444-555555555555', 'qemu');
  tt.equal(noUuid, "<domain type='qemu'><name>lvh-rt-x</name><uuid>11111111-2222-3333-4444-555555555555</uuid></domain>");
  tt.throws(() => rewriteForStart('<domain><name>a</name></domain>', 'n', 'u', 'qemu'), /no type/);
});

t.test('predictions', async (tt) => {
  const p = (name: string, prof: Profile = host) => predictRuntimeXml(readXml(xml(name)), prof);
  const all = p('numatune-strict-memnodes-all-modes');
  tt.equal(all.kind, 'facts');
  if (all.kind === 'facts') {
    tt.same(all.facts.backends.map((b) => `${b.id}=${b.policy}:${b.nodes}`), ['ram-node0=bind:0', 'ram-node1=interleave:0', 'ram-node2=prefer:0', 'ram-node3=default:']);
    tt.same(all.facts.cpuset_mems, { emulator: '0', vcpu0: '0', vcpu1: '0', vcpu2: '0', vcpu3: '0' });
    tt.same(all.facts.process_policy, { policy: 'default', nodes: '' });
  }
  // A restrictive memnode under interleave memory shows the task policy.
  const il = p('numatune-interleave-memnodes');
  tt.same(il.kind === 'facts' && il.facts.backends.map((b) => b.policy), ['bind', 'interleave', 'interleave']);
  const pref = p('numatune-preferred-memnode-restrictive');
  tt.same(pref.kind === 'facts' && pref.facts.backends.map((b) => b.policy), ['prefer', 'prefer (many)']);
  const r = p('numatune-memory-restrictive');
  tt.same(r.kind === 'facts' && [r.facts.backends, r.facts.qemu_memdev[0].policy, r.facts.cpuset_mems.vcpu1], [[{ id: 'pc.ram', policy: 'default', nodes: '' }], 'default', '0']);
  tt.same(p('vcpu-current').kind === 'facts' && Object.keys((p('vcpu-current') as { facts: { cpuset_mems: object } }).facts.cpuset_mems), ['emulator', 'vcpu0', 'vcpu1']);
  tt.same(p('bitmap-pins-exclusion').kind === 'facts' && Object.keys((p('bitmap-pins-exclusion') as { facts: { cpuset_mems: object } }).facts.cpuset_mems), ['emulator', 'iothread1', 'vcpu0', 'vcpu1']);
  // placement='auto': without numad the start fails; with numad's advice (0-3 on an 8-node host) it binds there.
  tt.same(p('numatune-auto-strict'), { kind: 'error', message: NUMAD_FAILED });
  tt.same(p('numatune-static-memory-auto-vcpu'), { kind: 'error', message: NUMAD_FAILED });
  // Whatever the probe saw is what is predicted (a build without numad says so in other words).
  const without = 'unsupported configuration: numad is not available on this host';
  tt.same(p('numatune-auto-strict', { ...host, numad: { error: without } }), { kind: 'error', message: without });
  tt.throws(() => p('numatune-auto-strict', { ...host, numad: { advice: 'live' } }), /numad answers/, 'live advice is not predicted');
  tt.throws(() => p('numatune-auto-strict', { ...host, numad: undefined }), /was not probed/);
  tt.throws(() => p('numatune-memory-restrictive', { ...host, runtime: undefined }), /no paused guest was probed/, 'no runtime facts, no prediction');
  // The runtime backend replaces the input's type with the host's accelerator.
  tt.equal(p('numatune-kvm-restrictive', { ...host, virtTypes: ['qemu'] }).kind, 'facts', "a type='kvm' input runs under TCG where KVM is missing");
  const withNumad = p('numatune-auto-strict', base);
  tt.same(withNumad.kind === 'facts' && [withNumad.facts.backends, withNumad.facts.cpuset_mems.emulator],
    [[{ id: 'pc.ram', policy: 'bind', nodes: '0-3' }], '0-3']);
  // Restrictive memnodes only: vCPUs restricted per cell, the emulator inherits all host nodes.
  const rm = p('numatune-memnode-no-memory-restrictive', { ...host, hostNodes: [0, 1] });
  tt.same(rm.kind === 'facts' && rm.facts.cpuset_mems, { emulator: '0-1', vcpu0: '0', vcpu1: '0' });
  tt.same(p('numatune-host-node1').kind, 'error');
  // Guests above the PCI hole: the prediction does not depend on where QEMU puts the RAM.
  const q = p('ram-5g-q35');
  tt.same(q.kind === 'facts' && q.facts.qemu_memdev.map((m) => [m.id, m.size, m.policy]),
    [['ram-node0', 1610612736, 'bind'], ['ram-node1', 3758096384, 'preferred']]);
  const pc5 = p('ram-5g-pc');
  tt.same(pc5.kind === 'facts' && [pc5.facts.backends, pc5.facts.qemu_memdev[0].size], [[{ id: 'pc.ram', policy: 'default', nodes: '' }], 5368709120]);
});

t.test('pages outside the nodeset: per backend, memnode before <memory>, libvirt nodeset syntax', async (t) => {
  const { pagesOutside, parseLibvirtNodeset } = await import('../backends/pages-outside.js');
  t.same([...parseLibvirtNodeset('1-4,^3')].sort(), [1, 2, 4]);
  const xml = `<domain><numatune><memory mode='restrictive' nodeset='1-4,^3'/><memnode cellid='1' mode='restrictive' nodeset='2,4'/></numatune></domain>`;
  t.same(pagesOutside(xml, [{ id: 'ram-node0', pages: { 1: 10, 3: 5 } }, { id: 'ram-node1', pages: { 1: 7, 2: 1 } }]), { 'ram-node0': 5, 'ram-node1': 7 });
  t.same(pagesOutside('<domain/>', [{ id: 'pc.ram', pages: { 0: 3 } }]), {}, 'no nodeset: nothing is outside');
});

t.test('strict cpuset.mems: the <memory> nodeset on 9.0.0, the union with the memnodes on 11.x', async (tt) => {
  // cases/emulated/strict-memnodes-per-cell.xml on an eight-node host: <memory strict 0-1>,
  // memnodes 4 and 5-7 (its goldens: 9.0.0 cannot start it, 11.3.0 writes 0-1,4-7).
  const doc = readXml(readFileSync(join(root, 'cases', 'emulated', 'strict-memnodes-per-cell.xml'), 'utf8'));
  const eight = (p: Profile): Profile => ({ ...p, name: `${p.name}-8`, hostNodes: [0, 1, 2, 3, 4, 5, 6, 7], autoNodeset: null, abiUpdate: true, runtime });
  const v9 = predictRuntimeXml(doc, eight(base));
  const v11 = predictRuntimeXml(doc, eight(loadProfile('x86_64-latest@11.3.0')));
  // 9.0.0 confines QEMU to 0-1 first: mbind to 4 alone is then empty, and QEMU stops.
  tt.same(v9, { kind: 'error', message: 'internal error: process exited while connecting to monitor: qemu-system-x86_64: cannot bind memory to host NUMA nodes: Invalid argument' });
  tt.same(v11.kind === 'facts' && v11.facts.cpuset_mems, { emulator: '0-1,4-7', vcpu0: '0-1,4-7', vcpu1: '0-1,4-7' });
});

t.test('start on an eight-node host with CPU-less nodes: thread-context refusals, policies cut to the cpuset', async (tt) => {
  const nodes = [0, 1, 2, 3, 4, 5, 6, 7];
  const eight = (p: Profile): Profile => ({ ...p, name: `${p.name}-8`, hostNodes: nodes, hostNodeCpus: { 0: [0], 1: [1], 2: [], 3: [], 4: [], 5: [], 6: [], 7: [] }, autoNodeset: null, abiUpdate: true, runtime });
  const at = (name: string, p: Profile) => predictRuntimeXml(readXml(readFileSync(join(root, 'cases', 'emulated', `${name}.xml`), 'utf8')), eight(p));
  const v11 = loadProfile('x86_64-latest@11.3.0');
  const noCpus = 'internal error: process exited while connecting to monitor: qemu-system-x86_64: The nodes select no CPUs';
  tt.same(at('prealloc-strict-cpuless-only-fails', base), { kind: 'error', message: noCpus }, 'prealloc pinned to a CPU-less node');
  // 9.0.0 gives a restrictive backend no thread-context; 11.3.0 does, and QEMU refuses it.
  tt.equal(at('prealloc-restrictive-cpuless-only', base).kind, 'facts');
  tt.same(at('prealloc-restrictive-cpuless-only', v11), { kind: 'error', message: noCpus });
  // memnodes 0,2 and 1,3 under <memory strict 0-1>: the kernel keeps 0 and 1 on 9.0.0; 11.3.0
  // allows the union, so the whole masks stay.
  const cut = at('prealloc-strict-memnodes-2-3', base);
  tt.same(cut.kind === 'facts' && cut.facts.backends.map((b) => `${b.id}=${b.policy}:${b.nodes}`), ['ram-node0=bind:0', 'ram-node1=bind:1']);
  tt.same(cut.kind === 'facts' && cut.facts.qemu_memdev.map((m) => m.host_nodes), ['0,2', '1,3'], "QEMU's own view keeps what libvirt asked");
  const whole = at('prealloc-strict-memnodes-2-3', v11);
  tt.same(whole.kind === 'facts' && whole.facts.backends.map((b) => b.nodes), ['0,2', '1,3']);
  // Without the host's CPUs per node a thread-context is not predicted.
  tt.throws(() => predictRuntimeXml(readXml(readFileSync(join(root, 'cases', 'emulated', 'prealloc-strict-1-5.xml'), 'utf8')), { ...eight(base), hostNodeCpus: undefined }), /CPUs per NUMA node are not known/);
});

t.test('runtime-vs-model on the emulated host: the prediction in the goldens\' shape, and a wrong one fails with a diff', async (tt) => {
  const { predictEmulatedCase } = await import('../runtime/compare.js');
  const { compare } = await import('../runner/compare.js');
  const { emulatedGoldenPath } = await import('../emulated/case-doc.js');
  const { hostProfile } = await import('../profiles/load.js');
  // The emulated host's committed facts (mock8: CPUs on nodes 0 and 1 only) with the runtime
  // facts its probe gives (cgroup v2 with cpuset, numa_set_preferred_many).
  const golden = (name: string): string => readFileSync(emulatedGoldenPath(join(root, 'golden', 'runtime-emulated'), name, 'mock8'), 'utf8');
  const file = readdirSync(join(root, 'golden', 'hosts')).find((f) => /^lv9\.0\.0-q7\.2-n8-/.test(f))!;
  const facts = JSON.parse(readFileSync(join(root, 'golden', 'hosts', file), 'utf8'));
  const emulated = hostProfile({ ...facts, runtime: { ...runtime, cgroup: 'v2' } });
  for (const name of ['cover-letter-restrictive-1-4-not-3', 'prealloc-strict-memnodes-2-3', 'prealloc-strict-cpuless-only-fails']) {
    const model = predictEmulatedCase(readFileSync(join(root, 'cases', 'emulated', `${name}.xml`)), emulated);
    tt.ok(compare({ kind: 'ok', text: golden(name) }, model, ['golden', 'model']).same, `${name}: the model predicts the golden`);
  }
  // The same case with another nodeset: the pair fails, and says where.
  const wrong = predictEmulatedCase(Buffer.from(readFileSync(join(root, 'cases', 'emulated', 'strict-spanning-cpuless.xml'), 'utf8').replace("nodeset='1,3,6'", "nodeset='1,3'")), emulated);
  const v = compare({ kind: 'ok', text: golden('strict-spanning-cpuless') }, wrong, ['runtime@emulated', 'model@emulated']);
  tt.notOk(v.same, 'a wrong prediction fails');
  tt.match(v.diff, /-\s+"nodes": "1,3,6"/);
});
