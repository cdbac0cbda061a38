#!/usr/bin/env node
// `npm test [-- OPTIONS]`: the runner library's entry (harness/runner/main.ts, compiled).
// Not named test.* on purpose: tap would pick it up as a test file.
import { existsSync } from 'node:fs';
const entry = new URL('../dist/runner/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('npm test: the harness is not built (run npm run setup, or npm run build)');
  process.exit(2);
}
await import(entry.href);
