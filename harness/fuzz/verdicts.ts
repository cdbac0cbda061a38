// How one domain's answers are judged: the model's and libvirt's outcome per operation, compared
// with the project's rules, folded into a verdict and, for a disagreement, a cause (the key
// disagreements are grouped and shrunk by).
import fc from 'fast-check';
import { runModel } from '../backends/model.js';
import { loadProfile } from '../profiles/load.js';
import { domainSpecFor } from './generate.js';
import type { DomainSpec } from './spec.js';
import type { Operation, Outcome } from '../backends/types.js';
import { compare } from '../runner/compare.js';
import { PROJECT_RULES, normalise } from '../runner/rules.js';

export const OPS: Operation[] = ['argv', 'xml'];
/** The model's profile: the live host's (its libvirt, its QEMU, its NUMA nodes). */
export const PROFILE = 'host';

/** The generator for this host: tamed domains keep type='kvm' only where the host has KVM. */
export const hostDomainSpec = (): fc.Arbitrary<DomainSpec> => domainSpecFor({ kvm: loadProfile(PROFILE).flags.kvm });

/** Error messages with numbers and free-form user values folded ("NUMA node N is unavailable"). */
export function normaliseMessage(m: string): string {
  return m
    .replace(/(Failed to parse bitmap )'.*'$/, "$1'…'")
    .replace(/(Invalid value of '(?:cpuset|nodeset)': ).*$/, '$1…')
    .replace(/(Invalid value for attribute '[^']+' in element '[^']+': )'.*?'(\.|$)/, "$1'…'$2")
    .replace(/(Invalid value )'.*'( for element or attribute)/, "$1'…'$2")
    .replace(/(unknown suffix )'.*'$/, "$1'…'")
    .replace(/(Unsupported NUMA memory (?:tuning|placement) mode )'.*'$/, "$1'…'")
    .replace(/(value too large: ).*$/, '$1…')
    .replace(/\d+/g, 'N');
}

export const isNotModelled = (o: Outcome): boolean => o.kind === 'error' && o.message.startsWith('not modelled:');

export type OpVerdict = 'agree' | 'disagree' | 'not-modelled' | 'skip' | 'crash';
/** crash: the input kills a fresh private libvirtd alone (pool.ts); skip: infrastructure failed. */
export type Verdict = 'agree' | 'disagree' | 'not-modelled' | 'skip' | 'crash' | 'unstable' | 'garbled';

export function model(op: Operation, xml: string): Outcome {
  try {
    return runModel(op, xml, PROFILE);
  } catch (e) {
    // A bug in the model (it threw something that is not libvirt's error): a disagreement.
    return { kind: 'error', message: `model crashed: ${(e as Error).message.split('\n')[0]}` };
  }
}

export function opVerdict(real: Outcome, mod: Outcome): { verdict: OpVerdict; diff?: string } {
  if (real.kind === 'skip') return { verdict: 'skip' };
  const v = compare(real, mod, ['libvirt', 'model'], PROJECT_RULES);
  if (v.same) return { verdict: 'agree' };
  if (isNotModelled(mod)) return { verdict: 'not-modelled' };
  return { verdict: 'disagree', diff: v.diff };
}

/** A line of output with its values masked: what kind of line it is, not what it says. */
function shape(line: string | undefined): string {
  if (line === undefined) return '(end)';
  return line.trim()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID')
    .replace(/='[^']*'/g, "='…'")
    .replace(/>[^<]+</g, '>…<')
    .replace(/=([^,'" {}\\]+)/g, '=…')
    .replace(/":("[^"]*"|[^,}]+)/g, '":…')
    .replace(/\d+/g, 'N');
}

/**
 * The cause of one operation's disagreement, the key cases are grouped and shrunk by:
 * libvirt's error the model does not give (whatever it gives instead), the model's error where
 * libvirt succeeds, or the first line where both outputs differ, values masked.
 */
export function opCause(op: Operation, real: Outcome, mod: Outcome): string {
  if (real.kind === 'error') return `${op}: libvirt error '${normaliseMessage(real.message)}', the model does not give it`;
  if (mod.kind === 'error') return `${op}: model error '${normaliseMessage(mod.message)}' where libvirt succeeds`;
  const a = normalise(real.kind === 'ok' ? real.text : '', PROJECT_RULES).text.split('\n');
  const b = normalise(mod.kind === 'ok' ? mod.text : '', PROJECT_RULES).text.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `${op}: output differs: libvirt ${shape(a[i])} | model ${shape(b[i])}`;
}

export interface Result {
  index: number;
  verdict: Verdict;
  ops: Record<Operation, OpVerdict>;
  /** The cause of the first disagreeing operation (argv before xml). */
  signature?: string;
  diffs: string[];
}

export function judge(index: number, real: Record<Operation, Outcome>, mod: Record<Operation, Outcome>): Result {
  const ops = {} as Record<Operation, OpVerdict>;
  let signature: string | undefined;
  const diffs: string[] = [];
  for (const op of OPS) {
    const v = opVerdict(real[op], mod[op]);
    ops[op] = v.verdict;
    if (v.verdict === 'disagree') {
      signature ??= opCause(op, real[op], mod[op]);
      diffs.push(`${op}:\n${v.diff}`);
    }
  }
  const all = OPS.map((op) => ops[op]);
  const verdict: Verdict = all.includes('disagree') ? 'disagree' : all.includes('skip') ? 'skip' : all.includes('not-modelled') ? 'not-modelled' : 'agree';
  return { index, verdict, ops, signature, diffs };
}

export const causeOp = (sig: string): Operation => (sig.startsWith('argv:') ? 'argv' : 'xml');

