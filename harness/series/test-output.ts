// libvirt's testutils output (tests/testutils.c, virTestRun), verbose mode: one entry per test.
//
// Each test prints "N) TITLE ... " then, while it runs, its own debug text (xml2argv's diffs),
// then OK / SKIP / FAILED. Tests that log through virTestRunLog (qemuxmlconftest, libvirt 10+)
// print the captured libvirt log AFTER the status line, so a test's text runs from its header to
// the next header. Out-of-range tests (VIR_TEST_RANGE) print nothing at all.
export type TestStatus = 'OK' | 'FAILED' | 'SKIP' | 'NOT RUN';

export interface Parsed { index: number; title: string; status: TestStatus; text: string }

const HEADER = /^\s*(\d+)\) (.*?)\s*\.\.\. ?(.*)$/;
const STATUS = /(?:^|\.\.\. )(OK|FAILED|SKIP)$/;
/** testutils' closing lines, not part of the last test's detail. */
const TRAILER = /^Some tests failed\. Run them using:/;
/** Parse testutils' verbose/debug stderr into one entry per test that ran. A test's text runs
 *  from its header to the next header: its own debug output before the status and, for
 *  virTestRunLog tests (xmlconf), libvirt's log after it. */
export function parseTestOutput(out: string): Parsed[] {
  const lines = out.split('\n');
  const res: Parsed[] = [];
  let cur: Parsed | null = null;
  for (const line of lines) {
    const h = HEADER.exec(line);
    if (h) {
      cur = { index: Number(h[1]), title: h[2], status: 'NOT RUN', text: line + '\n' };
      res.push(cur);
      const s = STATUS.exec(line.slice(line.indexOf('...')));
      if (s) cur.status = s[1] as TestStatus;
      continue;
    }
    if (!cur) continue;
    if (TRAILER.test(line)) { cur = null; continue; }
    cur.text += line + '\n';
    if (cur.status === 'NOT RUN') {
      const s = STATUS.exec(line.trimEnd());
      if (s) cur.status = s[1] as TestStatus;
    }
  }
  return res;
}

