#!/usr/bin/env node
// How much of libvirt's own test suite the model covers, per tree: every registration of the
// tree (either layout) is run on the model with its profile, and counted as
//   skipped      no profile covers it (changed capabilities, other arch, unknown version…)
//   outside      the model refuses one of its inputs as "not modelled: …" (outside the vocabulary)
//   inside       the model answers every case of it; "match" when each answer is libvirt's
//                expected file byte for byte (.args/.xml text, or the .err line).
// Nothing is decided from names or lists: the model itself says what lies inside.
//
//   node scripts/libvirt-coverage.mjs TREE [--list mismatch|outside|skipped] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const listAt = argv.indexOf('--list');
const list = listAt >= 0 ? argv[listAt + 1] : null;
const tree = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--list') ?? join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0');
const { libvirtCases, treeRegistrations, inNumaFamily } = await import(join(root, 'dist', 'runner', 'libvirt-cases.js'));
const { runModel } = await import(join(root, 'dist', 'backends', 'model.js'));
if (!existsSync(join(tree, 'tests'))) {
  console.error(`no libvirt test data at ${tree} (run bash scripts/fetch-libvirt-tests.sh [VERSION])`);
  process.exit(2);
}

const { layout, version, regs } = treeRegistrations(tree);
const { cases, skipped } = libvirtCases(tree, false);
const family = new Set(inNumaFamily(regs).map((r) => `${r.name}${r.suffix}\t${r.suite}`));
/** qemuxmlconf: one registration, up to two files (NAME.SUFFIX.{args|err} and .xml). */
const regOf = (c) => c.id.replace(/^libvirt\/qemuxmlconf\/(.*)\.(args|err|xml)$/, 'libvirt/qemuxmlconf/$1');

function verdict(c) {
  const o = runModel(c.op, readFileSync(c.input), c.profile);
  if (o.kind === 'error' && o.message.startsWith('not modelled:')) return { outside: o.message };
  if (c.expect.kind === 'text') return { match: o.kind === 'ok' && o.text === readFileSync(c.expect.file, 'utf8') };
  if (c.expect.kind === 'error') return { match: o.kind === 'error' && `${o.message}\n` === readFileSync(c.expect.file, 'utf8').replace(/\n*$/, '\n') };
  return { match: o.kind === 'error' };
}

const byReg = new Map();
for (const c of cases) {
  const id = regOf(c);
  if (!byReg.has(id)) byReg.set(id, { id, files: [], name: c.name });
  byReg.get(id).files.push({ id: c.id, ...verdict(c) });
}
const inside = [...byReg.values()].filter((r) => r.files.every((f) => !f.outside));
const outside = [...byReg.values()].filter((r) => r.files.some((f) => f.outside));
const matching = inside.filter((r) => r.files.every((f) => f.match));
const files = inside.flatMap((r) => r.files);
const inFamily = (r) => [...family].some((k) => r.id.endsWith(`/${k.split('\t')[0]}`) && r.id.includes(`/${k.split('\t')[1]}/`));
const beyond = inside.filter((r) => !inFamily(r));
const beyondMatch = beyond.filter((r) => r.files.every((f) => f.match));
const summary = {
  tree, layout, version, registrations: regs.length, skipped: skipped.length, run: byReg.size,
  outside: outside.length, inside: inside.length, insideMatching: matching.length,
  insideFiles: files.length, insideFilesMatching: files.filter((f) => f.match).length,
  beyondFamily: beyond.length, beyondFamilyMatching: beyondMatch.length,
};
if (json) {
  process.stdout.write(JSON.stringify({ summary, registrations: [...byReg.values()], skipped }, null, 1) + '\n');
} else {
  console.log(`libvirt ${version} (${layout}): ${regs.length} registrations; ${skipped.length} skipped (no profile covers them), ${byReg.size} run on the model`);
  console.log(`  inside the model's vocabulary: ${inside.length}/${byReg.size} registrations (outside: ${outside.length})`);
  console.log(`  byte for byte: ${matching.length}/${inside.length} registrations, ${summary.insideFilesMatching}/${files.length} files`);
  console.log(`  beyond the NUMA family: ${beyond.length} registrations inside, ${beyondMatch.length} byte for byte`);
  if (list === 'mismatch') for (const r of inside) for (const f of r.files) if (!f.match) console.log(`  mismatch: ${f.id}`);
  if (list === 'outside') for (const r of outside) console.log(`  outside: ${r.id}: ${r.files.find((f) => f.outside).outside}`);
  if (list === 'skipped') for (const s of skipped) console.log(`  skipped: ${s.id}: ${s.why}`);
}
