// The hosts a run judges cases on. A host is a dimension of the run, not a suffix written into
// backend and pair names one by one: each host says which of its backends plays each role (the
// real libvirt, real guests, the model told that host's facts, …) and which cases run there;
// the pairs (pairs.ts) are declared once and instantiated per host. The machine's pair ids stay
// bare ("golden-vs-libvirt"); another host's carry its key ("golden-vs-libvirt@emulated").
import type { Case } from './case.js';

/** What a backend does in a pair, whichever host it runs on. */
export type Role = 'model' | 'model(host)' | 'libvirt' | 'runtime' | 'tiering' | 'tree-tests';

export interface RunHost {
  /** '' for the machine; otherwise the suffix of its pair ids and the name the summary groups by. */
  key: string;
  /** Human description for the summary. */
  label: string;
  /** The backend id playing each role here; a role the host lacks has no pairs here. */
  backends: Partial<Record<Role, string>>;
  /** The cases judged on this host. */
  accepts(c: Case): boolean;
  /** Pairs (by template id) this host reports as skipped, with the reason. */
  skips?: Record<string, string>;
}

const isFamily = (c: Case): boolean => c.source === 'libvirt' && c.family !== false;

/** This machine: its libvirt and guests, every case that names no other host. */
export const MACHINE: RunHost = {
  key: '',
  label: 'this machine',
  backends: { model: 'model', 'model(host)': 'model(host)', libvirt: 'libvirt', runtime: 'runtime', 'tree-tests': 'tree-tests' },
  accepts: (c) => !c.host,
};

/** The emulated multi-node host (harness/emulated/, topology mock8): the same libvirt inside a
 *  TCG VM with 8 NUMA nodes, no KVM and another kernel. The project's xml2argv/xml2xml cases and
 *  libvirt's NUMA family run there as on the machine, against goldens forked for its host id
 *  where its facts differ; its own runtime cases (cases/emulated/) and the tiering cells
 *  (topology `tiered`) run only there. */
export const EMULATED: RunHost = {
  key: 'emulated',
  label: 'the emulated multi-node host (mock8)',
  backends: { model: 'model@emulated', 'model(host)': 'model@emulated', libvirt: 'libvirt@emulated', runtime: 'runtime@emulated', tiering: 'tiering@emulated' },
  accepts: (c) => c.host === 'emulated' || c.host === 'tiered' || (!c.host && c.op !== 'runtime' && (c.source === 'project' || isFamily(c))),
};

export const HOSTS: RunHost[] = [MACHINE, EMULATED];

export const pairIdOn = (template: string, host: RunHost): string => (host.key ? `${template}@${host.key}` : template);
