// The runtime backend's guests: virsh with a timeout (each child held in the cleanup registry),
// and the registry of started guests, held from before `virsh create` until destroyed.
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { hold, type Held, type ReapOrder } from '../lifecycle/cleanup.js';

export const RUNTIME_PREFIX = 'lvh-rt-';
const VIRSH_TIMEOUT_MS = 30_000;

export class RuntimeBackendError extends Error {
  override name = 'RuntimeBackendError';
}

// ---------------------------------------------------------------------------------------------
// virsh with a timeout; each child held in the cleanup registry so an exit kills it first.

export interface VirshResult { code: number | undefined; stdout: string; stderr: string; timedOut: boolean }

export async function virsh(uri: string, args: string[], timeoutMs = VIRSH_TIMEOUT_MS): Promise<VirshResult> {
  const p = execa('virsh', ['-q', '-c', uri, ...args], {
    reject: false, timeout: timeoutMs, env: { LC_ALL: 'C' }, stdin: 'ignore', killSignal: 'SIGKILL',
  });
  const held = hold({
    label: `virsh ${args[0]}`, order: 0,
    release: async () => { p.kill('SIGKILL'); },
    releaseSync: () => { p.kill('SIGKILL'); return true; },
  });
  try {
    const r = await p;
    if ((r as { code?: string }).code === 'ENOENT') throw new RuntimeBackendError('virsh not found (install libvirt-clients)');
    return { code: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), timedOut: !!r.timedOut };
  } finally {
    held.drop();
  }
}

/** libvirt's message: the last `error: ` line (earlier ones are virsh's context). */
export function lastVirshError(text: string): string | null {
  const lines = text.split('\n').filter((l) => l.startsWith('error: '));
  return lines.length ? lines[lines.length - 1].slice('error: '.length) : null;
}

export async function virshOk(uri: string, args: string[], timeoutMs = VIRSH_TIMEOUT_MS): Promise<string> {
  const r = await virsh(uri, args, timeoutMs);
  if (r.timedOut) throw new RuntimeBackendError(`virsh ${args[0]} timed out after ${timeoutMs / 1000} s`);
  if (r.code !== 0) throw new RuntimeBackendError(`virsh ${args.join(' ')}: ${lastVirshError(r.stderr) ?? r.stderr.trim()}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// Registry of started guests; cleanup on every exit path we can hook, plus the reaper.

/** confirmed: `virsh create` has returned (until then the daemon may still be creating it). */
export interface Started { uuid: string; name: string; uri: string; confirmed: boolean; held?: Held }
const registry = new Map<string, Started>();
export const inFlight = new Set<Promise<unknown>>(); // virsh create calls not yet returned
export const NOT_FOUND = /failed to get domain|Domain not found|no domain with matching/i;
/** virsh could not talk to libvirtd (down, restarted, crashed mid-call). */
export const LIBVIRT_GONE = /failed to connect to the hypervisor|Failed to connect socket|End of file while reading data|Cannot recv data|Connection reset by peer/;

export const reapOrder = (d: Started): ReapOrder => ({ kind: 'virsh', uri: d.uri, uuid: d.uuid, prefix: RUNTIME_PREFIX, action: 'destroy', confirmed: d.confirmed });

/** Held from before `virsh create` (after a timeout or a signal we cannot know whether it
 *  happened) until destroyed: close(), signals, exit and the reaper go through the registry. */
export function remember(d: Started): void {
  registry.set(d.uuid, d);
  d.held = hold({
    label: `guest ${d.name}`, order: 1, reap: reapOrder(d),
    release: async () => { await Promise.allSettled([...inFlight]); await destroyIfOurs(d); },
    releaseSync: () => destroySync(d),
  });
}

export function forget(d: Started): void {
  d.held?.drop();
  registry.delete(d.uuid);
}

/** Destroy a guest we registered, if it still exists and still carries our prefix. */
export async function destroyIfOurs(d: Started): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const look = await virsh(d.uri, ['domname', d.uuid]);
    if (look.timedOut) throw new RuntimeBackendError(`virsh domname ${d.uuid} timed out`);
    if (look.code !== 0) {
      const err = lastVirshError(look.stderr) ?? look.stderr.trim();
      if (!NOT_FOUND.test(err)) throw new RuntimeBackendError(`cannot look up guest ${d.uuid}: ${err}`);
      // A create cut off on our side may still be finishing in the daemon: look again.
      if (!d.confirmed && attempt < 4) { await new Promise((r) => setTimeout(r, 300)); continue; }
      break;
    }
    const name = look.stdout.split('\n')[0];
    if (!name.startsWith(RUNTIME_PREFIX)) {
      forget(d);
      throw new RuntimeBackendError(`domain ${d.uuid} is named '${name}', not ours: left alone`);
    }
    const r = await virsh(d.uri, ['destroy', d.uuid]);
    const err = r.code === 0 ? null : lastVirshError(r.stderr) ?? r.stderr.trim();
    if (r.timedOut || (err !== null && !NOT_FOUND.test(err))) throw new RuntimeBackendError(`cannot destroy ${name}: ${r.timedOut ? 'timed out' : err}`);
    // Transient: gone once `virsh destroy` succeeded (it returns after QEMU is gone), so no
    // second look (a virsh costs about 0.4 s inside the emulated host). Gone by another hand
    // meanwhile ("not found"): look again, as a surprise worth a second look.
    if (r.code === 0) break;
    if (attempt >= 2) throw new RuntimeBackendError(`guest ${name} is still there after destroy`);
  }
  forget(d);
}

/** Destroy every guest this process started and still has. */
export async function destroyAllRuntime(): Promise<void> {
  await Promise.allSettled([...inFlight]);
  const errors: string[] = [];
  for (const d of [...registry.values()]) {
    try { await destroyIfOurs(d); } catch (e) { errors.push((e as Error).message); }
  }
  if (errors.length) throw new RuntimeBackendError(`cleanup: ${errors.join('; ')}`);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** At exit only synchronous work runs; what cannot be destroyed now (libvirtd down) stays in
 *  the registry's state file for the reaper. */
function destroySync(d: Started): boolean {
  for (let attempt = 0; attempt < (d.confirmed ? 1 : 8); attempt++) {
    if (attempt) sleepSync(300);
    const look = spawnSync('virsh', ['-q', '-c', d.uri, 'domname', d.uuid], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
    const name = (look.stdout ?? '').split('\n')[0];
    if (look.status === 0 && name.startsWith(RUNTIME_PREFIX)) {
      const k = spawnSync('virsh', ['-q', '-c', d.uri, 'destroy', d.uuid], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, LC_ALL: 'C' } });
      return k.status === 0 || NOT_FOUND.test(k.stderr ?? '');
    }
    if (look.status !== 0 && !NOT_FOUND.test(look.stderr ?? '')) return false;
    if (look.status === 0) return true; // renamed: not ours any more
  }
  return d.confirmed;
}

