// The runtime model and the runtime backend's parsers, without starting anything (no root needed).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseGpa2hva, parseMaps, parseNumaMapsLine, rewriteForStart } from '../backends/runtime.js';
import { NUMAD_FAILED, predictRuntimeXml, stableJson } from '../model/runtime-predict.js';
import { loadProfile } from '../profiles/load.js';
import type { Profile } from '../model/profile.js';
import { readXml } from '../xml/read.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const xml = (name: string): string => readFileSync(join(root, 'cases', `${name}.xml`), 'utf8');
// A host-like profile that does not need the probed host file.
const base = loadProfile('x86_64-latest');
const host: Profile = { ...base, name: 'host-like', hostNodes: [0], autoNodeset: null, abiUpdate: true };

t.test('numa_maps lines', async (tt) => {
  tt.same(parseNumaMapsLine('7fff3854d000 prefer (many):0 stack anon=4 dirty=4 active=1 N0=4 kernelpagesize_kB=4'),
    { start: '7fff3854d000', policy: 'prefer (many)', nodes: '0', path: undefined, pages: { 0: 4 } });
  tt.same(parseNumaMapsLine('7f5a97ffe000 bind:0 file=/var/lib/libvirt/qemu/ram/5-x/ram-node1'),
    { start: '7f5a97ffe000', policy: 'bind', nodes: '0', path: '/var/lib/libvirt/qemu/ram/5-x/ram-node1', pages: {} });
  tt.equal(parseNumaMapsLine('7f22ab800000 default')!.policy, 'default');
  tt.same(parseNumaMapsLine('55c5868ac000 interleave=static:0-1 heap anon=2 N0=1 N1=1')!.pages, { 0: 1, 1: 1 });
  tt.equal(parseNumaMapsLine('55c5868ac000 interleave=static:0-1 heap')!.nodes, '0-1');
  tt.equal(parseNumaMapsLine('garbage'), null);
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
  const withNumad = p('numatune-auto-strict', base);
  tt.same(withNumad.kind === 'facts' && [withNumad.facts.backends, withNumad.facts.cpuset_mems.emulator],
    [[{ id: 'pc.ram', policy: 'bind', nodes: '0-3' }], '0-3']);
  // Restrictive memnodes only: vCPUs restricted per cell, the emulator inherits all host nodes.
  const rm = p('numatune-memnode-no-memory-restrictive', { ...host, hostNodes: [0, 1] });
  tt.same(rm.kind === 'facts' && rm.facts.cpuset_mems, { emulator: '0-1', vcpu0: '0', vcpu1: '0' });
  tt.same(p('numatune-host-node1').kind, 'error');
});
