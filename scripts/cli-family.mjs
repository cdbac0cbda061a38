#!/usr/bin/env node
// Runs the compiled CLI on every NUMA-family registration of libvirt's own tests and compares
// its stdout/stderr with libvirt's expected file byte for byte. The cases go in batches, one
// process per (operation, profile) with all of its files, as tools that check many files call
// it; a few cases also go through single-file calls, which must print exactly what the batch
// printed for that file. Prints P/N and the cases short of it; --json prints every verdict.
//
//   node scripts/cli-family.mjs [TREE] [--json]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const tree = args.find((a) => a !== '--json') ?? join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0');
const cli = join(root, 'dist', 'cli', 'main.js');
// Either layout (qemuxml2argvtest.c + qemuxml2xmltest.c, or 10+'s qemuxmlconftest.c), told apart
// by the tree's files; each case carries its profile (x86_64-latest@11.3.0 for an 11.3.0 tree).
const { libvirtCases, detectLayout } = await import(join(root, 'dist', 'runner', 'libvirt-cases.js'));
if (!existsSync(join(tree, 'tests')) || !detectLayout(tree)) {
  console.error(`no libvirt test data at ${tree} (run bash scripts/fetch-libvirt-tests.sh [VERSION])`);
  process.exit(2);
}
const cases = libvirtCases(tree).cases.filter((c) => c.op === 'argv' || c.op === 'xml');

// The calls are independent: a few run at once (2 cores here), each a real CLI process.
const AT_ONCE = 4;
const calls = [];
let running = 0;
const waiting = [];
async function call(op, profile, files) {
  if (running >= AT_ONCE) await new Promise((resolve) => waiting.push(resolve));
  running++;
  try {
    const r = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, op, '--profile', profile, ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = [];
      const err = [];
      child.stdout.on('data', (c) => out.push(c));
      child.stderr.on('data', (c) => err.push(c));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    });
    calls.push({ op, profile, files: files.length, status: r.status });
    return r;
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Split a batch's stdout at its `==> FILE <==` headers and its stderr at `FILE: ` prefixes. */
function splitBatch(r, files) {
  const out = new Map(files.map((f) => [f, { text: [], errors: [] }]));
  let cur = null;
  for (const piece of r.stdout.split(/^(?===> .* <==\n)/m)) {
    if (piece === '') continue;
    const m = /^==> (.*) <==\n/.exec(piece);
    if (!m || !out.has(m[1])) return { broken: `stdout piece without a known header: ${JSON.stringify(piece.slice(0, 120))}` };
    cur = out.get(m[1]);
    cur.text.push(piece.slice(m[0].length));
  }
  for (const line of r.stderr.split('\n')) {
    if (line === '') continue;
    const f = files.find((x) => line.startsWith(`${x}: `));
    if (!f) return { broken: `stderr line without a known file prefix: ${JSON.stringify(line.slice(0, 120))}` };
    out.get(f).errors.push(line.slice(f.length + 2) + '\n');
  }
  return { out };
}

/** The verdict of one case from what the CLI printed for its file (single-file layout). */
function judge(c, status, stdout, stderr) {
  if (c.expect.kind === 'text') {
    const want = readFileSync(c.expect.file, 'utf8');
    if (status !== 0 || stdout !== want) return `exit ${status}, stdout ${stdout === want ? 'as expected' : 'differs'}, stderr ${JSON.stringify(stderr.slice(0, 200))}`;
  } else if (c.expect.kind === 'error') {
    const want = readFileSync(c.expect.file, 'utf8').replace(/\n*$/, '\n');
    if (status !== 1 || stdout !== '' || stderr !== want) return `exit ${status}, stderr ${JSON.stringify(stderr.slice(0, 200))}, wanted ${JSON.stringify(want.slice(0, 200))}`;
  } else if (status !== 1) return `exit ${status}, wanted 1`;
  return null;
}

const verdicts = new Map(); // case id -> { ok, detail }
const groups = new Map();
for (const c of cases) {
  const k = `${c.op}\t${c.profile}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(c);
}
// Single-file calls: the first case of each kind of expectation and operation must print
// alone exactly what its batch printed, and be right on its own.
const singles = [];
for (const c of cases) if (!singles.some((s) => s.op === c.op && s.expect.kind === c.expect.kind)) singles.push(c);
const lists = [...groups.values()];
const [batchRuns, singleRuns] = await Promise.all([
  Promise.all(lists.map((list) => call(list[0].op, list[0].profile, [...new Set(list.map((c) => c.input))]))),
  Promise.all(singles.map((c) => call(c.op, c.profile, [c.input]))),
]);

const batchSeen = new Map(); // case id -> what the batch printed for it
for (const [g, list] of lists.entries()) {
  const files = [...new Set(list.map((c) => c.input))];
  const r = batchRuns[g];
  const split = files.length > 1 ? splitBatch(r, files) : null;
  if (split?.broken) {
    for (const c of list) verdicts.set(c.id, { ok: false, detail: `batch layout: ${split.broken}` });
    continue;
  }
  const worst = list.some((c) => c.expect.kind !== 'text') ? 1 : 0;
  for (const c of list) {
    let status, stdout, stderr;
    if (split) {
      const got = split.out.get(c.input);
      if (got.text.length + got.errors.length !== 1) {
        verdicts.set(c.id, { ok: false, detail: `batch printed ${got.text.length} results and ${got.errors.length} error lines for ${c.input}` });
        continue;
      }
      status = got.errors.length ? 1 : 0;
      stdout = got.text.join('');
      stderr = got.errors.join('');
    } else ({ status, stdout, stderr } = r);
    batchSeen.set(c.id, { status, stdout, stderr });
    let detail = judge(c, status, stdout, stderr);
    if (!detail && split && r.status !== worst) detail = `batch exit ${r.status}, wanted the worst of its files: ${worst}`;
    verdicts.set(c.id, { ok: !detail, detail });
  }
}

for (const [i, c] of singles.entries()) {
  const r = singleRuns[i];
  const b = batchSeen.get(c.id);
  let detail = judge(c, r.status, r.stdout, r.stderr);
  if (!detail && b && (b.status !== r.status || b.stdout !== r.stdout || b.stderr !== r.stderr)) detail = 'single-file call printed other than its batch';
  const prev = verdicts.get(c.id);
  verdicts.set(c.id, { ok: Boolean(prev?.ok) && !detail, detail: [prev?.detail, detail && `single call: ${detail}`].filter(Boolean).join('; ') || null });
}

const pass = cases.filter((c) => verdicts.get(c.id)?.ok).length;
if (json) {
  process.stdout.write(JSON.stringify({ cases: cases.map((c) => ({ id: c.id, ...verdicts.get(c.id) })), singles: singles.map((c) => c.id), calls }, null, 1) + '\n');
} else {
  console.log(`CLI vs libvirt's expected files (NUMA family): ${pass}/${cases.length} (${calls.length} CLI processes)`);
  for (const c of cases) if (!verdicts.get(c.id)?.ok) console.log(`  short: ${c.id}: ${verdicts.get(c.id)?.detail}`);
}
process.exit(pass === cases.length ? 0 : 1);
