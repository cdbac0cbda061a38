// The parsers of a tree's own test programs (qemuxml2argvtest/qemuxml2xmltest up to 9.x,
// qemuxmlconftest from 10): their output and their case grouping, as the runner's tree-tests
// backend (harness/runner/backends.ts) uses them under npm run series.
import t from 'tap';
import { parseTestOutput } from '../series/tree-tests.js';
import { confCases } from '../series/conf-cases.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

t.test('testutils output parser', async (t) => {
  const out = [
    'TEST: qemuxml2argvtest',
    '612) QEMU XML-2-ARGV numatune-memory                                   ... OK',
    '613) QEMU XML-2-ARGV numatune-memory-invalid-nodeset                   ... Got expected error: ',
    'error : virDomainNumatuneParseXML:266 : unsupported configuration: Invalid value',
    '',
    'OK',
    '618) QEMU XML-2-ARGV numatune-memnode-restrictive-mode.x86_64-latest   ... ',
    "Expect [}' \\]",
    "Actual [,\"host-nodes\":[3],\"policy\":\"bind\"}' \\]",
    '                                                                      ... FAILED',
    'Some tests failed. Run them using:',
  ].join('\n');
  const p = parseTestOutput(out);
  t.same(p.map((x) => [x.index, x.title, x.status]), [
    [612, 'QEMU XML-2-ARGV numatune-memory', 'OK'],
    [613, 'QEMU XML-2-ARGV numatune-memory-invalid-nodeset', 'OK'],
    [618, 'QEMU XML-2-ARGV numatune-memnode-restrictive-mode.x86_64-latest', 'FAILED'],
  ]);
  t.match(p[2].text, /host-nodes/);

  // qemuxmlconftest (10+): four subtests per registration; virTestRunLog prints libvirt's log
  // after the FAILED line, and that is part of the failing test's detail.
  const conf = [
    '3217) QEMU XML def parse numatune-memnode-restrictive-mode.x86_64-latest ... OK',
    '3218) QEMU XML def -> XML numatune-memnode-restrictive-mode.x86_64-latest ... OK',
    '3219) QEMU XML OUT -> XML numatune-memnode-restrictive-mode.x86_64-latest ... OK',
    '3220) QEMU XML def -> ARGV numatune-memnode-restrictive-mode.x86_64-latest ... ',
    '--- expected',
    '+++ actual',
    '-"size":25165824}\' \\',
    '+"size":25165824,"host-nodes":[3],"policy":"bind"}\' \\',
    'FAILED',
    'some libvirt log line after the status',
    '3225) QEMU XML def -> ARGV numatune-memnode-restrictive-mode-err-mixed.x86_64-latest ... SKIP',
    'Some tests failed. Run them using:',
    'VIR_TEST_DEBUG=1 VIR_TEST_RANGE=3220 ./qemuxmlconftest',
  ].join('\n');
  const q = parseTestOutput(conf);
  t.same(q.map((x) => [x.index, x.status]), [[3217, 'OK'], [3218, 'OK'], [3219, 'OK'], [3220, 'FAILED'], [3225, 'SKIP']]);
  t.equal(q[3].title, 'QEMU XML def -> ARGV numatune-memnode-restrictive-mode.x86_64-latest');
  t.match(q[3].text, /host-nodes[\s\S]*FAILED\nsome libvirt log line after the status/);
  t.notMatch(q[4].text, /Some tests failed/);
});

t.test('qemuxmlconftest subtests grouped as the runner names its cases', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvh-conf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['ok.x86_64-latest.args', 'ok.x86_64-latest.xml', 'bad.x86_64-latest.err',
    'fail.x86_64-latest.err', 'fail.x86_64-latest.xml', 'sev.x86_64-latest+amdsev.args', 'ok.xml']) {
    writeFileSync(join(dir, f), '');
  }
  const kinds = ['def parse', 'def -> XML', 'OUT -> XML', 'def -> ARGV'];
  const tests = ['ok', 'bad', 'fail', 'sev', 'nofiles'].flatMap((n, i) => kinds.map((k, j) => (
    { program: 'qemuxmlconftest' as const, index: i * 4 + j + 1, title: `QEMU XML ${k} ${n}.x86_64-latest` })));
  const got = confCases(tests, dir).map((c) => [c.id, c.tests.map((x) => x.index)]);
  t.same(got, [
    ['libvirt/qemuxmlconf/ok.x86_64-latest.args', [1, 4]],
    ['libvirt/qemuxmlconf/ok.x86_64-latest.xml', [1, 2, 3]],
    ['libvirt/qemuxmlconf/bad.x86_64-latest.err', [5, 8]],
    ['libvirt/qemuxmlconf/fail.x86_64-latest.err', [9, 12]],
    ['libvirt/qemuxmlconf/fail.x86_64-latest.xml', [9, 10, 11]],
    ['libvirt/qemuxmlconf/sev.x86_64-latest+amdsev.args', [13, 16]],
    ['libvirt/qemuxmlconf/nofiles.x86_64-latest', [17, 18, 19, 20]],
  ]);
});

t.test('fixture series invent no people: every patch is authored and signed off by the project', async (t) => {
  const { readdirSync, readFileSync, statSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cases', 'series');
  const patches: string[] = [];
  const walk = (d: string): void => { for (const e of readdirSync(d)) { const p = join(d, e); if (statSync(p).isDirectory()) walk(p); else if (e.endsWith('.patch')) patches.push(p); } };
  walk(root);
  t.ok(patches.length > 0, `${patches.length} patches`);
  for (const p of patches) {
    const people = readFileSync(p, 'utf8').split('\n').filter((l) => /^(From|Signed-off-by|Co-developed-by|Reviewed-by):/.test(l) && !/^From [0-9a-f]{40} /.test(l));
    for (const l of people) t.match(l, /: libvirt-harness <libvirt-harness@localhost>$/, `${p.slice(root.length + 1)}: ${l}`);
  }
});
