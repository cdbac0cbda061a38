// Writing a file so that a reader (or an interrupted run) never sees half of it: a temporary
// file beside it, then a rename. The project's one atomic writer (goldens, cases, state files).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Returns whether the content changed (an unchanged file is not rewritten). */
export function writeAtomic(file: string, body: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === body) return false;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, body);
  renameSync(tmp, file);
  return true;
}
