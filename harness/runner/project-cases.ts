// The project's own cases: cases/NAME.xml, expected outputs in golden/NAME.host.{args,xml,err}
// (blessed from the real libvirt by --regenerate).
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import fg from 'fast-glob';
import type { Case } from './case.js';
import type { Operation } from '../backends/types.js';

export const PROJECT_PROFILE = 'host';

export function goldenFiles(root: string, name: string, op: Operation): { text: string; err: string } {
  const base = join(root, 'golden', op === 'argv' ? 'xml2argv' : 'xml2xml', `${name}.${PROJECT_PROFILE}`);
  return { text: `${base}.${op === 'argv' ? 'args' : 'xml'}`, err: `${base}.err` };
}

export function projectCases(root: string): Case[] {
  const files = fg.sync('cases/*.xml', { cwd: root, absolute: true }).sort();
  const out: Case[] = [];
  for (const input of files) {
    const name = basename(input, '.xml');
    for (const op of ['argv', 'xml'] as const) {
      const g = goldenFiles(root, name, op);
      const expect: Case['expect'] = existsSync(g.text) ? { kind: 'text', file: g.text }
        : existsSync(g.err) ? { kind: 'error', file: g.err } : { kind: 'missing', file: g.text };
      out.push({ source: 'project', name, op, profile: PROJECT_PROFILE, id: `project/${op === 'argv' ? 'xml2argv' : 'xml2xml'}/${name}`, input, expect, goldenBase: g.text.replace(/\.(args|xml)$/, '') });
    }
  }
  return out;
}

/** All golden files; those no case used are orphans. */
export function goldenOnDisk(root: string): string[] {
  return fg.sync('golden/**/*.{args,xml,err}', { cwd: root, absolute: true }).sort();
}
