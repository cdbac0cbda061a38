// FILE arguments of argv/xml: a file, a directory (its *.xml files, sorted, not recursive) or a
// glob (`cases/numatune-*.xml`, for shells that pass it unexpanded). Reading a file turns the
// system's refusal into the one-line message the CLI contract wants.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type Input = { file: string } | { file: string; error: string };

const GLOB = /[*?[{]/;

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'No such file or directory' : code === 'EISDIR' ? 'Is a directory' : code === 'EACCES' ? 'Permission denied' : String(code);
}

/** Expand the arguments in order; a directory or glob that yields nothing is an error entry. */
export async function expandInputs(args: string[]): Promise<Input[]> {
  const out: Input[] = [];
  for (const a of args) {
    let isDir = false;
    let exists = true;
    try {
      isDir = statSync(a).isDirectory();
    } catch {
      exists = false;
    }
    if (isDir) {
      const names = readdirSync(a).filter((n) => n.endsWith('.xml')).sort();
      if (!names.length) out.push({ file: a, error: `no *.xml files in directory ${a}` });
      for (const n of names) out.push({ file: join(a, n) });
    } else if (!exists && GLOB.test(a)) {
      // fast-glob only when a glob is really given: it is not needed to start up otherwise.
      const fg = (await import('fast-glob')).default;
      // Symlinked directories are not entered: libvirt's test trees hold sysfs mock-ups whose
      // node/cpuN links lead back up (vircaps2xmldata), and following them ran out of heap.
      const hits = fg.sync(a, { onlyFiles: true, dot: false, followSymbolicLinks: false }).sort();
      if (!hits.length) out.push({ file: a, error: `no file matches ${a}` });
      for (const h of hits) out.push({ file: h });
    } else out.push({ file: a });
  }
  return out;
}

/** The file's bytes, or the one-line reason it cannot be read. */
export function readInput(file: string): Uint8Array | { error: string } {
  try {
    return readFileSync(file);
  } catch (e) {
    return { error: `failed to read ${file}: ${why(e)}` };
  }
}
