// What QEMU and the kernel do with the objects of a command line while the guest starts, before
// anything can be read back: the two refusals a NUMA host shows, and what the kernel keeps of a
// backend's policy. Pure, no I/O.
//
// Sources (QEMU 7.2, Linux 6.x):
// - thread-context (util/thread-context.c): `node-affinity` becomes the CPUs of those host nodes
//   (numa_node_to_cpus); none at all is refused with "The nodes select no CPUs" before the
//   backend that would use it exists. libvirt gives one to every preallocated backend with a
//   nodeset (memory-backend.ts decides which).
// - mbind (hostmem.c host_memory_backend_memory_complete, mm/mempolicy.c mpol_set_nodemask): the
//   requested nodes are cut to the task's cpuset (mems_allowed, which libvirt set on the emulator
//   cgroup before QEMU runs). An empty result is EINVAL, which QEMU reports as "cannot bind memory
//   to host NUMA nodes: Invalid argument"; otherwise numa_maps shows the cut mask (the policy
//   carries no MPOL_F_STATIC_NODES/RELATIVE_NODES flag, so the mask shown is the stored one).
// libvirt reports QEMU's last line as "process exited while connecting to monitor" (both 9.0.0
// and 11.3.0: qemuProcessReportLogError); the runtime backend strips QEMU's timestamp.
import type { Profile } from './profile.js';
import { NotModelledError } from './errors.js';

const EXITED = 'internal error: process exited while connecting to monitor: qemu-system-x86_64: ';

/** The message of a start QEMU refuses, or null when every object is created. */
export function startRefusal(argv: string[], profile: Profile, memsAllowed: readonly number[]): string | null {
  const allowed = new Set(memsAllowed);
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] !== '-object' || !argv[i + 1].startsWith('{')) continue;
    const o = JSON.parse(argv[i + 1]) as Record<string, unknown>;
    if (o['qom-type'] === 'thread-context' && Array.isArray(o['node-affinity'])) {
      if (!profile.hostNodeCpus) throw new NotModelledError(`a thread-context's node affinity under profile ${profile.name} (the host's CPUs per NUMA node are not known)`);
      const cpus = (o['node-affinity'] as number[]).flatMap((n) => profile.hostNodeCpus![String(n)] ?? []);
      if (!cpus.length) return `${EXITED}The nodes select no CPUs`;
    }
    if (typeof o['qom-type'] === 'string' && o['qom-type'].startsWith('memory-backend-') && Array.isArray(o['host-nodes'])) {
      if (!(o['host-nodes'] as number[]).some((n) => allowed.has(n))) return `${EXITED}cannot bind memory to host NUMA nodes: Invalid argument`;
    }
  }
  return null;
}

/** The nodes of a backend's policy as the kernel keeps them: the requested ones within the task's
 *  cpuset, in order. */
export function keptNodes(requested: readonly number[], memsAllowed: readonly number[]): number[] {
  const allowed = new Set(memsAllowed);
  return requested.filter((n) => allowed.has(n));
}
