// The tree's own test programs of a series build (scripts/build-libvirt.sh), on the NUMA-tuning
// cases: qemuxml2argvtest / qemuxml2xmltest (libvirt up to 9.x; ids libvirt/xml2argv/…,
// libvirt/xml2xml/…) or qemuxmlconftest (10+; ids libvirt/qemuxmlconf/<name>.x86_64-latest.args,
// .err or .xml, as the runner names them).
// Runs only when HARNESS_SERIES_KEY names a built key.
//
//   HARNESS_SERIES_KEY=<key>            the build (key=... printed by build-libvirt.sh)
//   HARNESS_SERIES_EXPECT_FAIL=ID,ID    cases that must FAIL (a deliberately broken series, e.g.
//                                       cases/series/broken-restrictive: libvirt/xml2argv/
//                                       numatune-memnode-restrictive-mode.x86_64-latest, on
//                                       10+ libvirt/qemuxmlconf/….args); every other selected case must
//                                       pass
//   HARNESS_SERIES_CASES=GLOB,GLOB      selection (default: the numatune/numad/cputune-numatune cases)
import t from 'tap';
import { describeSeriesBuild } from '../series/manifest.js';
import { parseTestOutput, TreeTestsBackend } from '../series/tree-tests.js';
import { confCases } from '../series/conf-cases.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

const key = process.env.HARNESS_SERIES_KEY ?? '';
const backend = key ? TreeTestsBackend.fromKey(key) : null;
const skipReason = !backend
  ? 'no series build (run scripts/build-libvirt.sh …)'
  : 'missing' in backend
    ? `no series build (run scripts/build-libvirt.sh …): ${backend.missing}`
    : await backend.unavailable();

if (!backend || 'missing' in backend || skipReason) {
  t.plan(0, skipReason ?? 'no series build (run scripts/build-libvirt.sh …)');
} else {
  const selectors = list(process.env.HARNESS_SERIES_CASES);
  if (!selectors.length) {
    // a selector without a caps suffix also matches ids with one (tree-tests.ts select())
    selectors.push('libvirt/*/numatune-*', 'libvirt/*/numad', 'libvirt/*/numad-*', 'libvirt/*/cputune-numatune');
  }
  const expectFail = new Set(list(process.env.HARNESS_SERIES_EXPECT_FAIL));

  t.comment(`${describeSeriesBuild(backend.build)}; test layout ${backend.layout}`);

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

  const report = await backend.run(selectors);
  t.comment(`${report.results.length} cases, ${report.results.reduce((n, r) => n + r.tests.length, 0)} tree tests, ${report.ms} ms`);

  t.test('selection', async (t) => {
    t.same(report.unmatched, [], 'every selector matched a test of this build');
    t.ok(report.results.length > 0, 'some cases selected');
    for (const id of expectFail) {
      t.ok(report.results.some((r) => r.id === id), `expected failure ${id} is among the selected cases`);
    }
  });

  for (const r of report.results) {
    const idx = r.tests.map((x) => `${x.program}#${x.index}=${x.status}`).join(' ');
    if (expectFail.has(r.id)) {
      t.equal(r.status, 'fail', `${r.id} fails, as the broken series should make it (${idx})`);
    } else if (r.status === 'skip') {
      t.skip(`${r.id} (${idx}): ${r.detail}`);
    } else {
      t.equal(r.status, 'pass', `${r.id} (${idx})`, r.status === 'fail'
        ? { diagnostic: true, rerun: r.rerun, detail: r.detail?.slice(0, 4000) }
        : {});
    }
  }

  const failing = report.results.filter((r) => r.status === 'fail').map((r) => r.id);
  t.comment(`failing: ${failing.length ? failing.join(', ') : 'none'}`);
}
