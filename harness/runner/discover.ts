// Discovery: every case the run could execute, from the project's cases/ (xml2argv and
// xml2xml for each cases/NAME.xml, runtime for those listed in cases/runtime.json) and from
// libvirt's own registrations in a source tree (libvirt-cases.ts).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import fg from 'fast-glob';
import type { Case } from './case.js';
import { libvirtCases } from './libvirt-cases.js';

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

export interface Discovery {
  cases: Case[];
  /** Registrations outside what the profiles cover: reported as skips with the reason. */
  skipped: { id: string; why: string }[];
  /** Why libvirt's own cases are absent, when they are. */
  libvirtWhy: string | null;
}

export function discover(root: string, libvirtTree: string): Discovery {
  const own = [...projectCases(root), ...runtimeCases(root)];
  if (!existsSync(join(libvirtTree, 'tests'))) {
    return { cases: own, skipped: [], libvirtWhy: `no libvirt test data at ${libvirtTree} (run bash scripts/fetch-libvirt-tests.sh)` };
  }
  const lv = libvirtCases(libvirtTree);
  return { cases: [...own, ...lv.cases], skipped: lv.skipped, libvirtWhy: null };
}
