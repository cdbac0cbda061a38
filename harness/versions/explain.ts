// Which of the model's named switches explains a difference between two releases: the model
// must reproduce both releases' real outputs on the input, and then each behaviour switch that
// differs between the releases is flipped alone on the older release's profile; the switches
// whose flip changes the model's output are the explanation. What no switch moves but the
// model still reproduces comes from the capability data (QEMU's version, machine types).
import { runModelWith } from '../backends/model.js';
import type { Operation, Outcome } from '../backends/types.js';
import type { Behaviour, Profile } from '../model/profile.js';
import { hostProfile, ProfileError } from '../profiles/load.js';
import type { HostFacts } from '../model/host-facts.js';
import { compare } from '../runner/compare.js';
import { PROJECT_RULES } from '../runner/rules.js';

export type Explanation =
  | { kind: 'switches'; switches: string[] }
  | { kind: 'capabilities' }
  | { kind: 'unexplained'; why: string };

/** The model's profile for a committed host, or why the model has none (a release it lacks). */
export function modelProfileOf(facts: HostFacts): Profile | { missing: string } {
  try {
    return hostProfile(facts);
  } catch (e) {
    // "libvirt 12.8.0 is not modelled: …" says it all in its first clause.
    if (e instanceof ProfileError) return { missing: e.message.split(':')[0] };
    throw e;
  }
}

const reproduces = (real: Outcome, model: Outcome): boolean => real.kind !== 'skip' && compare(real, model, ['real', 'model'], PROJECT_RULES).same;
const sameOutcome = (a: Outcome, b: Outcome): boolean =>
  a.kind === b.kind && (a.kind === 'ok' ? a.text === (b as { text: string }).text : a.kind === 'error' ? a.message === (b as { message: string }).message : true);

export function explain(op: Operation, input: string, older: { real: Outcome; profile: Profile | { missing: string } }, newer: { real: Outcome; profile: Profile | { missing: string } }): Explanation {
  if ('missing' in older.profile) return { kind: 'unexplained', why: older.profile.missing };
  if ('missing' in newer.profile) return { kind: 'unexplained', why: newer.profile.missing };
  const a = older.profile;
  const b = newer.profile;
  const ma = runModelWith(op, input, a);
  const mb = runModelWith(op, input, b);
  if (!reproduces(older.real, ma)) return { kind: 'unexplained', why: 'the model differs from the older release here' };
  if (!reproduces(newer.real, mb)) return { kind: 'unexplained', why: 'the model differs from the newer release here' };
  const switches: string[] = [];
  for (const key of Object.keys(b.behaviour) as (keyof Behaviour)[]) {
    if (a.behaviour[key] === b.behaviour[key]) continue;
    const flipped: Profile = { ...a, behaviour: { ...a.behaviour, [key]: b.behaviour[key] } };
    if (!sameOutcome(runModelWith(op, input, flipped), ma)) switches.push(key);
  }
  return switches.length ? { kind: 'switches', switches: switches.sort() } : { kind: 'capabilities' };
}

export function explanationText(e: Explanation): string {
  return e.kind === 'switches' ? e.switches.join(', ') : e.kind === 'capabilities' ? '(capability data: QEMU, machine types)' : `unexplained (${e.why})`;
}
