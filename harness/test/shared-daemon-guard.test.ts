// The machine's libvirtd is never sent an input known to kill it (backends/daemon-killers.ts):
// the rules on their own, then the guard against the real daemons, checked by the machine's
// libvirtd pid before and after. Skips with the backend's reason where libvirt cannot run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DAEMON_KILLERS, daemonKiller, vcpuCount } from '../backends/daemon-killers.js';
import { SharedDaemonGuard } from '../backends/shared-daemon-guard.js';
import { ROOT } from '../fuzz/daemon.js';

const crash = (name: string): string => readFileSync(join(ROOT, 'cases', 'crashes', `${name}.xml`), 'utf8');
const plain = (vcpu: string, extra = ''): string => `<domain type='qemu'><name>guard</name>
<memory unit='KiB'>131072</memory><vcpu placement='static'>${vcpu}</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>${extra}<devices><memballoon model='none'/></devices></domain>`;

t.test('the rules catch what the crash cases show, and leave the rest alone', async (t) => {
  t.equal(daemonKiller(crash('crash-virDomainNumaDefNodeDistanceParseXML'))?.name, 'numa-distances');
  t.equal(daemonKiller(crash('crash-virXMLPropUInt'))?.name, 'numa-distances');
  t.equal(daemonKiller(crash('crash-virDomainDefSetVcpusMax'))?.name, 'vcpu-allocation');
  t.equal(vcpuCount(plain('-1')), 2 ** 32 - 1, 'a negative count wraps as virStrToLong_ui does');
  t.equal(vcpuCount(plain(' 4 ')), 4);
  t.equal(vcpuCount(plain('two')), null, 'not a number: libvirt refuses it, nothing to guard');
  t.equal(daemonKiller(plain('65536')), undefined, 'the bound itself is sent');
  t.equal(daemonKiller(plain('65537'))?.name, 'vcpu-allocation');
  t.equal(daemonKiller(plain('2')), undefined);
  t.equal(daemonKiller(plain('2', "<cpu><numa><cell id='0' cpus='0-1' memory='131072'><distances/></cell></numa></cpu>"))?.name, 'numa-distances');
  for (const k of DAEMON_KILLERS) {
    for (const c of k.crashCases) t.ok(readFileSync(join(ROOT, c), 'utf8').length > 0, `${k.name}: ${c} exists`);
  }
});

const machinePid = (): string => {
  try {
    return readFileSync('/run/libvirtd.pid', 'utf8').trim();
  } catch {
    return '';
  }
};

const guard = new SharedDaemonGuard();
const reason = await guard.unavailable();
if (reason !== null) {
  t.test('the guard against the real daemons', { skip: reason }, async () => {});
  await guard.close();
} else {
  t.test('inputs that kill libvirt 9.0.0 never reach the machine\'s daemon', async (t) => {
    const before = machinePid();
    const distances = await guard.argv(crash('crash-virDomainNumaDefNodeDistanceParseXML'), 'host');
    // A disposable daemon took it: it refused it in libvirt's words, or died doing so.
    if (distances.kind === 'error') t.equal(distances.message, 'XML error: NUMA distances defined without siblings');
    else t.match(distances, { kind: 'skip', reason: /^libvirt died on this input on a private libvirtd \(SIG\w+\)/ });
    const vcpus = await guard.xml(crash('crash-virDomainDefSetVcpusMax'), 'host');
    t.match(vcpus, { kind: 'skip', reason: /no daemon is sent it$/ });
    const ok = await guard.argv(plain('2'), 'host');
    t.equal(ok.kind, 'ok', 'an ordinary input goes to the machine\'s daemon');
    t.same(Object.fromEntries(guard.routed), { 'numa-distances': 1, 'vcpu-allocation': 1 }, 'only the two were routed');
    t.equal(await guard.refusesStart(plain('2')), null, 'a guest start is not held up by the guard');
    t.match(await guard.refusesStart(crash('crash-virXMLPropUInt')), /^not started on the machine's libvirtd \(rule numa-distances\): /);
    await guard.close();
    t.equal(machinePid(), before, 'the machine\'s libvirtd is the same process');
  });
}
