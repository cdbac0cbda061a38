// The model as a backend: same contract as the real libvirt, computed in process.
import { LibvirtError, NotModelledError, xmlErrorText } from '../model/errors.js';
import { xml2argv, xml2xml } from '../model/pipeline.js';
import { loadProfile, ProfileError } from '../profiles/load.js';
import { readXml, XmlReadError } from '../xml/read.js';
import type { Profile } from '../model/profile.js';
import type { Backend, Operation, Outcome } from './types.js';

/** Run one operation; every expected failure becomes a one-line error outcome. */
export function runModel(op: Operation, input: Uint8Array | string, profileName: string): Outcome {
  return runModelWith(op, input, () => loadProfile(profileName));
}

/** The same with a profile object (or its loader): the version report varies one switch at a time. */
export function runModelWith(op: Operation, input: Uint8Array | string, load: Profile | (() => Profile)): Outcome {
  let profile: Profile | null = null;
  try {
    profile = typeof load === 'function' ? load() : load;
    const root = readXml(input);
    const text = op === 'argv' ? xml2argv(root, profile) : xml2xml(root, profile);
    return { kind: 'ok', text };
  } catch (e) {
    if (e instanceof XmlReadError) return { kind: 'error', message: xmlErrorText(e.message.split('\n')[0], !!profile?.behaviour.xmlErrorsAtLine) };
    if (e instanceof LibvirtError || e instanceof NotModelledError || e instanceof ProfileError)
      return { kind: 'error', message: e.message.split('\n')[0] };
    throw e; // a bug in the model: let it surface
  }
}

export class ModelBackend implements Backend {
  readonly name = 'model' as const;
  async unavailable(): Promise<string | null> {
    return null;
  }
  async argv(xmlText: string, profile: string): Promise<Outcome> {
    return runModel('argv', xmlText, profile);
  }
  async xml(xmlText: string, profile: string): Promise<Outcome> {
    return runModel('xml', xmlText, profile);
  }
  async close(): Promise<void> {}
}
