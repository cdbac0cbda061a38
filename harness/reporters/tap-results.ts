// Reads node-tap's own TAP stream back (tap-parser) so that every suite file's results reach
// the reports: each test of a unit-test file becomes a verdict, and a case-suite file that
// failed more than its verdicts say (a crash, an exception) becomes a failure of its own.
import { Parser, type Result } from 'tap-parser';
import type { Verdict } from './verdict.js';

export interface TapTest { file: string; name: string; ok: boolean; skip: boolean; todo: boolean; failures: string[] }
export interface TapFile { file: string; ok: boolean; tests: TapTest[]; failedLeaves: number }

const describe = (r: Result): string => {
  const d = r.diag as Record<string, unknown> | null;
  const body = d ? ['diff', 'detail', 'found', 'wanted', 'rerun', 'message'].filter((k) => d[k] !== undefined).map((k) => `${k}: ${typeof d[k] === 'string' ? d[k] : JSON.stringify(d[k])}`).join('\n') : '';
  return `${r.fullname || r.name}${body ? `\n${body}` : ''}`;
};

/** One suite file's TAP (as node-tap prints it when the file runs on its own). */
export function parseTap(file: string, text: string, exitedOk: boolean): TapFile {
  const f: TapFile = { file, ok: exitedOk, tests: [], failedLeaves: 0 };
  const top = new Parser();
  const testFailures = new Map<string, string[]>();
  const leaves = (p: Parser, testName: string): void => {
    p.on('assert', (r: Result) => { if (!r.ok && !r.todo && !r.skip) { f.failedLeaves++; testFailures.get(testName)?.push(describe(r)); } });
    p.on('child', (c: Parser) => leaves(c, testName));
  };
  top.on('child', (testParser: Parser) => { testFailures.set(testParser.name, []); leaves(testParser, testParser.name); });
  top.on('assert', (r: Result) => {
    if (!r.ok && !r.todo && !r.skip && !testFailures.has(r.name)) f.failedLeaves++;
    f.tests.push({ file, name: r.name, ok: r.ok, skip: !!r.skip, todo: !!r.todo, failures: testFailures.get(r.name) ?? (r.ok ? [] : [describe(r)]) });
  });
  top.end(text);
  return f;
}

/** A unit-test file's tests as verdicts ("unit/FILE > TEST [unit]"). */
export function unitVerdicts(f: TapFile): Verdict[] {
  const short = f.file.replace(/^harness\/test\//, '');
  const out: Verdict[] = f.tests.map((t) => ({
    id: `unit/${short} > ${t.name}`, pair: 'unit', ms: 0,
    status: t.todo ? 'todo' : t.skip ? 'skip' : t.ok ? 'pass' : 'fail',
    detail: t.ok ? undefined : t.failures.join('\n\n') || 'failed',
    rerun: `npx tap ${f.file}`,
  }));
  if (!f.ok && !out.some((v) => v.status === 'fail')) out.push({ id: `unit/${short}`, pair: 'suite', status: 'fail', ms: 0, detail: 'the test file failed outside any test (it threw or exited early): see its TAP output', rerun: `npx tap ${f.file}` });
  return out;
}
