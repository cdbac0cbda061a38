// `npm run tiering`: does cgroups' cpuset.mems confine memory tiering to a guest's nodeset? The
// matrix libvirt {as built, with a series} x kernel {6.12, 7.2} x the four guests of
// tiering-scenario.ts, on the emulated `tiered` host with demotion enabled: per cell, the guest
// RAM's pages per node before and after pressure on DRAM node 0, and how many ended outside
// the nodeset. One boot per (kernel, libvirt); guests one at a time.
//
//   npm run tiering -- [--kernels 6.12,7.2] [--series DIR | --no-series] [--only KEY,…] [--seconds 40] [--bless]
//   npm run tiering -- --host sid [--only KEY,…] [--seconds 40] [--bless]   (the sid image's libvirt 12.8 on kernel 7.2)
//   (KEY: strict-0 restrictive-0 restrictive-0+2 restrictive-0+2-full)
//
// "as built" is the image's libvirt (Debian 12's 9.0.0); --series DIR (default
// cases/series/restrictive-domain-cpuset) is built by scripts/build-libvirt.sh (cached) and run
// inside instead. Writes results/tiering/tiering-matrix.{md,json,png} at the project's top,
// outside the source tree (a subset run: tiering-subset.*); the figure the README shows is a
// copy committed in docs/figures/.
//
// Verdicts (golden/runtime-emulated/tiering/KERNEL/BUILD/SCENARIO.json, blessed from observation
// with --bless; tiering-cells.ts) hold per kernel and build: the domain cgroup's cpuset.mems
// always, and "0 pages outside the nodeset" only where confinement is the claim (a series on a
// kernel that honours cpusets when demoting). Elsewhere the count is recorded, not asserted:
// whether the kernel demotes within the window varies from run to run under TCG. The same cells
// run in npm test / npm run series as tiering/* cases (with --tiering).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { loadSeriesBuild } from '../series/manifest.js';
import { chartPng, type Panel } from './plot.js';
import { seriesInsideOf, startSeriesInside, type SeriesInside } from './series-inside.js';
import { FILL_LEAVE_MIB, IMAGE_LIBVIRT, pagesAt, pagesOutside, runScenario, SCENARIOS, seriesLibvirt, type Libvirt, type Scenario } from './tiering-scenario.js';
import { fmt, SID_BUILD_LABEL, table, verdictFiles, type Cell } from './tiering-report.js';
import { projectRoot } from './topology.js';
import { EmulatedHost } from './vm.js';
import type { EmulatedImageId } from './image.js';

const DEFAULT_SERIES = 'cases/series/restrictive-domain-cpuset';

interface Build { label: string; key?: string; inside?: SeriesInside; uri: string; image?: EmulatedImageId }

function seriesBuild(dir: string): Build {
  const out = execFileSync('bash', ['scripts/build-libvirt.sh', '--patches', dir], { cwd: projectRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const key = /^key=([0-9a-f]{16})$/m.exec(out)?.[1];
  if (!key) throw new Error(`scripts/build-libvirt.sh --patches ${dir} printed no key`);
  const b = loadSeriesBuild(key);
  if ('missing' in b) throw new Error(b.missing);
  return { label: `+ ${dir.split('/').pop()}`, key, inside: seriesInsideOf(b), uri: b.uri };
}

async function measure(kernel: string, build: Build, scenarios: Scenario[], seconds: number, log: (s: string) => void): Promise<Cell[]> {
  const host = await EmulatedHost.boot({ topology: 'tiered', kernel, image: build.image });
  const cells: Cell[] = [];
  try {
    let lv: Libvirt = IMAGE_LIBVIRT;
    if (build.key && build.inside) {
      const s = await startSeriesInside(host, build.inside);
      lv = seriesLibvirt(build.key, build.uri);
      log(`kernel ${kernel}, libvirt ${build.label} (${s.version}): ${host.describeStart()}, series daemon ${s.seconds.toFixed(1)} s`);
    } else log(`kernel ${kernel}, libvirt ${build.label}: ${host.describeStart()}`);
    for (const sc of scenarios) {
      const m = await runScenario(host, sc, lv, seconds);
      if ('startError' in m) throw new Error(`${sc.id} (kernel ${kernel}, ${build.label}): guest did not start: ${m.startError}`);
      const cell: Cell = { kernel, build: build.label, scenario: sc.id, key: sc.key, nodeset: sc.nodeset, measurement: m, before: pagesAt(m, 0), after: pagesAt(m, -1), outside: pagesOutside(m, sc.nodeset) };
      cells.push(cell);
      log(`  ${sc.id}: domain cpuset.mems '${m.facts['cpuset.mems.domain']}', emulator '${m.facts['cpuset.mems.emulator']}'; before ${fmt(cell.before)}; after ${fmt(cell.after)}; outside ${cell.outside}`);
    }
  } finally {
    await host.powerOff().catch(() => host.kill());
  }
  return cells;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const sid = opt('--host') === 'sid';
  if (opt('--host') && !sid) { process.stderr.write(`tiering: unknown host '${opt('--host')}' (known: sid; without --host the default emulated image)\n`); return 2; }
  if (sid && (opt('--series') || opt('--kernels'))) { process.stderr.write('tiering: --host sid runs Debian\'s libvirt 12.8 as built on kernel 7.2 only (no 12.x source to build a series from)\n'); return 2; }
  const kernels = (sid ? '7.2' : opt('--kernels') ?? '6.12,7.2').split(',');
  const seconds = Number(opt('--seconds') ?? 40);
  const only = opt('--only')?.split(',');
  const unknown = only?.filter((k) => !SCENARIOS.some((s) => s.key === k)) ?? [];
  if (unknown.length) { process.stderr.write(`tiering: unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.key).join(' ')})\n`); return 2; }
  const scenarios = only ? SCENARIOS.filter((s) => only.includes(s.key)) : SCENARIOS;
  const out = join(projectRoot(), 'results', 'tiering');
  const log = (s: string): void => { process.stdout.write(`${s}\n`); };
  const t0 = Date.now();
  const cells: Cell[] = [];
  try {
    const builds: Build[] = sid ? [{ label: SID_BUILD_LABEL, uri: IMAGE_LIBVIRT.uri, image: 'sid' }] : [{ label: 'as built', uri: IMAGE_LIBVIRT.uri }];
    if (!sid && !argv.includes('--no-series')) builds.push(seriesBuild(opt('--series') ?? DEFAULT_SERIES));
    for (const kernel of kernels) for (const b of builds) cells.push(...await measure(kernel, b, scenarios, seconds, log));
  } catch (e) {
    process.stderr.write(`tiering: ${(e as Error).message}\n`);
    return 2;
  }
  const tiers = cells[0]?.measurement.facts.tiers ?? '';
  const md = `\`tiered\` host (${tiers.trim()}), demotion enabled, guest ${256} MiB preallocated, \`memhog 600m --membind 0\` for ${seconds} s; ` +
    `"node 2 full": a memhog holds all but ${FILL_LEAVE_MIB} MiB of node 2's free memory first (${cells.find((c) => c.measurement.facts.fill_node2_mib)?.measurement.facts.fill_node2_mib ?? '?'} MiB). ${((Date.now() - t0) / 1000).toFixed(0)} s in all.\n\n` + table(cells);
  mkdirSync(out, { recursive: true });
  // A subset (CI's cells) does not overwrite the full matrix the README shows.
  const stem = sid ? 'tiering-sid' : only || opt('--kernels') || argv.includes('--no-series') ? 'tiering-subset' : 'tiering-matrix';
  writeFileSync(join(out, `${stem}.md`), md);
  writeFileSync(join(out, `${stem}.json`), JSON.stringify(cells, null, 1) + '\n');
  const panels: Panel[] = cells.map((c) => ({ title: `${c.kernel}, ${c.build}: ${c.scenario}`, series: { t: c.measurement.t, nodes: c.measurement.nodes } }));
  writeFileSync(join(out, `${stem}.png`), chartPng('Guest RAM pages per node under pressure on DRAM node 0', panels, scenarios.length));
  process.stdout.write(md);
  // One golden per cell (golden/runtime-emulated/tiering/KERNEL/BUILD/SCENARIO.json): the runner's
  // tiering/* cases hold the libvirt of a run to the same files (tiering-cells.ts).
  const files = verdictFiles(projectRoot(), cells);
  if (argv.includes('--bless')) {
    for (const f of files) { mkdirSync(dirname(f.file), { recursive: true }); writeFileSync(f.file, f.text); }
    process.stdout.write(`blessed ${files.length} cells under golden/runtime-emulated/tiering/\n`);
    return 0;
  }
  let bad = 0;
  for (const f of files) {
    const want = existsSync(f.file) ? readFileSync(f.file, 'utf8') : '(no golden for this cell: bless with --bless)\n';
    if (want !== f.text) { bad++; process.stdout.write(createTwoFilesPatch(f.file, 'observed', want, f.text)); }
  }
  process.stdout.write(bad ? `FAIL: ${bad} of ${files.length} cells differ from their goldens\n` : `ok: ${files.length} cells as in their goldens\n`);
  return bad ? 1 : 0;
}

process.exitCode = await main();
