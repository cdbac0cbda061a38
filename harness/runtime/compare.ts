// Prediction, golden and observation as one stable JSON document each, compared as text and
// explained with a unified diff (as harness/runner/compare.ts does for argv and XML).
import { createTwoFilesPatch } from 'diff';
import { readXml } from '../xml/read.js';
import { loadProfile } from '../profiles/load.js';
import { NotModelledError } from '../model/errors.js';
import { outcomeDocument, predictRuntimeXml, stableJson, type RuntimeOutcome } from '../model/runtime-predict.js';
import type { Observation } from '../backends/runtime.js';

export interface RuntimeVerdict { same: boolean; diff?: string }

export function compareDocs(expected: string, actual: string, labels: [string, string]): RuntimeVerdict {
  if (expected === actual) return { same: true };
  return { same: false, diff: createTwoFilesPatch(labels[0], labels[1], expected, actual, '', '', { context: 3 }) };
}

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

export function observedDocument(o: Observation): unknown {
  return o.kind === 'facts' ? o.facts : { error: o.message };
}
