// One interface for everything that produces an outcome for a case: the model, the real libvirt
// (the host's, a series build's, later an emulated host's), real guests, a tree's own test
// programs. The runner only ever sees this shape; a new backend is one entry in backends.ts.
import type { Outcome } from '../backends/types.js';
import type { Case, Operation } from './case.js';
import type { SuiteMeta } from '../reporters/run-meta.js';

export interface CaseBackend {
  /** The name pairs and reports use ("model", "libvirt", "runtime", "tree-tests", …). */
  readonly id: string;
  /** Operations it can run; other cases are not applicable to it. */
  readonly ops: readonly Operation[];
  /** Why it cannot run here, or null when it can. */
  unavailable(): Promise<string | null>;
  /** A batch step before any run() (a tree's test program runs once for all cases). */
  prepare?(cases: Case[]): Promise<void>;
  /** The outcome for one case. Throwing means the backend broke (reported as a failure);
   *  libvirt refusing the input is an outcome of kind 'error'. */
  run(c: Case): Promise<Outcome>;
  /** Stop everything it started. Safe to call twice. */
  close(): Promise<void>;
}

/** At most `limit` run() calls in flight per backend (a virsh session serialises anyway;
 *  guests are bounded by cores and memory). */
export interface BackendEntry {
  id: string;
  limit: (jobs: number) => number;
  make(ctx: BackendContext): Promise<CaseBackend | { reason: string }>;
}

export interface BackendContext {
  root: string;
  /** libvirt connection of the real side (a series build's private daemon, or the system one). */
  uri?: string;
  series: string | null;
  /** Set when the real side must not run (--no-libvirt, simulated --host-facts). */
  realDisabled: string | null;
  /** The emulated host may be booted (not --no-emulated). */
  emulated: boolean;
  /** --host sid: the emulated sid host (libvirt 12.8) may be booted. */
  sid?: boolean;
  /** The tiering cells may run (--tiering). */
  tiering: boolean;
  /** The profile of libvirt's tests whose expected files fit the real libvirt and QEMU. */
  realProfile: string;
  /** Lines for the run's summary (timings of their own, e.g. the emulated host's). */
  notes: string[];
  /** The run's metadata for the HTML report (hosts, page counts, tiering cells), where kept. */
  meta?: SuiteMeta;
}
