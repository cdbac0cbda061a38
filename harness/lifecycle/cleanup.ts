// One registry for everything the harness starts or creates (domains, guests, virsh sessions,
// daemons, VMs, temporary directories) and one set of hooks that release it: close() in the
// normal course, the signal handlers on Ctrl-C / SIGTERM / SIGHUP, a synchronous pass on
// process exit, and - for SIGKILL, which no hook sees - a detached reaper (reaper.ts) that
// carries out the recorded reap orders once this process is gone.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomic } from '../neutral/atomic-file.js';

/** What the reaper does for a resource once its owner is gone. Plain data: it crosses into
 *  another process through a state file. */
export type ReapOrder =
  /** A libvirt domain we defined or started: looked up by uuid, acted on only while its name
   *  still carries our prefix. `confirmed` false: the define/create may still be in flight. */
  | { kind: 'virsh'; uri: string; uuid: string; prefix: string; action: 'destroy' | 'undefine'; confirmed: boolean }
  /** A process we started (a daemon, a VM): killed only if its start time still matches.
   *  `group`: it leads a process group of its own (a browser and its helpers): every member
   *  started no earlier than the leader goes too, also once the leader is gone. */
  | { kind: 'kill'; pid: number; startTime: string; group?: boolean }
  | { kind: 'rm'; path: string };

export interface Resource {
  label: string;
  /** Lower first: processes that could still create things go before what they create. */
  order: number;
  release(): Promise<void>;
  /** Best effort at exit, where only synchronous work runs. Returns false if it could not
   *  release (the reaper keeps the order then). */
  releaseSync(): boolean;
  reap?: ReapOrder;
}

export interface Held {
  /** Change the reap order (e.g. a define has returned: confirmed). */
  update(reap: ReapOrder): void;
  /** Released by its owner: forget it. */
  drop(): void;
}

const held = new Set<Resource>();
let hooksInstalled = false;
let draining = false;
let stateDir: string | null = null;
let stateFile: string | null = null;

function persist(): void {
  const orders = [...held].flatMap((r) => (r.reap ? [r.reap] : []));
  if (!orders.length && !stateFile) return;
  if (!stateFile) startReaper();
  writeAtomic(stateFile!, JSON.stringify(orders));
}

function startReaper(): void {
  stateDir = mkdtempSync(join(tmpdir(), 'lvh-reap-'));
  stateFile = join(stateDir, 'orders.json');
  writeAtomic(stateFile, '[]');
  // Compiled beside this file, or - when this file runs from its TypeScript source under the
  // test loader (npm test's suite files) - the build's copy, which npm test makes first.
  const here = dirname(fileURLToPath(import.meta.url));
  const script = [join(here, 'reaper.js'), join(here, '..', '..', 'dist', 'lifecycle', 'reaper.js')].find((f) => existsSync(f));
  if (!script) {
    process.stderr.write('cleanup: no compiled reaper (npm run build): what a SIGKILL leaves behind is not reaped\n');
    return;
  }
  // Detached, own session: it survives our SIGKILL and the terminal's Ctrl-C.
  const child = spawn(process.execPath, [script, String(process.pid), stateFile, stateDir], {
    detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
  child.unref();
}

/** Hold a resource until its owner drops it or the process ends. */
export function hold(r: Resource): Held {
  installHooks();
  held.add(r);
  if (r.reap) persist();
  return {
    update(reap) { r.reap = reap; persist(); },
    drop() { if (held.delete(r) && r.reap) persist(); },
  };
}

/** A signal arrived: owners should start nothing new. */
export function isDraining(): boolean {
  return draining;
}

const ordered = (): Resource[] => [...held].sort((a, b) => a.order - b.order);

/** Release everything still held, in order; the errors of all of them, joined. */
export async function releaseAll(): Promise<void> {
  const errors: string[] = [];
  for (const r of ordered()) {
    try { await r.release(); held.delete(r); } catch (e) { errors.push(`${r.label}: ${(e as Error).message}`); }
  }
  persist();
  if (errors.length) throw new Error(`cleanup: ${errors.join('; ')}`);
}

function onExit(): void {
  for (const r of ordered()) if (r.releaseSync()) held.delete(r);
  persist(); // what is left stays for the reaper, which keeps trying once we are gone
  if (![...held].some((r) => r.reap) && stateDir) rmSync(stateDir, { recursive: true, force: true });
}

function onSignal(sig: NodeJS.Signals): void {
  draining = true;
  void releaseAll().catch((e: Error) => process.stderr.write(`${e.message}\n`)).finally(() => {
    // Re-raise for the default action unless someone else handles the signal.
    if (process.listenerCount(sig) <= 1) {
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    }
  });
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
}

/** A process's start time (field 22 of /proc/PID/stat): with the pid, it names one process
 *  for good, so a recycled pid is never killed. '' when the process is gone. */
/** The fields of /proc/PID/stat after the command name (index 0 is the state, 2 the process
 *  group, 19 the start time), or null once the process is gone. */
export function procStatFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

export function processStartTime(pid: number): string {
  return procStatFields(pid)?.[19] ?? '';
}

/** A temporary directory held until removed: by its owner, at exit, or by the reaper. */
export function heldTempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const rm = (): void => rmSync(path, { recursive: true, force: true });
  const h = hold({
    label: path, order: 2, reap: { kind: 'rm', path },
    release: async () => rm(),
    releaseSync: () => { rm(); return true; },
  });
  return { path, remove() { rm(); h.drop(); } };
}
