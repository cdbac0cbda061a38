#!/usr/bin/env node
// Runtime cost: every runtime case started paused, observed and destroyed through the real
// libvirt, N guests at once (default 2). Prints the median seconds per case (and per guest that
// really started), the total wall time and the parallelism.
//
//   node dist/bench/runtime.js [--jobs N] [--json]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeBackend } from '../backends/runtime.js';
import { runtimeCases } from '../runner/discover.js';
import { mapLimit, median } from '../runtime/pool.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
let jobs = 2;
let json = false;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--jobs') jobs = Number(argv[++i]);
  else if (argv[i] === '--json') json = true;
  else { process.stderr.write('usage: node dist/bench/runtime.js [--jobs N] [--json]\n'); process.exit(2); }
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
const out = {
  accel, jobs, cases: cases.length, failed,
  median_seconds_per_case: Number(median(all).toFixed(2)),
  median_seconds_per_started_guest: Number(median(started).toFixed(2)),
  started_guests: started.length,
  total_wall_seconds: Number(wall.toFixed(2)),
};
if (json) process.stdout.write(JSON.stringify(out) + '\n');
else process.stdout.write(`runtime: ${out.cases} cases (${out.started_guests} guests started, ${failed} not observed), ${jobs} at once, ${accel.toUpperCase()}\n`
  + `  median ${out.median_seconds_per_case} s per case, ${out.median_seconds_per_started_guest} s per started guest; total wall ${out.total_wall_seconds} s\n`);
process.exit(failed ? 1 : 0);
