// The real libvirt, driven through virsh on qemu:///system.
//
// - The profile argument is ignored: this backend always runs the real host's libvirt/QEMU.
// - One long-lived interactive `virsh -q` per backend (virsh-session.ts); each command is framed by an
//   `echo TOKEN` after it (stdout and stderr share one pipe; vshError flushes stdout first,
//   so the order is exact). A fresh virsh per call costs ~34 ms; a command here costs a few ms.
// - xml() defines a copy of the input under a unique name `lvh-<pid>-<n>-<rand>-<original>`
//   and a fresh random uuid, dumps it, undefines it, and restores the original name/uuid in
//   the text. Only domains this process defined, and whose name starts with `lvh-`, are ever
//   undefined. Each defined domain is held in the project's cleanup registry
//   (lifecycle/cleanup.ts) until undefined: close(), Ctrl-C/SIGTERM, process exit and, after
//   a SIGKILL, the registry's reaper all undefine what is left.
// - Infrastructure failures (timeouts, virsh dying, unparsable output) throw
//   LibvirtBackendError; libvirt rejecting an input is an Outcome of kind 'error'.
import { layoutArgs, splitWords } from '../neutral/args-layout.js';
import { restoreDumped, restoreMessage, rewriteForDefine } from './define-rewrite.js';
import { heldTempDir, hold, type Held, type ReapOrder } from '../lifecycle/cleanup.js';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { LibvirtBackendError, VirshSession } from './virsh-session.js';
import type { Backend, Outcome } from './types.js';

export const DOMAIN_PREFIX = 'lvh-';
const DEFAULT_URI = 'qemu:///system';
const DEFAULT_TIMEOUT_MS = 30_000;

export { LibvirtBackendError };
export { canonicalUuid } from './define-rewrite.js';

export interface LibvirtBackendOptions {
  uri?: string;
  /** Per virsh command. */
  timeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Reading virsh's one-line command back into libvirt's .args layout (harness/neutral/args-layout.ts,
// checked against libvirt's own .args files; the model's formatter is never used here).

/** virsh's one-line command in libvirt's .args layout; a line that is not a command is an
 *  infrastructure failure, never an outcome. */
export function argsFromVirshLine(line: string): string {
  try {
    return layoutArgs(splitWords(line));
  } catch (e) {
    throw new LibvirtBackendError(`domxml-to-native output: ${(e as Error).message}`);
  }
}

/** virsh's own command-line quoting (vshCommandStringGetArg). */
function virshQuote(s: string): string {
  if (/[\n\r]/.test(s)) throw new LibvirtBackendError(`cannot pass a newline to virsh: ${JSON.stringify(s)}`);
  if (/^[A-Za-z0-9_/.:@%+=,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** libvirt's message from virsh's output, or null when no `error: ` line. */
export function virshErrorMessage(output: string): string | null {
  const lines = output.split('\n').filter((l) => l.startsWith('error: '));
  if (lines.length === 0) return null;
  // The last `error: ` line is libvirt's message; earlier ones are virsh's context
  // ("Failed to define domain from F"); libxml2's source excerpt lines follow it.
  return lines[lines.length - 1].slice('error: '.length);
}

// ---------------------------------------------------------------------------------------------
// What this process defined, each held in the project's cleanup registry (lifecycle/cleanup.ts)
// until it is undefined: close(), signals, exit and the reaper all go through it.

interface Defined {
  uuid: string;
  uri: string;
  confirmed: boolean; // define returned; false while it may still be in flight
  held?: Held;
}
const registry = new Map<string, Defined>(); // uuid -> entry

function remember(d: Defined): void {
  registry.set(d.uuid, d);
  const reap = (): ReapOrder => ({ kind: 'virsh', uri: d.uri, uuid: d.uuid, prefix: DOMAIN_PREFIX, action: 'undefine', confirmed: d.confirmed });
  d.held = hold({
    label: `domain ${d.uuid} on ${d.uri}`, order: 1, reap: reap(),
    release: () => undefineIfOurs(d, (args) => cleanupVirsh(d.uri, args)),
    releaseSync: () => undefineSync(d),
  });
}

function confirm(d: Defined): void {
  d.confirmed = true;
  d.held?.update({ kind: 'virsh', uri: d.uri, uuid: d.uuid, prefix: DOMAIN_PREFIX, action: 'undefine', confirmed: true });
}

function forget(uuid: string): void {
  registry.get(uuid)?.held?.drop();
  registry.delete(uuid);
}

function oneShotVirsh(uri: string, args: string[], timeoutMs: number) {
  return execa('virsh', ['-q', '-c', uri, ...args], {
    reject: false, timeout: timeoutMs, env: { LC_ALL: 'C' }, stdin: 'ignore',
  });
}

/** A cleanup command in its own virsh: output as the session would give it, or a throw. */
async function cleanupVirsh(uri: string, args: string[]): Promise<string> {
  const r = await oneShotVirsh(uri, args, DEFAULT_TIMEOUT_MS);
  if (r.timedOut) throw new LibvirtBackendError(`virsh ${args[0]} timed out after ${DEFAULT_TIMEOUT_MS / 1000} s`);
  if (r.exitCode === undefined) throw new LibvirtBackendError(`cannot run virsh: ${r.shortMessage}`);
  return `${r.stdout}\n${r.stderr}`;
}

const NOT_FOUND = /failed to get domain|Domain not found/;

async function undefineIfOurs(d: Defined, run: (args: string[]) => Promise<string>): Promise<void> {
  let out = await run(['domname', d.uuid]);
  let err = virshErrorMessage(out);
  if (err !== null && NOT_FOUND.test(err) && !d.confirmed) {
    // A define cut off on our side may still be finishing in the daemon.
    await new Promise((r) => setTimeout(r, 300));
    out = await run(['domname', d.uuid]);
    err = virshErrorMessage(out);
  }
  if (err !== null) {
    if (!NOT_FOUND.test(err)) throw new LibvirtBackendError(`cannot look up domain ${d.uuid}: ${err}`);
    forget(d.uuid);
    return;
  }
  const name = out.split('\n').find((l) => l !== '') ?? '';
  if (name === '') throw new LibvirtBackendError(`no answer looking up domain ${d.uuid}`);
  if (!name.startsWith(DOMAIN_PREFIX)) {
    forget(d.uuid);
    throw new LibvirtBackendError(`domain ${d.uuid} is named '${name}', not ours: left alone`);
  }
  const u = virshErrorMessage(await run(['undefine', d.uuid, '--keep-nvram', '--keep-tpm']));
  if (u !== null && !NOT_FOUND.test(u)) throw new LibvirtBackendError(`cannot undefine ${name}: ${u}`);
  forget(d.uuid);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** At exit only synchronous work runs. A define cut off mid-way may still be finishing in the
 *  daemon, so an unconfirmed one gets a second look. */
function undefineSync(d: Defined): boolean {
  for (let attempt = 0; attempt < (d.confirmed ? 1 : 2); attempt++) {
    if (attempt) sleepSync(300);
    const look = spawnSync('virsh', ['-c', d.uri, 'domname', d.uuid], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
    const name = (look.stdout ?? '').split('\n')[0];
    if (look.status === 0 && name.startsWith(DOMAIN_PREFIX)) {
      const u = spawnSync('virsh', ['-c', d.uri, 'undefine', d.uuid, '--keep-nvram', '--keep-tpm'], { stdio: 'ignore', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
      return u.status === 0;
    }
    if (look.status === 0) return true; // renamed: not ours any more
  }
  return d.confirmed; // not found: gone (an unconfirmed one is left to the reaper's later looks)
}

// ---------------------------------------------------------------------------------------------

export class LibvirtBackend implements Backend {
  readonly name = 'libvirt' as const;
  private readonly uri: string;
  private readonly timeoutMs: number;
  private session: Promise<VirshSession> | null = null;
  private workDir: string | null = null;
  private workDirHeld: { path: string; remove(): void } | null = null;
  private counter = 0;
  private readonly rand = randomBytes(3).toString('hex');
  private availability: Promise<string | null> | null = null;
  private readonly mine = new Set<string>(); // uuids this backend defined and has not undefined
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(opts: LibvirtBackendOptions = {}) {
    this.uri = opts.uri ?? DEFAULT_URI;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  unavailable(): Promise<string | null> {
    this.availability ??= (async () => {
      if (process.getuid && process.getuid() !== 0) return `libvirt backend needs root for ${this.uri}`;
      const r = await oneShotVirsh(this.uri, ['version'], 10_000);
      if ((r as { code?: string }).code === 'ENOENT') return 'virsh not found (install libvirt-clients)';
      if (r.timedOut) return `${this.uri} did not answer within 10 s (is libvirtd running? scripts/daemons.sh start)`;
      if (r.exitCode !== 0) {
        return `${this.uri} does not answer: ${virshErrorMessage(r.stderr) ?? r.stderr.trim()} (scripts/daemons.sh start)`;
      }
      return null;
    })();
    return this.availability;
  }

  private dir(): string {
    if (!this.workDir) {
      this.workDirHeld = heldTempDir('lvh-');
      this.workDir = this.workDirHeld.path;
    }
    return this.workDir;
  }

  private getSession(): Promise<VirshSession> {
    if (this.closed) return Promise.reject(new LibvirtBackendError('libvirt backend is closed'));
    const cur = this.session;
    if (cur) {
      return cur.then((s) => {
        if (s.alive) return s;
        this.session = null;
        return this.getSession();
      });
    }
    const s = VirshSession.start(this.uri, this.timeoutMs, this.dir());
    this.session = s;
    s.catch(() => { if (this.session === s) this.session = null; });
    return s;
  }

  private async withFile<T>(n: number, xmlText: string, fn: (path: string) => Promise<T>): Promise<T> {
    const file = join(this.dir(), `${n}.xml`);
    await writeFile(file, xmlText);
    try {
      return await fn(file);
    } finally {
      await unlink(file).catch(() => undefined);
    }
  }

  async argv(xmlText: string, _profile: string): Promise<Outcome> {
    const n = ++this.counter;
    const session = await this.getSession();
    return this.withFile(n, xmlText, async (file) => {
      const out = await session.run(`domxml-to-native qemu-argv ${virshQuote(file)}`);
      const err = virshErrorMessage(out);
      if (err !== null) return { kind: 'error', message: err };
      const lines = out.split('\n').filter((l) => l !== '');
      if (lines.length !== 1) throw new LibvirtBackendError(`unexpected domxml-to-native output: ${out.slice(0, 300)}`);
      return { kind: 'ok', text: argsFromVirshLine(lines[0]) };
    });
  }

  async xml(xmlText: string, _profile: string): Promise<Outcome> {
    const n = ++this.counter; // taken before any await: concurrent calls get distinct names
    const rw = rewriteForDefine(xmlText, `${DOMAIN_PREFIX}${process.pid}-${n}-${this.rand}-`);
    if ('skip' in rw) return { kind: 'skip', reason: rw.skip };
    const session = await this.getSession();
    return this.withFile(n, rw.text, (file) => session.exclusive(async (run) => {
      // Registered before define: after a timeout or an exit we cannot know whether it happened.
      const entry: Defined = { uuid: rw.uuid, uri: this.uri, confirmed: false };
      remember(entry);
      this.mine.add(rw.uuid);
      const defErr = virshErrorMessage(await run(`define ${virshQuote(file)}`));
      if (defErr !== null) {
        forget(rw.uuid);
        this.mine.delete(rw.uuid);
        return { kind: 'error', message: restoreMessage(defErr, rw) };
      }
      confirm(entry);
      const dumped = await run(`dumpxml --inactive ${rw.uuid}`);
      const dumpErr = virshErrorMessage(dumped);
      const name = dumped.match(/^ {2}<name>(.*)<\/name>$/m)?.[1] ?? '';
      if (dumpErr === null && name.startsWith(DOMAIN_PREFIX)) {
        const u = virshErrorMessage(await run(`undefine ${rw.uuid} --keep-nvram --keep-tpm`));
        if (u !== null) throw new LibvirtBackendError(`cannot undefine ${name}: ${u} (close() retries)`);
        forget(rw.uuid);
        this.mine.delete(rw.uuid);
      } else {
        // Odd: go through the checked cleanup path (domname + prefix check).
        await undefineIfOurs(entry, (args) => run(args.join(' ')));
        this.mine.delete(rw.uuid);
        if (dumpErr !== null) throw new LibvirtBackendError(`dumpxml after define failed: ${dumpErr}`);
        throw new LibvirtBackendError(`defined domain is named '${name}', expected prefix ${DOMAIN_PREFIX}`);
      }
      return { kind: 'ok', text: restoreDumped(dumped, rw) } satisfies Outcome;
    }));
  }

  close(): Promise<void> {
    // Same promise for concurrent calls; a failed close may be retried.
    this.closing ??= this.doClose().catch((e: Error) => {
      this.closing = null;
      throw e;
    });
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    const errors: string[] = [];
    const s = this.session ? await this.session.catch(() => null) : null;
    if (s) await s.drain();
    for (const uuid of [...this.mine]) {
      const d = registry.get(uuid);
      if (!d) { this.mine.delete(uuid); continue; }
      // Through our session while it lives; a virsh of its own when it is gone or dies.
      const run = (args: string[]) => (s?.alive ? s.run(args.join(' '), true) : cleanupVirsh(this.uri, args));
      try {
        await undefineIfOurs(d, run).catch((e: Error) => {
          if (s && !s.alive) return undefineIfOurs(d, run);
          throw e;
        });
        this.mine.delete(uuid);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    this.session = null;
    if (s) await s.close();
    if (this.workDir) {
      this.workDirHeld?.remove();
    }
    this.workDir = null;
    if (errors.length) throw new LibvirtBackendError(`close: ${errors.join('; ')}`);
  }
}
