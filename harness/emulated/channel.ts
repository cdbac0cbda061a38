// The command channel to the emulated host: the guest's second serial port on a unix socket,
// served by its PID 1 script (guest/init.sh). Commands run side by side in the guest (each answer
// comes back whole, in the order they end); the protocol is line based and base64 both ways so a
// serial line in raw mode never carries control characters:
//   host -> guest  "ID BASE64(script)\n"
//   guest -> host  "@@BEGIN ID\n" BASE64(GZIP(stdout)) "\n" BASE64(GZIP(stderr)) "\n@@END ID RC\n"
// (gzip: the line carries about 37 KB/s under TCG; a batch's outputs shrink 14-16 times).
import { connect, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface CommandResult { code: number; stdout: string; stderr: string }

/** One answer field: empty (the power-off answer has none), else gzip in base64. */
function unpack(field: string): string {
  return field ? gunzipSync(Buffer.from(field, 'base64')).toString('utf8') : '';
}

export class ChannelError extends Error {
  override name = 'ChannelError';
}

export class Channel {
  private buf = '';
  private waiters: (() => void)[] = [];
  private closed: Error | undefined;
  private next = 1;

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

  /** Wait until `pattern` appears in the unread input; consume the match only (another command's
   *  answer may come before it and be waited for too). */
  async expect(pattern: RegExp, deadline: number): Promise<RegExpExecArray> {
    for (;;) {
      const m = pattern.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(0, m.index) + this.buf.slice(m.index + m[0].length);
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

  /** Run a shell script in the guest (as root, cwd /); calls may overlap (the guest runs them
   *  side by side), so two scripts must not share files (inside.ts gives each CLI call its own
   *  directory). */
  async run(script: string, timeoutMs = 120_000): Promise<CommandResult> {
    if (this.closed) throw this.closed;
    const id = `c${this.next++}`;
    this.sock.write(`${id} ${Buffer.from(script).toString('base64')}\n`);
    const deadline = Date.now() + timeoutMs;
    const answer = new RegExp(`@@BEGIN ${id}\\r?\\n([A-Za-z0-9+/=]*)\\r?\\n([A-Za-z0-9+/=]*)\\r?\\n@@END ${id} (\\d+)\\r?\\n`);
    try {
      const m = await this.expect(answer, deadline);
      return { stdout: unpack(m[1]!), stderr: unpack(m[2]!), code: Number(m[3]) };
    } catch (e) {
      if ((e as Error).message === 'timed out') {
        // Its answer may still come: taken off the line then, so it never sits in front of others.
        void this.expect(answer, Date.now() + 86_400_000).catch(() => undefined); // ends with the channel
        throw new ChannelError(`command timed out after ${timeoutMs / 1000} s in the emulated host: ${script.split('\n')[0]!.slice(0, 120)}`);
      }
      throw e;
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
