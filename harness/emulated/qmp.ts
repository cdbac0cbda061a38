// A minimal QMP client for the emulated host's own QEMU (its -qmp unix socket): the handshake,
// then one command at a time. Used to save the VM's state (migrate to a file) and resume it.
import { connect, type Socket } from 'node:net';

export class QmpError extends Error {
  override name = 'QmpError';
}

export class Qmp {
  private buf = '';
  private waiting: ((line: Record<string, unknown>) => void) | null = null;
  private closed: Error | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        let msg: Record<string, unknown>;
        try { msg = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
        if ('event' in msg) continue; // events are not replies
        const w = this.waiting;
        this.waiting = null;
        w?.(msg);
      }
    });
    const fail = (e?: Error) => {
      this.closed ??= new QmpError(`QMP connection closed${e ? `: ${e.message}` : ''}`);
      const w = this.waiting;
      this.waiting = null;
      w?.({ error: { desc: this.closed.message } });
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }

  /** Connect and negotiate (the greeting, then qmp_capabilities). */
  static async open(path: string, timeoutMs = 10_000): Promise<Qmp> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const q = new Qmp(sock);
    await q.reply(timeoutMs); // the greeting
    await q.execute('qmp_capabilities', undefined, timeoutMs);
    return q;
  }

  private reply(timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.waiting = null; reject(new QmpError(`QMP: no reply within ${timeoutMs / 1000} s`)); }, timeoutMs);
      this.waiting = (m) => { clearTimeout(t); resolve(m); };
    });
  }

  /** Run one command; its `return` value, or QmpError with QEMU's description. */
  execute(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
    const run = async (): Promise<unknown> => {
      const got = this.reply(timeoutMs);
      this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
      const m = await got;
      if (m.error) throw new QmpError(`${command}: ${(m.error as { desc?: string }).desc ?? JSON.stringify(m.error)}`);
      return m.return;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.sock.destroy();
  }
}
