// What libvirt checks against the live host when it prepares a command line, and how the model
// follows it: the virtiofsd it looks for (host fact virtiofsdMissing), the CPU model it looks up
// in its release's CPU map, the emulator binary it probes. A profile built from host facts
// (profile.liveHost) answers only what those facts decide; libvirt's test profiles are unchanged.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runModelWith } from '../backends/model.js';
import type { HostFacts } from '../model/host-facts.js';
import { hostProfile, loadProfile } from '../profiles/load.js';
import { committedFacts, hostId } from '../runner/hosts.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const simulated = JSON.parse(readFileSync(join(root, 'cases', 'hosts', 'two-node-intel.json'), 'utf8')) as HostFacts;
const host = (over: Partial<HostFacts> = {}) => hostProfile({ ...simulated, ...over });

function domain(o: { cpu?: string; devices?: string; emulator?: string } = {}): string {
  return `<domain type='qemu'><name>live</name><uuid>6c766863-f022-4a11-9e00-000000000031</uuid>
<memory unit='KiB'>262144</memory><memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
<vcpu placement='static'>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>${o.cpu ?? ''}
<devices><emulator>${o.emulator ?? '/usr/bin/qemu-system-x86_64'}</emulator><memballoon model='none'/>${o.devices ?? ''}</devices></domain>`;
}
const fs = (inner = '') => `<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>${inner}<source dir='/srv'/><target dir='t0'/></filesystem>`;
const cpu = (model: string, check = 'none') => `<cpu mode='custom' match='exact' check='${check}'><model fallback='forbid'>${model}</model></cpu>`;
const argv = (xml: string, profile: Parameters<typeof runModelWith>[2]): string => {
  const o = runModelWith('argv', xml, profile);
  return o.kind === 'ok' ? o.text : `ERROR ${o.message}`;
};

t.test('a virtiofs share needs a virtiofsd the daemon can find', async (t) => {
  t.match(argv(domain({ devices: fs() }), host()), /-device .*vhost-user-fs-pci/, 'found: the command line');
  t.equal(argv(domain({ devices: fs() }), host({ virtiofsdMissing: true })), 'ERROR operation failed: Unable to find a satisfying virtiofsd', 'missing: libvirt\'s error');
  t.match(argv(domain({ devices: "<filesystem type='mount'><driver type='virtiofs'/><source socket='/run/v.sock'/><target dir='t0'/></filesystem>" }), host({ virtiofsdMissing: true })),
    /vhost-user-fs-pci/, 'a socket needs none');
  const withBinary = domain({ devices: fs("<binary path='/usr/libexec/virtiofsd'/>") });
  t.match(argv(withBinary, host()), /vhost-user-fs-pci/, '9.0.0 takes a given binary as it is');
  t.match(argv(withBinary, host({ libvirtVersion: '11.3.0' })), /^ERROR not modelled: a virtiofsd <binary path='\/usr\/libexec\/virtiofsd'>/, '11.3.0 runs it: the host decides');
  t.match(argv(withBinary, loadProfile('x86_64-latest@11.3.0')), /vhost-user-fs-pci/, "libvirt's test profile: unchanged");
});

t.test('a custom CPU model is looked up in the release\'s CPU map', async (t) => {
  for (const p of ['x86_64-latest', 'x86_64-latest@11.3.0']) {
    t.equal(argv(domain({ cpu: cpu('Opteron_G9') }), loadProfile(p)), 'ERROR internal error: Unknown CPU model Opteron_G9', `${p}: unknown`);
    t.equal(argv(domain({ cpu: cpu('haswell') }), loadProfile(p)), 'ERROR internal error: Unknown CPU model haswell', `${p}: names are case-sensitive`);
  }
  // A versioned name exists only from the release that added it.
  t.equal(argv(domain({ cpu: cpu('Skylake-Server-v1') }), loadProfile('x86_64-latest')), 'ERROR internal error: Unknown CPU model Skylake-Server-v1', '9.0.0 has no -v1 names');
  t.match(argv(domain({ cpu: cpu('Skylake-Server-v1') }), loadProfile('x86_64-latest@11.3.0')), /-cpu Skylake-Server-v1/, '11.3.0 has');
  // On a live host's TCG guest only QEMU's base models are answered.
  t.match(argv(domain({ cpu: cpu('qemu64', 'partial') }), host()), /-cpu qemu64/, 'qemu64 on the live host');
  t.match(argv(domain({ cpu: cpu('EPYC') }), host()), /^ERROR not modelled: a custom CPU model 'EPYC' on a TCG guest/, 'EPYC on the live host: refused');
  t.equal(argv(domain({ cpu: cpu('bogus') }), host()), 'ERROR internal error: Unknown CPU model bogus', 'an unknown one is libvirt\'s error there too');
  // The external devices are prepared before the guest CPU.
  t.equal(argv(domain({ cpu: cpu('bogus'), devices: fs() }), host({ virtiofsdMissing: true })), 'ERROR operation failed: Unable to find a satisfying virtiofsd', 'virtiofsd first');
});

t.test('an emulator the live host does not list is not modelled', async (t) => {
  t.match(argv(domain({ emulator: '/usr/local/bin/qemu' }), host()), /^ERROR not modelled: an emulator the host's capabilities do not list \('\/usr\/local\/bin\/qemu'\)/);
  t.match(argv(domain({ emulator: '/usr/bin/qemu-system-x86_64' }), host()), /^LC_ALL=C/, 'a listed one is modelled');
});

t.test('virtiofsdMissing is a committed fact only when true', async (t) => {
  const found = committedFacts({ ...simulated, virtiofsdMissing: false });
  t.notOk('virtiofsdMissing' in found, 'false: not committed');
  t.equal(hostId(found), hostId(committedFacts(simulated)), 'so the id of a host that finds one does not change');
  const missing = committedFacts({ ...simulated, virtiofsdMissing: true });
  t.equal(missing.virtiofsdMissing, true);
  t.not(hostId(missing), hostId(found), 'true: another host');
});
