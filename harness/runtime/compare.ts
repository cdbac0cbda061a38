// The model's runtime prediction as one stable JSON document (the runner compares it with the
// observation through harness/runner/compare.ts, like every other pair).
import { readXml } from '../xml/read.js';
import { loadProfile } from '../profiles/load.js';
import { NotModelledError } from '../model/errors.js';
import { outcomeDocument, predictRuntimeXml, stableJson, type RuntimeOutcome } from '../model/runtime-predict.js';
import type { Outcome } from '../backends/types.js';
import type { Profile } from '../model/profile.js';
import { hugePagesPart } from '../neutral/runtime-facts.js';

/** The model's prediction for a domain XML as a stable JSON document. */
export function predictDocument(xmlText: string | Uint8Array, profileName: string | Profile = 'host'): { outcome: RuntimeOutcome | null; doc: unknown; text: string } {
  try {
    const outcome = predictRuntimeXml(readXml(xmlText), typeof profileName === 'string' ? loadProfile(profileName) : profileName);
    const doc = outcomeDocument(outcome);
    return { outcome, doc, text: stableJson(doc) };
  } catch (e) {
    if (e instanceof NotModelledError || (e as Error).name === 'XmlReadError' || (e as Error).name === 'ProfileError') {
      const doc = { error: (e as Error).message.split('\n')[0] };
      return { outcome: null, doc, text: stableJson(doc) };
    }
    throw e;
  }
}


/** The prediction of an emulated-host runtime case in the shape its goldens have: the facts under
 *  "observed", or the start error. Per-node page counts are the kernel's choice at the time: a
 *  prediction never has them, so a case that compares them ('pages': 'exact') differs. A domain
 *  outside the vocabulary is the model's refusal. */
export function predictEmulatedCase(xmlText: string | Uint8Array, profileName: string | Profile): Outcome {
  const p = predictDocument(xmlText, profileName);
  if (!p.outcome) return { kind: 'error', message: (p.doc as { error: string }).error };
  if (p.outcome.kind === 'error') return { kind: 'ok', text: stableJson({ error: p.outcome.message }) };
  return { kind: 'ok', text: stableJson({ observed: p.outcome.facts, ...hugePagesPart(p.outcome.pageKiB) }) };
}
