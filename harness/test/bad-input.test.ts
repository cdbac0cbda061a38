// The compiled CLI (dist/cli/main.js) on hostile and broken input. Contract (harness/cli/main.ts):
// exit 0 ok, 1 error with ONE line on stderr, 2 usage; never a JS stack trace, never output on
// stdout when failing, never an entity expanded or fetched, always quick. With several files:
// one `FILE: message` line per refused file, results under `==> FILE <==`, the worst exit.
// Bad files go in batches, and a representative few alone (the single-file contract).
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const tests = join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0', 'tests');
const PROFILE = 'x86_64-latest';
const LIMIT_MS = 10_000;

interface Run {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

// Independent calls run a few at a time (Promise.all below); each one's time counts from its
// own start, so the "quick" check still times one process.
const AT_ONCE = 4;
let running = 0;
const waiting: (() => void)[] = [];

async function run(args: string[]): Promise<Run> {
  if (running >= AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await runNow(args);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

async function runNow(args: string[]): Promise<Run> {
  const t0 = performance.now();
  const r = await execa(process.execPath, [cli, ...args], {
    reject: false,
    timeout: 20_000,
    stripFinalNewline: false,
    cwd: root,
    env: { NO_COLOR: '1' },
  });
  return {
    exitCode: r.exitCode,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    ms: performance.now() - t0,
    timedOut: Boolean(r.timedOut),
  };
}

const show = (s: string): string => (s.length > 400 ? `${s.slice(0, 400)}… (${s.length} chars)` : s);

/** exit code, exactly one non-empty stderr line, no JS stack, empty stdout, quick. */
function assertRefused(t: Test, r: Run, code: 1 | 2, label: string): void {
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  t.notOk(r.timedOut, `${label}: did not time out`);
  t.equal(r.exitCode, code, `${label}: exit ${code}`, { stderr: show(r.stderr) });
  t.ok(r.stderr.length > 0 && lines.length === 1 && lines[0].trim() !== '', `${label}: stderr is exactly one non-empty line`, {
    found: show(r.stderr),
    lines: lines.length,
  });
  t.notOk(/^\s*at\s/m.test(r.stderr), `${label}: no "at …" stack frame in stderr`, { stderr: show(r.stderr) });
  t.notOk(/(^|[\s:])[A-Za-z]*Error:/m.test(r.stderr), `${label}: no JS "Error:" in stderr`, { stderr: show(r.stderr) });
  t.equal(r.stdout, '', `${label}: stdout empty`, { found: show(r.stdout) });
  t.ok(r.ms < LIMIT_MS, `${label}: finished in ${r.ms.toFixed(0)} ms (< ${LIMIT_MS} ms)`);
}

let dir = '';
const file = (name: string, data: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

// A small NUMA domain the model accepts (the control for the nodeset cases below).
const domain = (nodeset: string): string => `<domain type='qemu'>
  <name>badinput</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>219136</memory>
  <currentMemory unit='KiB'>219136</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <numatune>
    <memory mode='strict' nodeset='${nodeset}'/>
  </numatune>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>
`;

// An HTTP server that counts requests: any external entity/DTD fetch shows up here.
let server: Server | undefined;
let hits: string[] = [];
let base = '';

t.before(async () => {
  if (!existsSync(cli)) await execa('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root });
  dir = mkdtempSync(join(tmpdir(), 'lvh-bad-input-'));
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('<!ENTITY leak "FETCHED-OVER-HTTP">');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

t.teardown(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
});

const laughs = (): string => {
  let s = '<?xml version="1.0"?>\n<!DOCTYPE domain [\n  <!ENTITY lol "lol">\n';
  for (let i = 1; i <= 9; i++) s += `  <!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">\n`;
  return `${s}]>\n<domain type='qemu'><name>&lol9;</name></domain>\n`;
};

const utf16 = (s: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);

/** Refusals in one batch call: every stderr line names its file, nothing leaks a JS stack. */
function assertBatch(t: Test, r: Run, files: string[], code: 0 | 1, label: string): void {
  t.notOk(r.timedOut, `${label}: did not time out`);
  t.equal(r.exitCode, code, `${label}: exit ${code} (the worst of its files)`, { stderr: show(r.stderr) });
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.ok(lines.every((l) => files.some((f) => l.startsWith(`${f}: `))), `${label}: every stderr line starts with its file`, { stderr: show(r.stderr) });
  t.notOk(/^\s*at\s/m.test(r.stderr), `${label}: no "at …" stack frame in stderr`, { stderr: show(r.stderr) });
  t.ok(r.ms < LIMIT_MS, `${label}: finished in ${r.ms.toFixed(0)} ms (< ${LIMIT_MS} ms)`);
}

/** One file's refusal inside a batch: one prefixed line, libvirt-style, nothing on stdout. */
function assertRefusedIn(t: Test, r: Run, file: string, label: string): string {
  const mine = r.stderr.split('\n').filter((l) => l.startsWith(`${file}: `)).map((l) => l.slice(file.length + 2));
  t.equal(mine.length, 1, `${label}: exactly one stderr line, prefixed by its file`, { stderr: show(r.stderr) });
  t.ok(mine[0]?.trim(), `${label}: the message is not empty`);
  t.notOk(/(^|[\s:])[A-Za-z]*Error:/.test(mine[0] ?? ''), `${label}: no JS "Error:" in its line`, { line: mine[0] });
  t.notOk(r.stdout.includes(`==> ${file} <==`), `${label}: nothing on stdout`);
  return mine[0] ?? '';
}

for (const op of ['argv', 'xml'] as const) {
  t.test(`${op}: bad input files`, async (t) => {
    const empty = join(dir, `${op}-empty-dir`);
    mkdirSync(empty);
    const bad: [string, string][] = [
      ['malformed XML (unclosed tag)', file(`${op}-unclosed.xml`, "<domain type='qemu'><name>x</name>\n")],
      ['empty file', file(`${op}-empty.xml`, '')],
      ['10 MB file', file(`${op}-big.xml`, `<domain type='qemu'><!--${' '.repeat(10 * 1024 * 1024)}--></domain>\n`)],
      ['non-UTF-8 bytes in a name',
        file(`${op}-latin.xml`, Buffer.concat([Buffer.from("<domain type='qemu'><name>a"), Buffer.from([0xff, 0xfe]), Buffer.from('b</name></domain>\n')]))],
      ["nodeset '0-4294967295'", file(`${op}-u32.xml`, domain('0-4294967295'))],
      ['nodeset with 100,000 ranges', file(`${op}-100k.xml`, domain(Array.from({ length: 100_000 }, (_, i) => String(i)).join(',')))],
      ['missing file', join(dir, 'does-not-exist.xml')],
      ['a directory without *.xml files', empty],
    ];
    // All of them in one call, and a representative few alone (the single-file contract); the
    // calls are independent, so they run at once.
    const alone = ['malformed XML (unclosed tag)', 'non-UTF-8 bytes in a name', 'missing file', 'a directory without *.xml files'];
    const [batch, u32, control, unknown, ...singles] = await Promise.all([
      run([op, '--profile', PROFILE, ...bad.map(([, f]) => f)]),
      run([op, '--profile', PROFILE, join(dir, `${op}-u32.xml`)]),
      run([op, '--profile', PROFILE, file(`${op}-control.xml`, domain('0'))]),
      run([op, '--profile', 'no-such-profile', file(`${op}-ok.xml`, domain('0'))]),
      ...alone.map((label) => run([op, '--profile', PROFILE, bad.find(([l]) => l === label)![1]])),
    ]);
    assertBatch(t, batch, bad.map(([, f]) => f), 1, 'batch of bad files');
    t.equal(batch.stdout, '', 'batch of bad files: stdout empty');
    const said = new Map(bad.map(([label, f]) => [label, assertRefusedIn(t, batch, f, label)]));
    t.equal(said.get("nodeset '0-4294967295'"), "invalid argument: Failed to parse bitmap '0-4294967295'", "nodeset '0-4294967295': libvirt's message (batch)");

    alone.forEach((label, i) => {
      const r = singles[i];
      assertRefused(t, r, 1, label);
      t.equal(r.stderr, `${said.get(label)}\n`, `${label}: alone, the batch's line without the prefix`);
    });
    t.equal(u32.stderr, "invalid argument: Failed to parse bitmap '0-4294967295'\n", "nodeset '0-4294967295': libvirt's message");
    t.equal(control.exitCode, 0, "control: the same domain with nodeset '0' is accepted", { stderr: show(control.stderr) });

    assertRefused(t, unknown, 1, 'unknown profile');
  });

  t.test(`${op}: DOCTYPE with entities is refused, nothing expanded or fetched`, async (t) => {
    const secret = file('secret.txt', 'SECRET-MARKER-7f3a\n');
    const cases: [string, string | Buffer, string[]][] = [
      ['billion laughs (internal entities)', laughs(), ['lollollol']],
      ['billion laughs, UTF-16', utf16(laughs().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')), ['lollollol']],
      ['external SYSTEM entity (http)',
        `<?xml version="1.0"?>\n<!DOCTYPE domain [\n  <!ENTITY ext SYSTEM "${base}/entity-${op}">\n]>\n<domain type='qemu'><name>&ext;</name></domain>\n`,
        ['FETCHED-OVER-HTTP']],
      ['external SYSTEM entity (file)',
        `<?xml version="1.0"?>\n<!DOCTYPE domain [\n  <!ENTITY ext SYSTEM "file://${secret}">\n]>\n<domain type='qemu'><name>&ext;</name></domain>\n`,
        ['SECRET-MARKER']],
      ['external SYSTEM entity (file), UTF-16',
        utf16(`<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE domain [\n  <!ENTITY ext SYSTEM "file://${secret}">\n]>\n<domain type='qemu'><name>&ext;</name></domain>\n`),
        ['SECRET-MARKER']],
    ];
    const files = cases.map(([label, data]) => file(`${op}-${label.replace(/\W+/g, '-')}.xml`, data));
    // An external DTD subset is no entity declaration, but must not be fetched either.
    const dtdFile = file(`${op}-dtd.xml`, domain('0').replace('<domain', `<!DOCTYPE domain SYSTEM "${base}/dtd-${op}">\n<domain`));
    // The batch and the single-file calls at once; no call may fetch anything, so the server's
    // log must stay empty for all of them together.
    const aloneIdx = [1, 2, 4];
    hits = [];
    const [batch, dtd, ...singles] = await Promise.all([
      run([op, '--profile', PROFILE, ...files, dtdFile]),
      run([op, '--profile', PROFILE, dtdFile]),
      ...aloneIdx.map((i) => run([op, '--profile', PROFILE, files[i]])),
    ]);
    assertBatch(t, batch, [...files, dtdFile], 1, 'batch of DOCTYPE files');
    cases.forEach(([label, , markers], i) => {
      assertRefusedIn(t, batch, files[i], label);
      for (const m of markers) t.notOk((batch.stdout + batch.stderr).includes(m), `${label}: no expansion (${m} absent)`);
      t.same(hits.filter((h) => h.includes(`entity-${op}`)), [], `${label}: nothing fetched over HTTP`);
    });
    t.same(hits, [], 'external DTD subset: nothing fetched over HTTP');

    // Alone: the libxml2 paths (UTF-16) and a fetch attempt, as single-file calls.
    aloneIdx.forEach((i, k) => {
      const [label, , markers] = cases[i];
      const r = singles[k];
      assertRefused(t, r, 1, `${label}, alone`);
      for (const m of markers) t.notOk((r.stdout + r.stderr).includes(m), `${label}, alone: no expansion (${m} absent)`);
      t.same(hits, [], `${label}, alone: nothing fetched over HTTP`);
    });
    t.same(hits, [], 'external DTD subset, alone: nothing fetched over HTTP');
    t.notOk(/^\s*at\s/m.test(dtd.stderr), 'external DTD subset, alone: no stack trace', { stderr: show(dtd.stderr) });
  });
}

t.test('several files per call: headers, prefixed errors, the worst exit status', async (t) => {
  const a = file('batch-a.xml', domain('0'));
  const b = file('batch-b.xml', domain('0').replace('<name>badinput</name>', '<name>other</name>'));
  const bad = file('batch-u32.xml', domain('0-4294967295'));
  const sub = join(dir, 'batch-dir');
  mkdirSync(sub);
  writeFileSync(join(sub, 'b.xml'), readFileSync(b));
  writeFileSync(join(sub, 'a.xml'), readFileSync(a));
  writeFileSync(join(sub, 'notes.txt'), 'not XML, not picked up\n');
  const one = join(dir, 'batch-one');
  mkdirSync(one);
  writeFileSync(join(one, 'a.xml'), readFileSync(a));
  const [ra, rb, mixed, good, fromDir, fromGlob, noMatch, single] = await Promise.all([
    run(['argv', '--profile', PROFILE, a]),
    run(['argv', '--profile', PROFILE, b]),
    run(['argv', '--profile', PROFILE, a, bad, b]),
    run(['argv', '--profile', PROFILE, a, b]),
    run(['argv', '--profile', PROFILE, sub]),
    run(['argv', '--profile', PROFILE, join(sub, '*.xml')]),
    run(['argv', '--profile', PROFILE, join(sub, 'none-*.xml')]),
    run(['argv', '--profile', PROFILE, one]),
  ]);
  t.equal(ra.exitCode, 0, 'first file alone: exit 0');
  t.equal(rb.exitCode, 0, 'second file alone: exit 0');

  t.equal(mixed.exitCode, 1, 'a good, a bad and a good file: exit 1');
  t.equal(mixed.stdout, `==> ${a} <==\n${ra.stdout}==> ${b} <==\n${rb.stdout}`, 'stdout: each result under its header, in argument order, exactly as alone');
  t.equal(mixed.stderr, `${bad}: invalid argument: Failed to parse bitmap '0-4294967295'\n`, 'stderr: the bad file, prefixed');

  t.equal(good.exitCode, 0, 'two good files: exit 0');
  t.equal(good.stderr, '', 'two good files: stderr empty');

  const want = `==> ${join(sub, 'a.xml')} <==\n${ra.stdout}==> ${join(sub, 'b.xml')} <==\n${rb.stdout}`;
  t.equal(fromDir.exitCode, 0, 'a directory: exit 0');
  t.equal(fromDir.stdout, want, "a directory: its *.xml files, sorted, each under its header");
  t.equal(fromGlob.stdout, want, 'an unexpanded glob: the same files and layout');
  assertRefused(t, noMatch, 1, 'a glob matching nothing');

  t.equal(single.stdout, ra.stdout, 'a directory holding one file: no header (headers only for several files)');
});

t.test('usage errors exit 2 with one line', async (t) => {
  const ok = file('usage-ok.xml', domain('0'));
  const usage: [string[], string][] = [
    [['argv', '--bogus', ok], 'argv: unknown option'],
    [['xml', '--bogus', ok], 'xml: unknown option'],
    [['--bogus'], 'top-level: unknown option'],
    [[], 'no arguments'],
    [['argv'], 'argv: no file'],
    [['frobnicate', ok], 'unknown command'],
    [['argv', '--impl', 'nope', ok], 'argv: --impl outside its choices'],
    [['argv', '--jobs', '0', ok], 'argv: --jobs 0'],
    [['xml', ok, '--profile'], 'xml: --profile without a value'],
  ];
  const got = await Promise.all(usage.map(([args]) => run(args)));
  usage.forEach(([, label], i) => assertRefused(t, got[i], 2, label));
});

t.test('--help exits 0 with help on stdout', async (t) => {
  const all = [['--help'], ['argv', '--help'], ['xml', '--help']];
  const got = await Promise.all(all.map((args) => run(args)));
  for (const [i, args] of all.entries()) {
    const r = got[i];
    const label = args.join(' ');
    t.equal(r.exitCode, 0, `${label}: exit 0`, { stderr: show(r.stderr) });
    t.match(r.stdout, /Usage:/, `${label}: usage on stdout`);
    t.equal(r.stderr, '', `${label}: stderr empty`);
    t.ok(r.ms < LIMIT_MS, `${label}: finished in ${r.ms.toFixed(0)} ms`);
  }
});

t.test('good inputs from libvirt\'s test data', async (t) => {
  if (!existsSync(join(tests, 'qemuxml2argvdata'))) {
    t.skip(`libvirt's test tree is absent (${tests}): run npm run setup`);
    return;
  }
  const good: [string, string, string, string][] = [
    ['argv', 'x86_64-latest', 'qemuxml2argvdata/numatune-memnode-restrictive-mode.xml', 'qemuxml2argvdata/numatune-memnode-restrictive-mode.x86_64-latest.args'],
    ['xml', 'x86_64-latest', 'qemuxml2argvdata/numatune-memnode-restrictive-mode.xml', 'qemuxml2xmloutdata/numatune-memnode-restrictive-mode.x86_64-latest.xml'],
    ['argv', 'nocaps', 'qemuxml2argvdata/numatune-memory.xml', 'qemuxml2argvdata/numatune-memory.args'],
  ];
  const got = await Promise.all(good.map(([op, profile, input]) => run([op, '--profile', profile, join(tests, input)])));
  for (const [i, [op, profile, input, expected]] of good.entries()) {
    const r = got[i];
    const label = `${op} --profile ${profile} ${input}`;
    t.equal(r.exitCode, 0, `${label}: exit 0`, { stderr: show(r.stderr) });
    t.equal(r.stderr, '', `${label}: stderr empty`);
    t.equal(r.stdout, readFileSync(join(tests, expected), 'utf8'), `${label}: stdout is exactly ${expected}`);
  }
});
