#!/usr/bin/env node
// `npm test [-- OPTIONS]`: the runner library's entry (harness/runner/main.ts, compiled). The
// suites run the built code, so a harness/ newer than dist/ is built first.
// Not named test.* on purpose: tap would pick it up as a test file.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'dist', 'runner', 'main.js');
const newest = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
  const p = join(dir, e.name);
  if (e.isDirectory()) return e.name === 'test' ? m : Math.max(m, newest(p));
  return /\.(ts|json)$/.test(e.name) ? Math.max(m, statSync(p).mtimeMs) : m;
}, 0);
if (!existsSync(entry) || newest(join(root, 'harness')) > statSync(entry).mtimeMs) {
  console.error('npm test: harness/ is newer than dist/: building first (npm run build)');
  const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) { console.error('npm test: the build failed (see above)'); process.exit(2); }
}
await import(new URL(`file://${entry}`).href);
