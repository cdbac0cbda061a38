// The command channel to the emulated host: the guest's second serial port on a unix socket,
// served by its PID 1 script (guest/init.sh). One command at a time; the protocol is line based
// and base64 both ways so a serial line in raw mode never carries control characters:
//   host -> guest  "ID BASE64(script)\n"
//   guest -> host  "@@BEGIN ID\n" BASE64(stdout) "\n" BASE64(stderr) "\n@@END ID RC\n"
import { connect, type Socket } from 'node:net';

export interface CommandResult { code: number; stdout: string; stderr: string }

export class ChannelError extends Error {
  override name = 'ChannelError';
}

export class Channel {
  private buf = '';
  private waiters: (() => void)[] = [];
  private closed: Error | undefined;
  private next = 1;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    const fail = (e?: Error) => {
      this.closed ??= new ChannelError(`channel closed${e ? `: ${e.message}` : ''}`);
      this.wake();
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }

  static open(path: string): Promise<Channel> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new Channel(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait until `pattern` appears in the unread input; consume through the match. */
  async expect(pattern: RegExp, deadline: number): Promise<RegExpExecArray> {
    for (;;) {
      const m = pattern.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length);
        return m;
      }
      if (this.closed) throw this.closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new ChannelError('timed out');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Run a shell script in the guest (as root, cwd /), serialised with other calls. */
  run(script: string, timeoutMs = 120_000): Promise<CommandResult> {
    const p = this.queue.then(() => this.runNow(script, timeoutMs));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async runNow(script: string, timeoutMs: number): Promise<CommandResult> {
    if (this.closed) throw this.closed;
    const id = `c${this.next++}`;
    this.sock.write(`${id} ${Buffer.from(script).toString('base64')}\n`);
    const deadline = Date.now() + timeoutMs;
    try {
      const m = await this.expect(new RegExp(`@@BEGIN ${id}\\r?\\n([A-Za-z0-9+/=]*)\\r?\\n([A-Za-z0-9+/=]*)\\r?\\n@@END ${id} (\\d+)\\r?\\n`), deadline);
      return { stdout: Buffer.from(m[1]!, 'base64').toString('utf8'), stderr: Buffer.from(m[2]!, 'base64').toString('utf8'), code: Number(m[3]) };
    } catch (e) {
      if ((e as Error).message === 'timed out') throw new ChannelError(`command timed out after ${timeoutMs / 1000} s in the emulated host: ${script.split('\n')[0]!.slice(0, 120)}`);
      throw e;
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
