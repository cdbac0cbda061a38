// The hosts a run judges cases on. A host is a dimension of the run, not a suffix written into
// backend and pair names one by one: each host says which of its backends plays each role (the
// real libvirt, real guests, the model told that host's facts, …) and which cases run there;
// the pairs (pairs.ts) are declared once and instantiated per host. The machine's pair ids stay
// bare ("golden-vs-libvirt"); another host's carry its key ("golden-vs-libvirt@emulated").
import type { Case } from './case.js';

/** What a backend does in a pair, whichever host it runs on. */
export type Role = 'model' | 'model(host)' | 'model(tests)' | 'libvirt' | 'runtime' | 'tiering' | 'tree-tests';

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
  /** Pairs (by template id) that mean nothing on this host: not instantiated there at all. */
  omit?: string[];
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

/** The libvirt registrations the sid host runs: 11.3.0's for its newest QEMU. */
export const SID_TEST_PROFILE = 'x86_64-latest@11.3.0';

/** The emulated sid host (scripts/build-emulated-sid.sh: Debian sid's libvirt 12.8 and QEMU 11.1,
 *  kernel 7.2, topology mock8): only with --host sid, and then instead of `emulated` (one emulated
 *  VM at a time: two TCG VMs on this 2-core machine risk a guest double fault). The real libvirt
 *  and the model told the facts probed inside (libvirt 12.8.0, capability profile
 *  x86_64-11.1.0@12.8.0; issue 22 part 2) play here; libvirt's own expected files are those of
 *  other releases. The project's argv/xml cases are judged against goldens forked for its host
 *  id, as on any other host. */
export const SID: RunHost = {
  key: 'sid',
  label: 'the emulated sid host (mock8; libvirt 12.8, QEMU 11.1, kernel 7.2)',
  backends: { model: 'model@sid', 'model(tests)': 'model@sid', libvirt: 'libvirt@sid' },
  // There are no 12.x test files: the release before's inputs (libvirt 11.3.0's registrations
  // for its newest QEMU, those inside the model's vocabulary) go through the real 12.8 daemon
  // and the 12.8 model instead (issue 22 part 2), judged one against the other.
  accepts: (c) => !c.host && c.op !== 'runtime' && (c.source === 'project' || (c.source === 'libvirt' && c.profile === SID_TEST_PROFILE)),
  // 11.3.0's expected files describe 11.3.0's test environment, not this daemon.
  omit: ['libvirt-tests-vs-libvirt'],
};

/** The hosts of a default run (the sid host joins with --host sid: runHosts). */
export const HOSTS: RunHost[] = [MACHINE, EMULATED];

/** The hosts of a run with these options: --host sid swaps the 9.0.0 emulated host for sid. */
export function runHosts(o: { sid?: boolean }): RunHost[] {
  return o.sid ? [MACHINE, SID] : HOSTS;
}

export const pairIdOn = (template: string, host: RunHost): string => (host.key ? `${template}@${host.key}` : template);
