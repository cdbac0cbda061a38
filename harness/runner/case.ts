// What a test case is, whichever directory it came from.
import type { Operation as TextOperation } from '../backends/types.js';

export type Operation = TextOperation | 'runtime';
export type CaseSource = 'project' | 'libvirt';

/** What the reference says should happen. */
export type Expectation =
  | { kind: 'text'; file: string }            // .args or xml2xml output, byte for byte
  | { kind: 'error'; file: string }           // .err: the one-line libvirt message
  | { kind: 'error-any' }                     // DO_TEST_FAILURE without an .err file
  | { kind: 'golden' };                       // the project's golden/, chosen per host at run time

export interface Case {
  source: CaseSource;
  /** Case name as libvirt/the project names it ("numatune-memnode"). */
  name: string;
  op: Operation;
  profile: string;
  /** Unique id used in reports and for --case globbing ("libvirt/xml2argv/numatune-memnode.x86_64-latest"). */
  id: string;
  input: string;
  expect: Expectation;
  /** Why the case exists (runtime cases say what they show). */
  why?: string;
  /** Where it runs when not on this machine: the emulated multi-node host (mock8), or its
   *  tiered topology (tiering cells, one boot per kernel). */
  host?: 'emulated' | 'tiered';
  /** libvirt cases: true for the named NUMA family (every backend); false beyond it, where the
   *  model runs only when it does not refuse the input as "not modelled" (libvirtCases(tree, false)). */
  family?: boolean;
  /** Set when the model cannot take the case's profile (a libvirt release or capabilities it does
   *  not cover, e.g. "model covers libvirt 9.0.0 and 11.3.0"): the model's pairs are skipped with
   *  this reason while the other backends (the tree's own tests) still run the case. */
  modelWhy?: string;
}
