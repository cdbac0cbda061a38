// Multi-node runtime cases on the emulated host (cases/emulated/cases.json): one boot for all,
// each case started inside through the project's own `runtime --json` (the libvirt there), its
// observation compared with golden/runtime-emulated/NAME.TOPOLOGY.json. Goldens come only from
// observation (--bless), never from the model; the model's verdict is reported beside it.
//
//   node dist/emulated/run-cases.js [--bless] [--topology mock8] [--kernel 6.12] [--series KEY] [--jobs N] [NAME…]
// All cases go inside in one CLI call, N guests at once (capacity.ts).
// --series KEY runs a series build's libvirt inside instead of the image's (series-inside.ts);
// its goldens are the version's forks (case-doc.ts), blessed only from a build without patches.
// Exit 0 all pass, 1 a case differs, 2 the emulated host could not run (the reason on stderr).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { checkWithin, emulatedGoldenPath, goldenDoc, stable, type CaseSpec, type Mapping } from './case-doc.js';
import { loadSeriesBuild } from '../series/manifest.js';
import { seriesInsideOf, startSeriesInside } from './series-inside.js';
import { ensureEmulatedFacts, runRuntimeBatch } from './inside.js';
import { RUNTIME_JOBS } from './capacity.js';
import { normalise, RUNTIME_RULES } from '../runner/rules.js';
import { projectRoot } from './topology.js';
import { EmulatedHost, EmulatedUnavailable } from './vm.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const bless = argv.includes('--bless');
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv.splice(i, 2)[1] : undefined;
  };
  const topology = opt('--topology') ?? 'mock8';
  const kernel = opt('--kernel');
  const seriesKey = opt('--series');
  const jobs = Number(opt('--jobs') ?? RUNTIME_JOBS);
  if (!Number.isInteger(jobs) || jobs < 1) { process.stderr.write('--jobs wants a positive integer\n'); return 2; }
  const series = seriesKey ? loadSeriesBuild(seriesKey) : undefined;
  if (series && 'missing' in series) { process.stderr.write(`${series.missing}\n`); return 2; }
  if (series && bless && series.patches.length) { process.stderr.write('--bless blesses from an unpatched libvirt only, never from a series under test\n'); return 2; }
  const names = argv.filter((a) => !a.startsWith('--'));
  const root = projectRoot();
  const specs = JSON.parse(readFileSync(join(root, 'cases', 'emulated', 'cases.json'), 'utf8')) as Record<string, CaseSpec>;
  const selected = Object.keys(specs).filter((k) => !k.startsWith('_') && (!names.length || names.includes(k)));
  const goldenDir = join(root, 'golden', 'runtime-emulated');
  let host: EmulatedHost | undefined;
  let failed = 0;
  let modelSame = 0;
  const t0 = Date.now();
  try {
    host = await EmulatedHost.boot({ topology, kernel });
    let uriArgs: string[] = [];
    if (series) {
      const s = await startSeriesInside(host, seriesInsideOf(series));
      process.stdout.write(`series build ${series.key} (libvirt ${s.version}) started inside in ${s.seconds.toFixed(1)} s\n`);
      uriArgs = ['--uri', series.uri];
    }
    const profile = await ensureEmulatedFacts(host, false, series ? { key: series.key, uri: series.uri } : undefined);
    const t = host.timings;
    // A restore: the state loaded, then one command (clock, share, libvirtd answering).
    const how = host.start.from === 'snapshot' ? `restore ${t.boot.toFixed(1)} s, libvirtd ${t.libvirtd.toFixed(1)} s (ready ${(t.boot + t.libvirtd).toFixed(1)} s; clock ${host.start.clockSkew} s off after setting)` : `boot ${t.boot.toFixed(1)} s, libvirtd ${t.libvirtd.toFixed(1)} s${host.start.note ? ` (${host.start.note})` : ''}`;
    process.stdout.write(`emulated host ${topology} (kernel ${host.kernel}): ${how}\n`);
    const batch = await runRuntimeBatch(host, selected.map((name) => ({ name, data: readFileSync(join(root, 'cases', 'emulated', `${name}.xml`)) })), { profile, uriArgs, jobs });
    process.stdout.write(`${selected.length} cases in one call inside, ${jobs} at once: ${batch.seconds.toFixed(1)} s\n`);
    for (const name of selected) {
      const r = batch.results.get(name)!;
      let run: { seconds?: number; phases?: Record<string, number> } | undefined;
      try { run = (JSON.parse(r.stdout) as { run?: typeof run }).run; } catch { /* none */ }
      const secs = run?.seconds === undefined ? '? s' : `${run.seconds.toFixed(1)} s${run.phases ? `: ${Object.entries(run.phases).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}` : ''}`;
      let out: { observed: never; match?: boolean; run?: { mappings?: Mapping[] } };
      try {
        out = JSON.parse(r.stdout);
      } catch {
        out = { observed: undefined as never };
        if (r.code !== 2) {
          failed++;
          process.stdout.write(`FAIL ${name}: no JSON from runtime (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}\n`);
          continue;
        }
      }
      if (out.match) modelSame++;
      const actual = stable(goldenDoc(specs[name]!, out, r.stderr, r.code));
      const gfile = emulatedGoldenPath(goldenDir, name, topology, series?.version, bless);
      if (bless) {
        mkdirSync(goldenDir, { recursive: true });
        // A version's fork is kept only where that libvirt behaves differently from the image's.
        const base = emulatedGoldenPath(goldenDir, name, topology);
        if (gfile !== base && existsSync(base) && readFileSync(base, 'utf8') === actual) {
          rmSync(gfile, { force: true });
          process.stdout.write(`same as ${base}: no fork for ${name} (${secs}, exit ${r.code})\n`);
          continue;
        }
        writeFileSync(gfile, actual);
        process.stdout.write(`blessed ${name} (${secs}, exit ${r.code})\n`);
        continue;
      }
      const within = specs[name]!.pages === 'within' && r.code !== 2 ? checkWithin(out as never) : undefined;
      if (!existsSync(gfile)) {
        failed++;
        process.stdout.write(`FAIL ${name}: no golden ${gfile} (bless with --bless)\n`);
        continue;
      }
      // The runner's golden-vs-runtime@emulated pair: the same named rules on both sides.
      const want = normalise(readFileSync(gfile, 'utf8'), RUNTIME_RULES);
      const got = normalise(actual, RUNTIME_RULES);
      const rules = [...new Set([...want.applied, ...got.applied])];
      const ruled = rules.length ? `; rules: ${rules.join(', ')}` : '';
      if (want.text !== got.text || within) {
        failed++;
        process.stdout.write(`FAIL ${name} (${secs}${ruled})${within ? `: ${within}` : ''}\n`);
        if (want.text !== got.text) process.stdout.write(createTwoFilesPatch(gfile, 'observed', want.text, got.text, '', '', { context: 3 }));
      } else process.stdout.write(`ok ${name} (${secs}; model ${out.match ? 'agrees' : r.code === 2 ? 'n/a' : 'differs'}${ruled})\n`);
    }
  } catch (e) {
    process.stderr.write(`${e instanceof EmulatedUnavailable ? 'skip: emulated host unavailable' : 'emulated host'}: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await host?.powerOff().catch(() => host?.kill());
  }
  process.stdout.write(`${selected.length - failed}/${selected.length} emulated-host cases ${bless ? 'blessed' : 'pass'}; model prediction matched ${modelSame}/${selected.length}; ${((Date.now() - t0) / 1000).toFixed(0)} s in all\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
