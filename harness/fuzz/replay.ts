// How to get one generated domain back: the arbitrary that made it, that arbitrary's seed, and
// fast-check's path to the value (its run index, then shrink steps). The main draw and each
// top-up stream (topup.ts) are arbitraries of their own with seeds of their own, so a domain's
// index in the run says nothing by itself: shrinking (disagreements.ts, crashes.ts) and the
// case files' header comments go through this descriptor.
import fc from 'fast-check';
import { loadProfile } from '../profiles/load.js';
import type { DomainSpec } from './spec.js';
import { topUpSpecFor } from './topup.js';
import { hostDomainSpec, PROFILE } from './verdicts.js';

/** Which arbitrary: the run's mix (generate.ts domainSpecFor) or the top-up aimed at one message. */
export type Source = { kind: 'main' } | { kind: 'top-up'; aim: string };

export interface Replay {
  source: Source;
  /** The arbitrary's fast-check seed (the run's --seed for the main draw). */
  seed: number;
  /** fast-check's path: the run index, then the shrink steps ('351:0:0:1'). */
  path: string;
}

/** The arbitrary a source names, for the live host (as the run generated it). */
export function arbitraryOf(source: Source): fc.Arbitrary<DomainSpec> {
  if (source.kind === 'main') return hostDomainSpec();
  return topUpSpecFor({ kvm: loadProfile(PROFILE).flags.kvm }, source.aim);
}

/** The first `count` values of a source's stream, exactly as fc.check generates them (so a path replays one). */
export function draw(source: Source, seed: number, count: number): { specs: DomainSpec[]; replays: Replay[] } {
  const specs: DomainSpec[] = [];
  fc.check(fc.property(arbitraryOf(source), (s) => { specs.push(s); }), { seed, numRuns: count });
  return { specs, replays: specs.map((_, i) => ({ source, seed, path: String(i) })) };
}

/** The one domain a descriptor names (a run index, or a shrunk value further down its path). */
export function replayDomain(r: Replay): DomainSpec {
  let found: DomainSpec | undefined;
  // With a path, fast-check's first value is the one at the path's end (its shrink steps walked).
  fc.check(fc.property(arbitraryOf(r.source), (s) => { found ??= s; }), { seed: r.seed, path: r.path, numRuns: 1 });
  if (!found) throw new Error(`replaying ${describeReplay(r)} found no value`);
  return found;
}

/** Words for a header comment or a report line (no "--": they go inside XML comments). */
export function describeReplay(r: Replay): string {
  const where = `fast-check seed ${r.seed}, path ${r.path}`;
  const text = r.source.kind === 'main' ? `main draw, ${where}` : `top-up aimed at "${r.source.aim}", ${where}`;
  return text.replace(/-{2,}/g, '-');
}
