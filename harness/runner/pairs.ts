// The comparison pairs, as data: what is expected (a golden, libvirt's own expected file, or
// another backend's outcome), which backend's outcome is judged against it, the named rules
// applied to both sides, and which cases the pair applies to.
import type { Case } from './case.js';
import type { Rule } from './rules.js';
import { LIBVIRT_TESTS_VS_MODEL_RULES, LIBVIRT_TESTS_VS_REAL_RULES, PROJECT_RULES, RUNTIME_RULES } from './rules.js';
import type { Outcome } from '../backends/types.js';
import { HOSTS, pairIdOn, type Role, type RunHost } from './run-hosts.js';

/** Where the expected side comes from. */
export type Expected =
  | { from: 'reference' }          // the case's own reference: golden/ or libvirt's expected file
  | { from: 'backend'; id: string } // another backend's outcome on the same case
  | { from: 'pass' };              // a test program that must pass

export interface PairContext {
  /** The profile whose capabilities the host's QEMU has (libvirt's own files for it compare). */
  realProfile: string;
}

type RuleSet = 'project' | 'libvirt-tests' | 'libvirt-tests-model' | 'runtime' | 'none';

/** A pair as declared: roles, not backends; run-hosts.ts instantiates it per host. */
export interface PairTemplate {
  id: string;
  expected: { from: 'reference' } | { from: 'backend'; role: Role } | { from: 'pass' };
  actual: Role;
  rules: RuleSet;
  /** Does the pair apply (true), not at all (false), or as a skip with this reason? */
  applies(c: Case, ctx: PairContext): boolean | string;
  /** A skip decided once both sides are known (the host lacks what the case needs). */
  skipAfter?(expected: Outcome | null, actual: Outcome, c: Case): string | null;
  /** Known gaps (cases/known-gaps.json) turn a 'not modelled' refusal into a todo. */
  modelSide?: boolean;
  /** The same on every host (libvirt's expected files against the model with their own profile,
   *  the tree's own test programs): judged once, on the machine. */
  hostIndependent?: boolean;
}

/** A pair on one host: the backends that play its roles there. */
export interface Pair extends Omit<PairTemplate, 'expected' | 'actual'> {
  template: string;
  host: RunHost;
  expected: Expected;
  actual: string;
}

/** A model answer that is a refusal as outside its vocabulary, as a skip reason; else null. */
export const outsideVocabulary = (o: Outcome): string | null =>
  o.kind === 'error' && o.message.startsWith('not modelled:') ? `outside the model's vocabulary (${o.message})` : null;

const project = (c: Case): boolean => c.source === 'project' && c.op !== 'runtime';
const theirs = (c: Case): boolean => c.source === 'libvirt';
/** libvirt's NUMA family runs on every backend; its other registrations on the model only. */
const theirFamily = (c: Case): boolean => theirs(c) && c.family !== false;

export const PAIR_TEMPLATES: PairTemplate[] = [
  { id: 'golden-vs-model', expected: { from: 'reference' }, actual: 'model', rules: 'project', applies: project, modelSide: true },
  { id: 'golden-vs-libvirt', expected: { from: 'reference' }, actual: 'libvirt', rules: 'project', applies: project },
  { id: 'libvirt-vs-model', expected: { from: 'backend', role: 'libvirt' }, actual: 'model', rules: 'project', applies: project, modelSide: true },

  {
    id: 'libvirt-tests-vs-model', expected: { from: 'reference' }, actual: 'model', rules: 'libvirt-tests-model', applies: theirs, hostIndependent: true,
    // Beyond the NUMA family, an input the model refuses as outside its vocabulary is not a run.
    skipAfter: (_e, actual, c) => (c.family === false ? outsideVocabulary(actual) : null),
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
  { id: 'libvirt-vs-model(host)', expected: { from: 'backend', role: 'libvirt' }, actual: 'model(host)', rules: 'project', applies: theirFamily, modelSide: true },
  // An older release's registrations through a newer host's real libvirt (the sid host: 11.3.0's
  // inputs, 12.8's daemon), against the model told that host's facts; only hosts with the role.
  {
    id: 'libvirt-vs-model(tests)', expected: { from: 'backend', role: 'libvirt' }, actual: 'model(tests)', rules: 'project', applies: theirs, modelSide: true,
    skipAfter: (expected, actual) => {
      const outside = outsideVocabulary(actual);
      if (outside) return outside;
      // A helper program the host lacks (virtiofsd): the daemon's answer is about the host.
      const lacking = expected?.kind === 'error' ? /cannot execute binary (\S+): No such file or directory/.exec(expected.message) : null;
      return lacking ? `host lacks ${lacking[1]}` : null;
    },
  },

  { id: 'golden-vs-runtime', expected: { from: 'reference' }, actual: 'runtime', rules: 'runtime', applies: (c) => c.op === 'runtime' && c.host !== 'tiered' },
  // The runtime rules here too: which path of libvirt words a QEMU that exits is timing.
  { id: 'runtime-vs-model', expected: { from: 'backend', role: 'runtime' }, actual: 'model', rules: 'runtime', applies: (c) => c.op === 'runtime' && c.host !== 'tiered', modelSide: true },
  // The tiering cells: the emulated host's tiered topology, one boot per kernel.
  { id: 'golden-vs-tiering', expected: { from: 'reference' }, actual: 'tiering', rules: 'none', applies: (c) => c.host === 'tiered' },

  { id: 'tree-tests', expected: { from: 'pass' }, actual: 'tree-tests', rules: 'none', applies: (c) => theirFamily(c) && c.op !== 'runtime', hostIndependent: true },
];

/** Every template on every host that has its backends, ids suffixed by the host's key. */
export function pairsOn(hosts: RunHost[]): Pair[] {
  const out: Pair[] = [];
  for (const host of hosts) for (const t of PAIR_TEMPLATES) {
    if ((t.hostIndependent && host.key) || host.omit?.includes(t.id)) continue;
    const actual = host.backends[t.actual];
    const expectedId = t.expected.from === 'backend' ? host.backends[t.expected.role] : undefined;
    if (!actual || (t.expected.from === 'backend' && !expectedId)) continue;
    const skip = host.skips?.[t.id];
    out.push({
      ...t,
      template: t.id,
      id: pairIdOn(t.id, host),
      host,
      actual,
      expected: t.expected.from === 'backend' ? { from: 'backend', id: expectedId! } : t.expected,
      applies: (c, ctx) => {
        if (!host.accepts(c)) return false;
        const a = t.applies(c, ctx);
        return a === true && skip ? skip : a;
      },
    });
  }
  return out;
}

export const PAIRS: Pair[] = pairsOn(HOSTS);

export function rulesFor(p: Pair, extra: Rule[]): Rule[] {
  const base = p.rules === 'project' ? PROJECT_RULES : p.rules === 'libvirt-tests' ? LIBVIRT_TESTS_VS_REAL_RULES
    : p.rules === 'libvirt-tests-model' ? LIBVIRT_TESTS_VS_MODEL_RULES : p.rules === 'runtime' ? RUNTIME_RULES : [];
  return [...base, ...extra];
}
