// Bundles the CLI a second way for the emulated host (run by `npm run build` after build-bundle):
// dist/inside/, ES modules split at every dynamic import. Inside the VM every module is a file
// read over 9p and resolved under TCG: a batch call of the ordinary CLI spent 2-3 s (of 5-7 s for
// 20 argv inputs, of 14-18 s for one runtime case) resolving and loading the real backends and
// execa's module graph one file at a time. Here that graph is a few chunks; what a command does
// not use still loads only when it asks (a split point per dynamic import), and a module shared by
// two chunks is one module, not two copies (the cleanup registry must be one per process).
// Left outside, loaded from node_modules as usual: libxml2-wasm (finds its .wasm beside itself) and
// resvg (a native addon). The output sits two levels under the project root like every compiled
// module, so paths computed from import.meta.url still hold. Same source as dist/cli/main.js: the
// host runs that one, inside.ts this one (harness/emulated/inside.ts).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = join(root, 'dist', 'inside');

// Chunks of an older build would be left beside the new ones.
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'harness', 'cli', 'main.ts')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['libxml2-wasm', '@resvg/resvg-js'],
  // CommonJS packages in an ES module bundle still call require().
  banner: { js: "import { createRequire as __lvhCreateRequire } from 'node:module'; const require = __lvhCreateRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});
