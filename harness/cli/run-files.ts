// argv/xml over one or many files in one process. One file: its result alone on stdout, or one
// error line on stderr (the single-file contract). More than one: each result on stdout under a
// header line `==> FILE <==` (the bytes up to the next header are exactly what the single-file
// call prints), each error on stderr as `FILE: message`. Exit status: the worst of the files
// (0 ok, 1 libvirt/model/read error, 2 backend unavailable).
import type { Outcome } from '../backends/types.js';
import type { FileCommand } from './fast-args.js';
import { expandInputs, readInput } from './inputs.js';
import { runModelLazily } from './model-run.js';

type Result = Outcome | { kind: 'unread'; message: string };

const codeOf = (r: Result): number => (r.kind === 'ok' ? 0 : r.kind === 'skip' ? 2 : 1);

function internal(e: unknown): Outcome {
  return { kind: 'error', message: `libvirt-harness: internal error: ${String((e as Error)?.message ?? e).split('\n')[0]}` };
}

/** Resolves once everything written so far has left the process: a pipe takes a large
 *  write (one error line can be 400 KB) in parts, and process.exit() would cut it short. */
export function flushed(): Promise<void> {
  const one = (s: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => s.write('', () => resolve()));
  return Promise.all([one(process.stdout), one(process.stderr)]).then(() => undefined);
}

export async function runFiles(cmd: FileCommand): Promise<number> {
  const code = await runAll(cmd);
  await flushed();
  return code;
}

async function runAll(cmd: FileCommand): Promise<number> {
  const inputs = await expandInputs(cmd.files);
  const batch = inputs.length > 1;
  let worst = 0;
  const emit = (file: string, r: Result): void => {
    worst = Math.max(worst, codeOf(r));
    if (r.kind === 'ok') {
      process.stdout.write(batch ? `==> ${file} <==\n${r.text}` : r.text);
      return;
    }
    const msg = r.kind === 'skip' ? `not run here: ${r.reason}` : r.message;
    process.stderr.write(batch ? `${file}: ${msg}\n` : `${msg}\n`);
  };

  if (cmd.impl === 'model') {
    for (const input of inputs) {
      if ('error' in input) { emit(input.file, { kind: 'unread', message: input.error }); continue; }
      const bytes = readInput(input.file);
      if ('error' in bytes) { emit(input.file, { kind: 'unread', message: bytes.error }); continue; }
      let r: Outcome;
      try {
        r = await runModelLazily(cmd.op, bytes, cmd.profile);
      } catch (e) {
        r = internal(e);
      }
      emit(input.file, r);
    }
    return worst;
  }

  // The real libvirt: every file read first (a read error needs no daemon), then up to --jobs
  // virsh sessions take the files in turn; results are printed in argument order.
  const results: (Result | undefined)[] = [];
  const texts: (string | undefined)[] = inputs.map((input, i) => {
    const bytes = 'error' in input ? input : readInput(input.file);
    if ('error' in bytes) { results[i] = { kind: 'unread', message: bytes.error }; return undefined; }
    return Buffer.from(bytes).toString('utf8');
  });
  let printed = 0;
  const flush = (): void => {
    while (printed < inputs.length && results[printed]) { emit(inputs[printed].file, results[printed]!); printed++; }
  };
  const todo = texts.flatMap((t, i) => (t === undefined ? [] : [i]));
  if (todo.length) {
    // On the machine's shared daemon, inputs known to kill it go to a disposable one (shared-daemon-guard.ts).
    const { libvirtBackendFor } = await import('../backends/shared-daemon-guard.js');
    const backends = Array.from({ length: Math.min(cmd.jobs, todo.length) }, () => libvirtBackendFor(cmd.uri ? { uri: cmd.uri } : {}));
    try {
      const why = await backends[0].unavailable();
      if (why) {
        // One reason for the whole call, not one line per file.
        flush();
        process.stderr.write(`libvirt backend unavailable: ${why}\n`);
        return 2;
      }
      let next = 0;
      await Promise.all(backends.map(async (b) => {
        while (next < todo.length) {
          const i = todo[next++];
          try {
            results[i] = cmd.op === 'argv' ? await b.argv(texts[i]!, cmd.profile) : await b.xml(texts[i]!, cmd.profile);
          } catch (e) {
            results[i] = internal(e);
          }
          flush();
        }
      }));
    } finally {
      await Promise.all(backends.map((b) => b.close()));
    }
  }
  flush();
  return worst;
}
