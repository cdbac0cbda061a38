// What every vhost-user device shares: its backend runs in another process and reaches guest
// RAM directly, so libvirt insists the guest's memory be shared
// (qemuValidateDomainDefVhostUserRequireSharedMemory); and QEMU talks to that process over a
// UNIX socket chardev (qemuChardevGetBackendProps for a unix socket, key=value on the command line).
import { fail } from './errors.js';
import type { Domain } from './domain.js';
import type { UnixSocket } from './domain-devices.js';
import type { Profile } from './profile.js';

/** Every NUMA cell shared (by memAccess or <memoryBacking><access>), or without cells, the guest's
 *  access shared — and under 9.0.0 a machine with a RAM id as well (the memory backend object
 *  that can be shared at all). `name` is the device kind libvirt names in the error. */
export function requireSharedMemory(d: Domain, profile: Profile, name: string): void {
  const cells = d.cpu?.cells ?? [];
  const shared = d.memoryBacking?.access === 'shared';
  const refuse = (): never => fail('CONFIG_UNSUPPORTED', `'${name}' requires shared memory`);
  if (!cells.length) {
    const ramId = profile.behaviour.sharedMemoryWithoutRamId || profile.flags.machineMemoryBackend;
    if (!(ramId && shared)) refuse();
  }
  for (const c of cells) {
    if (c.memAccess === 'private') refuse();
    if (c.memAccess === undefined && !shared) refuse();
  }
}

/** -chardev socket for a vhost-user backend: path= (commas doubled), server=on when QEMU listens,
 *  and the reconnect timeout (reconnect-ms= in milliseconds where QEMU has it, else reconnect=). */
export function socketChardev(alias: string, sock: UnixSocket, profile: Profile): string {
  let arg = `socket,id=${alias},path=${sock.path.replace(/,/g, ',,')}`;
  if (sock.listen) arg += ',server=on';
  const r = sock.reconnect;
  if (r) {
    const seconds = r.enabled ? r.timeout ?? 0 : 0;
    arg += profile.flags.chardevReconnectMs ? `,reconnect-ms=${seconds * 1000}` : `,reconnect=${seconds}`;
  }
  return arg;
}
