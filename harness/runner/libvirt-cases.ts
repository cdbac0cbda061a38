// Reads libvirt's own test registrations as they are, so libvirt's test data can be run without
// copying any of it. Two layouts exist and are told apart by the files in the tree, never by a
// version string: libvirt <= 9.x registers in tests/qemuxml2argvtest.c + tests/qemuxml2xmltest.c,
// libvirt >= 10 in one program, tests/qemuxmlconftest.c (data in tests/qemuxmlconfdata/).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileProblem } from '../profiles/load.js';
import type { Case } from './case.js';

export interface Registration {
  /** xml2argv/xml2xml: the two programs of libvirt <= 9; qemuxmlconf: one program, both outputs. */
  suite: 'xml2argv' | 'xml2xml' | 'qemuxmlconf';
  macro: string;
  name: string;
  /** Profile name, or null with a reason when the registration is outside what profiles cover. */
  profile: string | null;
  why?: string;
  failure: boolean;
  parseError: boolean;
  /** File-name suffix of the expected outputs (".x86_64-latest", ".x86_64-latest.abi-update", ""). */
  suffix: string;
}

export type Layout = 'xml2argv+xml2xml' | 'qemuxmlconf';

/** Which test programs the tree has; null when it has neither. */
export function detectLayout(tree: string): Layout | null {
  const tests = join(tree, 'tests');
  if (existsSync(join(tests, 'qemuxmlconftest.c'))) return 'qemuxmlconf';
  if (existsSync(join(tests, 'qemuxml2argvtest.c')) && existsSync(join(tests, 'qemuxml2xmltest.c'))) return 'xml2argv+xml2xml';
  return null;
}

/** The tree's libvirt version, as its meson.build declares it ("11.3.0"), or null. */
export function treeVersion(tree: string): string | null {
  const meson = join(tree, 'meson.build');
  if (!existsSync(meson)) return null;
  return /^\s*version:\s*'([0-9][0-9.]*)'/m.exec(readFileSync(meson, 'utf8'))?.[1] ?? null;
}

const CALL = /\b(DO_TEST[A-Z0-9_]*)\s*\(([^;]*?)\)\s*;/g;

function args(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length);
}
const unquote = (s: string | undefined): string => (s ?? '').replace(/^"|"$/g, '');

/** The body of mymain() without comments and preprocessor lines (macro definitions live there
 *  too in qemuxmlconftest.c), so only real registrations remain. */
function registrationText(source: string): string {
  const body = source.slice(source.indexOf('mymain('));
  return body.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '')
    .replace(/^[ \t]*#(?:[^\n]*\\\n)*[^\n]*/gm, '');
}

/** Registrations made while the test program has changed its driver's configuration for them
 *  (`driver.config->nogfxAllowHostAudio = true; DO_TEST…; … = false;`): the profiles describe
 *  the test environment as set up before the first registration, not these one-off changes.
 *  Returns, for a position in the text, the fields changed at that point. */
function configChanges(text: string): (at: number) => string[] {
  const first = text.search(/\bDO_TEST/);
  const events: { at: number; field: string; on: boolean }[] = [];
  for (const m of text.matchAll(/(?:VIR_FREE|g_clear_pointer)\(&?driver\.config->(\w+)/g))
    if (m.index! > first) events.push({ at: m.index!, field: `driver.config->${m[1]}`, on: false });
  // Assignments, chained ones too (a = b = 0;): every field takes the last value.
  for (const m of text.matchAll(/(?:driver\.config->\w+(?:\[\d+\]\.\w+)?\s*=\s*)+([^;=]+);/g)) {
    if (m.index! <= first) continue;
    const on = !/^(false|0|NULL)$/.test(m[1].trim());
    for (const f of m[0].matchAll(/driver\.config->(\w+)/g)) events.push({ at: m.index!, field: `driver.config->${f[1]}`, on });
  }
  // The test program's environment, changed for some registrations only (QEMU_AUDIO_DRV).
  for (const m of text.matchAll(/\bg_(un)?setenv\("(\w+)"/g)) if (m.index! > first) events.push({ at: m.index!, field: `$${m[2]}`, on: !m[1] });
  events.sort((a, b) => a.at - b.at);
  // Only a window counts (changed, then put back): a change never undone is the environment of
  // every later registration, as the set-up before the first one is.
  const windows = events.filter((e, i) => !e.on || events.slice(i + 1).some((x) => x.field === e.field && !x.on));
  events.length = 0;
  events.push(...windows);
  return (at) => {
    const changed = new Set<string>();
    for (const e of events) {
      if (e.at > at) break;
      if (e.on) changed.add(e.field); else changed.delete(e.field);
    }
    return [...changed];
  };
}

const configWhy = (fields: string[]): string | undefined =>
  fields.length ? `registered with ${fields.join(', ')} changed for it: not covered by the model's profiles` : undefined;

/** Every DO_TEST… call of mymain(): its macro, its arguments, and the driver settings changed
 *  for it (see configChanges). */
function* calls(source: string): Generator<{ macro: string; a: string[]; config: string | undefined }> {
  const text = registrationText(source);
  const changedAt = configChanges(text);
  for (const m of text.matchAll(CALL)) yield { macro: m[1], a: args(m[2].replace(/\s+/g, ' ')), config: configWhy(changedAt(m.index!)) };
}

export function parseRegistrations(source: string, suite: Registration['suite']): Registration[] {
  if (suite === 'qemuxmlconf') return parseConfRegistrations(source, null);
  const out: Registration[] = [];
  for (const { macro, a, config } of calls(source)) {
    const name = unquote(a[0]);
    if (!name || !/^"/.test(a[0])) continue;
    const failure = /FAILURE|PARSE_ERROR/.test(macro);
    const parseError = /PARSE_ERROR/.test(macro);
    const reg: Registration = { suite, macro, name, profile: null, failure, parseError, suffix: '' };
    if (/^DO_TEST(_PARSE_ERROR|_FAILURE)?_NOCAPS$/.test(macro)) reg.profile = 'nocaps';
    else if (/^DO_TEST(_PARSE_ERROR|_FAILURE)?$/.test(macro)) {
      const caps = a.slice(1).map((c) => c.replace(/^QEMU_CAPS_/, '')).filter((c) => c !== 'LAST' && c !== 'NONE');
      reg.profile = caps.length ? `nocaps+${caps.join(',')}` : 'nocaps';
    } else if (/^DO_TEST_CAPS_LATEST(_FAILURE|_PARSE_ERROR)?$/.test(macro)) {
      reg.profile = 'x86_64-latest';
      reg.suffix = '.x86_64-latest';
    } else if (/^DO_TEST_CAPS_VER(_FAILURE|_PARSE_ERROR)?$/.test(macro)) {
      const ver = unquote(a[1]);
      reg.profile = `x86_64-${ver}`;
      reg.suffix = `.x86_64-${ver}`;
    } else if (/^DO_TEST_CAPS_ARCH_(LATEST|VER)(_FAILURE|_PARSE_ERROR)?$/.test(macro)) {
      const arch = unquote(a[1]);
      const ver = macro.startsWith('DO_TEST_CAPS_ARCH_VER') ? unquote(a[2]) : 'latest';
      reg.suffix = `.${arch}-${ver}`;
      if (arch === 'x86_64') reg.profile = `x86_64-${ver}`;
      else reg.why = `arch ${arch} is not covered by the model's profiles`;
    } else if (macro === 'DO_TEST_FULL' && suite === 'xml2argv') {
      const full = decodeFull(a);
      if (typeof full === 'string') reg.why = full;
      else { reg.profile = full.profile; reg.failure = full.failure; }
    } else reg.why = `registration macro ${macro} is not covered by the model's profiles`;
    reg.why ??= config;
    if (reg.why) reg.profile = null;
    out.push(reg);
  }
  return out;
}

/** qemuxml2argvtest.c's DO_TEST_FULL(name, "", ARG_…, ARG_END) of libvirt <= 9: the capabilities
 *  (ARG_QEMU_CAPS … QEMU_CAPS_LAST, a nocaps profile) and an incoming migration; any other
 *  argument is a reason it is not covered. */
function decodeFull(a: string[]): { profile: string; failure: boolean } | string {
  if (unquote(a[1]) !== '') return `DO_TEST_FULL with suffix ${a[1]} is not covered by the model's profiles`;
  const caps: string[] = [];
  let from: string | undefined;
  let fd: string | undefined;
  let failure = false;
  for (let i = 2; i < a.length; i++) {
    const k = a[i];
    if (k === 'ARG_END') continue;
    if (k === 'ARG_MIGRATE_FROM' && /^"[^"]*"$/.test(a[i + 1] ?? '')) from = unquote(a[++i]);
    else if (k === 'ARG_MIGRATE_FD') fd = a[++i];
    else if (k === 'ARG_FLAGS' && a[i + 1] === 'FLAG_EXPECT_FAILURE') { failure = true; i++; }
    else if (k === 'ARG_QEMU_CAPS') {
      for (i++; i < a.length && a[i] !== 'QEMU_CAPS_LAST'; i++) caps.push(a[i].replace(/^QEMU_CAPS_/, ''));
    } else return `DO_TEST_FULL passes ${k}: not covered by the model's profiles`;
  }
  const uri = from === undefined ? undefined : incomingURI(from, fd);
  if (uri === null) return `DO_TEST_FULL migrates from '${from}' without a numeric ARG_MIGRATE_FD`;
  return { profile: `${caps.length ? `nocaps+${caps.join(',')}` : 'nocaps'}${uri ? `.incoming=${uri}` : ''}`, failure };
}

/** What a qemuxmlconftest registration asks for, from its macro and ARG_* list. */
interface ConfArgs { arch: string; ver: string; abiUpdate: boolean; failure: boolean; parseError: boolean; extra: string[]; migrateFrom?: string; migrateFd?: string }

/** qemuMigrationDstGetURI: 'stdio' is the fd given with ARG_MIGRATE_FD, anything else as it is. */
function incomingURI(from: string, fd: string | undefined): string | null {
  if (from !== 'stdio') return from;
  return fd !== undefined && /^\d+$/.test(fd) ? `fd:${fd}` : null;
}

/** ARG_* pairs as testQemuInfoSetArgs reads them; anything beyond arch/version/flags is "extra"
 *  (changed capabilities, fds, migration, host CPU, variants): no profile reproduces those. */
function readArgList(list: string[], into: ConfArgs): void {
  for (let i = 0; i < list.length; i++) {
    const k = list[i];
    if (k === 'ARG_END') continue;
    if (k === 'ARG_CAPS_ARCH') into.arch = unquote(list[++i]);
    else if (k === 'ARG_CAPS_VER') into.ver = unquote(list[++i]);
    else if (k === 'ARG_FLAGS') {
      const v = list[++i];
      if (/FLAG_EXPECT_FAILURE/.test(v)) into.failure = true;
      if (/FLAG_EXPECT_PARSE_ERROR/.test(v)) into.parseError = true;
      for (const f of v.split('|').map((s) => s.trim())) if (!/^FLAG_EXPECT_(FAILURE|PARSE_ERROR)$/.test(f)) into.extra.push(f);
    } else if (k === 'ARG_PARSEFLAGS' && list[i + 1] === 'VIR_DOMAIN_DEF_PARSE_ABI_UPDATE') { into.abiUpdate = true; i++; }
    else if (k === 'ARG_MIGRATE_FROM' && /^"[^"]*"$/.test(list[i + 1] ?? '')) into.migrateFrom = unquote(list[++i]);
    else if (k === 'ARG_MIGRATE_FD') into.migrateFd = list[++i];
    else { into.extra.push(k.startsWith('ARG_') ? k : `argument ${k}`); break; }
  }
}

function decodeConf(macro: string, a: string[]): ConfArgs | null {
  const c: ConfArgs = { arch: 'x86_64', ver: 'latest', abiUpdate: false, failure: false, parseError: false, extra: [] };
  const simple = /^DO_TEST_CAPS_(ARCH_)?(LATEST|VER)(_ABI_UPDATE)?(_FAILURE|_PARSE_ERROR)?$/.exec(macro);
  if (simple) {
    let i = 1;
    if (simple[1]) c.arch = unquote(a[i++]);
    if (simple[2] === 'VER') c.ver = unquote(a[i++]);
    c.abiUpdate = !!simple[3];
    c.failure = simple[4] === '_FAILURE';
    c.parseError = simple[4] === '_PARSE_ERROR';
    return c;
  }
  const full = /^DO_TEST_CAPS_ARCH_(LATEST|VER)_FULL$/.exec(macro);
  if (full) {
    c.arch = unquote(a[1]);
    if (full[1] === 'VER') c.ver = unquote(a[2]);
    readArgList(a.slice(full[1] === 'VER' ? 3 : 2), c);
    return c;
  }
  if (macro === 'DO_TEST_CAPS_INTERNAL') {
    c.arch = unquote(a[1]);
    c.ver = unquote(a[2]);
    readArgList(a.slice(3), c);
    return c;
  }
  if (macro === 'DO_TEST_FULL') {
    readArgList(a.slice(2), c);
    const suffix = unquote(a[1]);
    if (suffix !== `.${c.arch}-${c.ver}${c.abiUpdate ? '.abi-update' : ''}`) c.extra.push(`suffix ${suffix}`);
    return c;
  }
  return null;
}

/** Registrations of tests/qemuxmlconftest.c; `version` is the tree's libvirt version, which
 *  names the profiles (`x86_64-latest@11.3.0`: that libvirt's "latest" capabilities). */
export function parseConfRegistrations(source: string, version: string | null): Registration[] {
  const out: Registration[] = [];
  for (const { macro, a, config } of calls(source)) {
    if (!a[0] || !/^"/.test(a[0])) continue;
    const name = unquote(a[0]);
    const c = decodeConf(macro, a);
    const reg: Registration = {
      suite: 'qemuxmlconf', macro, name, profile: null,
      failure: !!c && (c.failure || c.parseError), parseError: !!c?.parseError,
      suffix: c ? `.${c.arch}-${c.ver}${c.abiUpdate ? '.abi-update' : ''}` : '',
    };
    if (!c) reg.why = `registration macro ${macro} is not covered by the model's profiles`;
    else if (config) reg.why = config;
    else if (c.extra.length) reg.why = `${macro} passes ${c.extra.join(', ')}: not covered by the model's profiles`;
    else if (c.arch !== 'x86_64') reg.why = `arch ${c.arch} is not covered by the model's profiles`;
    else if (!version) reg.why = 'the tree does not say its libvirt version (meson.build)';
    else if (c.migrateFrom !== undefined && !incomingURI(c.migrateFrom, c.migrateFd)) reg.why = `${macro} migrates from '${c.migrateFrom}' without a numeric ARG_MIGRATE_FD`;
    else reg.profile = `x86_64-${c.ver}${c.abiUpdate ? '.abi-update' : ''}${c.migrateFrom !== undefined ? `.incoming=${incomingURI(c.migrateFrom, c.migrateFd)}` : ''}@${version}`;
    out.push(reg);
  }
  return out;
}

/** The NUMA family of issue #2: the argv block cputune-numatune … numad-static-memory-auto-vcpu
 *  (in qemuxmlconftest.c without cpuset-invalid, which 10+ moved into it), and every numatune-*,
 *  numad-*, cputune-numatune xml2xml registration. */
export function inNumaFamily(regs: Registration[]): Registration[] {
  const conf = regs.filter((r) => r.suite === 'qemuxmlconf');
  if (conf.length) {
    const start = conf.findIndex((r) => r.name === 'cputune-numatune');
    const end = conf.findIndex((r) => r.name === 'numad-static-memory-auto-vcpu');
    const block = start >= 0 && end >= start ? conf.slice(start, end + 1) : [];
    return block.filter((r) => /^(numatune-|numad|cputune-|vcpu-placement-)/.test(r.name));
  }
  const argv = regs.filter((r) => r.suite === 'xml2argv');
  const start = argv.findIndex((r) => r.name === 'cputune-numatune');
  const end = argv.findIndex((r) => r.name === 'numad-static-memory-auto-vcpu');
  const block = start >= 0 && end >= start ? argv.slice(start, end + 1) : [];
  const xml = regs.filter((r) => r.suite === 'xml2xml' && /^(numatune-|numad-|cputune-numatune$)/.test(r.name));
  return [...block, ...xml];
}

/** Every registration of the tree, whichever layout it has. */
export function treeRegistrations(tree: string): { layout: Layout; version: string | null; regs: Registration[] } {
  const tests = join(tree, 'tests');
  const layout = detectLayout(tree);
  const version = treeVersion(tree);
  if (layout === 'qemuxmlconf')
    return { layout, version, regs: parseConfRegistrations(readFileSync(join(tests, 'qemuxmlconftest.c'), 'utf8'), version) };
  if (layout === 'xml2argv+xml2xml') {
    return { layout, version, regs: [
      ...parseRegistrations(readFileSync(join(tests, 'qemuxml2argvtest.c'), 'utf8'), 'xml2argv'),
      ...parseRegistrations(readFileSync(join(tests, 'qemuxml2xmltest.c'), 'utf8'), 'xml2xml'),
    ] };
  }
  throw new Error(`${tree} has neither tests/qemuxmlconftest.c nor tests/qemuxml2argvtest.c + qemuxml2xmltest.c`);
}

/** One registration of qemuxmlconftest.c: the def -> ARGV case (.args, or .err when a failure
 *  is expected) and the def -> XML case (.xml; none for a parse error). */
function confCases(tests: string, r: Registration, profile: string): Case[] {
  const dir = join(tests, 'qemuxmlconfdata');
  const base = `${r.name}${r.suffix}`;
  const input = join(dir, `${r.name}.xml`);
  const id = (ext: string): string => `libvirt/qemuxmlconf/${base}.${ext}`;
  const out: Case[] = [];
  if (r.failure) out.push({ source: 'libvirt', name: r.name, op: 'argv', profile, id: id('err'), input, expect: { kind: 'error', file: join(dir, `${base}.err`) } });
  else out.push({ source: 'libvirt', name: r.name, op: 'argv', profile, id: id('args'), input, expect: { kind: 'text', file: join(dir, `${base}.args`) } });
  if (!r.parseError) out.push({ source: 'libvirt', name: r.name, op: 'xml', profile, id: id('xml'), input, expect: { kind: 'text', file: join(dir, `${base}.xml`) } });
  return out;
}

/** One registration of qemuxml2argvtest.c or qemuxml2xmltest.c: one case. */
function splitCase(tests: string, r: Registration, profile: string, id: string): Case {
  const input = join(tests, 'qemuxml2argvdata', `${r.name}.xml`);
  if (r.suite === 'xml2argv') {
    const err = join(tests, 'qemuxml2argvdata', `${r.name}${r.suffix}.err`);
    const args = join(tests, 'qemuxml2argvdata', `${r.name}${r.suffix}.args`);
    const expect: Case['expect'] = r.failure
      ? existsSync(err) ? { kind: 'error', file: err } : { kind: 'error-any' }
      : { kind: 'text', file: args };
    return { source: 'libvirt', name: r.name, op: 'argv', profile, id, input, expect };
  }
  const dir = join(tests, 'qemuxml2xmloutdata');
  const inactive = join(dir, `${r.name}-inactive${r.suffix}.xml`);
  const file = existsSync(inactive) ? inactive : join(dir, `${r.name}${r.suffix}.xml`);
  return { source: 'libvirt', name: r.name, op: 'xml', profile, id, input, expect: { kind: 'text', file } };
}

/** libvirt's registrations as cases: the NUMA family, or with family=false every registration
 *  (each case says whether it belongs to the family). Registrations no profile covers are skipped;
 *  with `unmodelled: 'case'` those whose profile is well formed but outside what the model covers
 *  (another libvirt release, other capabilities) become cases with `modelWhy`, so the tree's own
 *  tests still run them while the model's pairs are skipped with that reason. */
export function libvirtCases(tree: string, family = true, opts: { unmodelled?: 'skip' | 'case' } = {}): { cases: Case[]; skipped: { id: string; why: string }[] } {
  const tests = join(tree, 'tests');
  const { regs } = treeRegistrations(tree);
  const cases: Case[] = [];
  const skipped: { id: string; why: string }[] = [];
  const named = new Set(inNumaFamily(regs));
  for (const r of family ? [...named] : regs) {
    const id = `libvirt/${r.suite}/${r.name}${r.suffix}`;
    const modelWhy = r.profile && !r.why ? profileProblem(r.profile) : null;
    if (!r.profile || r.why || (modelWhy && opts.unmodelled !== 'case')) { skipped.push({ id, why: r.why ?? modelWhy ?? 'no profile' }); continue; }
    const made = r.suite === 'qemuxmlconf' ? confCases(tests, r, r.profile) : [splitCase(tests, r, r.profile, id)];
    for (const c of made) cases.push({ ...c, family: named.has(r), ...(modelWhy ? { modelWhy } : {}) });
  }
  return { cases, skipped };
}
