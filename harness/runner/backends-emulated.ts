// The emulated multi-node host (harness/emulated/) as backends of the runner: one VM per run,
// booted on first need and shared, with the project's own CLI running inside against the
// libvirt there. On that host (run-hosts.ts EMULATED): runtime@emulated observes the
// emulated-host runtime cases; libvirt@emulated runs the project's argv/xml inputs and libvirt's
// NUMA-family inputs through the libvirt inside, one batch call per operation; model@emulated is
// the model told the facts probed from that libvirt.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Outcome } from '../backends/types.js';
import { hold, processStartTime } from '../lifecycle/cleanup.js';
import type { HostFacts } from '../model/host-facts.js';
import type { BackendContext, BackendEntry } from './backend.js';
import type { Case } from './case.js';
import { readHosts, type HostTable } from './goldens.js';
import { committedFacts, describeHost, hostId } from './hosts.js';
import { batchInside, daemonHealth, isNoDaemon, restartImageDaemon } from './emulated-batch.js';
import { EMULATED, SID, type RunHost } from './run-hosts.js';
import { outsideVocabulary } from './pairs.js';
import { inSlice } from './time-slice.js';
import { RUNTIME_JOBS } from '../emulated/capacity.js';
import type { SeriesInside } from '../emulated/series-inside.js';

type Host = import('../emulated/vm.js').EmulatedHost;
const TOPOLOGY = 'mock8';
/** Which emulated image a backend boots: the 9.0.0 one or sid's (--host sid). */
type Image = import('../emulated/image.js').EmulatedImageId;
const RUN_HOST: Record<Image, RunHost> = { emulated: EMULATED, sid: SID };
const NAME: Record<Image, string> = { emulated: 'emulated host', sid: 'emulated sid host' };

/** The booted host, the model profile probed from the libvirt inside, and the options that point
 *  the CLI inside at that libvirt (a series build's private socket; none for the image's own). */
interface Booted { host: Host; profile: string; uriArgs: string[]; series?: SeriesInside }

/** An emulated host's VM in the cleanup registry: powered off on exit, killed by the reaper
 *  after a SIGKILL of the run. */
export function holdHost(host: Host, label: string): { drop(): void } {
  const pid = host.pid;
  return hold({
    label, order: 4,
    release: () => host.powerOff(),
    releaseSync: () => { host.kill(); return true; },
    ...(pid ? { reap: { kind: 'kill' as const, pid, startTime: processStartTime(pid) } } : {}),
  });
}

/** One boot per run, whoever asks first; its times go to the run's notes. Under a series the
 *  series' own build replaces the image's libvirt inside (harness/emulated/series-inside.ts). */
const booting = new Map<Image, Promise<Booted>>();
/** The VM itself up (restored or booted, libvirtd answering), before any series daemon or facts. */
const vmUp = new Map<Image, Promise<Host>>();
function emulatedHost(ctx: BackendContext, image: Image = 'emulated'): Promise<Booted> {
  let b = booting.get(image);
  if (b) return b;
  const up = (async () => {
    const { EmulatedHost } = await import('../emulated/vm.js');
    return EmulatedHost.boot({ topology: TOPOLOGY, image });
  })();
  vmUp.set(image, up);
  b = (async () => {
    const { ensureEmulatedFacts } = await import('../emulated/inside.js');
    const host = await up;
    const held = holdHost(host, `${NAME[image]} ${TOPOLOGY}`);
    host.onExit(() => held.drop());
    let series: SeriesInside | undefined;
    let started = '';
    if (ctx.series && image === 'emulated') {
      const { loadSeriesBuild } = await import('../series/manifest.js');
      const { seriesInsideOf, startSeriesInside } = await import('../emulated/series-inside.js');
      const b = loadSeriesBuild(ctx.series);
      if ('missing' in b) throw new Error(b.missing);
      series = seriesInsideOf(b);
      const s = await startSeriesInside(host, series);
      started = `, series build ${b.key} (${s.version || 'libvirtd'}) started inside in ${s.seconds.toFixed(1)} s`;
    }
    const profile = await ensureEmulatedFacts(host, false, series);
    ctx.notes.push(`${NAME[image]} ${TOPOLOGY} (kernel ${host.kernel}): ${host.describeStart()}${started}`);
    return { host, profile, uriArgs: series ? ['--uri', series.uri] : [], ...(series ? { series } : {}) };
  })();
  booting.set(image, b);
  return b;
}

/** The emulated VMs this run has begun to start (prepare() begins them), each settling when its
 *  VM answers or fails: the run lets them come up before the machine's own work (suite.ts). */
export function emulatedVmsStarting(): Promise<unknown>[] {
  return [...vmUp.values()];
}

/** `work` on the shared host. A VM that ends by itself meanwhile (a guest kernel panic under
 *  TCG was seen twice on CI machines) is named in the notes with its console's last words, a new
 *  host boots once, and `work` runs again from the start on it; a second death is the error. */
async function onHost<T>(ctx: BackendContext, what: string, work: (b: Booted) => Promise<T>, image: Image = 'emulated'): Promise<T> {
  const first = emulatedHost(ctx, image);
  const b = await first;
  try {
    return await work(b);
  } catch (e) {
    if (!b.host.ended) throw e;
    ctx.notes.push(`${NAME[image]}: the VM ended by itself during ${what} (${b.host.ended}: ${b.host.lastWords()}; console ${b.host.consoleLog}); a new one booted and ${what} ran again`);
    if (booting.get(image) === first) { booting.delete(image); vmUp.delete(image); }
    return work(await emulatedHost(ctx, image));
  }
}

/** Where a file of the project is inside the VM: the project is shared read-only at /project. */
function insidePath(root: string, file: string): string {
  const rel = relative(root, file);
  if (rel.startsWith('..')) throw new Error(`${file} is outside the project share`);
  return `/project/${rel}`;
}

/** The golden host table of the emulated host: its facts as probed inside once it has booted,
 *  against the committed golden hosts. */
export async function emulatedHostTable(ctx: BackendContext, image: Image = 'emulated'): Promise<HostTable> {
  const { host, profile } = await emulatedHost(ctx, image);
  const facts = committedFacts(JSON.parse(readFileSync(join(ctx.root, '.cache', 'profiles', `${profile}.json`), 'utf8')) as HostFacts);
  const table: HostTable = { live: { id: hostId(facts), facts }, known: readHosts(ctx.root) };
  ctx.meta?.hosts.push({ key: RUN_HOST[image].key, label: RUN_HOST[image].label, id: table.live.id, libvirt: facts.libvirtVersion, qemu: facts.qemuVersion, kernel: host.kernel, description: describeHost(facts), committed: table.known.has(table.live.id) });
  return table;
}

/** Why the emulated host cannot serve this run (left out, no real libvirt, no image), or null. */
export async function why(ctx: BackendContext, image: Image = 'emulated'): Promise<string | null> {
  if (image === 'sid') {
    if (!ctx.sid) return 'the sid host runs with --host sid only';
    if (ctx.series) return 'a series build runs inside the 9.0.0 emulated image only';
  } else if (!ctx.emulated) return ctx.sid ? 'left out: --host sid runs the sid host instead (one emulated VM at a time)' : 'left out by --no-emulated';
  if (ctx.realDisabled) return ctx.realDisabled;
  const { findImage, EmulatedUnavailable } = await import('../emulated/vm.js');
  try {
    findImage(image);
    return null;
  } catch (e) {
    if (e instanceof EmulatedUnavailable) return e.message;
    throw e;
  }
}

/** The host is shared: each backend made holds it, and it powers off when the last one closes
 *  (a backend whose cases are done closes while the other's may still run). */
const users = new Map<Image, number>();
function shareHost(image: Image = 'emulated'): () => Promise<void> {
  users.set(image, (users.get(image) ?? 0) + 1);
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    const left = (users.get(image) ?? 1) - 1;
    users.set(image, left);
    if (left > 0) return;
    const b = booting.get(image);
    booting.delete(image);
    vmUp.delete(image);
    if (b) await b.then(({ host }) => host.powerOff(), () => undefined);
  };
}

/** libvirt@emulated, libvirt@sid: the project's argv/xml inputs (and, on the 9.0.0 image,
 *  libvirt's NUMA-family inputs) through the libvirt inside that image, one batch per operation. */
function libvirtOn(image: Image): BackendEntry {
  return {
    id: `libvirt@${image}`, limit: () => 1,
    async make(ctx) {
      const reason = await why(ctx, image);
      if (reason) return { reason };
      const results = new Map<string, Outcome>();
      const closeHost = shareHost(image);
      const name = NAME[image];
      let done: Promise<void> = Promise.resolve();
      const fill = async (cases: Case[]): Promise<void> => {
        // One CLI call inside per operation for every input: node starts once under TCG, not per
        // file. Inputs are read through the project's share (/project), not copied in.
        let mine = cases.filter((c) => (c.op === 'argv' || c.op === 'xml') && RUN_HOST[image].accepts(c) && !c.host);
        if (!mine.length) return;
        // The VM's start begins now, before the first await: the run lets it come up first (long-pole.ts).
        emulatedHost(ctx, image).catch(() => undefined);
        // libvirt's registrations of the release before (the sid host's) go in only where the
        // model told this host's facts takes them: their one pair is against that model, and an
        // input costs the daemon about half a second under TCG. The model selects, nothing more:
        // what the daemon answers is its own.
        if (mine.some((c) => c.source === 'libvirt')) {
          const { runModel } = await import('../backends/model.js');
          const { profile } = await emulatedHost(ctx, image);
          mine = mine.filter((c) => {
            if (c.source !== 'libvirt') return true;
            const outside = outsideVocabulary(runModel(c.op as 'argv' | 'xml', readFileSync(c.input), profile));
            if (!outside) return true;
            results.set(`${c.op} ${insidePath(ctx.root, c.input)}`, { kind: 'skip', reason: `${outside}; not sent to the daemon` });
            return false;
          });
        }
        for (const op of ['argv', 'xml'] as const) {
          const paths = [...new Set(mine.filter((c) => c.op === op).map((c) => insidePath(ctx.root, c.input)))];
          if (paths.length) await onHost(ctx, `the ${op} batch`, (booted) => runOp(booted, op, paths), image);
        }
      };
      const runOp = async (booted: Booted, op: 'argv' | 'xml', paths: string[]): Promise<void> => {
        const t0 = performance.now();
        let batch = await batchInside(booted, op, paths);
        // Inputs the daemon inside never answered (it stopped, or was not there): what the host
        // says about it goes to the notes; the daemon is started again once and only those
        // inputs run again. An input that stops it each time stays an error, with the reason.
        const noAnswer = (r: Map<string, Outcome>) => (f: string): boolean => !r.has(f) || isNoDaemon(r.get(f)!);
        const unanswered = paths.filter(noAnswer(batch.results));
        if (unanswered.length) {
          const health = await daemonHealth(booted);
          ctx.notes.push(`${name}: the libvirt inside answered no ${op} result for ${unanswered.length} of ${paths.length} inputs (batch exit ${batch.code}${batch.said ? `: ${batch.said}` : ''}); ${health}`);
          if (booted.series) {
            const { startSeriesInside } = await import('../emulated/series-inside.js');
            await startSeriesInside(booted.host, booted.series);
          } else ctx.notes.push(`${name}: ${await restartImageDaemon(booted)}`);
          // The inputs the daemon died on (it hung up mid-answer) go last: one that crashes it
          // again then costs no other input its answer.
          const died = (f: string): boolean => { const o = batch.results.get(f); return o?.kind === 'error' && /End of file while reading data|Cannot recv data/.test(o.message); };
          const again = await batchInside(booted, op, [...unanswered.filter((f) => !died(f)), ...unanswered.filter(died)]);
          for (const [f, o] of again.results) batch.results.set(f, o);
          const still = unanswered.filter(noAnswer(again.results));
          ctx.notes.push(`${name}: ${unanswered.length - still.length} of ${unanswered.length} answered after the libvirt inside was started again${still.length ? `; ${still.length} still unanswered (${await daemonHealth(booted)})` : ''}`);
          batch = { ...batch, said: batch.said || again.said };
        }
        for (const f of paths) {
          results.set(`${op} ${f}`, batch.results.get(f) ?? { kind: 'error', message: `the libvirt inside the ${name} gave nothing for this input (batch exit ${batch.code}${batch.said ? `: ${batch.said}` : ''})` });
        }
        ctx.notes.push(`${name}: ${paths.length} ${op} inputs through the libvirt inside in one call, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      };
      return {
        id: `libvirt@${image}`, ops: ['argv', 'xml'],
        unavailable: async () => null,
        prepare(cases) {
          // Started, not awaited: the machine's backends run meanwhile; run() waits for it.
          done = fill(cases);
          done.catch(() => undefined);
          return Promise.resolve();
        },
        async run(c): Promise<Outcome> {
          await done;
          const o = results.get(`${c.op} ${insidePath(ctx.root, c.input)}`);
          if (!o) throw new Error(`the libvirt inside the ${name} gave nothing for ${c.op} ${relative(ctx.root, c.input)}`);
          return o;
        },
        close: closeHost,
      };
    },
  };
}

/** model@emulated, model@sid: the model with the facts probed from the libvirt inside that image
 *  (profile emulated-TOPOLOGY[-KEY] or emulated-sid-TOPOLOGY), whose libvirt release picks the
 *  behaviour switches and whose QEMU the capability profile (libvirt-versions.json hostCaps). The
 *  sid host runs the project's argv/xml cases only: no runtime cases there. */
function modelOn(image: Image): BackendEntry {
  return {
    id: `model@${image}`, limit: () => 1,
    async make(ctx) {
      const reason = await why(ctx, image);
      if (reason) return { reason };
      const { runModel } = await import('../backends/model.js');
      const { predictEmulatedCase } = await import('../runtime/compare.js');
      const { emulatedSpecs } = await import('../emulated/case-doc.js');
      const specs = image === 'emulated' ? emulatedSpecs(ctx.root) : {};
      const closeHost = shareHost(image);
      return {
        id: `model@${image}`, ops: image === 'emulated' ? ['argv', 'xml', 'runtime'] : ['argv', 'xml'],
        unavailable: async () => null,
        async run(c): Promise<Outcome> {
          const { profile } = await emulatedHost(ctx, image);
          return inSlice((): Outcome => {
            if (c.op !== 'runtime') return runModel(c.op, readFileSync(c.input), profile);
            // Which node each page lands on is the kernel's choice at the time, not a prediction.
            if (specs[c.name]?.pages === 'exact') return { kind: 'error', message: "not modelled: per-node page counts ('pages': 'exact' in cases/emulated/cases.json)" };
            return predictEmulatedCase(readFileSync(c.input), profile);
          });
        },
        close: closeHost,
      };
    },
  };
}

export const EMULATED_BACKENDS: BackendEntry[] = [
  {
    // All the run's emulated runtime cases go inside in one CLI call, RUNTIME_JOBS guests at once
    // (harness/emulated/capacity.ts): node starts once under TCG, not per case. prepare() starts
    // the call and returns, so the machine's own backends run meanwhile.
    id: 'runtime@emulated', limit: () => RUNTIME_JOBS,
    async make(ctx) {
      const reason = await why(ctx);
      if (reason) return { reason };
      const { InsideKilled, runRuntimeBatch } = await import('../emulated/inside.js');
      const { checkWithin, emulatedSpecs, goldenDoc, stable } = await import('../emulated/case-doc.js');
      const specs = emulatedSpecs(ctx.root);
      const closeHost = shareHost();
      let batch: Promise<Map<string, { stdout: string; stderr: string; code: number }>> | null = null;
      let note = '';
      return {
        id: 'runtime@emulated', ops: ['runtime'],
        unavailable: async () => null,
        async prepare(cases) {
          const mine = cases.filter((c) => c.op === 'runtime' && c.host === 'emulated');
          if (!mine.length) return;
          batch = onHost(ctx, 'the runtime cases', async ({ host, profile, uriArgs }) => {
            const inputs = mine.map((c) => ({ name: c.name, data: readFileSync(c.input) }));
            try {
              const b = await runRuntimeBatch(host, inputs, { profile, uriArgs, jobs: RUNTIME_JOBS });
              note = `emulated host: ${mine.length} runtime cases in one call inside, ${RUNTIME_JOBS} guests at once, ${b.seconds.toFixed(0)} s`;
              return b.results;
            } catch (e) {
              if (!(e instanceof InsideKilled)) throw e;
              // The harness's own process was the victim, not a case: the batch runs once more,
              // one guest at a time (less memory inside), and the note says why. A second kill is the error.
              const b = await runRuntimeBatch(host, inputs, { profile, uriArgs, jobs: 1 });
              note = `emulated host: ${e.message}; the ${mine.length} runtime cases ran again one guest at a time, ${b.seconds.toFixed(0)} s`;
              return b.results;
            }
          });
          batch.catch(() => undefined); // each run() reports it
        },
        async run(c): Promise<Outcome> {
          if (!batch) throw new Error(`runtime case ${c.id} was not in the emulated host's batch`);
          const r = (await batch).get(c.name);
          if (!r) throw new Error(`runtime case ${c.id} was not in the emulated host's batch`);
          let out: { observed: unknown; run?: { mappings?: { id: string; pages: Record<string, number> }[] } } = { observed: undefined };
          try { out = JSON.parse(r.stdout); } catch {
            if (r.code !== 2) throw new Error(`no JSON from runtime inside the emulated host (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`);
          }
          ctx.meta?.emulatedRuntime.push({ id: c.id, mappings: out.run?.mappings ?? [], ...(r.code === 2 ? { refused: r.stderr.trim().split('\n').pop() ?? '' } : {}) });
          const spec = specs[c.name] ?? { why: '' };
          const doc = goldenDoc(spec, out, r.stderr, r.code) as Record<string, unknown>;
          // 'within' is a check, not a fact: a violation shows up as a field the golden lacks.
          const within = spec.pages === 'within' && r.code !== 2 ? checkWithin(out as never) : undefined;
          if (within) doc.within_violation = within;
          return { kind: 'ok', text: stable(doc) };
        },
        async close() {
          if (note) ctx.notes.push(note);
          await closeHost();
        },
      };
    },
  },
  libvirtOn('emulated'),
  libvirtOn('sid'),
  modelOn('emulated'),
  modelOn('sid'),
];
