// Differential fuzzing: generated domains through the model (host profile) and the real
// libvirt (argv and xml), compared with the project's rules. Every disagreement is shrunk with
// fast-check (replaying its seed and path; shrinking re-runs libvirt, within a budget) and
// written as a project case with goldens from the real libvirt.
//
//   npm run fuzz -- [--seed S] [--count N] [--out cases/] [--json] [--jobs J]
//                   [--shrink-budget B] [--per-cause K] [--no-write]
//
// Same seed, same domains, same verdicts, same cases: generation is fast-check's (seeded),
// results are kept by index whatever order the libvirt sessions finish in, and shrinking is
// bounded by a count of libvirt evaluations, never by time.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { LibvirtBackend, LibvirtBackendError } from '../backends/libvirt.js';
import { runModel } from '../backends/model.js';
import type { Operation, Outcome } from '../backends/types.js';
import { compare } from '../runner/compare.js';
import { writeGolden } from '../runner/golden-writer.js';
import { goldenFiles } from '../runner/project-cases.js';
import { PROJECT_RULES, normalise } from '../runner/rules.js';
import { domainSpec, libvirtHazard, renderDomain, type DomainSpec } from './generate.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const OPS: Operation[] = ['argv', 'xml'];
const PROFILE = 'host';
const USAGE = 'usage: npm run fuzz -- [--seed S] [--count N] [--out DIR] [--json] [--jobs J] [--shrink-budget B] [--per-cause K] [--no-write]';

interface Options {
  seed: number;
  count: number;
  out: string;
  json: boolean;
  jobs: number;
  shrinkBudget: number;
  perCause: number;
  write: boolean;
}

function usage(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seed: 1, count: 1000, out: join(root, 'cases'), json: false, jobs: 2, shrinkBudget: 300, perCause: 3, write: true };
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
    else if (a === '--out') o.out = resolve(val() ?? usage('--out wants a directory'));
    else if (a === '--json') o.json = true;
    else if (a === '--jobs') o.jobs = int(val(), a, 1);
    else if (a === '--shrink-budget') o.shrinkBudget = int(val(), a, 0);
    else if (a === '--per-cause') o.perCause = int(val(), a, 0);
    else if (a === '--no-write') o.write = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else usage(`unknown option '${argv[i]}'`);
  }
  if (o.seed < -2147483648 || o.seed > 2147483647) usage('--seed wants a 32-bit integer');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Outcomes, verdicts, signatures

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

const isNotModelled = (o: Outcome): boolean => o.kind === 'error' && o.message.startsWith('not modelled:');

type OpVerdict = 'agree' | 'disagree' | 'not-modelled' | 'skip';
/** hazard: not sent to libvirt at all (an input known to crash the shared daemon). */
type Verdict = 'agree' | 'disagree' | 'not-modelled' | 'skip' | 'hazard';

function model(op: Operation, xml: string): Outcome {
  try {
    return runModel(op, xml, PROFILE);
  } catch (e) {
    // A bug in the model (it threw something that is not libvirt's error): a disagreement.
    return { kind: 'error', message: `model crashed: ${(e as Error).message.split('\n')[0]}` };
  }
}

function opVerdict(real: Outcome, mod: Outcome): { verdict: OpVerdict; diff?: string } {
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
function opCause(op: Operation, real: Outcome, mod: Outcome): string {
  if (real.kind === 'error') return `${op}: libvirt error '${normaliseMessage(real.message)}', the model does not give it`;
  if (mod.kind === 'error') return `${op}: model error '${normaliseMessage(mod.message)}' where libvirt succeeds`;
  const a = normalise(real.kind === 'ok' ? real.text : '', PROJECT_RULES).text.split('\n');
  const b = normalise(mod.kind === 'ok' ? mod.text : '', PROJECT_RULES).text.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `${op}: output differs: libvirt ${shape(a[i])} | model ${shape(b[i])}`;
}

interface Result {
  index: number;
  verdict: Verdict;
  ops: Record<Operation, OpVerdict>;
  /** The cause of the first disagreeing operation (argv before xml). */
  signature?: string;
  diffs: string[];
}

function judge(index: number, real: Record<Operation, Outcome>, mod: Record<Operation, Outcome>): Result {
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

const causeOp = (sig: string): Operation => (sig.startsWith('argv:') ? 'argv' : 'xml');

// ---------------------------------------------------------------------------------------------
// The real libvirt, several sessions

/** The libvirtd that owns qemu:///system (pid file + start time): a change means it crashed or restarted. */
function daemonIdentity(): string {
  try {
    const pid = readFileSync('/run/libvirtd.pid', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid}@${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return 'none';
  }
}

class Pool {
  readonly backends: LibvirtBackend[];
  constructor(n: number) {
    this.backends = Array.from({ length: n }, () => new LibvirtBackend());
  }
  async close(): Promise<void> {
    await Promise.all(this.backends.map((b) => b.close()));
  }
}

/** The daemon went away (crashed or was stopped): never a verdict about the input. */
const DAEMON_GONE = /Failed to connect socket|End of file while reading data|Cannot recv data|Connection reset by peer|client socket is closed|failed to connect to the hypervisor/;

export class DaemonGoneError extends Error {
  constructor(readonly xml: string, message: string) {
    super(message);
  }
}

/** One operation on the real libvirt; infrastructure failures are retried twice, then fatal. */
async function real(b: LibvirtBackend, op: Operation, xml: string): Promise<Outcome> {
  for (let attempt = 0; ; attempt++) {
    try {
      const out = op === 'argv' ? await b.argv(xml, PROFILE) : await b.xml(xml, PROFILE);
      if (out.kind === 'error' && DAEMON_GONE.test(out.message)) throw new DaemonGoneError(xml, `libvirtd went away during ${op}: ${out.message}`);
      return out;
    } catch (e) {
      if (e instanceof DaemonGoneError) throw e;
      if (e instanceof LibvirtBackendError && DAEMON_GONE.test(e.message)) throw new DaemonGoneError(xml, `libvirtd went away during ${op}: ${e.message}`);
      if (!(e instanceof LibvirtBackendError) || attempt >= 2) throw e;
      process.stderr.write(`fuzz: libvirt backend: ${e.message} (retrying)\n`);
    }
  }
}

/** Run `fn` over 0..n-1 with one worker per backend; results by index. */
async function overBackends<T>(pool: Pool, n: number, fn: (b: LibvirtBackend, i: number) => Promise<T>, progress?: (done: number) => void): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  let done = 0;
  await Promise.all(pool.backends.map(async (b) => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      out[i] = await fn(b, i);
      progress?.(++done);
    }
  }));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shrinking

interface Shrunk {
  index: number;
  signature: string;
  spec: DomainSpec;
  path: string;
  shrinks: number;
  libvirtRuns: number;
}

/** The property whose counterexamples are domains with `signature`; replays run `index` of the seed. */
async function shrink(b: LibvirtBackend, seed: number, index: number, original: string, signature: string, budget: number): Promise<Shrunk> {
  const op = causeOp(signature);
  const modelError = /^\w+: model error '(.*)' where libvirt succeeds$/.exec(signature)?.[1];
  const textDiff = signature.includes(": output differs: ");
  let calls = 0;
  let libvirtRuns = 0;
  let fatal: unknown;
  const prop = fc.asyncProperty(domainSpec, async (spec) => {
    const xml = renderDomain(spec);
    if (calls++ === 0 && xml !== original) {
      fatal = new Error(`replaying seed ${seed} path ${index} gave another domain than the run did`);
    }
    if (fatal !== undefined || libvirtRuns >= budget || libvirtHazard(spec)) return true;
    // Cheap first: the model's side, where the cause says what it is.
    const mod = model(op, xml);
    if (isNotModelled(mod)) return true;
    if (modelError !== undefined && (mod.kind !== 'error' || normaliseMessage(mod.message) !== modelError)) return true;
    if (textDiff && mod.kind !== 'ok') return true;
    libvirtRuns++;
    let realOut: Outcome;
    try {
      realOut = await real(b, op, xml);
    } catch (e) {
      fatal = e;
      return true;
    }
    const still = opVerdict(realOut, mod).verdict === 'disagree' && opCause(op, realOut, mod) === signature;
    return !still;
  });
  const details = await fc.check(prop, { seed, path: String(index), numRuns: 1 });
  if (fatal !== undefined) throw fatal;
  if (!details.failed || !details.counterexample) {
    throw new Error(`replaying seed ${seed} path ${index} did not reproduce the disagreement (${signature})`);
  }
  return { index, signature, spec: details.counterexample[0], path: details.counterexamplePath ?? String(index), shrinks: details.numShrinks, libvirtRuns };
}

// ---------------------------------------------------------------------------------------------
// Writing cases

function atomicWrite(file: string, body: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, body);
  renameSync(tmp, file);
}

interface Written {
  name: string;
  file: string;
  goldens: string[];
  signature: string;
  diffs: string[];
  from: number;
  path: string;
  shrinks: number;
  libvirtRuns: number;
  xml: string;
}

async function writeCase(b: LibvirtBackend, o: Options, s: Shrunk): Promise<Written> {
  const body = renderDomain(s.spec);
  const name = `fuzz-${createHash('sha256').update(body).digest('hex').slice(0, 10)}`;
  // No "--" inside an XML comment.
  const text = `<!-- from the fuzzer: npm run fuzz with seed ${o.seed}, fast-check path ${s.path}; the model and libvirt disagree (${causeOp(s.signature)}) -->\n${body}`;
  const realOut = {} as Record<Operation, Outcome>;
  const modOut = {} as Record<Operation, Outcome>;
  for (const op of OPS) {
    realOut[op] = await real(b, op, text);
    modOut[op] = model(op, text);
  }
  const r = judge(s.index, realOut, modOut);
  const file = join(o.out, `${name}.xml`);
  const goldens: string[] = [];
  if (o.write) {
    atomicWrite(file, text);
    const goldenRoot = dirname(o.out);
    for (const op of OPS) {
      const base = goldenFiles(goldenRoot, name, op).text.replace(/\.(args|xml)$/, '');
      writeGolden(base, op, realOut[op]);
      goldens.push(realOut[op].kind === 'ok' ? `${base}.${op === 'argv' ? 'args' : 'xml'}` : `${base}.err`);
    }
  }
  return { name, file, goldens, signature: s.signature, diffs: r.diffs, from: s.index, path: s.path, shrinks: s.shrinks, libvirtRuns: s.libvirtRuns, xml: body };
}

// ---------------------------------------------------------------------------------------------
// Which of the model's messages the run reached

interface Template { text: string; re: RegExp }

const PREFIX: Record<string, string> = {
  XML_ERROR: 'XML error: ', XML_DETAIL: '', CONFIG_UNSUPPORTED: 'unsupported configuration: ', INTERNAL_ERROR: 'internal error: ',
  INVALID_ARG: 'invalid argument: ', OVERFLOW: 'numerical overflow: ', OPERATION_INVALID: 'Requested operation is not valid: ',
  OPERATION_UNSUPPORTED: 'Operation not supported: ',
};

/** The model's fail('CODE', '…') messages, read from its compiled sources, as patterns. */
function modelTemplates(): Template[] {
  const dir = join(here, '..', 'model');
  const out = new Map<string, Template>();
  const lit = /fail\('([A-Z_]+)',\s*(`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/g;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(lit)) {
      const raw = m[2].slice(1, -1).replace(/\\'/g, "'");
      const text = (PREFIX[m[1]] ?? '') + raw;
      const parts = text.split(/\$\{[^}]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      // 'missing target information for device ' + …: a literal followed by more is a prefix.
      const tail = /\+\s*$/.test(src.slice(m.index! + m[0].length, m.index! + m[0].length + 3)) ? '.*' : '';
      out.set(text, { text: text.replace(/\$\{[^}]*\}/g, '…'), re: new RegExp(`^${parts.join('.*')}${tail}$`) });
    }
  }
  // The host profile's own wording for a missing host node (profile data, not a literal).
  out.set('unavailable', { text: 'unsupported configuration: NUMA node … is unavailable', re: /^unsupported configuration: NUMA node \d+ is unavailable$/ });
  return [...out.values()];
}

// ---------------------------------------------------------------------------------------------

type Counts = Map<string, number[]>; // message -> [model argv, model xml, libvirt argv, libvirt xml]

function bump(c: Counts, msg: string, col: number): void {
  let row = c.get(msg);
  if (!row) c.set(msg, (row = [0, 0, 0, 0]));
  row[col]++;
}

const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(2)}%` : 'n/a');

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const log = (s: string): void => { process.stderr.write(`fuzz: ${s}\n`); };

  // 1. The domains, exactly as fc.check generates them for this seed (so a path replays one).
  const specs: DomainSpec[] = [];
  fc.check(fc.property(domainSpec, (s) => { specs.push(s); }), { seed: o.seed, numRuns: o.count });
  const xmls = specs.map(renderDomain);
  const tGen = performance.now();

  // 2. The model, then the real libvirt (one worker per session).
  const models = xmls.map((x) => ({ argv: model('argv', x), xml: model('xml', x) }));
  const tModel = performance.now();
  const hazards = specs.map(libvirtHazard);
  const daemonBefore = daemonIdentity();
  const pool = new Pool(o.jobs);
  const why = await pool.backends[0].unavailable();
  if (why) {
    process.stderr.write(`fuzz: the real libvirt is needed: ${why}\n`);
    await pool.close();
    process.exit(1);
  }
  const errors: Counts = new Map();
  const rawModel = new Map<string, number>(); // the model's messages as emitted, for the template check
  let results: Result[];
  try {
    const step = Math.max(100, Math.ceil(o.count / 10));
    results = await overBackends(pool, xmls.length, async (b, i) => {
      if (hazards[i]) {
        OPS.forEach((op, k) => { const m = models[i][op]; if (m.kind === 'error') { bump(errors, normaliseMessage(m.message), k); rawModel.set(m.message, (rawModel.get(m.message) ?? 0) + 1); } });
        return { index: i, verdict: 'hazard', ops: { argv: 'skip', xml: 'skip' }, diffs: [] } satisfies Result;
      }
      const r = { argv: await real(b, 'argv', xmls[i]), xml: await real(b, 'xml', xmls[i]) };
      OPS.forEach((op, k) => {
        const m = models[i][op];
        const l = r[op];
        if (m.kind === 'error') { bump(errors, normaliseMessage(m.message), k); rawModel.set(m.message, (rawModel.get(m.message) ?? 0) + 1); }
        if (l.kind === 'error') bump(errors, normaliseMessage(l.message), 2 + k);
      });
      return judge(i, r, models[i]);
    }, (done) => { if (done % step === 0 && done < o.count) log(`${done}/${o.count} (${((performance.now() - t0) / 1000).toFixed(1)} s)`); });
  } catch (e) {
    await pool.close().catch(() => undefined);
    throw e;
  }
  const tRun = performance.now();

  // 3. Shrink the first few disagreements of each kind, and write them as cases.
  const byCause = new Map<string, Result[]>();
  for (const r of results) if (r.verdict === 'disagree') {
    const list = byCause.get(r.signature!) ?? [];
    list.push(r);
    byCause.set(r.signature!, list);
  }
  const toShrink = [...byCause.values()].flatMap((l) => l.slice(0, o.perCause));
  let written: Written[] = [];
  try {
    if (toShrink.length) log(`shrinking ${toShrink.length} disagreement(s) of ${byCause.size} kind(s)`);
    const shrunk = await overBackends(pool, toShrink.length, (b, k) =>
      shrink(b, o.seed, toShrink[k].index, xmls[toShrink[k].index], toShrink[k].signature!, o.shrinkBudget));
    // Several domains of one kind often shrink to the same case: write each once.
    const seen = new Set<string>();
    const unique = shrunk.filter((s) => { const x = renderDomain(s.spec); if (seen.has(x)) return false; seen.add(x); return true; });
    written = await overBackends(pool, unique.length, (b, k) => writeCase(b, o, unique[k]));
  } finally {
    await pool.close();
  }
  const tEnd = performance.now();
  const daemonAfter = daemonIdentity();
  const daemonRestarted = daemonBefore !== daemonAfter;
  if (daemonRestarted) log(`WARNING: libvirtd changed during the run (${daemonBefore} -> ${daemonAfter}): crashed or restarted; results may be unreliable`);

  // 4. Report.
  const count = (v: Verdict): number => results.filter((r) => r.verdict === v).length;
  const verdicts = { agree: count('agree'), disagree: count('disagree'), 'not-modelled': count('not-modelled'), skip: count('skip'), hazard: count('hazard') };
  const perOp = Object.fromEntries(OPS.map((op) => [op, Object.fromEntries((['agree', 'disagree', 'not-modelled', 'skip'] as const).map((v) => [v, results.filter((r) => r.ops[op] === v).length]))]));
  const compared = verdicts.agree + verdicts.disagree;
  const templates = modelTemplates();
  const reached = templates.map((t) => ({ template: t.text, count: [...rawModel].filter(([m]) => t.re.test(m)).reduce((s, [, c]) => s + c, 0) }));
  const table = [...errors].sort((a, b) => (b[1][0] + b[1][1] + b[1][2] + b[1][3]) - (a[1][0] + a[1][1] + a[1][2] + a[1][3]) || (a[0] < b[0] ? -1 : 1));
  const causes = [...byCause].map(([signature, list]) => ({
    signature,
    domains: list.length,
    first: list[0].index,
    diff: list[0].diffs.join('\n'),
    cases: written.filter((w) => w.signature === signature).map((w) => ({
      name: w.name, file: relative(process.cwd(), w.file), goldens: w.goldens.map((g) => relative(process.cwd(), g)),
      from: w.from, path: w.path, shrinks: w.shrinks, libvirtRuns: w.libvirtRuns, diff: w.diffs.join('\n'), xml: w.xml,
    })),
  }));
  const seconds = { total: (tEnd - t0) / 1000, generate: (tGen - t0) / 1000, model: (tModel - tGen) / 1000, libvirt: (tRun - tModel) / 1000, shrink: (tEnd - tRun) / 1000 };

  if (o.json) {
    process.stdout.write(JSON.stringify({
      seed: o.seed, count: o.count, jobs: o.jobs, seconds, verdicts, perOp, daemonRestarted,
      agreement: { compared, agree: verdicts.agree, rate: compared ? verdicts.agree / compared : null },
      errors: table.map(([message, [ma, mx, la, lx]]) => ({ message, model: { argv: ma, xml: mx }, libvirt: { argv: la, xml: lx } })),
      modelMessagesReached: reached,
      causes,
    }, null, 2) + '\n');
  } else {
    const p: string[] = [];
    p.push(`fuzz: seed ${o.seed}, ${o.count} domains, ${o.jobs} libvirt session(s): ${seconds.total.toFixed(1)} s (generate ${seconds.generate.toFixed(1)}, model ${seconds.model.toFixed(1)}, libvirt ${seconds.libvirt.toFixed(1)}, shrink+write ${seconds.shrink.toFixed(1)})`);
    p.push(`agreement: ${pct(verdicts.agree, compared)} of compared domains (${verdicts.agree}/${compared}); ${pct(verdicts.agree, o.count)} of all`);
    p.push(`verdicts: agree ${verdicts.agree}, disagree ${verdicts.disagree}, not-modelled ${verdicts['not-modelled']} (model refuses), hazard ${verdicts.hazard} (not sent: crashes libvirtd), skip ${verdicts.skip}`);
    if (daemonRestarted) p.push('WARNING: libvirtd crashed or was restarted during the run');
    for (const op of OPS) p.push(`  ${op.padEnd(4)}: ${Object.entries(perOp[op]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    p.push('');
    p.push(`error messages (${table.length} distinct, numbers as N; model over all ${o.count} domains, libvirt over the ${o.count - verdicts.hazard} sent):  model argv/xml | libvirt argv/xml`);
    for (const [m, [ma, mx, la, lx]] of table) p.push(`  ${String(ma).padStart(5)} ${String(mx).padStart(5)} | ${String(la).padStart(5)} ${String(lx).padStart(5)}  ${m}`);
    const missed = reached.filter((r) => r.count === 0);
    p.push('');
    p.push(`model messages reached: ${reached.length - missed.length}/${reached.length}${missed.length ? '; not reached:' : ''}`);
    for (const m of missed) p.push(`  ${m.template}`);
    p.push('');
    if (!causes.length) p.push('no disagreements');
    else p.push(`disagreements: ${verdicts.disagree} domain(s) of ${causes.length} kind(s)`);
    causes.forEach((c, k) => {
      p.push('');
      p.push(`[${k + 1}] ${c.domains} domain(s), first #${c.first}: ${c.signature}`);
      for (const w of c.cases) {
        p.push(`    ${o.write ? 'wrote' : 'would write'} ${w.file} (shrunk from #${w.from}, path ${w.path}, ${w.shrinks} shrink step(s), ${w.libvirtRuns} libvirt run(s))`);
      }
      const first = c.cases[0];
      if (first) {
        p.push(`    shrunk input (${first.name}):`);
        p.push(first.xml.trimEnd().split('\n').map((l) => `      ${l}`).join('\n'));
        p.push(first.diff.trimEnd().split('\n').map((l) => `    ${l}`).join('\n'));
      }
    });
    process.stdout.write(p.join('\n') + '\n');
  }
  process.exitCode = verdicts.disagree ? 1 : 0;
}

main().catch((e: Error) => {
  if (e instanceof DaemonGoneError) {
    // Keep the input that was in flight: it may be what crashed the daemon.
    const file = join(root, '.cache', 'fuzz', `daemon-gone-${Date.now()}.xml`);
    atomicWrite(file, e.xml);
    process.stderr.write(`fuzz: ${e.message}\nfuzz: stopped; the input in flight is in ${relative(process.cwd(), file)} (others may have been in flight on other sessions)\n`);
  } else process.stderr.write(`fuzz: ${e.stack ?? e.message}\n`);
  process.exit(1);
});

