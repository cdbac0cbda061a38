// The real libvirt, driven through virsh on qemu:///system.
//
// - The profile argument is ignored: this backend always runs the real host's libvirt/QEMU.
// - One long-lived interactive `virsh -q` per backend; each command is framed by an
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
import { scanTopLevel } from './top-level.js';
import { heldTempDir, hold, type Held, type ReapOrder } from '../lifecycle/cleanup.js';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { Backend, Outcome } from './types.js';

export const DOMAIN_PREFIX = 'lvh-';
const DEFAULT_URI = 'qemu:///system';
const DEFAULT_TIMEOUT_MS = 30_000;

export class LibvirtBackendError extends Error {
  override name = 'LibvirtBackendError';
}

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
// Finding <name> and <uuid> among the root's children without reformatting the input.

/** XPath string() of raw element content: comments dropped, CDATA and entities decoded. */
function stringValue(raw: string): string {
  return raw
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_m, t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;'))
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|apos|quot);/g, (_m, e: string) =>
      e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
        : ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' } as Record<string, string>)[e]);
}

/** virUUIDParse + virUUIDFormat: the canonical form, or null when libvirt would reject it. */
export function canonicalUuid(text: string): string | null {
  const t = text.replace(/^[\s]+|[\s]+$/g, '');
  const hex: string[] = [];
  let k = 0;
  while (k < t.length && hex.length < 16) {
    if (t[k] === '-' || t[k] === ' ') { k++; continue; }
    const pair = t.slice(k, k + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return null;
    hex.push(pair.toLowerCase());
    k += 2;
  }
  if (hex.length !== 16 || k !== t.length) return null;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface Rewritten {
  text: string;
  uniqueName: string; // prefix put in front of the original <name> content
  uuid: string; // the domain's uuid once defined (fresh)
  restoreUuid: Map<string, string>; // fresh -> original canonical
}

const SYSINFO_UUID = /(<entry\s+name=(['"])uuid\2\s*>)([^<]*)(<\/entry>)/g;

function rewriteForDefine(xml: string, uniqueName: string): Rewritten | { skip: string } {
  const scan = scanTopLevel(xml);
  if (scan?.doctype === 'internal-subset') {
    return { skip: 'libvirt backend: inputs with a DOCTYPE internal subset are not defined (entities could hide the domain name)' };
  }
  const restoreUuid = new Map<string, string>();
  const freshFor = new Map<string, string>(); // original canonical -> fresh
  const fresh = (orig: string) => {
    let f = freshFor.get(orig);
    if (!f) {
      f = randomUUID();
      freshFor.set(orig, f);
      restoreUuid.set(f, orig);
    }
    return f;
  };
  const edits: { start: number; end: number; text: string }[] = [];
  let domainUuid: string | null = null;
  const nameEl = scan?.children.find((c) => c.name === 'name');
  const uuidEl = scan?.children.find((c) => c.name === 'uuid');
  if (nameEl && stringValue(xml.slice(nameEl.contentStart, nameEl.contentEnd)) !== '') {
    edits.push({ start: nameEl.contentStart, end: nameEl.contentStart, text: uniqueName });
  }
  // sysinfo's system uuid must keep matching the domain uuid (or keep mismatching).
  let sysinfoUuid: string | null = null;
  for (const m of xml.matchAll(SYSINFO_UUID)) {
    const orig = canonicalUuid(stringValue(m[3]));
    if (!orig) continue;
    const start = m.index! + m[1].length;
    edits.push({ start, end: start + m[3].length, text: fresh(orig) });
    sysinfoUuid ??= fresh(orig);
  }
  if (uuidEl) {
    const orig = canonicalUuid(stringValue(xml.slice(uuidEl.contentStart, uuidEl.contentEnd)));
    if (orig) {
      domainUuid = fresh(orig);
      edits.push({ start: uuidEl.contentStart, end: uuidEl.contentEnd, text: domainUuid });
    }
  } else if (nameEl) {
    // No <uuid>: libvirt would take sysinfo's or a random one; give it ours so we can find it.
    domainUuid = sysinfoUuid ?? randomUUID();
    edits.push({ start: nameEl.closeEnd, end: nameEl.closeEnd, text: `<uuid>${domainUuid}</uuid>` });
  }
  edits.sort((a, b) => b.start - a.start);
  let text = xml;
  for (const e of edits) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return { text, uniqueName, uuid: domainUuid ?? randomUUID(), restoreUuid };
}

function restoreDumped(xml: string, rw: Rewritten): string {
  let doneName = false;
  let doneUuid = false;
  return xml
    .replace(/^(  <name>)(.*)(<\/name>)$/m, (m, a: string, v: string, b: string) => {
      if (doneName || !v.startsWith(rw.uniqueName)) return m;
      doneName = true;
      return a + v.slice(rw.uniqueName.length) + b;
    })
    .replace(/^(  <uuid>)(.*)(<\/uuid>)$/m, (m, a: string, v: string, b: string) => {
      if (doneUuid) return m;
      doneUuid = true;
      return a + (rw.restoreUuid.get(v) ?? v) + b;
    })
    .replace(SYSINFO_UUID, (m, a: string, _q: string, v: string, b: string) =>
      rw.restoreUuid.has(v) ? a + rw.restoreUuid.get(v)! + b : m);
}

function restoreMessage(msg: string, rw: Rewritten): string {
  let out = msg.split(rw.uniqueName).join('');
  for (const [f, o] of rw.restoreUuid) out = out.split(f).join(o);
  return out;
}

// ---------------------------------------------------------------------------------------------
// A long-lived interactive virsh.


class VirshSession {
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
