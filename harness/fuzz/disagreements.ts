// A disagreement's second life: shrunk with fast-check by replaying its descriptor (replay.ts:
// the arbitrary, its seed and the path) against the private daemon (within a budget of libvirt runs), then written as a project case whose
// goldens come from the real libvirt.
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import type { Operation, Outcome } from '../backends/types.js';
import { hostFactsPath } from '../profiles/load.js';
import { bless, goldenPath, writeAtomic } from '../runner/goldens.js';
import { liveHostId } from '../runner/hosts.js';
import type { Options } from './options.js';
import type { DaemonPool, RealResult } from './pool.js';
import { renderDomain } from './render.js';
import { arbitraryOf, describeReplay, type Replay } from './replay.js';
import type { DomainSpec } from './spec.js';
import { causeOp, isNotModelled, judge, model, normaliseMessage, opCause, opVerdict, OPS } from './verdicts.js';

/** A crash where an outcome is wanted (shrinking a disagreement, writing its case): not it. */
const outcomeOf = (r: RealResult): Outcome | null => (r.kind === 'crash' ? null : r);



export interface Shrunk {
  index: number;
  signature: string;
  spec: DomainSpec;
  /** How to get the shrunk domain back: the run's descriptor with the shrink steps on its path. */
  replay: Replay;
  shrinks: number;
  libvirtRuns: number;
}

/** The property whose counterexamples are domains with `signature`; replays domain `index` of the run by its descriptor. */
export async function shrink(pool: DaemonPool, w: number, replay: Replay, index: number, original: string, signature: string, budget: number): Promise<Shrunk> {
  const op = causeOp(signature);
  const modelError = /^\w+: model error '(.*)' where libvirt succeeds$/.exec(signature)?.[1];
  const textDiff = signature.includes(": output differs: ");
  let calls = 0;
  let libvirtRuns = 0;
  let fatal: unknown;
  const prop = fc.asyncProperty(arbitraryOf(replay.source), async (spec) => {
    const xml = renderDomain(spec);
    if (calls++ === 0 && xml !== original) {
      fatal = new Error(`replaying #${index} (${describeReplay(replay)}) gave another domain than the run did`);
    }
    if (fatal !== undefined || libvirtRuns >= budget) return true;
    // Cheap first: the model's side, where the cause says what it is.
    const mod = model(op, xml);
    if (isNotModelled(mod)) return true;
    if (modelError !== undefined && (mod.kind !== 'error' || normaliseMessage(mod.message) !== modelError)) return true;
    if (textDiff && mod.kind !== 'ok') return true;
    libvirtRuns++;
    let realOut: Outcome | null;
    try {
      realOut = outcomeOf(await pool.run(w, { index: -1, op, xml }, false));
    } catch (e) {
      fatal = e;
      return true;
    }
    if (!realOut) return true; // a shrink step that kills the daemon is another finding
    const still = opVerdict(realOut, mod).verdict === 'disagree' && opCause(op, realOut, mod) === signature;
    return !still;
  });
  const details = await fc.check(prop, { seed: replay.seed, path: replay.path, numRuns: 1 });
  if (fatal !== undefined) throw fatal;
  if (!details.failed || !details.counterexample) {
    throw new Error(`replaying #${index} (${describeReplay(replay)}) did not reproduce the disagreement (${signature})`);
  }
  const shrunk = { ...replay, path: details.counterexamplePath ?? replay.path };
  return { index, signature, spec: details.counterexample[0], replay: shrunk, shrinks: details.numShrinks, libvirtRuns };
}

// ---------------------------------------------------------------------------------------------
// Writing cases

export interface Written {
  name: string;
  file: string;
  goldens: string[];
  signature: string;
  diffs: string[];
  from: number;
  replay: Replay;
  shrinks: number;
  libvirtRuns: number;
  xml: string;
}

export async function writeCase(pool: DaemonPool, w: number, o: Options, s: Shrunk): Promise<Written> {
  const body = renderDomain(s.spec);
  const name = `fuzz-${createHash('sha256').update(body).digest('hex').slice(0, 10)}`;
  // No "--" inside an XML comment.
  const text = `<!-- from the fuzzer: npm run fuzz with seed ${o.seed}; replay: ${describeReplay(s.replay)}; the model and libvirt disagree (${causeOp(s.signature)}) -->\n${body}`;
  const realOut = {} as Record<Operation, Outcome>;
  const modOut = {} as Record<Operation, Outcome>;
  for (const op of OPS) {
    const r = outcomeOf(await pool.run(w, { index: -1, op, xml: text }));
    if (!r) throw new Error(`the shrunk case ${name} kills libvirtd; not written as a comparison case`);
    realOut[op] = r;
    modOut[op] = model(op, text);
  }
  const r = judge(s.index, realOut, modOut);
  const file = join(o.out, `${name}.xml`);
  const goldens: string[] = [];
  if (o.write) {
    writeAtomic(file, text);
    const goldenRoot = dirname(o.out);
    for (const op of OPS) {
      const out = realOut[op];
      if (out.kind === 'skip') continue;
      bless(goldenRoot, op, name, liveHostId(hostFactsPath), out);
      goldens.push(goldenPath(goldenRoot, op, name, liveHostId(hostFactsPath), out.kind));
    }
  }
  return { name, file, goldens, signature: s.signature, diffs: r.diffs, from: s.index, replay: s.replay, shrinks: s.shrinks, libvirtRuns: s.libvirtRuns, xml: body };
}
