// One long-lived interactive `virsh -q` (the libvirt backend's session): each command is framed
// by an `echo TOKEN` after it (stdout and stderr share one pipe; vshError flushes stdout first,
// so the order is exact). The process is held in the cleanup registry while it runs.
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { hold } from '../lifecycle/cleanup.js';

/** An infrastructure failure (timeout, virsh dying, unparsable output), never an outcome. */
export class LibvirtBackendError extends Error {
  override name = 'LibvirtBackendError';
}

export class VirshSession {
  private buf = '';
  private seq = 0;
  private readonly token = `@@lvh-${randomBytes(6).toString('hex')}-`;
  private prompt = '';
  private waiter: { marker: string; resolve: (s: string) => void; reject: (e: Error) => void } | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private dead: Error | null = null;
  private draining = false; // set by drain(): only cleanup commands are still sent

  private constructor(private readonly proc: ResultPromise, private readonly timeoutMs: number) {}

  static async start(uri: string, timeoutMs: number, homeDir: string): Promise<VirshSession> {
    // sh only to put stderr on stdout's pipe; exec leaves virsh as our direct child.
    const proc = execa('sh', ['-c', 'exec virsh "$@" 2>&1', 'sh', '-q', '-c', uri], {
      stdin: 'pipe', stdout: 'pipe', stderr: 'ignore', buffer: false, reject: false,
      env: {
        TERM: 'dumb', INPUTRC: '/dev/null', LC_ALL: 'C',
        // Keep virsh's history file and client config out of the user's home.
        XDG_CACHE_HOME: homeDir, XDG_CONFIG_HOME: homeDir,
      },
    });
    const s = new VirshSession(proc, timeoutMs);
    // Released first on exit: no define may start late.
    const held = hold({
      label: `virsh session on ${uri}`, order: 0,
      release: async () => { proc.kill('SIGKILL'); },
      releaseSync: () => { proc.kill('SIGKILL'); return true; },
    });
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => s.onData(d));
    proc.stdin!.on('error', () => { /* reported through the exit below */ });
    void proc.then((r) => {
      held.drop();
      const last = s.buf.trim().split('\n').pop();
      s.fail(new LibvirtBackendError(`virsh exited (${r.signal ?? `code ${r.exitCode}`})${last ? `: ${last}` : ''}`));
    });
    await s.send('', Math.max(timeoutMs, 10_000)); // learns the prompt; connecting may be slow
    return s;
  }

  get alive(): boolean { return this.dead === null; }

  private onData(d: string): void {
    this.buf += d;
    const w = this.waiter;
    if (!w) return;
    const at = this.buf.indexOf(w.marker);
    if (at < 0) return;
    const chunk = this.buf.slice(0, at);
    this.buf = this.buf.slice(at + w.marker.length);
    this.waiter = null;
    w.resolve(chunk);
  }

  private fail(err: Error): void {
    if (!this.dead) this.dead = err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }

  /** Run fn with the session to itself (define..undefine must not interleave with others). */
  exclusive<T>(fn: (run: (command: string) => Promise<string>) => Promise<T>, cleanup = false): Promise<T> {
    const p = this.chain.then(() => {
      if (this.draining && !cleanup) return Promise.reject(new LibvirtBackendError('libvirt backend is closing'));
      return fn((command) => this.send(command));
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Run one virsh command line; resolves with its combined stdout+stderr. */
  run(command: string, cleanup = false): Promise<string> {
    return this.exclusive((run) => run(command), cleanup);
  }

  /** Refuse further work; what is in flight finishes (a define must not be cut off). */
  async drain(): Promise<void> {
    this.draining = true;
    await this.chain;
  }

  private send(command: string, timeoutMs = this.timeoutMs): Promise<string> {
    if (this.dead) return Promise.reject(this.dead);
    const tok = `${this.token}${this.seq++}`;
    const marker = `echo ${tok}\n${tok}`;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new LibvirtBackendError(
          `virsh did not answer within ${timeoutMs / 1000} s${command ? ` running '${command}'` : ' at start'}; killed it`));
        this.proc.kill('SIGKILL');
      }, timeoutMs);
      this.waiter = {
        marker,
        resolve: (chunk) => {
          clearTimeout(timer);
          try {
            resolve(this.unframe(command, chunk));
          } catch (e) {
            reject(e as Error);
          }
        },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.proc.stdin!.write(command ? `${command}\necho ${tok}\n` : `echo ${tok}\n`);
    });
  }

  // chunk = PROMPT <command as readline echoed it> \n OUTPUT PROMPT   (for the first call:
  // PROMPT only). Readline echoes each input line on one line when TERM=dumb.
  private unframe(command: string, chunk: string): string {
    if (!command) {
      this.prompt = chunk.slice(chunk.lastIndexOf('\n') + 1);
      if (!this.prompt) throw new LibvirtBackendError(`no virsh prompt: ${JSON.stringify(chunk.slice(0, 200))}`);
      return '';
    }
    if (!chunk.startsWith(this.prompt) || !chunk.endsWith(this.prompt)) {
      throw new LibvirtBackendError(`unexpected virsh framing around '${command}': ${JSON.stringify(chunk.slice(0, 200))}`);
    }
    const nl = chunk.indexOf('\n');
    if (nl < 0 || nl >= chunk.length - this.prompt.length) return '';
    return chunk.slice(nl + 1, chunk.length - this.prompt.length);
  }

  async close(): Promise<void> {
    await this.drain();
    if (this.dead) return;
    this.fail(new LibvirtBackendError('virsh session closed'));
    try {
      this.proc.stdin!.end('quit\n');
    } catch { /* already gone */ }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 2000);
    await this.proc;
    clearTimeout(t);
  }
}

