// libvirt's own test programs as the anchor: a series build's tests/qemuxml2argvtest and
// tests/qemuxml2xmltest (libvirt 10+: tests/qemuxmlconftest) on the NUMA family of the build's
// own tree (the runner's selection), timed in the same run as the model. Builds are tried in
// this order until one has NUMA-family cases: built from the bench's own tree first, clean (no
// patches) before patched, newest first.
// Per case with start-up included: one process per case (VIR_TEST_RANGE = that case's tests).
// Per case with start-up excluded: one process for all of a suite's cases, less one
// single-case process, over the other N-1 cases (the marginal cost of a case).
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { libvirtCases } from '../runner/libvirt-cases.js';
import { defaultBuildsDir, isSeriesKey, loadSeriesBuild, type SeriesBuild } from '../series/manifest.js';
import { TreeTestsBackend } from '../series/tree-tests.js';
import { median } from './stats.js';

export interface TreeSuiteFigures {
  program: string;
  /** libvirt's own cases (per file on 10+: .args, .xml, .err). */
  cases: number;
  /** Cases the program passed (a case it did not run would make the timing meaningless). */
  passed: number;
  singleRuns: number;
  perCaseWithStartupMs: number;
  allCasesOneProcessMs: number;
  perCaseWithoutStartupMs: number;
}

export interface TreeFigures {
  skipped?: string;
  build?: string;
  suites?: Partial<Record<'argv' | 'xml', TreeSuiteFigures>>;
  /** Why an operation has no figures (fewer than two of its cases in the build). */
  suiteSkipped?: Partial<Record<'argv' | 'xml', string>>;
}

/** Successful series builds in the order to try them, or why there is none. */
function candidates(tree: string): SeriesBuild[] | string {
  const dir = defaultBuildsDir();
  if (!existsSync(dir)) return `no series build: ${dir} does not exist (scripts/build-libvirt.sh builds one)`;
  const builds = readdirSync(dir).filter(isSeriesKey).map((k) => loadSeriesBuild(k, dir)).filter((b): b is SeriesBuild => !('missing' in b));
  if (!builds.length) return `no series build with a manifest under ${dir} (scripts/build-libvirt.sh builds one)`;
  const rank = (b: SeriesBuild): number => (resolve(b.tree) === resolve(tree) ? 0 : 2) + (b.series.length ? 1 : 0);
  return builds.sort((a, b) => rank(a) - rank(b) || b.builtAt.localeCompare(a.builtAt));
}

export async function benchTreeTests(tree: string, singles: number): Promise<TreeFigures> {
  const builds = candidates(tree);
  if (typeof builds === 'string') return { skipped: builds };
  const why: string[] = [];
  for (const build of builds) {
    const r = await benchBuild(build, singles);
    if (!r.skipped && Object.keys(r.suites ?? {}).length) return r;
    why.push(r.skipped ?? Object.values(r.suiteSkipped ?? {}).join('; '));
  }
  return { skipped: `no series build with NUMA-family cases to time: ${why.join(' | ')}` };
}

async function benchBuild(build: SeriesBuild, singles: number): Promise<TreeFigures> {
  if (!existsSync(join(build.tree, 'tests'))) return { skipped: `series build ${build.key}: its source tree ${build.tree} is gone` };
  const backend = new TreeTestsBackend(build);
  const why = await backend.unavailable();
  if (why) return { skipped: why, build: build.key };
  const out: TreeFigures = { build: `${build.key} (libvirt ${build.version}${build.series.length ? `, ${build.series.length} patches` : ''})`, suites: {}, suiteSkipped: {} };
  try {
    const family = libvirtCases(build.tree).cases;
    await backend.cases(); // the name -> index listing, once, outside the timings
    for (const op of ['argv', 'xml'] as const) {
      const { cases } = await backend.select(family.filter((c) => c.op === op).map((c) => c.id));
      if (cases.length < 2) {
        out.suiteSkipped![op] = `${cases.length} ${op} case(s) of the NUMA family in build ${build.key}`;
        continue;
      }
      const all = await backend.run(cases.map((c) => c.id));
      // Evenly spaced single-case runs (each pays the program's whole start-up).
      const n = Math.min(singles, cases.length);
      const pick = Array.from({ length: n }, (_, i) => cases[Math.floor((i * cases.length) / n)]);
      const one: number[] = [];
      for (const c of pick) one.push((await backend.run([c.id])).ms);
      const withStartup = median(one);
      out.suites![op] = {
        program: [...new Set(cases.flatMap((c) => c.tests.map((t) => t.program)))].join('+'),
        cases: cases.length,
        passed: all.results.filter((r) => r.status === 'pass').length,
        singleRuns: n,
        perCaseWithStartupMs: withStartup,
        allCasesOneProcessMs: all.ms,
        perCaseWithoutStartupMs: Math.max(0, all.ms - withStartup) / (cases.length - 1),
      };
    }
  } catch (e) {
    return { ...out, skipped: `tree tests failed: ${String((e as Error).message).split('\n')[0]}` };
  } finally {
    await backend.close();
  }
  return out;
}
