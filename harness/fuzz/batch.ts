// A run's domains and both sides' answers, kept by index: the main draw first, then the top-up
// (topup.ts) appended, each domain with the descriptor that replays it (replay.ts). The model
// answers as a domain is added; the real libvirt answers on the pool's sessions, one worker per
// session, whatever order they finish in.
import type { Operation, Outcome } from '../backends/types.js';
import type { DaemonPool, RealResult } from './pool.js';
import { renderDomain } from './render.js';
import { Rechecker } from './recheck.js';
import type { Replay } from './replay.js';
import type { Counts } from './report.js';
import type { DomainSpec } from './spec.js';
import { judge, model, normaliseMessage, OPS, type Result } from './verdicts.js';

/**
 * Run `fn` over 0..n-1 with one worker per session; results by index. A worker's error stops
 * the hand-out of new indexes, and is thrown only once every worker has finished: nothing keeps
 * sending to the pool after this returns (the caller may close it next).
 */
export async function overSessions<T>(pool: DaemonPool, n: number, fn: (w: number, i: number) => Promise<T>, progress?: (done: number) => void): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  let done = 0;
  let failed = false;
  const settled = await Promise.allSettled(Array.from({ length: pool.jobs }, async (_, w) => {
    for (;;) {
      const i = next++;
      if (i >= n || failed) return;
      try {
        out[i] = await fn(w, i);
      } catch (e) {
        failed = true;
        throw e;
      }
      progress?.(++done);
    }
  }));
  const first = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (first) throw first.reason;
  return out;
}

function bump(c: Counts, msg: string, col: number): void {
  let row = c.get(msg);
  if (!row) c.set(msg, (row = [0, 0, 0, 0]));
  row[col]++;
}

export class Batch {
  readonly specs: DomainSpec[] = [];
  readonly replays: Replay[] = [];
  readonly xmls: string[] = [];
  readonly models: Record<Operation, Outcome>[] = [];
  /** libvirt's answers (null: not answered, a crash or infrastructure). */
  readonly realOut: (Record<Operation, Outcome> | null)[] = [];
  readonly results: Result[] = [];
  /** Error message (numbers folded) -> [model argv, model xml, libvirt argv, libvirt xml]. */
  readonly errors: Counts = new Map();
  /** libvirt's first error per domain. */
  readonly refusedBy = new Map<string, number>();
  /** Infrastructure failures: a skip with its reason, never an end of the run. */
  readonly infra: string[] = [];
  /** Disagreements judged again on a fresh daemon as they are met (recheck.ts). */
  readonly rechecker = new Rechecker();

  /** Render and model the domains; returns their index range. */
  add(specs: DomainSpec[], replays: Replay[]): { from: number; to: number } {
    const from = this.specs.length;
    specs.forEach((s, k) => {
      const xml = renderDomain(s);
      this.specs.push(s);
      this.replays.push(replays[k]);
      this.xmls.push(xml);
      const m = { argv: model('argv', xml), xml: model('xml', xml) };
      this.models.push(m);
      this.realOut.push(null);
      OPS.forEach((op, c) => { if (m[op].kind === 'error') bump(this.errors, normaliseMessage((m[op] as { message: string }).message), c); });
    });
    return { from, to: this.specs.length };
  }

  /** The real libvirt on domains from..to-1 (a private daemon, replaced whenever it dies), judged against the model. */
  async runLibvirt(pool: DaemonPool, from: number, to: number, progress?: (done: number) => void): Promise<void> {
    const out = await overSessions(pool, to - from, (w, k) => this.one(pool, w, from + k), progress);
    out.forEach((r, k) => { this.results[from + k] = r; });
  }

  private async one(pool: DaemonPool, w: number, i: number): Promise<Result> {
    const r = {} as Record<Operation, Outcome>;
    for (const op of OPS) {
      let out: RealResult;
      try {
        out = await pool.run(w, { index: i, op, xml: this.xmls[i] });
      } catch (e) {
        this.infra.push(`#${i} ${op}: ${(e as Error).message.split('\n')[0]}`);
        return { index: i, verdict: 'skip', ops: { argv: 'skip', xml: 'skip' }, diffs: [] };
      }
      if (out.kind === 'crash') return { index: i, verdict: 'crash', ops: { argv: op === 'argv' ? 'crash' : 'skip', xml: op === 'xml' ? 'crash' : 'skip' }, diffs: [] };
      r[op] = out;
    }
    this.realOut[i] = r;
    OPS.forEach((op, c) => { if (r[op].kind === 'error') bump(this.errors, normaliseMessage((r[op] as { message: string }).message), 2 + c); });
    const first = OPS.map((op) => r[op]).find((x) => x.kind === 'error');
    if (first && first.kind === 'error') this.refusedBy.set(normaliseMessage(first.message), (this.refusedBy.get(normaliseMessage(first.message)) ?? 0) + 1);
    const res = judge(i, r, this.models[i]);
    if (res.verdict === 'disagree') {
      try {
        await this.rechecker.check(pool, this, res);
      } catch (e) {
        this.infra.push(`#${i} re-run on a fresh daemon: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    return res;
  }

  /** The model's errors beside libvirt's answer on the same domain and operation (reach.ts), over domains 0..to-1. */
  said(to = this.specs.length): { model: string; libvirt: string | null }[] {
    return this.models.slice(0, to).flatMap((mo, i) => OPS.flatMap((op) => {
      const m = mo[op];
      const r = this.realOut[i]?.[op];
      return m.kind === 'error' && r ? [{ model: m.message, libvirt: r.kind === 'error' ? r.message : null }] : [];
    }));
  }

  /** Per faulted domain in from..to-1 that libvirt answered: its aim and libvirt's errors (reach.ts aimsMet). */
  aimed(from: number, to: number): { aim: string; libvirt: (string | null)[] }[] {
    const out: { aim: string; libvirt: (string | null)[] }[] = [];
    for (let i = from; i < to; i++) {
      const x = this.specs[i];
      const r = this.realOut[i];
      if (x.aim && r) out.push({ aim: x.aim, libvirt: OPS.map((op) => (r[op].kind === 'error' ? (r[op] as { message: string }).message : null)) });
    }
    return out;
  }
}
