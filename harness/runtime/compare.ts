// The model's runtime prediction as one stable JSON document (the runner compares it with the
// observation through harness/runner/compare.ts, like every other pair).
import { readXml } from '../xml/read.js';
import { loadProfile } from '../profiles/load.js';
import { NotModelledError } from '../model/errors.js';
import { outcomeDocument, predictRuntimeXml, stableJson, type RuntimeOutcome } from '../model/runtime-predict.js';

/** The model's prediction for a domain XML as a stable JSON document. */
export function predictDocument(xmlText: string | Uint8Array, profileName = 'host'): { outcome: RuntimeOutcome | null; doc: unknown; text: string } {
  try {
    const outcome = predictRuntimeXml(readXml(xmlText), loadProfile(profileName));
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

