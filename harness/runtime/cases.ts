// The project's runtime cases: cases/runtime.json (name -> why; keys starting with '_' are
// comments), inputs cases/NAME.xml, expected observations golden/runtime/NAME.host.json
// (blessed from what a real guest showed, never from the prediction).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { globToRegExp } from '../runner/select.js';

export interface RuntimeCase {
  name: string;
  why: string;
  input: string;
  golden: string;
}

export function runtimeCases(root: string): RuntimeCase[] {
  const list = JSON.parse(readFileSync(join(root, 'cases', 'runtime.json'), 'utf8')) as Record<string, string>;
  return Object.entries(list)
    .filter(([name]) => !name.startsWith('_'))
    .map(([name, why]) => ({ name, why, input: join(root, 'cases', `${name}.xml`), golden: join(root, 'golden', 'runtime', `${name}.host.json`) }));
}

export function selectRuntimeCases(cases: RuntimeCase[], globs: string[]): RuntimeCase[] {
  if (!globs.length) return cases;
  const res = globs.map(globToRegExp);
  return cases.filter((c) => res.some((r) => r.test(c.name) || r.test(`runtime/${c.name}`)));
}

export function readGolden(c: RuntimeCase): string | null {
  return existsSync(c.golden) ? readFileSync(c.golden, 'utf8') : null;
}

/** Atomic write (temp file + rename); returns whether the content changed. */
export function writeGoldenAtomic(file: string, body: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === body) return false;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, body);
  renameSync(tmp, file);
  return true;
}
