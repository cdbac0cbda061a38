// The everyday command lines (`argv|xml [--profile P] [--impl I] [--jobs N] [--uri U] FILE…`) parsed by
// hand, so a call does not pay for loading commander. Anything else (help, a typo, a missing
// file argument, a value outside its choices) returns null and goes to commander (program.ts),
// which words usage errors and help; the two agree on every line this accepts.
import type { Operation } from '../backends/types.js';

export interface FileCommand {
  op: Operation;
  files: string[];
  profile: string;
  impl: 'model' | 'libvirt';
  jobs: number;
  /** libvirt connection for --impl libvirt (default: qemu:///system). */
  uri?: string;
}

export const DEFAULTS = { profile: 'host', impl: 'model', jobs: 1 } as const;

/** Parse `--jobs` as commander's option does: a positive integer. */
export function parseJobs(v: string): number | null {
  return /^[1-9][0-9]{0,3}$/.test(v) ? Number(v) : null;
}

export function parseFileCommand(args: string[]): FileCommand | null {
  const op = args[0];
  if (op !== 'argv' && op !== 'xml') return null;
  const cmd: FileCommand = { op, files: [], ...DEFAULTS };
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      cmd.files.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      cmd.files.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      value = args[++i];
      if (value === undefined || value.startsWith('-')) return null;
    }
    if (name === '--profile') cmd.profile = value;
    else if (name === '--impl') {
      if (value !== 'model' && value !== 'libvirt') return null;
      cmd.impl = value;
    } else if (name === '--jobs') {
      const n = parseJobs(value);
      if (n === null) return null;
      cmd.jobs = n;
    } else if (name === '--uri') cmd.uri = value;
    else return null;
  }
  // The emulated host's profile is resolved by program.ts (with --topology).
  if (cmd.profile === 'emulated' || cmd.profile === 'sid') return null;
  return cmd.files.length ? cmd : null;
}
