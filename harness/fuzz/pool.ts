// The real libvirt for the fuzzer: virsh sessions on ONE private daemon (daemon.ts), which is
// replaced whenever it dies. A daemon death is a finding, not an error:
// - every input in flight when it died is a suspect; each is re-run ALONE on the new daemon
//   (an exclusive lock holds the other sessions back), and one that kills that daemon too is
//   the culprit (its result is a crash);
// - a death no suspect reproduces alone stays an event without a culprit, with the daemon's
//   recent inputs kept (heap corruption can kill a daemon a few inputs later).
import { LibvirtBackend, LibvirtBackendError } from '../backends/libvirt.js';
import type { Operation, Outcome } from '../backends/types.js';
import { crashSignature, PrivateDaemon, type DeathReport } from './daemon.js';

const PROFILE = 'host';
const HISTORY = 16;

/** The daemon went away (crashed or was stopped): never a verdict about the input. A session
 *  the pool closed (its daemon replaced or stopped) says so too: retrying it cannot help. */
const DAEMON_GONE = /Failed to connect socket|End of file while reading data|Cannot recv data|Connection reset by peer|client socket is closed|failed to connect to the hypervisor|Disconnected from|libvirt backend is closed/;

export class DaemonGoneError extends Error {}

export interface Sent { index: number; op: Operation; xml: string }

export interface CrashEvent {
  /** Which daemon (0 = the first one started). */
  gen: number;
  inFlight: Sent[];
  /** The inputs that daemon handled last (oldest first). */
  history: Sent[];
  /** The input that kills a fresh daemon alone, when one did. */
  culprit?: Sent;
  death: DeathReport;
  signature: string;
}

export type RealResult = Outcome | { kind: 'crash'; event: CrashEvent };

/** One operation on the real libvirt; infrastructure failures are retried twice, then fatal. */
async function real(b: LibvirtBackend, op: Operation, xml: string): Promise<Outcome> {
  for (let attempt = 0; ; attempt++) {
    try {
      const out = op === 'argv' ? await b.argv(xml, PROFILE) : await b.xml(xml, PROFILE);
      if (out.kind === 'error' && DAEMON_GONE.test(out.message)) throw new DaemonGoneError(`libvirtd went away during ${op}: ${out.message}`);
      return out;
    } catch (e) {
      if (e instanceof DaemonGoneError) throw e;
      if (e instanceof LibvirtBackendError && DAEMON_GONE.test(e.message)) throw new DaemonGoneError(`libvirtd went away during ${op}: ${e.message}`);
      if (!(e instanceof LibvirtBackendError) || attempt >= 2) throw e;
      process.stderr.write(`fuzz: libvirt backend: ${e.message} (retrying)\n`);
    }
  }
}

/**
 * Many readers (ordinary calls) or one writer (a suspect re-run alone). A writer reserves its
 * turn first (reserve()), and no reader starts while one is reserved: the re-run must be the
 * first thing the new daemon sees.
 */
class SharedLock {
  private readers = 0;
  private writer = false;
  private reserved = 0;
  private waiting: (() => void)[] = [];
  private wake(): void { const w = this.waiting; this.waiting = []; w.forEach((f) => f()); }
  async shared(): Promise<void> {
    while (this.writer || this.reserved > 0) await new Promise<void>((r) => this.waiting.push(r));
    this.readers++;
  }
  releaseShared(): void { this.readers--; this.wake(); }
  reserve(): void { this.reserved++; }
  /** Give back a reserved turn that will not be taken (the pool closed meanwhile). */
  unreserve(): void { this.reserved--; this.wake(); }
  /** Take a reserved turn. */
  async exclusive(): Promise<void> {
    while (this.writer || this.readers > 0) await new Promise<void>((r) => this.waiting.push(r));
    this.writer = true;
    this.reserved--;
  }
  releaseExclusive(): void { this.writer = false; this.wake(); }
}

export class DaemonPool {
  events: CrashEvent[] = [];
  /** Run gdb on each dead daemon's core (off while shrinking: only the final case needs it). */
  backtraces = true;
  private gen = 0;
  private lock = new SharedLock();
  private inFlight = new Set<Sent>();
  private history: Sent[] = [];
  private recovering: { gen: number; done: Promise<CrashEvent> } | null = null;
  /** Set while the daemon is being replaced; never rejects (the recovery's own caller sees its error). */
  private replacing: Promise<unknown> | null = null;
  /** close() was called: a daemon that goes away now was stopped, not crashed, and is not replaced. */
  private closed = false;
  private constructor(public daemon: PrivateDaemon, public backends: LibvirtBackend[], readonly jobs: number) {}

  static async open(jobs: number): Promise<DaemonPool> {
    const d = await PrivateDaemon.start();
    return new DaemonPool(d, DaemonPool.sessions(d, jobs), jobs);
  }

  private static sessions(d: PrivateDaemon, n: number): LibvirtBackend[] {
    return Array.from({ length: n }, () => new LibvirtBackend({ uri: d.uri }));
  }

  get uri(): string { return this.daemon.uri; }
  get restarts(): number { return this.gen; }

  /**
   * `op` on session `w`. A death of the daemon is recovered from (new daemon, new sessions);
   * with `retryAlone` (the default) the input is then re-run alone to tell culprit from bystander.
   */
  async run(w: number, sent: Sent, retryAlone = true): Promise<RealResult> {
    // Never start on a daemon that is being replaced.
    while (this.replacing) await this.replacing;
    await this.lock.shared();
    // Read under the lock: a writer may have replaced the daemon while we waited.
    const g = this.gen;
    const daemon = this.daemon;
    this.inFlight.add(sent);
    let gone = false;
    try {
      const out = await real(this.backends[w], sent.op, sent.xml);
      this.remember(sent);
      return out;
    } catch (e) {
      // Any failure on a daemon that is dead is its death, not an error: e.g. an xml round
      // trip cut between define and dumpxml.
      if (!(e instanceof DaemonGoneError) && !(await daemon.died(500))) throw e;
      gone = true;
    } finally {
      this.inFlight.delete(sent);
      if (!gone) this.lock.releaseShared();
    }
    // Still a reader while the daemon is replaced: no writer (a re-run alone, fresh()) can
    // replace it at the same time, so no daemon is started twice or left behind.
    let first: CrashEvent;
    try {
      if (retryAlone) this.lock.reserve();
      first = await this.recover(g, sent);
    } catch (e) {
      if (retryAlone) this.lock.unreserve();
      throw e;
    } finally {
      this.lock.releaseShared();
    }
    if (!retryAlone) return { kind: 'crash', event: first };
    await this.lock.exclusive();
    try {
      // Alone on a daemon that has seen nothing: another suspect re-run before may have
      // corrupted its heap without dying, and this input would take the blame.
      return (await this.alone([sent], w, 'if-used'))[0];
    } finally {
      this.lock.releaseExclusive();
    }
  }

  /**
   * Under the exclusive lock: `sents` in order on a daemon that has seen nothing else (restarted
   * first, always or only if it has run something). Stops at a crash, which is recorded with
   * its culprit.
   */
  private async alone(sents: Sent[], w: number, restart: 'always' | 'if-used'): Promise<RealResult[]> {
    if (restart === 'always' || this.history.length) await this.restart();
    const out: RealResult[] = [];
    for (const sent of sents) {
      const g = this.gen;
      const d = this.daemon;
      try {
        out.push(await real(this.backends[w], sent.op, sent.xml));
        this.remember(sent);
        continue;
      } catch (e) {
        if (!(e instanceof DaemonGoneError) && !(await d.died(500))) throw e;
      }
      const ev = await this.recover(g, sent);
      ev.culprit = sent;
      for (const other of this.events) if (!other.culprit && other.inFlight.some((s) => s.index === sent.index && s.op === sent.op)) other.culprit = sent;
      out.push({ kind: 'crash', event: ev });
      break;
    }
    return out;
  }

  private remember(s: Sent): void {
    this.history.push(s);
    if (this.history.length > HISTORY) this.history.shift();
  }

  /** Replace daemon `gen` (once, whoever notices first) and record its death. */
  private recover(gen: number, sent: Sent): Promise<CrashEvent> {
    if (this.recovering?.gen === gen) return this.recovering.done;
    // Stopped by close() (a run ending while a worker was still sending): not a death to record.
    if (this.closed) return Promise.reject(new DaemonGoneError('the private libvirtd was stopped: the run is ending'));
    const known = this.events.find((e) => e.gen === gen);
    if (known) return Promise.resolve(known);
    const done = (async () => {
      const dead = this.daemon;
      const old = this.backends;
      const inFlight = [...new Set([sent, ...this.inFlight])];
      const history = this.history;
      this.history = [];
      const death = await dead.autopsy(this.backtraces);
      const ev: CrashEvent = { gen, inFlight, history, death, signature: crashSignature(death) };
      this.events.push(ev);
      process.stderr.write(`fuzz: private libvirtd died (${ev.signature}); ${inFlight.length} input(s) in flight; restarting it\n`);
      // Its sessions are closed without waiting: their domains died with the daemon.
      for (const b of old) void b.close().catch(() => undefined);
      await dead.stop();
      if (this.closed) throw new DaemonGoneError('the private libvirtd was stopped: the run is ending');
      this.daemon = await PrivateDaemon.start();
      this.backends = DaemonPool.sessions(this.daemon, this.jobs);
      this.gen = gen + 1;
      return ev;
    })();
    this.recovering = { gen, done };
    this.replacing = done.then(() => undefined, () => undefined).finally(() => { this.replacing = null; });
    return done;
  }

  /**
   * `sents` alone, in order, on a daemon that has seen nothing else (restarted under the
   * exclusive lock; no other session runs meanwhile). Stops at a crash, which is recorded.
   */
  async runFresh(sents: Sent[]): Promise<RealResult[]> {
    this.lock.reserve();
    await this.lock.exclusive();
    try {
      return await this.alone(sents, 0, 'always');
    } finally {
      this.lock.releaseExclusive();
    }
  }

  /** A fresh daemon now (shrinking and reproducing start from a clean heap). */
  async fresh(): Promise<void> {
    this.lock.reserve();
    await this.lock.exclusive();
    try {
      await this.restart();
    } finally {
      this.lock.releaseExclusive();
    }
  }

  /** Replace a living daemon (the caller holds the lock exclusively). */
  private async restart(): Promise<void> {
    if (this.closed) throw new DaemonGoneError('the private libvirtd was stopped: the run is ending');
    await Promise.all(this.backends.map((b) => b.close().catch(() => undefined)));
    await this.daemon.stop();
    this.daemon = await PrivateDaemon.start();
    this.backends = DaemonPool.sessions(this.daemon, this.jobs);
    this.history = [];
    this.gen++;
  }

  async close(): Promise<void> {
    this.closed = true;
    // A replacement under way finishes first, so the daemon it starts is the one stopped here.
    if (this.replacing) await this.replacing;
    await Promise.all(this.backends.map((b) => b.close().catch(() => undefined)));
    await this.daemon.stop();
  }
}
