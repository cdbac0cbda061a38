// The emulated host's QEMU command line in two halves: the machine (what the guest sees: CPU,
// memory and NUMA, kernel, devices), which a saved state must match exactly, and the run's own
// files (disk, console, command channel, QMP, the project share's path), new for every VM.
import { join } from 'node:path';
import { kernelParams, topologyFlags, type GuestRam, type Topology } from './topology.js';

/** `ram`: where the NUMA nodes' memory lives (topology.ts GuestRam); anonymous memory when absent. */
export function machineArgs(topology: Topology, kernelDir: string, ram?: GuestRam): string[] {
  return [
    '-name', 'lvh-emulated,debug-threads=off',
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-accel', 'tcg,thread=multi,tb-size=256', '-cpu', 'max',
    ...topologyFlags(topology, ram),
    '-kernel', join(kernelDir, 'vmlinuz'), '-initrd', join(kernelDir, 'initrd.img'),
    '-append', ['console=ttyS0 root=/dev/vda rw panic=-1 loglevel=4', ...kernelParams(topology)].join(' '),
  ];
}

/** `drive`: the -drive options naming the root disk's file and format (and snapshot=on). */
export function runArgs(dir: string, drive: string, project: string): string[] {
  return [
    '-drive', `if=none,id=d0,${drive},cache=unsafe`,
    '-device', 'virtio-blk-pci,drive=d0',
    '-chardev', `file,id=con,path=${join(dir, 'console.log')}`, '-serial', 'chardev:con',
    '-chardev', `socket,id=cmd,path=${join(dir, 'cmd.sock')},server=on,wait=off`, '-serial', 'chardev:cmd',
    '-virtfs', `local,path=${project},mount_tag=project,security_model=none,readonly=on`,
    '-qmp', `unix:${join(dir, 'qmp.sock')},server=on,wait=off`,
  ];
}

/**
 * The whole command line with the run's paths in place of placeholders: what a saved state's
 * key covers (snapshot.ts cuts paths to their base names). The memory backends are normalised
 * to `memory-backend,id=ID,size=SIZE`: the guest sees the same RAM whether it is anonymous (a
 * plain boot), a shared file (the boot that is saved) or a private mapping of that file (a
 * restore), so the backend's type and file must not part the key of a booted host from that of
 * the same machine restored (vm.ts machineKey, which also tells inside.ts when probed facts are
 * stale). Sizes, ids and everything else stay in.
 */
export function keyedArgs(machine: string[]): string[] {
  const normalised = machine.map((a) => {
    const m = /^memory-backend-[a-z]+,(.*)$/.exec(a);
    if (!m) return a;
    const opts = m[1]!.split(',').filter((o) => /^(id|size)=/.test(o));
    return ['memory-backend', ...opts].join(',');
  });
  return [...normalised, ...runArgs('/run', 'file=/disk,format=any', '/project')];
}
