// The real libvirt on the machine's own daemon (qemu:///system), kept from the inputs known to
// kill it (daemon-killers.ts): those go to a disposable libvirtd of the same installed libvirt
// (scripts/private-daemon.sh: the same paths and binary, so the same output text), or, when no
// daemon should see them, to none. Everything else goes to the machine's daemon as before.
//
// A disposable daemon that refused a routed input may have a corrupt heap (the distances bug
// writes out of bounds and can garble a later answer), so it answers nothing more: the next
// routed input gets a fresh one. One that died gives a skip naming the crash, never a pass.
import { join } from 'node:path';
import { LibvirtBackend, LibvirtBackendError, type LibvirtBackendOptions } from './libvirt.js';
import { daemonKiller, type DaemonKiller } from './daemon-killers.js';
import type { Backend, Outcome } from './types.js';
import { PrivateDaemon, ROOT } from '../fuzz/daemon.js';

const SHARED_URI = 'qemu:///system';

/** The libvirt backend for `uri`: guarded when it is the machine's shared daemon. Inside an
 *  emulated host (LVH_DAEMON_OWNED=1, set by emulated/inside.ts) qemu:///system is the harness's
 *  own daemon in its own VM, and no guard stands in the way. */
export function libvirtBackendFor(opts: LibvirtBackendOptions = {}): Backend {
  const uri = opts.uri ?? SHARED_URI;
  const shared = uri === SHARED_URI && process.env.LVH_DAEMON_OWNED !== '1';
  return shared ? new SharedDaemonGuard(opts) : new LibvirtBackend(opts);
}

interface Disposable { daemon: PrivateDaemon; backend: LibvirtBackend }

export class SharedDaemonGuard implements Backend {
  readonly name = 'libvirt' as const;
  private readonly shared: LibvirtBackend;
  private disposable: Promise<Disposable> | null = null;
  /** Routed inputs run one at a time: each may end its daemon. */
  private queue: Promise<unknown> = Promise.resolve();
  /** How many inputs went elsewhere, by rule (for the caller's notes). */
  readonly routed = new Map<string, number>();

  constructor(private readonly opts: LibvirtBackendOptions = {}) {
    this.shared = new LibvirtBackend(opts);
  }

  unavailable(): Promise<string | null> { return this.shared.unavailable(); }

  argv(xmlText: string, profile: string): Promise<Outcome> {
    const k = daemonKiller(xmlText);
    return k ? this.route(k, (b) => b.argv(xmlText, profile)) : this.shared.argv(xmlText, profile);
  }

  xml(xmlText: string, profile: string): Promise<Outcome> {
    const k = daemonKiller(xmlText);
    return k ? this.route(k, (b) => b.xml(xmlText, profile)) : this.shared.xml(xmlText, profile);
  }

  /** For a guest start on the machine's daemon: why not to start this input there, or null. An
   *  input a rule catches must first pass xml2argv on a disposable daemon. */
  async refusesStart(xmlText: string): Promise<string | null> {
    const k = daemonKiller(xmlText);
    if (!k) return null;
    const o = await this.argv(xmlText, 'host');
    if (o.kind === 'ok') return null;
    const said = o.kind === 'error' ? `a private libvirtd refused it: ${o.message}` : o.reason;
    return `not started on the machine's libvirtd (rule ${k.name}): ${said}`;
  }

  private route(k: DaemonKiller, run: (b: LibvirtBackend) => Promise<Outcome>): Promise<Outcome> {
    this.routed.set(k.name, (this.routed.get(k.name) ?? 0) + 1);
    const notShared = `not sent to the machine's libvirtd: ${k.why} (${k.crashCases.join(', ')})`;
    if (k.sendTo === 'none') return Promise.resolve({ kind: 'skip', reason: `${notShared}; no daemon is sent it` });
    const next = this.queue.then(() => this.onDisposable(k, notShared, run));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async onDisposable(k: DaemonKiller, notShared: string, run: (b: LibvirtBackend) => Promise<Outcome>): Promise<Outcome> {
    let d: Disposable;
    try {
      d = await this.startDisposable();
    } catch (e) {
      return { kind: 'skip', reason: `${notShared}; a private libvirtd could not start: ${(e as Error).message}` };
    }
    let out: Outcome | undefined;
    let failure: string | undefined;
    try {
      out = await run(d.backend);
    } catch (e) {
      if (!(e instanceof LibvirtBackendError)) throw e;
      failure = e.message;
    }
    if (await d.daemon.died(300)) {
      const how = (await d.daemon.autopsy(false)).how;
      await this.retire();
      return { kind: 'skip', reason: `libvirt died on this input on a private libvirtd (${how}): ${k.why} (${k.crashCases.join(', ')})` };
    }
    if (failure !== undefined || out?.kind === 'error') await this.retire();
    if (failure !== undefined) throw new LibvirtBackendError(`private libvirtd (for rule ${k.name}): ${failure}`);
    return out!;
  }

  private startDisposable(): Promise<Disposable> {
    this.disposable ??= (async () => {
      const daemon = await PrivateDaemon.start({ base: join(ROOT, '.cache', 'daemons', 'guard') });
      return { daemon, backend: new LibvirtBackend({ ...this.opts, uri: daemon.uri }) };
    })();
    const p = this.disposable;
    p.catch(() => { if (this.disposable === p) this.disposable = null; });
    return p;
  }

  private async retire(): Promise<void> {
    const p = this.disposable;
    this.disposable = null;
    const d = p ? await p.catch(() => null) : null;
    if (!d) return;
    await d.backend.close().catch(() => undefined); // its domains die with its daemon's directory
    await d.daemon.stop();
  }

  async close(): Promise<void> {
    await this.queue;
    await Promise.all([this.shared.close(), this.retire()]);
  }
}
