// The model for the CLI, without libxml2 on the common path: input that only libxml2 may read
// (errors, other encodings) is handed to backends/model.ts's runModel, loaded on that first
// need. Outcomes are runModel's: the same functions, the same error classes, one line each.
import type { Operation, Outcome } from '../backends/types.js';
import { LibvirtError, NotModelledError, xmlErrorText } from '../model/errors.js';
import { xml2argv, xml2xml } from '../model/pipeline.js';
import { loadProfile, ProfileError } from '../profiles/load.js';
import { Libxml2Needed, readXmlStrict, XmlReadError } from '../xml/strict-read.js';

export async function runModelLazily(op: Operation, input: Uint8Array, profileName: string): Promise<Outcome> {
  let profile: ReturnType<typeof loadProfile> | null = null;
  try {
    profile = loadProfile(profileName);
    const root = readXmlStrict(input);
    return { kind: 'ok', text: op === 'argv' ? xml2argv(root, profile) : xml2xml(root, profile) };
  } catch (e) {
    if (e instanceof Libxml2Needed) {
      const { runModel } = await import('../backends/model.js');
      return runModel(op, input, profileName);
    }
    if (e instanceof XmlReadError) return { kind: 'error', message: xmlErrorText(e.message.split('\n')[0], !!profile?.behaviour.xmlErrorsAtLine) };
    if (e instanceof LibvirtError || e instanceof NotModelledError || e instanceof ProfileError)
      return { kind: 'error', message: e.message.split('\n')[0] };
    throw e; // a bug in the model: let it surface
  }
}
