// The runtime facts of a host, from paused guests on its daemon (TCG, transient, always
// destroyed, also on Ctrl-C): what placement='auto' gives (numad), the task policy of a preferred
// guest (libvirt built with numa_set_preferred_many shows "prefer (many)"), and the cgroups a
// guest is placed in. Used by scripts/probe-host.mjs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const undecided = (fact, why) => { const e = new Error(`cannot decide ${fact}: ${why}`); e.name = 'Undecided'; throw e; };

/** io: the probe's virsh/run/xmlFile/domainXml/libvirtMessage; name: the probe's guest prefix;
 *  firstNode: a host node with memory. */
export async function probeRuntime({ virsh, run, xmlFile, domainXml, libvirtMessage, name, firstNode }) {
  const started = new Set();
  const destroy = async (g) => { await virsh('destroy', g); started.delete(g); };
  const onSignal = async () => { await Promise.allSettled([...started].map(destroy)); process.exit(130); };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, onSignal);

  /** Start `text` paused, hand its QEMU pid to `read`, destroy it whatever happens. */
  async function withPausedGuest(guest, text, read) {
    const r = await virsh('create', '--paused', await xmlFile(text));
    if (!r.ok) return { error: libvirtMessage(r) };
    started.add(guest);
    try {
      // QEMU's own command line names the guest: -name guest=NAME,…
      const p = await run('pgrep', ['-f', `guest=${guest},`]);
      const pid = p.stdout.trim().split('\n')[0];
      if (!p.ok || !pid) undecided('the runtime facts', `no QEMU process found for the paused guest ${guest}`);
      return { value: await read(pid) };
    } finally {
      await destroy(guest);
    }
  }

  try {
    // numad: placement='auto' asks numad at start (qemuProcessPrepareDomainNUMAPlacement); its
    // failure is what libvirt says (no numad binary, or a build without numad support).
    const numadGuest = `${name}-numad`;
    const numadStart = await withPausedGuest(numadGuest, domainXml({ name: numadGuest, vcpu: "<vcpu placement='auto'>1</vcpu>" }), async () => true);
    const numad = numadStart.error ? { error: numadStart.error } : { advice: 'live' };
    const rtGuest = `${name}-rt`;
    const rt = await withPausedGuest(rtGuest, domainXml({ name: rtGuest, extra: `<numatune><memory mode='preferred' nodeset='${firstNode}'/></numatune>` }), async (pid) => {
      const maps = readFileSync(`/proc/${pid}/numa_maps`, 'utf8').split('\n').filter(Boolean);
      const policies = new Set(maps.map((l) => /^[0-9a-f]+ (prefer \(many\)\S*|\S+)/.exec(l)?.[1] ?? ''));
      const preferred = [...policies].find((p) => p.startsWith('prefer'));
      if (!preferred) undecided('the preferred policy', `no mapping of the preferred guest's QEMU has a prefer policy: ${[...policies].join(' ')}`);
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean);
      const v2 = cgroup.length === 1 && cgroup[0].startsWith('0::');
      const controllers = v2
        ? readFileSync(join('/sys/fs/cgroup', cgroup[0].slice(3), '..', 'cgroup.controllers'), 'utf8').trim().split(/\s+/)
        : cgroup.flatMap((l) => l.split(':')[1].split(',')).filter(Boolean);
      return { preferredMany: preferred.startsWith('prefer (many)'), cgroup: v2 ? 'v2' : 'v1', cpusetController: controllers.includes('cpuset') };
    });
    if (rt.error) undecided('the runtime facts', `a paused guest did not start: ${rt.error}`);
    return { numad, runtime: rt.value };
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(sig, onSignal);
  }
}
