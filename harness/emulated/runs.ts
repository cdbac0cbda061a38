// Bookkeeping of running emulated hosts, so none outlives its owner: each VM has a run directory
// .cache/emulated/run/<id>/ with owner.json {owner pid, QEMU pid}. Three layers of cleanup:
// the owner kills its VMs on exit/SIGINT/SIGTERM; a detached watcher per VM kills it when the
// owner is gone (SIGKILL, which no handler sees); reapOrphans() kills what both missed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunRecord { owner: number; qemu: number; dir: string; started: string }

export function runsDir(cacheDir: string): string {
  return join(cacheDir, 'run');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when pid is a QEMU started for this run directory (guards against pid reuse). */
function isOurQemu(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir);
  } catch {
    return false;
  }
}

const live = new Map<number, RunRecord>();
let hooked = false;

function killAllSync(): void {
  for (const r of live.values()) if (isOurQemu(r.qemu, r.dir)) process.kill(r.qemu, 'SIGKILL');
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAllSync();
      // Leave the exit status a signal death would give, without re-raising into our handler.
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

export function register(rec: RunRecord): void {
  writeFileSync(join(rec.dir, 'owner.json'), JSON.stringify(rec) + '\n');
  live.set(rec.qemu, rec);
  hookExit();
  // The watcher outlives a SIGKILLed owner: it polls the owner and kills this QEMU (only if its
  // command line still names this run directory) once the owner is gone.
  const w = spawn('/bin/sh', ['-c',
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'if grep -q "$3" "/proc/$2/cmdline" 2>/dev/null; then kill -9 "$2"; fi; rm -rf "$3"',
    'lvh-emulated-watch', String(rec.owner), String(rec.qemu), rec.dir], { detached: true, stdio: 'ignore' });
  w.unref();
}

export function unregister(rec: RunRecord): void {
  live.delete(rec.qemu);
  rmSync(rec.dir, { recursive: true, force: true });
}

/** Kill emulated hosts whose owner process is gone; returns how many were killed. */
export function reapOrphans(cacheDir: string): number {
  const base = runsDir(cacheDir);
  if (!existsSync(base)) return 0;
  let n = 0;
  for (const id of readdirSync(base)) {
    const dir = join(base, id);
    let rec: RunRecord;
    try {
      rec = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as RunRecord;
    } catch {
      continue; // being created, or not ours
    }
    if (alive(rec.owner)) continue;
    if (isOurQemu(rec.qemu, dir)) {
      process.kill(rec.qemu, 'SIGKILL');
      n++;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return n;
}

export function newRunDir(cacheDir: string, id: string): string {
  const dir = join(runsDir(cacheDir), id);
  mkdirSync(dir, { recursive: true });
  return dir;
}
