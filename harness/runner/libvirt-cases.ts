// Reads libvirt's own test registrations (tests/qemuxml2argvtest.c, tests/qemuxml2xmltest.c)
// as they are, so libvirt's test data can be run without copying any of it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case } from './case.js';

export interface Registration {
  suite: 'xml2argv' | 'xml2xml';
  macro: string;
  name: string;
  /** Profile name, or null with a reason when the registration is outside what profiles cover. */
  profile: string | null;
  why?: string;
  failure: boolean;
  parseError: boolean;
  suffix: string;
}

const CALL = /\b(DO_TEST[A-Z0-9_]*)\s*\(([^;]*?)\)\s*;/g;

function args(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length);
}

export function parseRegistrations(source: string, suite: Registration['suite']): Registration[] {
  // Only the body of mymain() registers tests; macro definitions above it are skipped.
  const body = source.slice(source.indexOf('mymain('));
  const out: Registration[] = [];
  for (const m of body.matchAll(CALL)) {
    const macro = m[1];
    const a = args(m[2].replace(/\s+/g, ' '));
    const name = a[0]?.replace(/^"|"$/g, '');
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
      const ver = a[1]?.replace(/^"|"$/g, '');
      reg.profile = `x86_64-${ver}`;
      reg.suffix = `.x86_64-${ver}`;
    } else reg.why = `registration macro ${macro} is not covered by the model's profiles`;
    out.push(reg);
  }
  return out;
}

/** The NUMA family of issue #2: the argv block cputune-numatune … numad-static-memory-auto-vcpu,
 *  and every numatune-*, numad-*, cputune-numatune xml2xml registration. */
export function inNumaFamily(regs: Registration[]): Registration[] {
  const argv = regs.filter((r) => r.suite === 'xml2argv');
  const start = argv.findIndex((r) => r.name === 'cputune-numatune');
  const end = argv.findIndex((r) => r.name === 'numad-static-memory-auto-vcpu');
  const block = start >= 0 && end >= start ? argv.slice(start, end + 1) : [];
  const xml = regs.filter((r) => r.suite === 'xml2xml' && /^(numatune-|numad-|cputune-numatune$)/.test(r.name));
  return [...block, ...xml];
}

export function libvirtCases(tree: string, family = true): { cases: Case[]; skipped: { id: string; why: string }[] } {
  const tests = join(tree, 'tests');
  const regs = [
    ...parseRegistrations(readFileSync(join(tests, 'qemuxml2argvtest.c'), 'utf8'), 'xml2argv'),
    ...parseRegistrations(readFileSync(join(tests, 'qemuxml2xmltest.c'), 'utf8'), 'xml2xml'),
  ];
  const cases: Case[] = [];
  const skipped: { id: string; why: string }[] = [];
  for (const r of family ? inNumaFamily(regs) : regs) {
    const id = `libvirt/${r.suite}/${r.name}${r.suffix}`;
    if (!r.profile) { skipped.push({ id, why: r.why! }); continue; }
    const input = join(tests, 'qemuxml2argvdata', `${r.name}.xml`);
    if (r.suite === 'xml2argv') {
      const err = join(tests, 'qemuxml2argvdata', `${r.name}${r.suffix}.err`);
      const args = join(tests, 'qemuxml2argvdata', `${r.name}${r.suffix}.args`);
      const expect: Case['expect'] = r.failure
        ? existsSync(err) ? { kind: 'error', file: err } : { kind: 'error-any' }
        : { kind: 'text', file: args };
      cases.push({ source: 'libvirt', name: r.name, op: 'argv', profile: r.profile, id, input, expect });
    } else {
      const dir = join(tests, 'qemuxml2xmloutdata');
      const inactive = join(dir, `${r.name}-inactive${r.suffix}.xml`);
      const file = existsSync(inactive) ? inactive : join(dir, `${r.name}${r.suffix}.xml`);
      cases.push({ source: 'libvirt', name: r.name, op: 'xml', profile: r.profile, id, input, expect: { kind: 'text', file } });
    }
  }
  return { cases, skipped };
}
