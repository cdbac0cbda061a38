// Bundles the CLI (run by `npm run build` after tsc): dist/cli/main.js is replaced by one ESM
// file holding what a model call needs, with lazily imported parts (commander's program, the
// real backends, libxml2's reader) split into dist/cli/bundle-*.js chunks beside it. Resolving
// and loading some twenty modules one by one was a large part of a one-file call.
// Chunks stay in dist/cli/, two levels under the project root like every compiled module, so
// paths computed from import.meta.url (profiles/load.ts) still hold.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = join(root, 'dist', 'cli');
for (const f of readdirSync(outdir)) if (f.startsWith('bundle-')) rmSync(join(outdir, f));

// Packages stay external (loaded from node_modules when needed; libxml2-wasm must, for its
// .wasm file), except commander, which is small and CommonJS.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const external = Object.keys(pkg.dependencies).filter((d) => d !== 'commander');

await build({
  entryPoints: [join(root, 'harness', 'cli', 'main.ts')],
  outdir,
  entryNames: '[name]',
  chunkNames: 'bundle-[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: true,
  logLevel: 'warning',
  // Bundled CommonJS (commander) calls require() for node's own modules.
  banner: { js: "import { createRequire as __lvhRequire } from 'node:module'; const require = __lvhRequire(import.meta.url);" },
});
