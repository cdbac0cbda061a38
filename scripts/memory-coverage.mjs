#!/usr/bin/env node
// Issue 20's measure: libvirt's own test inputs in the series' memory territory, per release.
// An input is selected when its XML has <numatune>, <numa>, <memoryBacking>, <maxMemory> or a
// <memory model=…> device; it counts as x86_64 when some registration of it runs on x86_64: the
// registration's capabilities name the arch (`.ppc64-latest`), else (9.0.0's DO_TEST with
// QEMU_CAPS_* flags) the guest's own <os><type arch>, which libvirt's test gives those flags.
// For each such input the model runs every registration the profiles cover (libvirt's own
// registrations say the profile and which expected files exist: .args or .err, and .xml), and the
// input is
//   inside       the model answers every one of its cases (no "not modelled: …");
//   matching     inside, and every answer is libvirt's expected file byte for byte;
//   outside      with the model's "not modelled: …" (the element's path) or the reason no profile
//                covers its registrations.
//
//   node scripts/memory-coverage.mjs [TREE…] [--list] [--json]
// Without TREE: libvirt 9.0.0 and 11.3.0 from .cache/libvirt-src/.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const list = argv.includes('--list');
const trees = argv.filter((a) => !a.startsWith('--'));
if (!trees.length) for (const v of ['9.0.0', '11.3.0']) trees.push(join(root, '.cache', 'libvirt-src', `libvirt-${v}`));
const { libvirtCases, treeRegistrations } = await import(join(root, 'dist', 'runner', 'libvirt-cases.js'));
const { runModel } = await import(join(root, 'dist', 'backends', 'model.js'));

export const MEMORY_TERRITORY = /<numatune\b|<numa\b|<memoryBacking\b|<maxMemory\b|<memory\s+model=/;

function verdict(c) {
  const o = runModel(c.op, readFileSync(c.input), c.profile);
  if (o.kind === 'error' && o.message.startsWith('not modelled:')) return { outside: o.message };
  if (c.expect.kind === 'text') return { match: o.kind === 'ok' && o.text === readFileSync(c.expect.file, 'utf8'), got: o.kind === 'error' ? o.message : undefined };
  if (c.expect.kind === 'error') return { match: o.kind === 'error' && `${o.message}\n` === readFileSync(c.expect.file, 'utf8').replace(/\n*$/, '\n'), got: o.kind === 'error' ? o.message : 'accepted' };
  return { match: o.kind === 'error', got: o.kind === 'error' ? o.message : 'accepted' };
}

function measure(tree) {
  if (!existsSync(join(tree, 'tests'))) {
    console.error(`no libvirt test data at ${tree} (run bash scripts/fetch-libvirt-tests.sh [VERSION])`);
    process.exit(2);
  }
  const { layout, version, regs } = treeRegistrations(tree);
  const dataDir = join(tree, 'tests', layout === 'qemuxmlconf' ? 'qemuxmlconfdata' : 'qemuxml2argvdata');
  // Inputs are NAME.xml; expected outputs carry an arch-version suffix or -inactive/-active.
  const inputs = readdirSync(dataDir).filter((f) => /^[^.]+\.xml$/.test(f))
    .filter((f) => MEMORY_TERRITORY.test(readFileSync(join(dataDir, f), 'utf8')));
  const regsOf = new Map();
  for (const r of regs) {
    const input = join(dataDir, `${r.name}.xml`);
    if (!regsOf.has(input)) regsOf.set(input, []);
    regsOf.get(input).push(r);
  }
  const { cases } = libvirtCases(tree, false, { unmodelled: 'case' });
  const casesOf = new Map();
  for (const c of cases) {
    if (!casesOf.has(c.input)) casesOf.set(c.input, []);
    casesOf.get(c.input).push(c);
  }
  const rows = [];
  for (const f of inputs) {
    const input = join(dataDir, f);
    const rs = regsOf.get(input) ?? [];
    const guestArch = /<type\b[^>]*\barch=['"]([^'"]+)['"]/.exec(readFileSync(input, 'utf8'))?.[1] ?? 'x86_64';
    const archOf = (r) => /^\.([a-z0-9_]+)-/.exec(r.suffix)?.[1] ?? (r.why?.match(/^arch (\S+)/)?.[1]) ?? (guestArch === 'i686' ? 'x86_64' : guestArch);
    const x86 = rs.length === 0 || rs.some((r) => archOf(r) === 'x86_64' && !/PPC64|S390|AARCH64|ARM|RISCV/.test(r.macro));
    const row = { input: f.slice(0, -4), x86_64: x86, files: [] };
    rows.push(row);
    if (!x86) continue;
    if (!rs.length) { row.outside = 'no registration of libvirt\'s test programs uses it'; continue; }
    const cs = (casesOf.get(input) ?? []).filter((c) => !c.modelWhy);
    if (!cs.length) {
      const why = rs.map((r) => r.why).find(Boolean) ?? (casesOf.get(input) ?? []).map((c) => c.modelWhy).find(Boolean) ?? 'no profile';
      row.outside = `its registrations are not covered by the profiles: ${why}`;
      continue;
    }
    for (const c of cs) row.files.push({ id: c.id, ...verdict(c) });
    const out = row.files.find((x) => x.outside);
    if (out) row.outside = out.outside;
    else row.match = row.files.every((x) => x.match);
  }
  const x86 = rows.filter((r) => r.x86_64);
  const inside = x86.filter((r) => !r.outside);
  const summary = {
    tree, layout, version, selected: rows.length, x86_64: x86.length, inside: inside.length,
    matching: inside.filter((r) => r.match).length,
    files: inside.reduce((s, r) => s + r.files.length, 0),
    filesMatching: inside.reduce((s, r) => s + r.files.filter((x) => x.match).length, 0),
  };
  return { summary, rows };
}

const results = trees.map(measure);
if (json) process.stdout.write(JSON.stringify(results, null, 1) + '\n');
else {
  for (const { summary: s, rows } of results) {
    const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
    console.log(`libvirt ${s.version} (${s.layout}): ${s.selected} inputs in the memory territory, ${s.x86_64} of them x86_64`);
    console.log(`  inside the model's vocabulary: ${s.inside}/${s.x86_64} (${pct(s.inside, s.x86_64)})`);
    console.log(`  byte for byte: ${s.matching}/${s.inside} inputs, ${s.filesMatching}/${s.files} expected files`);
    const reasons = new Map();
    for (const r of rows.filter((x) => x.x86_64 && x.outside)) {
      if (list) console.log(`  outside: ${r.input}: ${r.outside}`);
      const k = r.outside.replace(/'[^']*'/g, "'…'");
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
    if (!list) for (const [k, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  outside ${n}: ${k}`);
    for (const r of rows.filter((x) => x.x86_64 && !x.outside && !x.match))
      for (const f of r.files.filter((x) => !x.match)) console.log(`  mismatch: ${f.id}${f.got ? ` (model: ${f.got})` : ''}`);
    if (list) for (const r of rows.filter((x) => !x.x86_64)) console.log(`  not x86_64: ${r.input}`);
  }
}
