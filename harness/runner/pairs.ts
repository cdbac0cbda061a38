// The comparison pairs, as data: what is expected (a golden, libvirt's own expected file, or
// another backend's outcome), which backend's outcome is judged against it, the named rules
// applied to both sides, and which cases the pair applies to.
import type { Case } from './case.js';
import type { Rule } from './rules.js';
import { LIBVIRT_TESTS_VS_MODEL_RULES, LIBVIRT_TESTS_VS_REAL_RULES, PROJECT_RULES, RUNTIME_RULES } from './rules.js';
import type { Outcome } from '../backends/types.js';

/** Where the expected side comes from. */
export type Expected =
  | { from: 'reference' }          // the case's own reference: golden/ or libvirt's expected file
  | { from: 'backend'; id: string } // another backend's outcome on the same case
  | { from: 'pass' };              // a test program that must pass

export interface PairContext {
  /** The profile whose capabilities this host's QEMU has (libvirt's own files for it compare). */
  realProfile: string;
}

export interface Pair {
  id: string;
  expected: Expected;
  actual: string;
  rules: 'project' | 'libvirt-tests' | 'libvirt-tests-model' | 'runtime' | 'none';
  /** Does the pair apply (true), not at all (false), or as a skip with this reason? */
  applies(c: Case, ctx: PairContext): boolean | string;
  /** A skip decided once both sides are known (the host lacks what the case needs). */
  skipAfter?(expected: Outcome | null, actual: Outcome, c: Case): string | null;
  /** Known gaps (cases/known-gaps.json) turn a 'not modelled' refusal into a todo. */
  modelSide?: boolean;
}

const project = (c: Case): boolean => c.source === 'project' && c.op !== 'runtime';
const theirs = (c: Case): boolean => c.source === 'libvirt';
/** libvirt's NUMA family runs on every backend; its other registrations on the model only. */
const theirFamily = (c: Case): boolean => theirs(c) && c.family !== false;

export const PAIRS: Pair[] = [
  { id: 'golden-vs-model', expected: { from: 'reference' }, actual: 'model', rules: 'project', applies: project, modelSide: true },
  { id: 'golden-vs-libvirt', expected: { from: 'reference' }, actual: 'libvirt', rules: 'project', applies: project },
  { id: 'libvirt-vs-model', expected: { from: 'backend', id: 'libvirt' }, actual: 'model', rules: 'project', applies: project, modelSide: true },

  {
    id: 'libvirt-tests-vs-model', expected: { from: 'reference' }, actual: 'model', rules: 'libvirt-tests-model', applies: theirs,
    // Beyond the NUMA family, an input the model refuses as outside its vocabulary is not a run.
    skipAfter: (_e, actual, c) => c.family === false && actual.kind === 'error' && actual.message.startsWith('not modelled:') ? `outside the model's vocabulary (${actual.message})` : null,
  },
  {
    id: 'libvirt-tests-vs-libvirt', expected: { from: 'reference' }, actual: 'libvirt', rules: 'libvirt-tests',
    applies: (c, ctx) => !theirFamily(c) ? false
      : c.profile !== ctx.realProfile ? `expected file is for profile ${c.profile}; ${ctx.realProfile === 'none' ? "no profile of libvirt's tests is this host's libvirt and QEMU" : `this host's libvirt and QEMU are ${ctx.realProfile}`}`
      : c.op === 'xml' ? 'xml2xml test outputs skip post-parse steps the daemon runs (machine alias, default CPU)'
      : true,
    skipAfter: (expected, actual) => {
      const lacking = actual.kind === 'error' ? /NUMA node (\d+) is unavailable/.exec(actual.message) : null;
      return lacking && expected?.kind === 'ok' ? `host lacks NUMA node ${lacking[1]}` : null;
    },
  },
  { id: 'libvirt-vs-model(host)', expected: { from: 'backend', id: 'libvirt' }, actual: 'model(host)', rules: 'project', applies: theirFamily, modelSide: true },

  { id: 'golden-vs-runtime', expected: { from: 'reference' }, actual: 'runtime', rules: 'runtime', applies: (c) => c.op === 'runtime' && !c.host },
  { id: 'runtime-vs-model', expected: { from: 'backend', id: 'runtime' }, actual: 'model', rules: 'none', applies: (c) => c.op === 'runtime' && !c.host, modelSide: true },

  // The emulated multi-node host: its own runtime cases, and libvirt's NUMA-family inputs on a
  // host with the NUMA nodes libvirt's tests assume (no "host lacks NUMA node" skips there).
  { id: 'golden-vs-tiering@emulated', expected: { from: 'reference' }, actual: 'tiering@emulated', rules: 'none', applies: (c) => c.host === 'tiered' },
  { id: 'golden-vs-runtime@emulated', expected: { from: 'reference' }, actual: 'runtime@emulated', rules: 'runtime', applies: (c) => c.host === 'emulated' },
  {
    id: 'libvirt-tests-vs-libvirt@emulated', expected: { from: 'reference' }, actual: 'libvirt@emulated', rules: 'libvirt-tests',
    applies: (c, ctx) => !theirFamily(c) || c.op !== 'argv' ? false
      : c.profile !== ctx.realProfile ? `expected file is for profile ${c.profile}; the emulated host runs the machine's libvirt and QEMU (${ctx.realProfile})`
      : true,
  },

  { id: 'tree-tests', expected: { from: 'pass' }, actual: 'tree-tests', rules: 'none', applies: (c) => theirFamily(c) && c.op !== 'runtime' },
];

export function rulesFor(p: Pair, extra: Rule[]): Rule[] {
  const base = p.rules === 'project' ? PROJECT_RULES : p.rules === 'libvirt-tests' ? LIBVIRT_TESTS_VS_REAL_RULES
    : p.rules === 'libvirt-tests-model' ? LIBVIRT_TESTS_VS_MODEL_RULES : p.rules === 'runtime' ? RUNTIME_RULES : [];
  return [...base, ...extra];
}
