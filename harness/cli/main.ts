#!/usr/bin/env node
// libvirt-harness CLI. Contract: stdout carries the result, stderr one error line per file;
// exit 0 ok, 1 libvirt/model error, 2 usage error (or backend unavailable).
// Start-up is most of a one-file call, so the everyday lines (fast-args.ts) skip commander, and
// libxml2, the real backends and fast-glob load only when an input needs them. `npm run build`
// replaces this file's compiled form with a bundle of it (cli/build-bundle.ts).
import { parseFileCommand } from './fast-args.js';
import { runFiles } from './run-files.js';

function fail(e: unknown): never {
  process.stderr.write(`libvirt-harness: internal error: ${String((e as Error)?.message ?? e).split('\n')[0]}\n`);
  process.exit(1);
}

async function main(args: string[]): Promise<void> {
  if (!args.length) {
    process.stderr.write('usage: libvirt-harness <argv|xml|runtime> [--profile P] [--impl model|libvirt] [--jobs N] FILE… (see --help)\n');
    process.exit(2);
  }
  const cmd = parseFileCommand(args);
  if (cmd) process.exit(await runFiles(cmd));
  const { runProgram } = await import('./program.js');
  await runProgram(process.argv);
}

main(process.argv.slice(2)).catch(fail);
