#!/usr/bin/env node
// Runs the compiled CLI (a separate process per case, as other tools call it) on every
// NUMA-family registration of libvirt's own tests and compares its stdout/stderr with
// libvirt's expected file byte for byte. Prints P/N and the cases short of it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tree = process.argv[2] ?? join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0');
if (!existsSync(join(tree, 'tests', 'qemuxml2argvtest.c'))) {
  console.error(`no libvirt test data at ${tree} (run bash scripts/fetch-libvirt-tests.sh)`);
  process.exit(2);
}
const { libvirtCases } = await import(join(root, 'dist', 'runner', 'libvirt-cases.js'));
const { cases } = libvirtCases(tree);
let pass = 0;
const short = [];
for (const c of cases) {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), c.op, '--profile', c.profile, c.input], { encoding: 'utf8' });
  let ok;
  if (c.expect.kind === 'text') ok = r.status === 0 && r.stdout === readFileSync(c.expect.file, 'utf8');
  else if (c.expect.kind === 'error') ok = r.status === 1 && r.stdout === '' && r.stderr === readFileSync(c.expect.file, 'utf8').replace(/\n*$/, '\n');
  else ok = r.status === 1;
  if (ok) pass++;
  else short.push(`${c.id}: exit ${r.status}, stderr ${JSON.stringify(r.stderr.slice(0, 200))}`);
}
console.log(`CLI vs libvirt's expected files (NUMA family): ${pass}/${cases.length}`);
for (const s of short) console.log(`  short: ${s}`);
process.exit(short.length ? 1 : 0);
