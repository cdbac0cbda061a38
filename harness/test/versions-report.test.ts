// npm run versions: how a difference between releases is named, grouped and explained.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argName, changeOf, elementName, errorShape } from '../versions/differences.js';
import { explain, modelProfileOf } from '../versions/explain.js';
import { buildReport, releaseHosts } from '../versions/main.js';
import type { HostFacts } from '../model/host-facts.js';
import { projectCases } from '../runner/discover.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

t.test('an argv line is named by its option, and a JSON object by its type', async (t) => {
  t.equal(argName('HOME=/var/lib/libvirt/qemu/domain--1-x \\'), 'HOME');
  t.equal(argName(`-object '{"qom-type":"memory-backend-ram","id":"ram-node0","size":1}' \\`), '-object memory-backend-ram');
  t.equal(argName(`-device '{"driver":"virtio-blk-pci","id":"virtio-disk0"}' \\`), '-device virtio-blk-pci');
  t.equal(argName('-numa node,nodeid=0,cpus=0,memdev=ram-node0 \\'), '-numa node');
  t.equal(argName('-machine pc-i440fx-11.1,usb=off \\'), '-machine');
  t.equal(argName('-S \\'), '-S');
  t.equal(elementName("    <controller type='usb' index='0' model='piix3-uhci'>"), 'controller[usb]');
  t.equal(elementName("    <type arch='x86_64' machine='pc-i440fx-11.1'>hvm</type>"), 'type');
  t.equal(errorShape("memory device count '3' exceeds slots count '2' at node 1"), "memory device count '…' exceeds slots count '…' at node N");
});

t.test('the kinds of change, and a signature that groups equal changes', async (t) => {
  const a = { kind: 'ok' as const, text: '-m 512 \\\n-mon chardev=charmonitor \\\n-no-acpi \\\n' };
  const b = { kind: 'ok' as const, text: '-m size=524288k \\\n-object \'{"qom-type":"monitor-qmp"}\' \\\n-no-acpi \\\n' };
  t.same(changeOf('argv', a, a), { kind: 'same', signature: [] });
  t.same(changeOf('argv', a, b), { kind: 'changed output', signature: ['+-object monitor-qmp', '--mon', '~-m'] });
  const e1 = { kind: 'error' as const, message: "XML error: Invalid cache policy 'x'" };
  const e2 = { kind: 'error' as const, message: "XML error: Invalid value for attribute 'policy'" };
  t.equal(changeOf('xml', a, e1).kind, 'new error');
  t.equal(changeOf('xml', e1, a).kind, 'error gone');
  t.same(changeOf('xml', e1, e2), { kind: 'error reworded', signature: ["XML error: Invalid cache policy '…' → XML error: Invalid value for attribute '…'"] });
  t.equal(changeOf('xml', e1, { ...e1 }).kind, 'same');
});

t.test('a switch explains a difference only where the model reproduces both releases', async (t) => {
  const hosts = releaseHosts();
  const h9 = hosts.find((h) => h.release.version === '9.0.0');
  const h11 = hosts.find((h) => h.release.version === '11.3.0');
  if (!h9 || !h11) return t.skip('no committed 9.0.0 and 11.3.0 hosts on the emulated topology');
  const p9 = modelProfileOf(h9.facts as HostFacts);
  const p11 = modelProfileOf(h11.facts as HostFacts);
  const input = readFileSync(join(root, 'cases', 'numatune-interleave-memnodes.xml'), 'utf8');
  const real11 = { kind: 'error' as const, message: "XML error: 'restrictive' mode is required in memory element when mode is 'restrictive' in memnode element" };
  // The 9.0.0 side: the model's own answer stands in for the golden here (only the 11.3.0 side is judged below).
  const { runModelWith } = await import('../backends/model.js');
  const real9 = runModelWith('xml', input, p9 as never);
  const e = explain('xml', input, { real: real9, profile: p9 }, { real: real11, profile: p11 });
  t.same(e, { kind: 'switches', switches: ['restrictiveMemnodeNeedsRestrictiveMemory'] });
  const wrong = explain('xml', input, { real: real9, profile: p9 }, { real: { kind: 'error', message: 'something else' }, profile: p11 });
  t.same(wrong, { kind: 'unexplained', why: 'the model differs from the newer release here' }, 'a wrong real answer is never explained');
  const none = explain('xml', input, { real: real9, profile: p9 }, { real: real11, profile: { missing: 'libvirt 99.0.0 is not modelled' } });
  t.equal(none.kind, 'unexplained');
});

t.test('the report over the committed goldens: every case counted once per pair of releases', async (t) => {
  const r = buildReport(null);
  if (r.releases.length < 2) return t.skip('fewer than two releases with goldens on the emulated topology');
  const n = projectCases(root).length;
  for (const x of r.transitions) {
    t.equal(x.compared + x.notComparable, n, `${x.from} → ${x.to}: compared + not comparable = every case`);
    const changed = Object.values(x.byKind).reduce((s, k) => s + (k ?? 0), 0);
    t.equal(x.same + changed, x.compared, `${x.from} → ${x.to}: unchanged + changed = compared`);
    const grouped = r.groups.filter((g) => g.from === x.from && g.to === x.to).reduce((s, g) => s + g.inputs.length, 0);
    t.equal(grouped, changed, `${x.from} → ${x.to}: every changed input in exactly one group`);
  }
});
