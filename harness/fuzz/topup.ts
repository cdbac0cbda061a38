// The top-up: after the main draw, a few more domains for each catalogue message the draw missed
// and a fault aims at. The main draw picks a fault uniformly for a third of its domains (about
// 6 domains per fault at 2,000), so on a seed nobody tried some fault is never drawn, or drawn
// only into domains where an earlier error wins, and `--require-reach` would fail by chance.
// The top-up gives each such message its own small stream: tamed domains with exactly that
// fault (k drawn), from a seed derived from the run's seed and the message. Same run seed, same
// misses, same top-up domains.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Fault } from './faults.js';
import { FAULTS } from './faults.js';
import { rawDomainSpec } from './generate.js';
import { missed, type Reach } from './reach.js';
import type { DomainSpec } from './spec.js';
import { tame, type TameHost } from './tame.js';

/**
 * Top-up domains per missed message (`--top-up`). Every fault not exempt here makes the model
 * say its message on at least 85% of tamed domains (171/200 for the least, 'Number of CPUs in
 * <numa> exceeds the <vcpu> count', on this machine's host profile), so 8 domains all miss with
 * odds under 0.15^8 ≈ 3e-7; the cost is about 8 × 2 libvirt calls per missed message.
 */
export const TOP_UP_PER_AIM = 8;

/** The fault aimed at `aim` (faults.ts holds one per message), or undefined. */
export const faultFor = (aim: string): Fault | undefined => FAULTS.find((f) => f.aim === aim);

/** A tamed domain with exactly the fault aimed at `aim` (k drawn as in the main mix). */
export function topUpSpecFor(host: TameHost, aim: string): fc.Arbitrary<DomainSpec> {
  const fault = faultFor(aim);
  if (!fault) throw new Error(`no fault aims at '${aim}'`);
  return fc.tuple(fc.noBias(fc.nat(7)), rawDomainSpec)
    .map(([k, s]) => ({ ...fault.apply(tame(s, host), k), share: 'top-up' as const, aim }));
}

/**
 * The seed of a message's top-up stream: a hash of the run's seed and the message's words (not
 * the fault's position in FAULTS, so adding a fault changes no other stream). A 32-bit integer,
 * as fast-check's seeds are.
 */
export function topUpSeed(runSeed: number, aim: string): number {
  return createHash('sha256').update(`${runSeed}\n${aim}`).digest().readInt32BE(0);
}

/** The messages to top up after the main draw: missed there, not exempt, and aimed at by a fault. */
export const topUpAims = (reached: Reach[]): string[] => missed(reached).map((r) => r.template).filter((t) => faultFor(t) !== undefined);
