// --expect-failures: a run passes only when exactly the listed failures happen. Lines are
// `CASE-ID [PAIR]` as the summary prints them, optionally conditioned on the host.
import { readFileSync } from 'node:fs';
import { failureKey, type Verdict } from '../reporters/verdict.js';

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

export function expectFailures(file: string, verdicts: Verdict[], host: ExpectHost): string[] {
  const { want, elsewhere } = listedFailures(readFileSync(file, 'utf8'), host);
  const got = [...new Set(verdicts.filter((v) => v.status === 'fail').map(failureKey))];
  // A listed failure on a host the run was told to leave out (--no-emulated) is not run, said so
  // line by line; any other skip of a listed failure is a miss.
  const leftOut = new Set(verdicts.filter((v) => v.status === 'skip' && /(^|: )left out by --no-emulated$/.test(v.detail ?? '')).map(failureKey));
  const notRun = want.filter((w) => !got.includes(w) && leftOut.has(w));
  const missing = want.filter((w) => !got.includes(w) && !leftOut.has(w));
  const extra = got.filter((g) => !want.includes(g));
  const out = [`# expected failures (${file}): ${want.length - missing.length - notRun.length}/${want.length} seen, ${extra.length} unexpected${notRun.length ? `, ${notRun.length} not run (left out by --no-emulated)` : ''}${elsewhere.length ? `, ${elsewhere.length} listed for hosts ${host.kvm ? 'without' : 'with'} KVM only` : ''}`];
  for (const e of elsewhere) out.push(`#   not for this host (${host.kvm ? 'it has' : 'it lacks'} KVM): ${e}`);
  for (const m of notRun) out.push(`#   not run (--no-emulated): ${m}`);
  for (const m of missing) out.push(`#   NOT caught: ${m}`);
  for (const x of extra) out.push(`#   unexpected failure: ${x}`);
  // A list none of whose failures ran catches nothing: that cannot pass.
  const vacuous = want.length > 0 && want.length === notRun.length;
  if (vacuous) out.push('#   none of the listed failures ran here');
  out.push(missing.length || extra.length || vacuous ? 'expected-failures: 0 passed, 1 failed' : 'expected-failures: 1 passed, 0 failed');
  return out;
}

