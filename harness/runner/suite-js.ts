// The suite files run as JavaScript: each harness/test/X.test.ts is transpiled (esbuild, types
// stripped, no type check: what node-tap's TypeScript loader did with TS_NODE_TRANSPILE_ONLY)
// to dist/test/X.test.js at the start of every run. Under the loader, every test process paid
// about 1-2 s of CPU compiling TypeScript (the test and each harness module it imports) before
// its first assertion; in a full run that was about a minute of CPU taken from the emulated host.
// From dist/test/ a test's relative imports (../model/x.js) reach tsc's output of the same
// modules, which run-suite.mjs keeps up to date with harness/, and its root (two levels up) is
// still the project's. Transpiling every file each run takes a fraction of a second and leaves
// no stale copy to run by mistake.
import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { writeAtomic } from '../neutral/atomic-file.js';

/** Transpiles the suite files (paths relative to root); returns each one's .js, same order. */
export function suiteJs(root: string, files: readonly string[]): string[] {
  const outdir = join(root, 'dist', 'test');
  const out = buildSync({
    entryPoints: files.map((f) => join(root, f)),
    outbase: join(root, 'harness', 'test'),
    outdir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline', // failures point at the .ts lines (node --enable-source-maps)
    write: false,
    logLevel: 'silent',
  });
  // Written only where changed, by rename: two runs in one tree never see half a file.
  for (const f of out.outputFiles) writeAtomic(f.path, f.text);
  return files.map((f) => join(outdir, f.replace(/^harness\/test\//, '').replace(/\.ts$/, '.js')));
}
