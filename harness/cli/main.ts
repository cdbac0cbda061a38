#!/usr/bin/env node
// libvirt-harness CLI. Contract: stdout carries the result, stderr one error line;
// exit 0 ok, 1 libvirt/model error, 2 usage error.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { runModel } from '../backends/model.js';
import type { Operation, Outcome } from '../backends/types.js';

const program = new Command();
program
  .name('libvirt-harness')
  .description('Model and real libvirt 9.0.0 side by side for NUMA tuning (xml2argv, xml2xml)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

function readInput(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EISDIR' ? 'Is a directory' : code === 'EACCES' ? 'Permission denied' : String(code);
    process.stderr.write(`failed to read ${file}: ${why}\n`);
    process.exit(1);
  }
}

async function runImpl(op: Operation, file: string, opts: { profile: string; impl: string }): Promise<Outcome> {
  const input = readInput(file);
  if (opts.impl === 'model') return runModel(op, input, opts.profile);
  const { LibvirtBackend } = await import('../backends/libvirt.js');
  const backend = new LibvirtBackend();
  try {
    const why = await backend.unavailable();
    if (why) return { kind: 'skip', reason: why };
    const text = Buffer.from(input).toString('utf8');
    return op === 'argv' ? await backend.argv(text, opts.profile) : await backend.xml(text, opts.profile);
  } finally {
    await backend.close();
  }
}

function emit(outcome: Outcome): never {
  if (outcome.kind === 'ok') {
    process.stdout.write(outcome.text);
    process.exit(0);
  }
  process.stderr.write((outcome.kind === 'error' ? outcome.message : `libvirt backend unavailable: ${outcome.reason}`) + '\n');
  process.exit(outcome.kind === 'error' ? 1 : 2);
}

for (const [op, summary] of [
  ['argv', "print the QEMU command line in libvirt's .args layout (xml2argv)"],
  ['xml', 'print the canonical inactive XML, as virsh define + dumpxml --inactive (xml2xml)'],
] as const) {
  program
    .command(op)
    .description(summary)
    .argument('<file>', 'domain XML file')
    .addOption(new Option('--profile <name>', 'capability profile: nocaps, nocaps+FLAG,…, x86_64-latest, x86_64-5.2.0, host').default('host'))
    .addOption(new Option('--impl <impl>', 'model (TypeScript) or libvirt (the real virsh/libvirtd)').choices(['model', 'libvirt']).default('model'))
    .action(async (file: string, opts: { profile: string; impl: string }) => emit(await runImpl(op, file, opts)));
}

program
  .command('runtime')
  .description('start the domain paused under the real libvirt, read what QEMU and the kernel did with its memory, compare with the model')
  .argument('<file>', 'domain XML file')
  .option('--json', 'print {"expected", "observed", "match"} as JSON (default: a summary and the diff)')
  .addOption(new Option('--profile <name>', 'profile for the prediction').default('host'))
  .option('--expect <file>', 'predict from this XML instead of FILE (e.g. the original of a modified copy)')
  .addOption(new Option('--accel <mode>', 'accelerator: auto (KVM when a paused KVM guest starts, else TCG), kvm, tcg').choices(['auto', 'kvm', 'tcg']).default('auto'))
  .action(async (file: string, opts: { json?: boolean; profile: string; expect?: string; accel: 'auto' | 'kvm' | 'tcg' }) => {
    // exit 0: observation matches the prediction; 1: it does not; 2: the guest could not be
    // started (libvirt's reason, or why the runtime backend cannot run here) on stderr.
    const input = readInput(file);
    const { RuntimeBackend } = await import('../backends/runtime.js');
    const { compareDocs, observedDocument, predictDocument } = await import('../runtime/compare.js');
    const { stableJson } = await import('../model/runtime-predict.js');
    const expected = predictDocument(opts.expect ? readInput(opts.expect) : input, opts.profile);
    const backend = new RuntimeBackend({ accel: opts.accel });
    let code = 2;
    try {
      const why = await backend.unavailable();
      if (why) {
        process.stderr.write(`runtime backend unavailable: ${why}\n`);
        return;
      }
      const o = await backend.observe(Buffer.from(input).toString('utf8'), 'cli');
      const observed = observedDocument(o);
      const v = compareDocs(expected.text, stableJson(observed), ['expected', 'observed']);
      const run = { accel: o.details.accel, seconds: Number(o.details.seconds.toFixed(2)), mappings: o.details.mappings };
      if (opts.json) process.stdout.write(JSON.stringify({ expected: expected.doc, observed, match: v.same, run }, null, 2) + '\n');
      else process.stdout.write(v.same ? `match (${run.accel}, ${run.seconds} s)\n` : v.diff!);
      if (o.kind === 'error') {
        process.stderr.write(`guest not started: ${o.message}\n`);
        code = 2;
      } else code = v.same ? 0 : 1;
    } catch (e) {
      process.stderr.write(`runtime: ${(e as Error).message}\n`);
      code = 2;
    } finally {
      await backend.close().catch((e: Error) => process.stderr.write(`runtime cleanup: ${e.message}\n`));
      process.exit(code);
    }
  });

if (process.argv.length <= 2) {
  process.stderr.write('usage: libvirt-harness <argv|xml|runtime> [--profile P] [--impl model|libvirt] FILE (see --help)\n');
  process.exit(2);
}

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; anything else commander rejects is a usage error.
    process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2);
  }
  process.stderr.write(`libvirt-harness: internal error: ${(e as Error).message}\n`);
  process.exit(1);
});
