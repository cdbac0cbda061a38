// --expect-failures: a run passes only when exactly the listed failures happen. Lines are
// `CASE-ID [PAIR]` as the summary prints them, optionally conditioned on the host. Computed
// once (expectReport); the TAP lines and the HTML report both show that one result.
import { readFileSync } from 'node:fs';
import { failureKey, type Verdict } from '../reporters/verdict.js';
import type { ExpectReport } from '../reporters/run-meta.js';

/** What a listed failure may be conditioned on: the run's (machine-side) host. */
export interface ExpectHost { kvm: boolean }

/** The listed failures that hold on this host. A line may end in `when kvm` or `when no-kvm`
 *  (a catch that exists only where the host has KVM, or lacks it); on another host the line
 *  is not required, and said so. */
export function listedFailures(text: string, host: ExpectHost): { want: string[]; elsewhere: string[] } {
  const want: string[] = [];
  const elsewhere: string[] = [];
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    const m = /^(.*\])\s+when\s+(kvm|no-kvm)$/.exec(l);
    if (!m) { want.push(l); continue; }
    (host.kvm === (m[2] === 'kvm') ? want : elsewhere).push(`${m[1]}`);
  }
  return { want, elsewhere };
}

export function expectReport(file: string, verdicts: Verdict[], host: ExpectHost): ExpectReport {
  const { want, elsewhere } = listedFailures(readFileSync(file, 'utf8'), host);
  const got = new Set(verdicts.filter((v) => v.status === 'fail').map(failureKey));
  // A listed failure on a host the run was told to leave out (--no-emulated) is not run, said so
  // line by line; any other skip of a listed failure is a miss.
  const leftOut = new Set(verdicts.filter((v) => v.status === 'skip' && /(^|: )left out by --no-emulated$/.test(v.detail ?? '')).map(failureKey));
  const entries: ExpectReport['entries'] = [
    ...want.map((key) => ({ key, state: got.has(key) ? 'seen' as const : leftOut.has(key) ? 'not run' as const : 'not caught' as const })),
    ...elsewhere.map((key) => ({ key, state: 'not for this host' as const })),
  ];
  const unexpected = [...got].filter((g) => !want.includes(g));
  const notRun = entries.filter((e) => e.state === 'not run').length;
  const vacuous = want.length > 0 && want.length === notRun;
  return { file, kvm: host.kvm, entries, unexpected, vacuous, passed: !entries.some((e) => e.state === 'not caught') && !unexpected.length && !vacuous };
}

/** The result as the runner prints it; the last line is the plain count line. */
export function expectLines(r: ExpectReport): string[] {
  const n = (s: ExpectReport['entries'][number]['state']): string[] => r.entries.filter((e) => e.state === s).map((e) => e.key);
  const [seen, notRun, missing, elsewhere] = [n('seen'), n('not run'), n('not caught'), n('not for this host')];
  const want = seen.length + notRun.length + missing.length;
  const out = [`# expected failures (${r.file}): ${seen.length}/${want} seen, ${r.unexpected.length} unexpected${notRun.length ? `, ${notRun.length} not run (left out by --no-emulated)` : ''}${elsewhere.length ? `, ${elsewhere.length} listed for hosts ${r.kvm ? 'without' : 'with'} KVM only` : ''}`];
  for (const e of elsewhere) out.push(`#   not for this host (${r.kvm ? 'it has' : 'it lacks'} KVM): ${e}`);
  for (const m of notRun) out.push(`#   not run (--no-emulated): ${m}`);
  for (const m of missing) out.push(`#   NOT caught: ${m}`);
  for (const x of r.unexpected) out.push(`#   unexpected failure: ${x}`);
  if (r.vacuous) out.push('#   none of the listed failures ran here');
  out.push(r.passed ? 'expected-failures: 1 passed, 0 failed' : 'expected-failures: 0 passed, 1 failed');
  return out;
}

export function expectFailures(file: string, verdicts: Verdict[], host: ExpectHost): string[] {
  return expectLines(expectReport(file, verdicts, host));
}
