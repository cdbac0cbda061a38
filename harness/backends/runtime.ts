// The runtime backend: starts a domain through the real libvirt (`virsh create --paused`), reads
// what QEMU and the kernel actually did with its memory, and destroys it, always.
//
// Names and cleanup
// - Every guest is a transient domain named `lvh-rt-<pid>-<n>-<rand>-<original name>` with a
//   fresh random uuid; only domains whose current name starts with `lvh-rt-` and whose uuid
//   this process registered are ever destroyed (looked up by uuid, name checked first).
// - Each guest is held in the project's cleanup registry (runtime-guests.ts, lifecycle/cleanup.ts) from before
//   `virsh create` until destroyed: after each observation (success, failure, timeout), by
//   close(), on Ctrl-C/SIGTERM (waiting for in-flight creates), at process exit, and - for
//   SIGKILL, which no handler sees - by the registry's reaper once this process is gone.
//   Every virsh call runs with a timeout.
//
// What is read (two independent views)
// - QEMU: `query-memdev` (id, size, policy, host-nodes), `query-cpus-fast` and
//   `query-iothreads` (thread ids), over `virsh qemu-monitor-command`.
// - Kernel: /proc/PID/numa_maps + /proc/PID/maps (policy of each guest RAM mapping),
//   /proc/PID/status (Mems_allowed_list), and the cgroup cpuset.mems of every thread group
//   (emulator, vcpuN, iothreadN) found from /proc/PID/cgroup and /proc/self/mountinfo
//   (cgroup v1 `cpuset` hierarchy, or cgroup v2 where an empty cpuset.mems means "inherited":
//   cpuset.mems.effective is read then).
//
// Matching a backend to its mapping (numa_maps has no names for anonymous memory): see
// guest-ram.ts. QEMU's flat view (`info mtree -f`) says which guest-physical ranges land in which
// backend at which offset (RAM split around the PCI hole, cells cut in two); `gpa2hva` at both
// ends of every range gives the host address; the VMA there must span the backend's size.
// File-backed RAM (memAccess) is cross-checked by name. If the kernel split or merged the VMA,
// every VMA covering the range is used; differing policies show up joined with '|' (and so
// never match a prediction).
import { naturalCompare, printNodeSet } from '../neutral/bitmap-text.js';
import { scanTopLevel, type Span } from './top-level.js';
import { RUNTIME_PREFIX, RuntimeBackendError, LIBVIRT_GONE, destroyAllRuntime, destroyIfOurs, inFlight, lastVirshError, reapOrder, remember, virsh, virshOk, type Started, type VirshResult } from './runtime-guests.js';
import { cpusetCgroupOf, findQemuPid, readMems, threadsOf } from './proc-views.js';
import { heldTempDir, isDraining } from '../lifecycle/cleanup.js';
import { GuestRamError, hex, mapBackend, parseFlatView, parseGpa2hva, parseMaps, parseNumaMapsLine, piecesOf, probesOf, type BackendMapping, type NumaMapsLine } from './guest-ram.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendFact, MemdevFact, PolicyFact, RuntimeFacts } from '../neutral/runtime-facts.js';
import { readXml } from '../xml/read.js';
import { attr, child } from '../xml/tree.js';

const DEFAULT_URI = 'qemu:///system';
const CREATE_TIMEOUT_MS = 90_000;
const OBSERVE_TIMEOUT_MS = 120_000;

export { RUNTIME_PREFIX, RuntimeBackendError };
export { destroyAllRuntime, lastVirshError } from './runtime-guests.js';

export type Accel = 'kvm' | 'tcg';
export type AccelMode = Accel | 'auto';

export interface ObservationDetails {
  accel: Accel;
  accelWhy: string;
  name: string;
  uuid: string;
  domid?: number;
  pid?: number;
  cgroup?: { version: 1 | 2; dir: string };
  /** How each backend's mapping was found, and its resident pages per host node (N<n>=). */
  mappings: BackendMapping['detail'][];
  /** Each vCPU/iothread thread (query-cpus-fast / query-iothreads) is in its own thread group. */
  threadGroups: { group: string; tid: number; inGroup: boolean }[];
  seconds: number;
  /** Where the seconds went: virsh create (--paused), reading both views, destroying it. */
  phases: { create: number; read: number; destroy: number };
}

export type Observation =
  | { kind: 'facts'; facts: RuntimeFacts; details: ObservationDetails }
  /** libvirt refused to start the guest: its message (the last `error: ` line of virsh create). */
  | { kind: 'error'; message: string; details: ObservationDetails };

// ---------------------------------------------------------------------------------------------
// Rewriting the input: unique name, fresh uuid, the chosen accelerator. The input is otherwise
// passed through byte for byte; the result is re-read to prove the rewrite hit the right nodes.

/** The root and its children; a DOCTYPE or broken markup is refused (never started). */
function topLevel(xml: string): { root: Span | null; children: Span[] } {
  const scan = scanTopLevel(xml);
  if (!scan) throw new RuntimeBackendError('unterminated markup in input');
  if (scan.doctype !== 'none') throw new RuntimeBackendError('inputs with a DOCTYPE are not started (entities could hide the domain name)');
  return scan;
}

export function rewriteForStart(xml: string, name: string, uuid: string, type: 'kvm' | 'qemu'): string {
  const { root, children } = topLevel(xml);
  if (!root || root.name !== 'domain') throw new RuntimeBackendError('input is not a <domain>');
  const edits: { start: number; end: number; text: string }[] = [];
  const openTag = xml.slice(root.openStart, root.openEnd);
  const typeAttr = /(\stype\s*=\s*)(['"])[^'"]*\2/.exec(openTag);
  if (!typeAttr) throw new RuntimeBackendError('<domain> has no type attribute');
  const tStart = root.openStart + typeAttr.index;
  edits.push({ start: tStart, end: tStart + typeAttr[0].length, text: `${typeAttr[1]}'${type}'` });
  const nameEl = children.find((c) => c.name === 'name');
  const uuidEl = children.find((c) => c.name === 'uuid');
  if (!nameEl) throw new RuntimeBackendError('input has no <name>');
  edits.push({ start: nameEl.openStart, end: nameEl.closeEnd, text: `<name>${name}</name>` });
  if (uuidEl) edits.push({ start: uuidEl.openStart, end: uuidEl.closeEnd, text: `<uuid>${uuid}</uuid>` });
  else edits.push({ start: nameEl.closeEnd, end: nameEl.closeEnd, text: `<uuid>${uuid}</uuid>` });
  edits.sort((a, b) => b.start - a.start);
  let out = xml;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  // Prove it: the parsed result must carry exactly our name, uuid and type.
  const tree = readXml(out);
  const names = tree.children.filter((c) => c.name === 'name');
  const uuids = tree.children.filter((c) => c.name === 'uuid');
  if (tree.name !== 'domain' || attr(tree, 'type') !== type || names.length !== 1 || names[0].text !== name
    || uuids.length !== 1 || child(tree, 'uuid')!.text !== uuid) {
    throw new RuntimeBackendError('rewriting name/uuid/type did not give the expected domain (refusing to start it)');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Kernel views: parsers in guest-ram.ts, readers in proc-views.ts.

export { parseGpa2hva, parseMaps, parseNumaMapsLine, type NumaMapsLine, type Vma } from './guest-ram.js';

/** guest-ram.ts refuses with its own error class; callers of this backend see ours. */
function asBackendError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof GuestRamError ? new RuntimeBackendError(e.message) : e;
  }
}

/** libvirt bitmap syntax from QEMU's host-nodes list (which may repeat or be unsorted). */
function nodesString(list: number[]): string {
  return printNodeSet(list);
}

// ---------------------------------------------------------------------------------------------

export interface RuntimeBackendOptions {
  uri?: string;
  /** 'auto' (default, or $LVH_RUNTIME_ACCEL): KVM when a paused KVM guest really starts here, else TCG. */
  accel?: AccelMode;
  observeTimeoutMs?: number;
}

export class RuntimeBackend {
  private readonly uri: string;
  private readonly accelMode: AccelMode;
  private readonly observeTimeoutMs: number;
  private readonly rand = randomBytes(3).toString('hex');
  private counter = 0;
  private workDir: string | null = null;
  private workDirHeld: { path: string; remove(): void } | null = null;
  private decided: { accel: Accel; why: string } | null = null;
  private availability: Promise<string | null> | null = null;

  constructor(opts: RuntimeBackendOptions = {}) {
    this.uri = opts.uri ?? DEFAULT_URI;
    const env = process.env.LVH_RUNTIME_ACCEL as AccelMode | undefined;
    this.accelMode = opts.accel ?? (env === 'kvm' || env === 'tcg' ? env : 'auto');
    this.observeTimeoutMs = opts.observeTimeoutMs ?? OBSERVE_TIMEOUT_MS;
  }

  /** Why guests cannot be started here, or null. */
  unavailable(): Promise<string | null> {
    this.availability ??= (async () => {
      if (process.platform !== 'linux') return 'runtime backend needs Linux (/proc, cgroups)';
      if (process.getuid && process.getuid() !== 0) return `runtime backend needs root (${this.uri}, /proc/PID/numa_maps of QEMU)`;
      try {
        const r = await virsh(this.uri, ['version'], 10_000);
        if (r.timedOut) return `${this.uri} did not answer within 10 s (scripts/daemons.sh start)`;
        if (r.code !== 0) return `${this.uri} does not answer: ${lastVirshError(r.stderr) ?? r.stderr.trim()} (scripts/daemons.sh start)`;
      } catch (e) {
        return (e as Error).message;
      }
      if (!existsSync('/proc/self/numa_maps')) return 'kernel without NUMA support: no /proc/PID/numa_maps';
      return null;
    })();
    return this.availability;
  }

  /** Rewritten inputs: a temporary directory held in the cleanup registry. */
  private dir(): string {
    if (!this.workDir) {
      this.workDirHeld = heldTempDir('lvh-rt-');
      this.workDir = this.workDirHeld.path;
    }
    return this.workDir;
  }

  /** The accelerator decision so far (auto mode decides with the first guest that starts). */
  accel(): { accel: Accel; why: string } | null {
    if (this.accelMode !== 'auto') return { accel: this.accelMode, why: `forced (${this.accelMode})` };
    return this.decided;
  }

  /** Start `xml` (renamed) paused, run `read` on it, destroy it whatever happens. */
  private async startAndRead<T>(xml: string, label: string, type: 'kvm' | 'qemu',
    read: (g: { name: string; uuid: string }) => Promise<T>, phases: ObservationDetails['phases']): Promise<{ kind: 'ok'; value: T } | { kind: 'error'; message: string }> {
    if (isDraining()) throw new RuntimeBackendError('runtime backend is shutting down (signal received)');
    const n = ++this.counter;
    const name = `${RUNTIME_PREFIX}${process.pid}-${n}-${this.rand}-${label}`;
    const uuid = randomUUID();
    const text = rewriteForStart(xml, name, uuid, type);
    const file = join(this.dir(), `${n}.xml`);
    writeFileSync(file, text);
    const entry: Started = { uuid, name, uri: this.uri, confirmed: false };
    remember(entry);
    let result: { kind: 'ok'; value: T } | { kind: 'error'; message: string } | undefined;
    let primary: Error | undefined;
    try {
      let t = performance.now();
      const creating = virsh(this.uri, ['create', file, '--paused'], CREATE_TIMEOUT_MS);
      inFlight.add(creating);
      let r: VirshResult;
      try { r = await creating; } finally { inFlight.delete(creating); }
      phases.create = (performance.now() - t) / 1000;
      if (r.timedOut) throw new RuntimeBackendError(`virsh create timed out after ${CREATE_TIMEOUT_MS / 1000} s`);
      if (r.code !== 0 && LIBVIRT_GONE.test(r.stderr)) {
        throw new RuntimeBackendError(`libvirtd unreachable during create: ${lastVirshError(r.stderr) ?? r.stderr.trim()}`);
      }
      entry.confirmed = true; // virsh create returned: the daemon is done with it, either way
      entry.held?.update(reapOrder(entry));
      if (r.code !== 0) {
        result = { kind: 'error', message: lastVirshError(r.stderr) ?? r.stderr.trim() };
      } else {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RuntimeBackendError(`reading ${name} took more than ${this.observeTimeoutMs / 1000} s`)), this.observeTimeoutMs);
        });
        t = performance.now();
        try {
          result = { kind: 'ok', value: await Promise.race([read({ name, uuid }), timeout]) };
        } finally {
          clearTimeout(timer);
          phases.read = (performance.now() - t) / 1000;
        }
      }
    } catch (e) {
      primary = e instanceof Error ? e : new Error(String(e));
    }
    rmSync(file, { force: true });
    const tDestroy = performance.now();
    try {
      await destroyIfOurs(entry);
    } catch (e) {
      // The entry stays registered: close(), the exit hook and the reaper try again.
      const msg = `${(e as Error).message} (left registered for cleanup)`;
      if (primary) primary.message += `; cleanup: ${msg}`;
      else primary = new RuntimeBackendError(msg);
    }
    phases.destroy = (performance.now() - tDestroy) / 1000;
    if (primary) throw primary;
    return result!;
  }

  /**
   * Start the domain paused, read both views, destroy it. Accelerator, decided by trying: in
   * 'auto' mode the guest is started as type='kvm' until one has started (then KVM for all) or
   * libvirt refused one for a KVM reason (message naming KVM: then TCG, type='qemu', for it and
   * all later ones). The input's own type is replaced either way: the facts do not depend on it.
   */
  async observe(xml: string, label = 'guest'): Promise<Observation> {
    const t0 = performance.now();
    const safeLabel = label.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
    const attempt = async (accel: Accel, why: string): Promise<Observation> => {
      const details: ObservationDetails = { accel, accelWhy: why, name: '', uuid: '', mappings: [], threadGroups: [], seconds: 0, phases: { create: 0, read: 0, destroy: 0 } };
      const r = await this.startAndRead(xml, safeLabel, accel === 'kvm' ? 'kvm' : 'qemu', (g) => {
        details.name = g.name;
        details.uuid = g.uuid;
        return this.read(g.name, g.uuid, details);
      }, details.phases);
      details.seconds = (performance.now() - t0) / 1000;
      return r.kind === 'ok' ? { kind: 'facts', facts: r.value, details } : { kind: 'error', message: r.message, details };
    };
    const known = this.accel();
    if (known) return attempt(known.accel, known.why);
    const o = await attempt('kvm', "type='kvm' guests start here");
    if (o.kind === 'facts') {
      this.decided ??= { accel: 'kvm', why: "a paused type='kvm' guest started" };
      return o;
    }
    if (!/\bkvm\b/i.test(o.message)) return o; // refused for another reason: undecided still
    this.decided = { accel: 'tcg', why: `libvirt refused type='kvm': ${o.message}` };
    return attempt('tcg', this.decided.why);
  }

  private async read(name: string, uuid: string, details: ObservationDetails): Promise<RuntimeFacts> {
    // QEMU's view, three QMP commands in one virsh run (one JSON reply per line).
    const qmp = await virshOk(this.uri, [
      `qemu-monitor-command ${uuid} '{"execute":"query-memdev"}'; qemu-monitor-command ${uuid} '{"execute":"query-cpus-fast"}'; `
      + `qemu-monitor-command ${uuid} '{"execute":"query-iothreads"}'; domid ${uuid}`]);
    const replies = qmp.split('\n').filter((l) => l.trim() !== '');
    if (replies.length !== 4) throw new RuntimeBackendError(`unexpected monitor replies: ${qmp.slice(0, 300)}`);
    const memdevRaw = JSON.parse(replies[0]).return as { id: string; size: number; policy: string; 'host-nodes': number[] }[];
    const cpus = JSON.parse(replies[1]).return as { 'cpu-index': number; 'thread-id': number }[];
    const iothreads = JSON.parse(replies[2]).return as { id: string; 'thread-id': number }[];
    details.domid = Number(replies[3]);
    const memdevs: MemdevFact[] = memdevRaw
      .map((m) => ({ id: m.id, size: m.size, policy: m.policy, host_nodes: nodesString(m['host-nodes'] ?? []) }))
      .sort((a, b) => naturalCompare(a.id, b.id));

    // Where QEMU put each backend in guest-physical space (every piece, both sides of 4 GiB).
    const mtree = await virshOk(this.uri, [`qemu-monitor-command ${uuid} --hmp 'info mtree -f'`]);
    const pieces = asBackendError(() => piecesOf(memdevs, parseFlatView(mtree)));
    const probes = probesOf(pieces.values());
    const hmp = await virshOk(this.uri, [probes.map((p) => `qemu-monitor-command ${uuid} --hmp 'gpa2hva ${hex(p)}'`).join('; ')]);
    const hvas = parseGpa2hva(hmp);

    // The kernel's view. The guest is paused: its mappings do not change while we read.
    const pid = findQemuPid(name);
    if (pid === null) throw new RuntimeBackendError(`no QEMU process found for ${name}`);
    details.pid = pid;
    const vmas = parseMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'));
    const numa = new Map<string, NumaMapsLine>();
    let stack: NumaMapsLine | undefined;
    for (const line of readFileSync(`/proc/${pid}/numa_maps`, 'utf8').split('\n')) {
      const p = parseNumaMapsLine(line);
      if (!p) continue;
      numa.set(p.start, p);
      if (/ stack( |$)/.test(line)) stack = p;
    }
    if (!stack) throw new RuntimeBackendError('no [stack] line in numa_maps');
    const processPolicy: PolicyFact = { policy: stack.policy, nodes: stack.nodes };

    const backends: BackendFact[] = [];
    for (const m of memdevs) {
      const found = asBackendError(() => mapBackend(m.id, m.size, pieces.get(m.id)!, hvas, vmas, numa));
      details.mappings.push(found.detail);
      backends.push(found.fact);
    }

    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const memsAllowed = /^Mems_allowed_list:\s*(.*)$/m.exec(status)?.[1].trim();
    if (memsAllowed === undefined) throw new RuntimeBackendError('no Mems_allowed_list in /proc/PID/status');

    const cpuset: Record<string, string> = {};
    const cg = cpusetCgroupOf(pid);
    if (cg) {
      const domainDir = cg.dir.endsWith('/emulator') ? cg.dir.slice(0, -'/emulator'.length) : null;
      if (!domainDir) throw new RuntimeBackendError(`QEMU's main thread is in ${cg.dir}, not an emulator thread group`);
      details.cgroup = { version: cg.version, dir: domainDir };
      for (const e of readdirSync(domainDir, { withFileTypes: true })) {
        if (e.isDirectory() && /^(emulator|vcpu\d+|iothread\d+)$/.test(e.name)) cpuset[e.name] = readMems(join(domainDir, e.name), cg.version);
      }
      const check = (group: string, tid: number): void => {
        const dir = join(domainDir, group);
        details.threadGroups.push({ group, tid, inGroup: existsSync(dir) && threadsOf(dir, cg.version).includes(tid) });
      };
      check('emulator', pid);
      for (const c of cpus) check(`vcpu${c['cpu-index']}`, c['thread-id']);
      for (const t of iothreads) check(t.id, t['thread-id']);
    }

    return {
      backends,
      cpuset_mems: Object.fromEntries(Object.entries(cpuset).sort(([a], [b]) => naturalCompare(a, b))),
      mems_allowed: memsAllowed,
      process_policy: processPolicy,
      qemu_memdev: memdevs,
    };
  }

  async close(): Promise<void> {
    await destroyAllRuntime();
    this.workDirHeld?.remove();
    this.workDir = null;
  }
}


