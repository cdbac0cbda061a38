// A disposable libvirtd of the installed libvirt (scripts/private-daemon.sh), owned by this
// process: started on demand, replaced when it crashes, stopped on exit. Never qemu:///system.
//
// The daemon is spawned as `setpriv --pdeathsig TERM -- private-daemon.sh exec DIR`: every step
// exec()s, so the child pid IS libvirtd, and the kernel sends it SIGTERM when this process dies,
// however it dies (SIGKILL included). A normal exit stops it too ('exit' hook, synchronous).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { hold, processStartTime, type Held } from '../lifecycle/cleanup.js';
import { settledWithin } from '../lifecycle/wait.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSync, closeSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'private-daemon.sh');
export const LIBVIRTD = '/usr/sbin/libvirtd';

/** What a dead daemon left behind. */
export interface DeathReport {
  /** 'SIGSEGV', 'SIGABRT', 'SIGTRAP', … or `exit N`. */
  how: string;
  logTail: string[];
  /** Error lines the daemon logged after it was up (its requests), first ones. */
  requestErrors: string[];
  /** The daemon's own stdout/stderr (GLib prints its fatal errors there). */
  stderrTail: string[];
  core?: string;
  /** gdb's `bt` of the crashing thread, when a core file was written. */
  backtrace?: string[];
  /** Why there is no backtrace, when there is none. */
  noBacktrace?: string;
}


let serial = 0;

const tail = (file: string, n: number): string[] => {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n);
  } catch {
    return [];
  }
};

export class PrivateDaemon {
  readonly uri: string;
  private proc: ChildProcess | null = null;
  private exited: Promise<void>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  /** Held in the project's cleanup registry while it runs (signals, exit, the reaper). */
  private held: Held | null = null;
  /** Size of its log once it answered: what follows is about requests, not start-up. */
  private logStart = 0;

  private constructor(readonly dir: string) {
    this.uri = `qemu+unix:///system?socket=${join(dir, 'sock', 'libvirt-sock')}`;
    this.exited = Promise.resolve();
  }

  /** Start a fresh daemon under `base` (one directory per daemon); resolves once it answers. */
  static async start(opts: { base?: string; waitMs?: number } = {}): Promise<PrivateDaemon> {
    const base = opts.base ?? join(ROOT, '.cache', 'fuzz', 'daemons');
    const waitMs = opts.waitMs ?? 60_000;
    if (process.getuid?.() !== 0) throw new Error('a private libvirtd needs root');
    if (!existsSync(LIBVIRTD)) throw new Error(`${LIBVIRTD} not found (install libvirt-daemon-system)`);
    sweep(base);
    const dir = join(base, `${process.pid}-${++serial}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const d = new PrivateDaemon(dir);
    const out = openSync(join(dir, 'stdout'), 'a');
    const proc = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'bash', SCRIPT, 'exec', dir], { stdio: ['ignore', out, out], cwd: dir, env: { ...process.env, LVH_OWNER_PID: String(process.pid) } });
    closeSync(out);
    d.proc = proc;
    d.held = hold({
      label: `private libvirtd in ${dir}`, order: 3,
      release: () => d.stop(),
      releaseSync: () => { d.killNow(); return true; },
      ...(proc.pid ? { reap: { kind: 'kill' as const, pid: proc.pid, startTime: processStartTime(proc.pid) } } : {}),
    });
    d.exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
      d.exitInfo = { code, signal };
      d.held?.drop();
      resolve();
    }));
    const t0 = Date.now();
    for (;;) {
      if (d.exitInfo) throw new Error(`private libvirtd exited at start (${d.describeExit()}): ${tail(join(dir, 'stdout'), 3).join(' | ')}`);
      const r = spawnSync('virsh', ['-q', '-c', d.uri, 'version'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
      if (r.status === 0) {
        try { d.logStart = statSync(join(dir, 'libvirtd.log')).size; } catch { /* no log yet */ }
        return d;
      }
      if (Date.now() - t0 > waitMs) {
        await d.stop();
        throw new Error(`private libvirtd did not answer within ${waitMs / 1000} s: ${(r.stderr ?? '').trim()}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  get pid(): number | undefined { return this.proc?.pid; }

  /** Alive as far as the kernel knows (the 'exit' event may lag a crash by a tick: see died()). */
  alive(): boolean { return this.exitInfo === null; }

  /** Resolves true if the daemon is gone within `ms`. */
  async died(ms = 300): Promise<boolean> {
    if (!this.alive()) return true;
    await settledWithin(this.exited, ms);
    return !this.alive();
  }

  private describeExit(): string {
    const e = this.exitInfo;
    if (!e) return 'running';
    return e.signal ?? `exit ${e.code}`;
  }

  /** Synchronous SIGTERM (for the 'exit' hook). */
  killNow(): void {
    if (this.proc?.pid && this.alive()) {
      try { process.kill(this.proc.pid, 'SIGTERM'); } catch { /* gone */ }
    }
  }

  /** Stop it (SIGTERM, then SIGKILL after 5 s); removes its directory unless `keep`. */
  async stop(keep = false): Promise<void> {
    if (this.alive() && this.proc?.pid) {
      this.killNow();
      const t = setTimeout(() => { try { process.kill(this.proc!.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await this.exited;
      clearTimeout(t);
    }
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }

  private requestErrors(): string[] {
    try {
      const text = readFileSync(join(this.dir, 'libvirtd.log')).subarray(this.logStart).toString('utf8');
      // 'unsupported flags' comes from every undefine (its checkpoint listing): not the input's.
      return text.split('\n').filter((l) => / error : /.test(l) && !/unsupported flags/.test(l)).slice(0, 5);
    } catch {
      return [];
    }
  }

  /** After it died: how, its last log lines, and a backtrace from its core file if there is one. */
  async autopsy(withBacktrace = true): Promise<DeathReport> {
    await this.died(2000);
    const r: DeathReport = {
      how: this.describeExit(),
      logTail: tail(join(this.dir, 'libvirtd.log'), 8),
      requestErrors: this.requestErrors(),
      stderrTail: tail(join(this.dir, 'stdout'), 5),
    };
    let files: string[];
    try {
      files = readdirSync(this.dir);
    } catch {
      // Its directory went with a stop (stop() removes it): nothing left to look at.
      r.noBacktrace = `no core file: ${this.dir} was removed when the daemon was stopped`;
      return r;
    }
    const core = files.find((f) => /^core(\.\d+)?$/.test(f));
    if (!core) {
      const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
      r.noBacktrace = /^[|/]/.test(pattern)
        ? `no core file: the kernel's core_pattern is '${pattern}' (not a relative file name), left as it is`
        : `no core file in ${this.dir} (core_pattern '${pattern}')`;
      return r;
    }
    r.core = join(this.dir, core);
    if (!withBacktrace) return r;
    r.backtrace = backtrace(r.core);
    if (!r.backtrace.length) r.noBacktrace = 'gdb gave no backtrace (is gdb installed?)';
    return r;
  }
}

/** gdb's backtrace of the crashing thread, frames only. */
export function backtrace(core: string): string[] {
  const g = spawnSync('gdb', ['-batch', '-nx', '-ex', 'bt 40', LIBVIRTD, core], { encoding: 'utf8', timeout: 60_000 });
  if (g.error) return [];
  // gdb prints the current frame once before the backtrace: keep each frame number once.
  const seen = new Set<string>();
  return (g.stdout ?? '').split('\n').filter((l) => /^#\d+\s/.test(l)).map((l) => l.replace(/\s+/g, ' '))
    .filter((l) => { const n = l.split(' ')[0]; if (seen.has(n)) return false; seen.add(n); return true; });
}

/** Frames that say nothing about which libvirt code failed: allocators, GLib's logging, libc. */
const PLUMBING = /^(g_\w+|virReallocN|virExpandN|virAlloc\w*|virResizeN|virFree|abort|raise|malloc_printerr|malloc|calloc|realloc|free|cfree|__\w+|_\w+|\?\?|start_thread|clone3?)$/;

/**
 * The crash's signature. When the daemon logged an error for the request before it died, the
 * function that reported it: libvirt 9.0.0 corrupts its heap on some error paths and then dies
 * in varying places (free, malloc, libxml2), so where it died says little and that error path
 * says which bug it is. Otherwise how it died and the first named libvirt frame of its backtrace.
 */
export function crashSignature(d: Pick<DeathReport, 'how' | 'backtrace' | 'stderrTail'> & { requestErrors?: string[] }): string {
  // The first: on a fresh daemon, the crashing input's own (later lines may be cleanup's).
  const first = d.requestErrors?.[0];
  const fn = first && / error : (\w+):\d+ : /.exec(first)?.[1];
  if (fn) return `dies after an error in ${fn}`;
  for (const l of d.backtrace ?? []) {
    const fn = / in (\S+) \(/.exec(l)?.[1];
    if (fn && !PLUMBING.test(fn)) return `${d.how} in ${fn}`;
  }
  const glib = d.stderrTail.map((l) => /GLib-ERROR \*\*: [\d:.]+: (?:\S+: )?(.*)$/.exec(l)?.[1]).find(Boolean);
  if (glib) return `${d.how}: ${glib.replace(/\d+/g, 'N')}`;
  return d.how;
}

/** Remove directories of daemons whose owner process is gone (a SIGKILLed run; nobody reads their cores). */
function sweep(base: string): void {
  if (!existsSync(base)) return;
  for (const name of readdirSync(base)) {
    const m = /^(\d+)-\d+$/.exec(name);
    if (!m || Number(m[1]) === process.pid || existsSync(`/proc/${m[1]}`)) continue;
    rmSync(join(base, name), { recursive: true, force: true });
  }
}
