#!/usr/bin/env node
// Bless golden/runtime/NAME.host.json from OBSERVATION (never from the prediction): starts every
// runtime case (or those matching --case GLOB) paused under the real libvirt, at most --jobs N
// at once (default 2), and writes each observed document atomically; prints the changed files.
//
//   node dist/runtime/bless.js [--case GLOB]... [--jobs N]
// Exit: 0 done, 1 a case could not be observed (nothing written for it), 2 usage / unavailable.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeBackend } from '../backends/runtime.js';
import { stableJson } from '../model/runtime-predict.js';
import { runtimeCases, selectRuntimeCases, writeGoldenAtomic } from './cases.js';
import { observedDocument } from './compare.js';
import { mapLimit } from './pool.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const globs: string[] = [];
let jobs = 2;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--case') globs.push(argv[++i] ?? '');
  else if (a === '--jobs') jobs = Number(argv[++i]);
  else {
    process.stderr.write('usage: node dist/runtime/bless.js [--case GLOB]... [--jobs N]\n');
    process.exit(2);
  }
}
if (!Number.isInteger(jobs) || jobs < 1 || globs.some((g) => !g)) {
  process.stderr.write('bless: --jobs wants a positive integer, --case a glob\n');
  process.exit(2);
}

const backend = new RuntimeBackend();
const why = await backend.unavailable();
if (why) {
  process.stderr.write(`bless: runtime backend unavailable: ${why}\n`);
  process.exit(2);
}
const cases = selectRuntimeCases(runtimeCases(root), globs);
process.stdout.write(`blessing ${cases.length} runtime cases from observation (${jobs} at once)\n`);
let failed = 0;
const changed: string[] = [];
const results = mapLimit(cases, jobs, (c) => backend.observe(readFileSync(c.input, 'utf8'), c.name));
for (const [i, c] of cases.entries()) {
  const r = await results[i];
  if (!r.ok) {
    failed++;
    process.stderr.write(`${c.name}: not observed: ${r.error.message}\n`);
    continue;
  }
  process.stdout.write(`  ${c.name}: ${r.value.kind === 'facts' ? 'observed' : 'did not start'} (${r.value.details.accel}, ${r.value.details.seconds.toFixed(2)} s)\n`);
  if (writeGoldenAtomic(c.golden, stableJson(observedDocument(r.value)))) changed.push(c.golden);
}
await backend.close();
process.stdout.write(changed.length ? `changed:\n${changed.map((f) => `  ${f}`).join('\n')}\n` : 'no golden file changed\n');
process.exit(failed ? 1 : 0);
