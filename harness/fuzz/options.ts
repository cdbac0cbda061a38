// The fuzzer's command line: one Options value, or a one-line usage error and exit 2.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOP_UP_PER_AIM } from './topup.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const USAGE = 'usage: npm run fuzz -- [--seed S] [--count N] [--top-up K] [--out DIR] [--json] [--jobs J] [--shrink-budget B] [--per-cause K] [--no-write] [--require-reach]';

export interface Options {
  seed: number;
  count: number;
  /** Top-up domains per catalogue message the main draw missed (topup.ts); 0: no top-up. */
  topUp: number;
  out: string;
  json: boolean;
  jobs: number;
  shrinkBudget: number;
  perCause: number;
  write: boolean;
  /** Fail the run when an error message of the model's catalogue was not reached (reach.ts). */
  requireReach: boolean;
  /** Crash cases: OUT/crashes. */
  crashDir: string;
}

function usage(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

export function parseArgs(argv: string[]): Options {
  const o: Options = { seed: 1, count: 1000, topUp: TOP_UP_PER_AIM, out: join(root, 'cases'), json: false, jobs: 2, shrinkBudget: 300, perCause: 3, write: true, requireReach: false, crashDir: '' };
  const int = (v: string | undefined, name: string, min: number): number => {
    if (v === undefined || !/^-?\d+$/.test(v)) usage(`${name} wants an integer`);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) usage(`${name} wants an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [a, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const val = (): string | undefined => inline ?? argv[++i];
    if (a === '--seed') o.seed = int(val(), a, -2147483648);
    else if (a === '--count') o.count = int(val(), a, 1);
    else if (a === '--top-up') o.topUp = int(val(), a, 0);
    else if (a === '--out') o.out = resolve(val() ?? usage('--out wants a directory'));
    else if (a === '--json') o.json = true;
    else if (a === '--jobs') o.jobs = int(val(), a, 1);
    else if (a === '--shrink-budget') o.shrinkBudget = int(val(), a, 0);
    else if (a === '--per-cause') o.perCause = int(val(), a, 0);
    else if (a === '--no-write') o.write = false;
    else if (a === '--require-reach') o.requireReach = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else usage(`unknown option '${argv[i]}'`);
  }
  if (o.seed < -2147483648 || o.seed > 2147483647) usage('--seed wants a 32-bit integer');
  o.crashDir = join(o.out, 'crashes');
  return o;
}

