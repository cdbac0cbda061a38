// Exercises the real libvirt backend (virsh on qemu:///system). Skips, with the backend's own
// reason, where libvirt cannot run; never passes without having run.
import { existsSync } from 'node:fs';
import t from 'tap';
import { execa } from 'execa';
import { DOMAIN_PREFIX, LibvirtBackend } from '../backends/libvirt.js';

const domain = (name: string, numatune: string, uuid = '') => `<domain type='qemu'>
  <name>${name}</name>${uuid ? `\n  <uuid>${uuid}</uuid>` : ''}
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>2</vcpu>
  <numatune>
    ${numatune}
  </numatune>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <cpu>
    <numa>
      <cell id='0' cpus='0-1' memory='131072' unit='KiB'/>
    </numa>
  </cpu>
</domain>
`;

const backend = new LibvirtBackend();
const reason = await backend.unavailable();

if (reason !== null) {
  t.plan(0, reason);
  await backend.close();
} else {
  t.test('argv: strict nodeset 0 in libvirt .args layout', async (t) => {
    const r = await backend.argv(domain('argv-ok', `<memory mode='strict' nodeset='0'/>`), 'host');
    if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
    const lines = r.text.split('\n');
    t.equal(lines.pop(), '', 'ends with one newline');
    t.ok(lines.slice(0, -1).every((l) => l.endsWith(' \\')), 'every line but the last continues');
    t.notOk(lines[lines.length - 1].endsWith('\\'), 'last line does not continue');
    t.equal(lines[0], 'LC_ALL=C \\');
    t.ok(lines.includes('-name guest=argv-ok,debug-threads=on \\'), 'option and value share a line');
    t.ok(lines.includes(`-object '{"qom-type":"memory-backend-ram","id":"ram-node0","size":134217728,` +
      `"host-nodes":[0],"policy":"bind"}' \\`), 'JSON argument single-quoted');
  });

  t.test('argv: nodeset naming a missing host node', async (t) => {
    if (existsSync('/sys/devices/system/node/node5')) {
      t.skip('this host has a NUMA node 5');
      return;
    }
    const r = await backend.argv(domain('argv-err', `<memory mode='strict' nodeset='5'/>`), 'host');
    t.same(r, { kind: 'error', message: 'unsupported configuration: NUMA node 5 is unavailable' });
  });

  t.test('xml: define round trip keeps the original name and uuid', async (t) => {
    const r = await backend.xml(domain('round-trip', `<memory mode='strict' nodeset='0'/>`,
      'C7A5FDBDEDAF9455926AD65C16DB1809'), 'host');
    if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
    t.match(r.text, /^<domain type='qemu'>\n {2}<name>round-trip<\/name>\n {2}<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809<\/uuid>\n/);
    t.match(r.text, /<memory mode='strict' nodeset='0'\/>/);
    t.notMatch(r.text, new RegExp(DOMAIN_PREFIX), 'no harness name left in the text');
    t.ok(r.text.endsWith('</domain>\n') && !r.text.endsWith('\n\n'), 'ends with </domain> and one newline');
  });

  t.test('xml: libvirt rejects restrictive memory with a strict memnode', async (t) => {
    const r = await backend.xml(domain('xml-err',
      `<memory mode='restrictive' nodeset='0'/>\n    <memnode cellid='0' mode='strict' nodeset='0'/>`), 'host');
    t.same(r, {
      kind: 'error',
      message: "XML error: 'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element",
    });
  });

  t.test('xml: an empty <uuid/> is no uuid to libvirt, and the domain is still ours to undefine', async (t) => {
    // libvirt makes up a uuid for it; the backend must give it one it can find again (a probe
    // of <uuid/> once left a domain defined on the machine's daemon).
    for (const u of ['<uuid/>', '<uuid></uuid>']) {
      const r = await backend.xml(domain('empty-uuid', `<memory mode='strict' nodeset='0'/>`).replace(/(<\/name>)/, `$1${u}`), 'host');
      t.equal(r.kind, 'ok', u);
    }
    const { stdout } = await execa('virsh', ['-c', 'qemu:///system', 'list', '--all', '--name']);
    t.same(stdout.split('\n').filter((n) => n.startsWith(`${DOMAIN_PREFIX}${process.pid}-`) && n.endsWith('empty-uuid')), [], 'none left defined');
  });

  t.test('close() leaves none of our domains behind', async (t) => {
    await backend.close();
    await backend.close(); // safe twice
    const { stdout } = await execa('virsh', ['-c', 'qemu:///system', 'list', '--all', '--name']);
    // Only this process's names: concurrent runs may have their own lvh- domains in flight.
    const ours = stdout.split('\n').filter((n) => n.startsWith(`${DOMAIN_PREFIX}${process.pid}-`));
    t.same(ours, []);
  });
}
