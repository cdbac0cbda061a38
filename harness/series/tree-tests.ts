// The tree's own test programs of a series build, run on the tree's own test data (so a series'
// new test files are exercised too), selecting the requested cases with VIR_TEST_RANGE. Two
// layouts, told apart by the programs the build has (scripts/build-libvirt.sh reads the tree):
//   xml2argv  libvirt up to 9.x: tests/qemuxml2argvtest + tests/qemuxml2xmltest
//   xmlconf   libvirt 10+: tests/qemuxmlconftest (one program, four subtests per registration;
//             grouped into the runner's per-file cases by conf-cases.ts)
//
// libvirt's testutils numbers every virTestRun() call 1..N in registration order and skips,
// silently, those outside VIR_TEST_RANGE (a virBitmap list: "612,618-620"). Skipped tests print
// nothing, so the name -> index map comes from one full run with VIR_TEST_VERBOSE=1 (about 2 s
// per program), cached per build next to the binary (<root>/tree-tests/<program>.index.json,
// invalidated by the binary's size and mtime).
//
// Titles: xml2argv "QEMU XML-2-ARGV <name><suffix>" (suffix .x86_64-latest etc.), one test per
// registration; xml2xml "QEMU XML-2-XML-inactive <name>" and "QEMU XML-2-XML-active <name>",
// without the suffix; xmlconf "QEMU XML def parse <name><suffix>", "QEMU XML def -> XML …",
// "QEMU XML OUT -> XML …", "QEMU XML def -> ARGV …" (a subtest that does not apply, e.g. ARGV of
// a parse error, reports SKIP). Case ids follow the runner's: libvirt/<suite>/<name><suffix>, and
// on 10+ libvirt/qemuxmlconf/<name><suffix>.args|.err|.xml (conf-cases.ts); an xml2xml id with a
// suffix also matches the suffix-less title. A case with several tests (xml2xml's inactive +
// active, xmlconf's subtests, or a name registered twice) passes only when none of them fails.
//
// Output: in verbose mode a test prints "N) TITLE ... " then, while it runs, its own debug text
// (xml2argv's diffs), then OK / SKIP / FAILED. xmlconf tests log through virTestRunLog, which
// prints the captured libvirt log AFTER the status line, so a failure's detail is everything up to
// the next test's header.
import { printNodeSet } from '../neutral/bitmap-text.js';
import { writeAtomic } from '../neutral/atomic-file.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { inBuild, loadSeriesBuild, type SeriesBuild } from './manifest.js';
import { parseTestOutput, type Parsed, type TestStatus } from './test-output.js';
import { confCases } from './conf-cases.js';

export { parseTestOutput, type TestStatus };

export type TreeSuite = 'xml2argv' | 'xml2xml' | 'qemuxmlconf';
export type TreeLayout = 'xml2argv' | 'xmlconf';
export type TreeProgram = 'qemuxml2argvtest' | 'qemuxml2xmltest' | 'qemuxmlconftest';

export interface TreeTest {
  program: TreeProgram;
  index: number;
  title: string;
}

export interface TreeCase {
  /** libvirt/xml2argv/numatune-memnode-restrictive-mode.x86_64-latest (9.x),
   *  libvirt/qemuxmlconf/numatune-memnode-restrictive-mode.x86_64-latest.args (10+) */
  id: string;
  suite: TreeSuite;
  name: string;
  tests: TreeTest[];
}

export interface TreeCaseResult extends Omit<TreeCase, 'tests'> {
  /** skip: libvirt itself skipped every test of the case (detail says so). */
  status: 'pass' | 'fail' | 'skip';
  tests: (TreeTest & { status: TestStatus })[];
  /** For a failure: libvirt's own VIR_TEST_DEBUG output for the failing tests (its diff). */
  detail?: string;
  /** The command that reruns just this case's tests. */
  rerun: string;
}

export interface TreeRunReport {
  build: SeriesBuild;
  results: TreeCaseResult[];
  /** Requested selectors that matched no test of this build. */
  unmatched: string[];
  /** Wall time of the selected runs (not counting a first-time index listing). */
  ms: number;
}

/** Suite -> program, per layout. */
const LAYOUTS: Record<TreeLayout, Partial<Record<TreeSuite, TreeProgram>>> = {
  xml2argv: { xml2argv: 'qemuxml2argvtest', xml2xml: 'qemuxml2xmltest' },
  xmlconf: { qemuxmlconf: 'qemuxmlconftest' },
};
const TITLE_PREFIX: [RegExp, TreeSuite][] = [
  [/^QEMU XML-2-ARGV (.+)$/, 'xml2argv'],
  [/^QEMU XML-2-XML-(?:inactive|active) (.+)$/, 'xml2xml'],
];
const SUFFIX = /\.[a-z0-9_]+-(?:latest|\d+\.\d+\.\d+)$/;

/** The layout of a build: recorded in its manifest (recipe 2), else told by its programs. */
export function treeLayout(b: SeriesBuild): TreeLayout {
  if (b.testLayout) return b.testLayout;
  return b.binaries.qemuxmlconftest ? 'xmlconf' : 'xml2argv';
}

/** VIR_TEST_RANGE syntax ("3-5,9"): the same as libvirt's bitmap format. */
function toRange(indexes: number[]): string {
  return printNodeSet(indexes);
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

export class TreeTestsBackend {
  readonly name = 'tree-tests' as const;
  private index = new Map<TreeProgram, TreeTest[]>();
  readonly layout: TreeLayout;
  /** Suite -> program of this build's layout. */
  private readonly programs: [TreeSuite, TreeProgram][];

  constructor(readonly build: SeriesBuild, private readonly timeoutMs = 300_000) {
    this.layout = treeLayout(build);
    this.programs = Object.entries(LAYOUTS[this.layout]) as [TreeSuite, TreeProgram][];
  }

  private binary(program: TreeProgram): string {
    const bin = this.build.binaries[program];
    if (!bin) throw new Error(`series build ${this.build.key} has no ${program} (layout ${this.layout})`);
    return bin;
  }

  /** The backend for a built key, or the reason there is none. */
  static fromKey(key: string, buildsDir?: string): TreeTestsBackend | { missing: string } {
    const b = loadSeriesBuild(key, buildsDir);
    return 'missing' in b ? b : new TreeTestsBackend(b);
  }

  async unavailable(): Promise<string | null> {
    for (const [, p] of this.programs) {
      const bin = this.build.binaries[p];
      if (!bin) return `series build ${this.build.key} (layout ${this.layout}) names no ${p} in its manifest`;
      if (!existsSync(bin)) return `series build ${this.build.key} lacks ${bin}`;
    }
    return null;
  }

  private env(): NodeJS.ProcessEnv {
    // What libvirt's tests/meson.build gives its tests (tests_env), and nothing of ours.
    const b = this.build;
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      LC_ALL: 'C',
      LIBVIRT_AUTOSTART: '0',
      // (the programs read their compiled-in copies; these say the same, as seen where they run)
      abs_builddir: join(this.madeFor('build'), 'tests'),
      abs_srcdir: join(this.madeFor('src'), 'tests'),
      abs_top_builddir: this.madeFor('build'),
      abs_top_srcdir: this.madeFor('src'),
    };
  }

  /** The build's src/ or build/ at the path it was configured for. */
  private madeFor(dir: 'src' | 'build'): string {
    return this.build.buildRoot ? join(this.build.buildRoot, dir) : dir === 'src' ? this.build.srcdir : this.build.builddir;
  }

  /** The program where it was built for: libvirt turns its directory override on (cpu_map,
   *  schemas and modules from the build) only for a program under the compiled-in build dir. */
  private atMadeFor(program: TreeProgram): string {
    return join(this.madeFor('build'), relative(this.build.builddir, this.binary(program)));
  }

  private exec(program: TreeProgram, extra: Record<string, string>): Promise<{ code: number | null; out: string }> {
    const [cmd, ...args] = inBuild(this.build, [this.atMadeFor(program)]);
    return new Promise((resolveP, reject) => {
      const child = spawn(cmd, args, {
        cwd: this.build.builddir,
        env: { ...this.env(), ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => chunks.push(c));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${program} of build ${this.build.key} timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolveP({ code, out: Buffer.concat(chunks).toString('utf8') });
      });
    });
  }

  /** Every test of a program with its index (cached per build and binary). */
  async list(program: TreeProgram): Promise<TreeTest[]> {
    const hit = this.index.get(program);
    if (hit) return hit;
    const bin = this.binary(program);
    const st = statSync(bin);
    const stamp = `${st.size}:${st.mtimeMs}`;
    const dir = join(this.build.root, 'tree-tests');
    const file = join(dir, `${program}.index.json`);
    if (existsSync(file)) {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as { stamp: string; tests: TreeTest[] };
      if (cached.stamp === stamp) {
        this.index.set(program, cached.tests);
        return cached.tests;
      }
    }
    const { out } = await this.exec(program, { VIR_TEST_VERBOSE: '1' });
    const tests = parseTestOutput(out).map((p) => ({ program, index: p.index, title: p.title }));
    if (!tests.length) throw new Error(`${program} of build ${this.build.key} listed no tests:\n${out.slice(0, 2000)}`);
    writeAtomic(file, JSON.stringify({ stamp, tests }, null, 1));
    this.index.set(program, tests);
    return tests;
  }

  /** All cases of this build (every program of its layout), grouped by case id. */
  async cases(): Promise<TreeCase[]> {
    if (this.layout === 'xmlconf') {
      return confCases(await this.list('qemuxmlconftest'), join(this.build.srcdir, 'tests', 'qemuxmlconfdata'));
    }
    const byId = new Map<string, TreeCase>();
    for (const [suite, program] of this.programs) {
      for (const t of await this.list(program)) {
        const m = TITLE_PREFIX.find(([re, s]) => s === suite && re.test(t.title));
        if (!m) continue;
        const name = m[0].exec(t.title)![1];
        const id = `libvirt/${suite}/${name}`;
        let c = byId.get(id);
        if (!c) byId.set(id, (c = { id, suite, name, tests: [] }));
        c.tests.push(t);
      }
    }
    return [...byId.values()];
  }

  /** Cases matching selectors: exact ids or names, or globs (* ?) over either. An xml2xml id
   *  with a caps suffix (the runner's id) matches the suffix-less xml2xml title; a selector
   *  without a suffix also matches ids with one (a selector naming numad selects 9.0.0's
   *  nocaps libvirt/xml2argv/numad and 10+'s libvirt/qemuxmlconf/numad.x86_64-latest.args
   *  and .xml). */
  async select(selectors: string[]): Promise<{ cases: TreeCase[]; unmatched: string[] }> {
    const all = await this.cases();
    const chosen = new Set<TreeCase>();
    const unmatched: string[] = [];
    for (const sel of selectors) {
      const variants = [sel];
      const m = /^libvirt\/xml2xml\/(.+)$/.exec(sel);
      if (m && SUFFIX.test(m[1])) variants.push(`libvirt/xml2xml/${m[1].replace(SUFFIX, '')}`);
      const res = variants.map(globToRegExp);
      const bare = (x: string) => x.replace(/\.(args|err|xml)$/, '').replace(SUFFIX, '');
      const hits = all.filter((c) => res.some((re) =>
        re.test(c.id) || re.test(c.name) || re.test(bare(c.id)) || re.test(bare(c.name))));
      if (!hits.length) unmatched.push(sel);
      hits.forEach((c) => chosen.add(c));
    }
    return { cases: all.filter((c) => chosen.has(c)), unmatched };
  }

  /** Run the selected cases (one process per program, VIR_TEST_RANGE = their indexes). */
  async run(selectors: string[]): Promise<TreeRunReport> {
    const { cases, unmatched } = await this.select(selectors);
    const t0 = Date.now();
    const status = new Map<string, Parsed>(); // program:index -> parsed
    for (const [, program] of this.programs) {
      const idx = cases.flatMap((c) => c.tests.filter((t) => t.program === program).map((t) => t.index));
      if (!idx.length) continue;
      const { out } = await this.exec(program, { VIR_TEST_DEBUG: '1', VIR_TEST_RANGE: toRange(idx) });
      for (const p of parseTestOutput(out)) status.set(`${program}:${p.index}`, p);
    }
    const results: TreeCaseResult[] = cases.map((c) => {
      const tests = c.tests.map((t) => {
        const p = status.get(`${t.program}:${t.index}`);
        if (p && p.title !== t.title) {
          throw new Error(`index ${t.index} of ${t.program} is '${p.title}', expected '${t.title}' (stale index?)`);
        }
        return { ...t, status: p?.status ?? ('NOT RUN' as TestStatus) };
      });
      // SKIP is libvirt's own verdict (a missing capability; an xmlconf subtest that does not
      // apply); only FAILED / NOT RUN fail. A case whose every test skipped is a skip, not a
      // pass: it checked nothing.
      const bad = tests.filter((t) => t.status === 'FAILED' || t.status === 'NOT RUN');
      const allSkipped = tests.every((t) => t.status === 'SKIP');
      const program = c.tests[0].program;
      const r: TreeCaseResult = {
        ...c,
        tests,
        status: bad.length ? 'fail' : allSkipped ? 'skip' : 'pass',
        rerun: `cd ${this.build.builddir} && VIR_TEST_DEBUG=1 VIR_TEST_RANGE=${toRange(c.tests.map((t) => t.index))} ${inBuild(this.build, [this.build.buildRoot ? this.atMadeFor(program) : `./tests/${basename(this.binary(program))}`]).join(' ')}`,
      };
      if (bad.length) {
        r.detail = bad.map((t) => status.get(`${t.program}:${t.index}`)?.text ?? `${t.index}) ${t.title}: not run\n`).join('');
      } else if (allSkipped) {
        r.detail = `libvirt's ${basename(this.binary(program))} reported SKIP for every test of ${c.id}`;
      }
      return r;
    });
    return { build: this.build, results, unmatched, ms: Date.now() - t0 };
  }

  /** Run every test of every program of the layout, unselected (the whole tree's suites). */
  async runAll(): Promise<{ program: TreeProgram; code: number | null; failed: Parsed[]; total: number }[]> {
    const out = [];
    for (const [, program] of this.programs) {
      const r = await this.exec(program, { VIR_TEST_VERBOSE: '1' });
      const parsed = parseTestOutput(r.out);
      out.push({ program, code: r.code, failed: parsed.filter((p) => p.status === 'FAILED'), total: parsed.length });
    }
    return out;
  }

  async close(): Promise<void> {}
}
