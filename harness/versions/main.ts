// npm run versions: what changed between the libvirt releases the project has real outputs of.
// For every project case (argv and xml), the output each release gave — its golden, blessed
// from that release's real daemon on the same emulated topology (mock8) — is compared with the
// next release's; the inputs that differ are grouped by how they differ and each group says
// which of the model's switches explains it (explain.ts).
//
//   node dist/versions/main.js [--json FILE] [--case GLOB] [--top N]
//
// Markdown on stdout (the README's table is this output); --json writes the same data for the
// HTML report. Exit 0 when the report was made, 2 on bad usage or when fewer than two releases
// have goldens.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Operation, Outcome } from '../backends/types.js';
import type { HostFacts } from '../model/host-facts.js';
import type { Profile } from '../model/profile.js';
import { expectedOf } from '../runner/compare.js';
import { projectCases } from '../runner/discover.js';
import { chooseGolden, readHosts, SUITE_DIR } from '../runner/goldens.js';
import type { CommittedFacts } from '../runner/hosts.js';
import { globToRegExp } from '../runner/select.js';
import { changeOf, type ChangeKind } from './differences.js';
import { explain, explanationText, modelProfileOf } from './explain.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const USAGE = 'usage: node dist/versions/main.js [--json FILE] [--case GLOB] [--top N]';

export interface Release { version: string; host: string; qemu: string; goldens: number }
export interface Group {
  from: string; to: string; op: Operation; kind: Exclude<ChangeKind, 'same'>; signature: string[];
  inputs: string[]; explainedBy: Record<string, number>;
}
export interface Report {
  releases: Release[];
  /** Per transition: inputs compared, unchanged, not comparable (a release has no golden that applies). */
  transitions: { from: string; to: string; compared: number; same: number; notComparable: number; byKind: Partial<Record<ChangeKind, number>>; notComparableInputs: { input: string; why: string }[] }[];
  groups: Group[];
}

const semver = (v: string): number[] => v.split('.').map(Number);
const byVersion = (a: string, b: string): number => {
  const x = semver(a);
  const y = semver(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
};

/** One committed host per release: the emulated topology's (8 nodes), the one with most goldens. */
export function releaseHosts(): { release: Release; facts: CommittedFacts }[] {
  const known = readHosts(root);
  const counts = new Map<string, number>();
  for (const dir of Object.values(SUITE_DIR))
    try {
      for (const f of readdirSync(join(root, 'golden', dir))) {
        const m = /\.(lv[\w.-]+?)\.(?:args|xml|err|json)$/.exec(f);
        if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
      }
    } catch { /* no such suite yet */ }
  const best = new Map<string, { id: string; facts: CommittedFacts }>();
  for (const [id, facts] of known) {
    if (facts.numaNodes.length !== 8 || !facts.libvirtVersion) continue;
    const cur = best.get(facts.libvirtVersion);
    if (!cur || (counts.get(id) ?? 0) > (counts.get(cur.id) ?? 0)) best.set(facts.libvirtVersion, { id, facts });
  }
  return [...best.entries()].sort(([a], [b]) => byVersion(a, b)).map(([version, { id, facts }]) =>
    ({ release: { version, host: id, qemu: facts.qemuVersion ?? '?', goldens: counts.get(id) ?? 0 }, facts }));
}

export function buildReport(caseGlob: RegExp | null): Report {
  const hosts = releaseHosts();
  const known = readHosts(root);
  const profiles = new Map<string, Profile | { missing: string }>(hosts.map((h) => [h.release.version, modelProfileOf(h.facts as HostFacts)]));
  const cases = projectCases(root).filter((c) => !caseGlob || caseGlob.test(c.id));
  const report: Report = { releases: hosts.map((h) => h.release), transitions: [], groups: [] };
  const groups = new Map<string, Group>();
  for (let i = 0; i + 1 < hosts.length; i++) {
    const [a, b] = [hosts[i], hosts[i + 1]];
    const t = { from: a.release.version, to: b.release.version, compared: 0, same: 0, notComparable: 0, byKind: {} as Partial<Record<ChangeKind, number>>, notComparableInputs: [] as { input: string; why: string }[] };
    for (const c of cases) {
      const op = c.op as Operation;
      const xml = readFileSync(c.input, 'utf8');
      const real = (h: typeof a): Outcome | string => {
        const g = chooseGolden(root, { live: { id: h.release.host, facts: h.facts }, known }, op, c.name, xml);
        return g.kind === 'file' ? (expectedOf({ kind: 'golden-file', file: g.file }, op) as Outcome)
          : `${h.release.version}: ${g.kind === 'skip' ? g.reason : `no golden (${g.file})`}`;
      };
      const ra = real(a);
      const rb = real(b);
      if (typeof ra === 'string' || typeof rb === 'string') {
        t.notComparable++;
        t.notComparableInputs.push({ input: c.id, why: [ra, rb].filter((x) => typeof x === 'string').join('; ') });
        continue;
      }
      t.compared++;
      const change = changeOf(op, ra, rb);
      if (change.kind === 'same') { t.same++; continue; }
      t.byKind[change.kind] = (t.byKind[change.kind] ?? 0) + 1;
      const key = [t.from, t.to, op, change.kind, ...change.signature].join('\u0000');
      const g = groups.get(key) ?? { from: t.from, to: t.to, op, kind: change.kind, signature: change.signature, inputs: [], explainedBy: {} };
      g.inputs.push(c.name);
      const why = explanationText(explain(op, xml, { real: ra, profile: profiles.get(t.from)! }, { real: rb, profile: profiles.get(t.to)! }));
      g.explainedBy[why] = (g.explainedBy[why] ?? 0) + 1;
      groups.set(key, g);
    }
    report.transitions.push(t);
  }
  report.groups = [...groups.values()].sort((x, y) => byVersion(x.from, y.from) || y.inputs.length - x.inputs.length || x.kind.localeCompare(y.kind));
  return report;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function markdown(r: Report, top: number): string {
  const out: string[] = [];
  out.push('| Release | Host (golden/hosts) | QEMU | Own goldens (the rest: a host differing only in facts the input does not read) |', '|---|---|---|---|');
  for (const x of r.releases) out.push(`| ${x.version} | \`${x.host}\` | ${x.qemu} | ${x.goldens} |`);
  out.push('', '| From → to | Inputs compared | Unchanged | Changed output | New error | Error gone | Error reworded | Not comparable |', '|---|---|---|---|---|---|---|---|');
  for (const t of r.transitions)
    out.push(`| ${t.from} → ${t.to} | ${t.compared} | ${t.same} | ${t.byKind['changed output'] ?? 0} | ${t.byKind['new error'] ?? 0} | ${t.byKind['error gone'] ?? 0} | ${t.byKind['error reworded'] ?? 0} | ${t.notComparable} |`);
  for (const t of r.transitions)
    if (t.notComparableInputs.length) out.push('', `Not comparable ${t.from} → ${t.to}: ${t.notComparableInputs.length} inputs, e.g. ${t.notComparableInputs[0].input} (${t.notComparableInputs[0].why.slice(0, 160)}…).`);
  out.push('', `| From → to | Op | Kind | Difference | Inputs | Explained by (inputs) |`, '|---|---|---|---|---|---|');
  const shown = r.transitions.flatMap((t) => r.groups.filter((g) => g.from === t.from && g.to === t.to).slice(0, top));
  for (const g of shown) {
    const sig = g.signature.length > 6 ? [...g.signature.slice(0, 6), `… ${g.signature.length - 6} more`] : g.signature;
    const why = Object.entries(g.explainedBy).sort((x, y) => y[1] - x[1]).map(([w, n]) => `${w} (${n})`).join('; ');
    out.push(`| ${g.from} → ${g.to} | ${g.op} | ${g.kind} | ${cell(sig.map((s) => `\`${s}\``).join(' '))} | ${g.inputs.length} (e.g. ${g.inputs[0]}) | ${cell(why)} |`);
  }
  if (r.groups.length > shown.length) out.push('', `${r.groups.length - shown.length} smaller groups left out of this table (${top} per pair of releases: --top N, or --json for all).`);
  return out.join('\n') + '\n';
}

function main(argv: string[]): number {
  let json: string | undefined;
  let glob: RegExp | null = null;
  let top = 12;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json' && argv[i + 1]) json = argv[++i];
    else if (a === '--case' && argv[i + 1]) glob = globToRegExp(argv[++i]);
    else if (a === '--top' && /^\d+$/.test(argv[i + 1] ?? '')) top = Number(argv[++i]);
    else if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    else { process.stderr.write(`versions: bad argument '${a}' (${USAGE})\n`); return 2; }
  }
  const report = buildReport(glob);
  if (report.releases.length < 2) {
    process.stderr.write(`versions: goldens of ${report.releases.length} release(s) on the emulated topology; two are needed (golden/hosts/*.json with 8 NUMA nodes)\n`);
    return 2;
  }
  process.stdout.write(markdown(report, top));
  if (json) {
    mkdirSync(dirname(json), { recursive: true });
    writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
