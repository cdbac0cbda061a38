#!/usr/bin/env node
// Runtime cost: every runtime case started paused, observed and destroyed through the real
// libvirt, N guests at once (default 2). Prints the median seconds per case (and per guest that
// really started), the total wall time and the parallelism.
//
// Beside it, the same run: where one such case's seconds go inside the emulated host
// (bench/emulated.ts), phase by phase next to the machine's medians (--no-emulated leaves it out).
//
//   node dist/bench/runtime.js [--jobs N] [--json] [--no-emulated]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeBackend } from '../backends/runtime.js';
import { runtimeCases } from '../runner/discover.js';
import { mapLimit, median } from '../runtime/pool.js';
import { availableParallelism, loadavg } from 'node:os';
import { emulatedBreakdown, type EmulatedBreakdown } from './emulated.js';

const f2 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(2));
/** The create inside split at libvirt's own milestones (bench/emulated.ts), or why it is not. */
function splitRows(c: EmulatedBreakdown['createSplit']): [string, string, string][] {
  if (c === undefined) return [];
  if (typeof c === 'string') return [['  (split)', '–', c]];
  return [
    ['  to the monitor (spawn, cgroups, labels) s', '–', f2(c.toMonitor)],
    ['  QEMU start-up and QMP handshake s', '–', f2(c.monitorUp)],
    ['  guest CPU features read over QMP s', '–', f2(c.guestCpu)],
    ['  the rest, to running s', '–', f2(c.rest)],
  ];
}
/** One runtime case, phase by phase: the machine (medians over its cases) and inside the emulated host. */
function breakdownTable(m: { create: number; read: number; destroy: number }, e: EmulatedBreakdown, load: number): string {
  if (e.skipped) return `  emulated host breakdown skipped: ${e.skipped}\n`;
  const rows: [string, string, string][] = [
    ['host ready s', '–', `${f2(e.ready!.seconds)} (${e.ready!.from})`],
    ['channel round trip s', '–', f2(e.channelSeconds)],
    ['node start s', '–', f2(e.nodeSeconds)],
    ['CLI start-up + prediction s', '–', f2(e.cliSeconds)],
    ['virsh create --paused s', f2(m.create), f2(e.phases!.create)],
    ...splitRows(e.createSplit),
    ['read (QMP, numa_maps, cgroups) s', f2(m.read), f2(e.phases!.read)],
    ['destroy s', f2(m.destroy), f2(e.phases!.destroy)],
    ['one-case call in all s', '–', f2(e.caseSeconds)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return `  where a runtime case's seconds go (emulated: ${e.case}, one call, one guest; load average ${load.toFixed(1)} on ${availableParallelism()} cores)\n`
    + `  ${'phase'.padEnd(w)}  ${'machine'.padStart(8)}  emulated\n`
    + rows.map(([a, b, c]) => `  ${a.padEnd(w)}  ${b.padStart(8)}  ${c}`).join('\n') + '\n';
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
let jobs = 2;
let json = false;
let emulated = true;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--jobs') jobs = Number(argv[++i]);
  else if (argv[i] === '--json') json = true;
  else if (argv[i] === '--no-emulated') emulated = false;
  else { process.stderr.write('usage: node dist/bench/runtime.js [--jobs N] [--json] [--no-emulated]\n'); process.exit(2); }
}
if (!Number.isInteger(jobs) || jobs < 1) { process.stderr.write('bench: --jobs wants a positive integer\n'); process.exit(2); }

const backend = new RuntimeBackend();
const why = await backend.unavailable();
if (why) { process.stderr.write(`bench: runtime skipped: ${why}\n`); process.exit(0); }
const cases = runtimeCases(root);
const t0 = performance.now();
const results = await Promise.all(mapLimit(cases, jobs, (c) => backend.observe(readFileSync(c.input, 'utf8'), c.name)));
const wall = (performance.now() - t0) / 1000;
await backend.close();
const accels = [...new Set(results.flatMap((r) => (r.ok ? [r.value.details.accel] : [])))];
const accel = accels.join('+') || 'none';
const all: number[] = [];
const started: number[] = [];
let failed = 0;
for (const r of results) {
  if (!r.ok) { failed++; continue; }
  all.push(r.value.details.seconds);
  if (r.value.kind === 'facts') started.push(r.value.details.seconds);
}
const phase = (k: 'create' | 'read' | 'destroy'): number => Number(median(results.flatMap((r) => (r.ok && r.value.kind === 'facts' ? [r.value.details.phases[k]] : []))).toFixed(2));
const machinePhases = { create: phase('create'), read: phase('read'), destroy: phase('destroy') };
const inside = emulated ? await emulatedBreakdown(root).catch((e: Error) => ({ skipped: `failed: ${e.message.split('\n')[0]}` }) as EmulatedBreakdown) : { skipped: 'left out by --no-emulated' };
const out = {
  accel, jobs, cases: cases.length, failed, phases: machinePhases, emulated: inside,
  median_seconds_per_case: Number(median(all).toFixed(2)),
  median_seconds_per_started_guest: Number(median(started).toFixed(2)),
  started_guests: started.length,
  total_wall_seconds: Number(wall.toFixed(2)),
};
if (json) process.stdout.write(JSON.stringify(out) + '\n');
else process.stdout.write(`runtime: ${out.cases} cases (${out.started_guests} guests started, ${failed} not observed), ${jobs} at once, ${accel.toUpperCase()}\n`
  + `  median ${out.median_seconds_per_case} s per case, ${out.median_seconds_per_started_guest} s per started guest; total wall ${out.total_wall_seconds} s\n`
  + breakdownTable(machinePhases, inside, loadavg()[0]!));
process.exit(failed ? 1 : 0);
