// Execution: every selected case through the pairs that apply to it, each outcome computed once
// per case and backend, bounded per backend. The result is a list of verdicts; every failure,
// of whatever kind (a pair that differs, a missing golden, a backend that threw), is one.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Outcome } from '../backends/types.js';
import type { CaseBackend } from './backend.js';
import type { Case } from './case.js';
import { compare, expectedOf, type Expected as ExpectedOutcome } from './compare.js';
import { bless, chooseGolden, type GoldenChoice, type HostTable } from './goldens.js';
import { PAIRS, rulesFor, type Pair, type PairContext } from './pairs.js';
import { HOSTS, type RunHost } from './run-hosts.js';
import { normalise, type Rule } from './rules.js';
import type { Verdict } from '../reporters/verdict.js';
import { inSlice } from './time-slice.js';


/** Does --regenerate bless this case's goldens in the run? The project's own cases, except the
 *  emulated host's runtime cases and the tiering cells, which are blessed by their own commands
 *  (say so as skips). Backends prepare only these cases then: nothing boots for the others. */
export function blessedByRun(c: Case): boolean {
  return c.source === 'project' && c.host !== 'emulated' && c.host !== 'tiered';
}

export interface Plan {
  root: string;
  /** The machine's golden hosts: the live one and the committed ones. */
  hosts: HostTable;
  /** Other hosts of the run by key (the emulated host's facts are known once it has booted). */
  hostTables?: Record<string, () => Promise<HostTable>>;
  /** The hosts of the run (default: run-hosts.ts HOSTS). */
  runHosts?: RunHost[];
  /** Ready backends, or why one cannot run. */
  backends: Map<string, CaseBackend | { reason: string }>;
  pairs?: Pair[];
  ctx: PairContext;
  extraRules: Rule[];
  knownGaps: Record<string, string>;
  regenerate: boolean;
  /** Why the model has no `host` profile here (a libvirt release it does not cover), or null. */
  hostModelWhy: string | null;
  /** Which role blesses each kind of project golden (the host's backend playing it). */
  blessFrom: Record<Case['op'], 'libvirt' | 'runtime'>;
}

type Got = { outcome: Outcome } | { threw: string } | { unavailable: string };

/** A semaphore per backend: at most n run() calls at once. */
export class Limiter {
  private active = 0;
  private queue: (() => void)[] = [];
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try { return await fn(); } finally { this.active--; this.queue.shift()?.(); }
  }
}

export const rerunCommand = (c: Case): string => `npm test -- --case '${c.id}'`;

function saveActual(root: string, c: Case, backend: string, o: Outcome): string {
  const ext = o.kind !== 'ok' ? 'err' : c.op === 'argv' ? 'args' : c.op === 'xml' ? 'xml' : 'json';
  const file = join(root, '.cache', 'actual', `${c.id}.${backend}.${ext}`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, o.kind === 'ok' ? o.text : o.kind === 'error' ? o.message + '\n' : `skip: ${o.reason}\n`);
  return file;
}

export interface CaseResult {
  verdicts: Verdict[];
  blessed: string[];
  used: string[];
  /** Seconds the backends spent on this case (queueing excluded): what shards balance on. */
  seconds: number;
  /** The same, per backend (the report's durations per backend). */
  backendMs: Record<string, number>;
  /** The golden host of each golden file the case was held to (the report's "golden hosts used"). */
  goldenHosts: string[];
}

export async function executeCase(c: Case, plan: Plan, limits: Map<string, Limiter>): Promise<CaseResult> {
  let busyMs = 0;
  const backendMs: Record<string, number> = {};
  const goldenHosts: string[] = [];
  const got = new Map<string, Promise<Got>>();
  const outcome = (id: string): Promise<Got> => {
    let p = got.get(id);
    if (!p) {
      const b = plan.backends.get(id);
      p = !b ? Promise.resolve({ unavailable: `no backend '${id}' in this run` })
        : 'reason' in b ? Promise.resolve({ unavailable: b.reason })
        : !b.ops.includes(c.op) ? Promise.resolve({ unavailable: `backend ${id} does not run ${c.op} cases` })
        : limits.get(id)!.run(async () => {
          const t0 = performance.now();
          try { return await b.run(c); } finally {
            const ms = performance.now() - t0;
            busyMs += ms;
            backendMs[id] = (backendMs[id] ?? 0) + ms;
          }
        }).then((o) => ({ outcome: o }), (e: Error) => ({ threw: e.message.split('\n')[0] }));
      got.set(id, p);
    }
    return p;
  };
  // Every case starts at once (suite.ts): their reads and comparisons take turns with I/O.
  const input = await inSlice(() => readFileSync(c.input, 'utf8'));
  const verdicts: Verdict[] = [];
  const blessed: string[] = [];
  const used: string[] = [];
  const verdict = (pair: string, status: Verdict['status'], extra: Partial<Verdict> = {}): void => {
    verdicts.push({ id: c.id, pair, status, rerun: rerunCommand(c), ms: 0, ...extra });
  };

  // The case's own reference: libvirt's expected file, or the golden chosen for the host a pair
  // runs on (each host has its golden host table; another host's is known once it has booted).
  const tables = new Map<string, Promise<HostTable | { unavailable: string }>>();
  const tableOf = (h: RunHost): Promise<HostTable | { unavailable: string }> => {
    let p = tables.get(h.key);
    if (!p) {
      const lazy = h.key ? plan.hostTables?.[h.key] : undefined;
      p = !h.key ? Promise.resolve(plan.hosts)
        : lazy ? lazy().catch((e: Error) => ({ unavailable: `no golden host for ${h.label}: ${e.message.split('\n')[0]}` }))
        : Promise.resolve({ unavailable: `no golden host table for ${h.label} in this run` });
      tables.set(h.key, p);
    }
    return p;
  };
  const choices = new Map<string, Promise<GoldenChoice | { kind: 'unavailable'; reason: string } | null>>();
  const choiceOn = (h: RunHost): Promise<GoldenChoice | { kind: 'unavailable'; reason: string } | null> => {
    let p = choices.get(h.key);
    if (!p) {
      p = c.expect.kind !== 'golden' ? Promise.resolve(null) : tableOf(h).then((t) => {
        if ('unavailable' in t) return { kind: 'unavailable' as const, reason: t.unavailable };
        const ch = chooseGolden(plan.root, t, c.op, c.name, input);
        if (ch.kind === 'file') { used.push(ch.file); goldenHosts.push(ch.host); }
        return ch;
      });
      choices.set(h.key, p);
    }
    return p;
  };
  const hostsOfCase = (plan.runHosts ?? HOSTS).filter((h) => h.accepts(c));

  if (plan.regenerate) {
    if (c.source !== 'project') return { verdicts, blessed, used, seconds: 0, backendMs, goldenHosts };
    if (c.host === 'emulated') {
      verdict('bless', 'skip', { detail: `the emulated host's goldens are blessed inside it: node dist/emulated/run-cases.js --bless ${c.name}` });
      return { verdicts, blessed, used, seconds: 0, backendMs, goldenHosts };
    }
    if (c.host === 'tiered') {
      verdict('bless', 'skip', { detail: 'the tiering cells are blessed by the matrix: npm run tiering -- --bless' });
      return { verdicts, blessed, used, seconds: 0, backendMs, goldenHosts };
    }
    for (const h of hostsOfCase) {
      const from = h.backends[plan.blessFrom[c.op]];
      const pair = `bless${h.key ? `@${h.key}` : ''}`;
      if (!from) continue;
      const g = await outcome(from);
      if ('unavailable' in g) { verdict(pair, 'skip', { detail: `cannot bless from ${from}: ${g.unavailable}` }); continue; }
      if ('threw' in g) { verdict(pair, 'fail', { detail: `backend ${from} threw: ${g.threw}` }); continue; }
      if (g.outcome.kind === 'skip') { verdict(pair, 'skip', { detail: g.outcome.reason }); continue; }
      const table = await tableOf(h);
      if ('unavailable' in table) { verdict(pair, 'skip', { detail: table.unavailable }); continue; }
      const choice = await choiceOn(h);
      // Fork only where this host differs: a golden from another host that still holds stays.
      const holds = choice?.kind === 'file' && choice.host !== table.live.id
        && compare(expectedOf({ kind: 'golden-file', file: choice.file }, c.op), g.outcome, ['golden', from], rulesFor(PAIRS[0], plan.extraRules)).same;
      // A series daemon's private paths never reach a golden: its rules are applied first.
      const o = g.outcome;
      const neutral = o.kind === 'ok' ? { kind: 'ok' as const, text: normalise(o.text, plan.extraRules).text } : { kind: 'error' as const, message: normalise(o.message, plan.extraRules).text };
      if (!holds) blessed.push(...bless(plan.root, c.op, c.name, table.live.id, neutral));
      verdict(pair, 'pass', { detail: holds && choice?.kind === 'file' ? `golden of ${choice.host} holds here` : `blessed from ${from}` });
    }
    return { verdicts, blessed, used, seconds: busyMs / 1000, backendMs, goldenHosts };
  }

  const last: { choice: GoldenChoice | null } = { choice: null };
  const reference = async (h: RunHost): Promise<ExpectedOutcome | { skip: string } | { missing: string }> => {
    if ((c.expect.kind === 'text' || c.expect.kind === 'error') && !existsSync(c.expect.file)) return { missing: c.expect.file };
    if (c.expect.kind !== 'golden') return expectedOf(c.expect, c.op);
    const choice = await choiceOn(h);
    last.choice = choice && choice.kind !== 'unavailable' ? choice : null;
    if (!choice) return { skip: 'no golden' };
    if (choice.kind === 'unavailable') return { skip: choice.reason };
    if (choice.kind === 'skip') return { skip: choice.reason };
    if (choice.kind === 'missing') return { missing: choice.file };
    return expectedOf({ kind: 'golden-file', file: choice.file }, c.op);
  };

  for (const p of plan.pairs ?? PAIRS) {
    const applies = p.applies(c, plan.ctx);
    if (applies === false) continue;
    if (typeof applies === 'string') { verdict(p.id, 'skip', { detail: applies }); continue; }
    const modelInvolved = p.actual.startsWith('model') || (p.expected.from === 'backend' && p.expected.id.startsWith('model'));
    // The machine's host profile (another host's model backend says its own profile's problem).
    const modelWhy = c.modelWhy ?? (!p.host.key && (c.profile === 'host' || p.actual === 'model(host)') ? plan.hostModelWhy : null);
    if (modelInvolved && modelWhy) { verdict(p.id, 'skip', { detail: modelWhy }); continue; }
    const a = await outcome(p.actual);
    if ('unavailable' in a) { verdict(p.id, 'skip', { detail: `${p.actual} backend: ${a.unavailable}` }); continue; }
    if ('threw' in a) { verdict(p.id, 'fail', { detail: `backend ${p.actual} threw: ${a.threw}` }); continue; }
    if (a.outcome.kind === 'skip') { verdict(p.id, 'skip', { detail: a.outcome.reason }); continue; }
    let expected: ExpectedOutcome;
    let label: string;
    if (p.expected.from === 'reference') {
      const r = await reference(p.host);
      if ('skip' in r) { verdict(p.id, 'skip', { detail: r.skip }); continue; }
      if ('missing' in r) { verdict(p.id, 'fail', { detail: `no golden file ${r.missing}: bless it with ${c.host === 'emulated' ? `node dist/emulated/run-cases.js --bless ${c.name}` : `npm test -- --regenerate --case '${c.name}'`}` }); continue; }
      expected = r;
      label = c.expect.kind === 'golden' ? 'golden' : c.expect.kind === 'error-any' ? 'libvirt failure'
        // A file of a libvirt tree (tests/…) or one of the project's own goldens (golden/…).
        : c.expect.file.includes('/tests/') ? `libvirt ${c.expect.file.split('/tests/')[1]}` : `golden ${c.expect.file.split('/golden/').pop()}`;
    } else if (p.expected.from === 'backend') {
      const e = await outcome(p.expected.id);
      if ('unavailable' in e) { verdict(p.id, 'skip', { detail: `${p.expected.id} backend: ${e.unavailable}` }); continue; }
      if ('threw' in e) { verdict(p.id, 'fail', { detail: `backend ${p.expected.id} threw: ${e.threw}` }); continue; }
      if (e.outcome.kind === 'skip') { verdict(p.id, 'skip', { detail: e.outcome.reason }); continue; }
      expected = e.outcome;
      label = p.expected.id;
    } else {
      expected = { kind: 'ok', text: 'OK\n' };
      label = 'pass';
    }
    const late = p.skipAfter?.('kind' in expected && expected.kind !== 'error-any' ? expected as Outcome : null, a.outcome, c);
    if (late) { verdict(p.id, 'skip', { detail: late }); continue; }
    const v = await inSlice(() => compare(expected, a.outcome, [label, p.actual], rulesFor(p, plan.extraRules)));
    if (!v.same) saveActual(plan.root, c, p.actual, a.outcome);
    const gap = p.modelSide && c.source === 'project' ? plan.knownGaps[c.name] ?? plan.knownGaps[`${c.name}:${c.op}`] : undefined;
    if (gap && v.same) verdict(p.id, 'fail', { detail: `known gap now matches: remove '${c.name}' from cases/known-gaps.json` });
    else if (gap && a.outcome.kind === 'error' && a.outcome.message.startsWith('not modelled:')) verdict(p.id, 'todo', { detail: gap });
    else verdict(p.id, v.same ? 'pass' : 'fail', { diff: v.diff, rules: v.rules, detail: p.expected.from === 'reference' && last.choice?.kind === 'file' ? last.choice.note : undefined });
  }
  for (const v of verdicts) v.ms = busyMs / verdicts.length;
  return { verdicts, blessed, used, seconds: busyMs / 1000, backendMs, goldenHosts };
}
