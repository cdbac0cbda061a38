// Discovery: every case the run could execute, from the project's cases/ (xml2argv and
// xml2xml for each cases/NAME.xml, runtime for those listed in cases/runtime.json) and from
// libvirt's own registrations in a source tree (libvirt-cases.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import fg from 'fast-glob';
import type { Case } from './case.js';
import { libvirtCases } from './libvirt-cases.js';
import { emulatedGoldenPath } from '../emulated/case-doc.js';
import { AS_BUILT, tieringCases } from '../emulated/tiering-cells.js';

export const PROJECT_PROFILE = 'host';

export function projectCases(root: string): Case[] {
  const out: Case[] = [];
  for (const input of fg.sync('cases/*.xml', { cwd: root, absolute: true }).sort()) {
    const name = basename(input, '.xml');
    for (const op of ['argv', 'xml'] as const)
      out.push({ source: 'project', name, op, profile: PROJECT_PROFILE, id: `project/${op === 'argv' ? 'xml2argv' : 'xml2xml'}/${name}`, input, expect: { kind: 'golden' } });
  }
  return out;
}

/** cases/runtime.json: name -> what the guest shows (keys starting with '_' are comments). */
export function runtimeCases(root: string): Case[] {
  const file = join(root, 'cases', 'runtime.json');
  if (!existsSync(file)) return [];
  const list = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  return Object.entries(list).filter(([name]) => !name.startsWith('_')).map(([name, why]) => ({
    source: 'project', name, op: 'runtime', profile: PROJECT_PROFILE, id: `runtime/${name}`,
    input: join(root, 'cases', `${name}.xml`), expect: { kind: 'golden' }, why,
  }));
}

/** cases/emulated/cases.json: runtime cases for the emulated multi-node host (topology mock8),
 *  expected observations in golden/runtime-emulated/NAME.mock8[.lvVERSION].json: the fork of the
 *  libvirt that runs inside (a series build's version; the image's own by default). */
export function emulatedCases(root: string, libvirtVersion?: string): Case[] {
  const file = join(root, 'cases', 'emulated', 'cases.json');
  if (!existsSync(file)) return [];
  const list = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { why: string }>;
  return Object.entries(list).filter(([name]) => !name.startsWith('_')).map(([name, spec]) => ({
    source: 'project', name, op: 'runtime', profile: 'emulated-mock8', id: `emulated/${name}`, host: 'emulated',
    input: join(root, 'cases', 'emulated', `${name}.xml`), why: spec.why,
    expect: { kind: 'text', file: emulatedGoldenPath(join(root, 'golden', 'runtime-emulated'), name, 'mock8', libvirtVersion) },
  }));
}

export interface Discovery {
  cases: Case[];
  /** Registrations outside what the profiles cover: reported as skips with the reason. */
  skipped: { id: string; why: string }[];
  /** Why libvirt's own cases are absent, when they are. */
  libvirtWhy: string | null;
}

/** The libvirt source trees whose tests a run reads: a series build's own tree, else every tree
 *  scripts/fetch-libvirt-tests.sh unpacked (9.0.0, and 11.3.0 when fetched). */
export function libvirtTrees(root: string, seriesTree: string | null): string[] {
  if (seriesTree) return [seriesTree];
  const dir = join(root, '.cache', 'libvirt-src');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => /^libvirt-\d/.test(d) && existsSync(join(dir, d, 'tests'))).sort().map((d) => join(dir, d));
}

/** Every case: the project's, and from each tree its NUMA family (every backend) plus every
 *  other registration (the model only, where its input lies inside the model's vocabulary).
 *  A tree newer than the model knows still gives its family, the model's pairs skipped. */
/** `emulatedLibvirt`: the version of the libvirt the emulated host runs (a series build's);
 *  `tieringBuild`: the tiering matrix's build its cells are held to (tiering-cells.ts). */
export function discover(root: string, trees: string[], emulatedLibvirt?: string, tieringBuild = AS_BUILT): Discovery {
  const own = [...projectCases(root), ...runtimeCases(root), ...emulatedCases(root, emulatedLibvirt), ...tieringCases(root, tieringBuild)];
  if (!trees.length) return { cases: own, skipped: [], libvirtWhy: 'no libvirt test data under .cache/libvirt-src (run bash scripts/fetch-libvirt-tests.sh)' };
  const cases = [...own];
  const skipped: Discovery['skipped'] = [];
  for (const tree of trees) {
    const family = libvirtCases(tree, true, { unmodelled: 'case' });
    const all = libvirtCases(tree, false);
    const inFamily = new Set(family.cases.map((c) => c.id));
    cases.push(...family.cases, ...all.cases.filter((c) => !inFamily.has(c.id)));
    const known = new Set(cases.map((c) => c.id));
    skipped.push(...all.skipped.filter((s) => !known.has(s.id)));
  }
  return { cases, skipped, libvirtWhy: null };
}
