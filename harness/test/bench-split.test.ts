// The bench's split of a domain start inside the emulated host (bench/emulated.ts), read from
// libvirtd's qemu_process debug lines in libvirt's log layout.
import t from 'tap';
import { createSplit } from '../bench/emulated.js';

const line = (time: string, fn: string, msg: string): string => `2026-12-06 ${time}+0000: 249: debug : ${fn}:7905 : ${msg}`;
const start = [
  line('14:08:18.696', 'qemuProcessStart', 'conn=0x1 driver=0x2 vm=0x3 name=lvh-probe id=-1 asyncJob=start'),
  line('14:08:18.700', 'qemuProcessInit', 'Beginning VM startup process'),
  line('14:08:19.301', 'qemuProcessLaunch', 'Waiting for monitor to show up'),
  line('14:08:19.301', 'qemuProcessWaitForMonitor', "Connect monitor to vm=0x3 name='lvh-probe'"),
  line('14:08:20.525', 'qemuProcessLaunch', 'Verifying and updating provided guest CPU'),
  line('14:08:23.096', 'qemuProcessLaunch', 'Detecting IOThread PIDs'),
  line('14:08:23.177', 'qemuProcessFinishStartup', 'Writing domain status to disk'),
];

t.test('a start is split at qemu_process milestones', async (t) => {
  t.same(createSplit(start.join('\n')), { toMonitor: 0.605, monitorUp: 1.224, guestCpu: 2.571, rest: 0.081 });
  // A second start later in the same log does not move the first one's milestones.
  const twice = [...start, ...start.map((l) => l.replace('14:08:', '14:09:'))].join('\n');
  t.same(createSplit(twice), createSplit(start.join('\n')), 'only the first start counts');
});

t.test('a start with a milestone missing has no split', async (t) => {
  t.equal(createSplit(start.filter((l) => !l.includes('guest CPU')).join('\n')), null, 'no guest CPU check line');
  t.equal(createSplit(''), null, 'an empty log');
  t.equal(createSplit(start.slice(0, 4).join('\n')), null, 'a start that never reached the guest CPU check');
});
