// JUnit XML for CI (GitLab, Jenkins, GitHub): one testsuite per pair (and "unit"), one testcase
// per verdict; a failure carries its diff or reason, a skip its reason.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import junitModule, { type Builder } from 'junit-report-builder';
import type { Verdict } from './verdict.js';

// The package is CommonJS: under NodeNext its default export may arrive wrapped once more.
const junit: Builder = (junitModule as unknown as { default?: Builder }).default ?? (junitModule as unknown as Builder);

export function writeJunit(file: string, verdicts: Verdict[]): void {
  const builder = junit.newBuilder();
  const suites = new Map<string, ReturnType<Builder['testSuite']>>();
  for (const v of verdicts) {
    let suite = suites.get(v.pair);
    if (!suite) { suite = builder.testSuite().name(`libvirt-harness ${v.pair}`); suites.set(v.pair, suite); }
    const tc = suite.testCase().className(v.id.split('/').slice(0, 2).join('.')).name(`${v.id} [${v.pair}]`).time(v.ms / 1000);
    if (v.status === 'fail') tc.failure(`${v.detail ?? 'mismatch'}${v.diff ? `\n${v.diff}` : ''}${v.rerun ? `\nrerun: ${v.rerun}` : ''}`);
    else if (v.status === 'skip' || v.status === 'todo') tc.skipped();
  }
  mkdirSync(dirname(file), { recursive: true });
  builder.writeTo(file);
}
