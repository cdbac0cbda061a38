// Writes blessed outputs atomically (temp file + rename), so an interrupted run never leaves a
// half-written golden, and reports which files actually changed.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Outcome } from '../backends/types.js';

export function writeGolden(base: string, op: 'argv' | 'xml', outcome: Outcome): string[] {
  if (outcome.kind === 'skip') return [];
  const textFile = `${base}.${op === 'argv' ? 'args' : 'xml'}`;
  const errFile = `${base}.err`;
  const [file, other, body] = outcome.kind === 'ok' ? [textFile, errFile, outcome.text] : [errFile, textFile, outcome.message + '\n'];
  const changed: string[] = [];
  if (!existsSync(file) || readFileSync(file, 'utf8') !== body) {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, body);
    renameSync(tmp, file);
    changed.push(file);
  }
  if (existsSync(other)) {
    rmSync(other);
    changed.push(`${other} (removed)`);
  }
  return changed;
}
