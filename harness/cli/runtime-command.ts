// The CLI's `runtime` command: start each domain paused under the real libvirt, read what QEMU
// and the kernel did with its memory, compare with the model. One file: the result on stdout,
// the reason a guest did not start on stderr, exit 0 match / 1 differs / 2 not started. Several
// files: the same per file, observed --jobs at once by one process (the start-up is paid once:
// under TCG inside the emulated host it is seconds), each result under "==> FILE <==" in the
// order given, stderr lines as "FILE: message", and the worst exit status.
import { readInput } from './inputs.js';
import { mapLimit } from '../runtime/pool.js';

export interface RuntimeOptions { json?: boolean; profile: string; expect?: string; accel: 'auto' | 'kvm' | 'tcg'; uri?: string; jobs: number }
interface FileResult { stdout: string; stderr: string; code: number }

type Backend = import('../backends/runtime.js').RuntimeBackend;

/** A file ready to start: its text and the model's prediction; or why not (exit 1, before any guest). */
type Prepared = { file: string; text: string; expected: { doc: unknown; text: string } } | { file: string; failed: FileResult };

async function prepare(file: string, opts: RuntimeOptions): Promise<Prepared> {
  const read = (f: string): Uint8Array | string => {
    const r = readInput(f);
    return 'error' in r ? r.error : r;
  };
  const input = read(file);
  const expectInput = opts.expect ? read(opts.expect) : input;
  for (const r of [input, expectInput]) if (typeof r === 'string') return { file, failed: { stdout: '', stderr: `${r}\n`, code: 1 } };
  const { predictDocument } = await import('../runtime/compare.js');
  try {
    return { file, text: Buffer.from(input as Uint8Array).toString('utf8'), expected: predictDocument(expectInput as Uint8Array, opts.profile) };
  } catch (e) {
    return { file, failed: { stdout: '', stderr: `${(e as Error).message}\n`, code: 1 } };
  }
}

async function observeFile(backend: Backend, p: Prepared, opts: RuntimeOptions): Promise<FileResult> {
  if ('failed' in p) return p.failed;
  const { compare } = await import('../runner/compare.js');
  const { observationDocument, stableJson } = await import('../neutral/runtime-facts.js');
  const { pagesOutside } = await import('../backends/pages-outside.js');
  const res: FileResult = { stdout: '', stderr: '', code: 2 };
  try {
    const o = await backend.observe(p.text, 'cli');
    const observed = observationDocument(o);
    const v = compare({ kind: 'ok', text: p.expected.text }, { kind: 'ok', text: stableJson(observed) }, ['expected', 'observed']);
    // Per backend: resident pages per host node (mappings[].pages) and how many lie outside the
    // nodeset the XML gives it (the tiering question); both observations, not compared here.
    const run = { accel: o.details.accel, seconds: Number(o.details.seconds.toFixed(2)), phases: o.details.phases, mappings: o.details.mappings, pages_outside_nodeset: pagesOutside(p.text, o.details.mappings) };
    res.stdout = opts.json ? JSON.stringify({ expected: p.expected.doc, observed, match: v.same, run }, null, 2) + '\n' : v.same ? `match (${run.accel}, ${run.seconds} s)\n` : v.diff!;
    if (o.kind === 'error') res.stderr += `guest not started: ${o.message}\n`;
    else res.code = v.same ? 0 : 1;
  } catch (e) {
    res.stderr += `runtime: ${(e as Error).message}\n`;
  }
  return res;
}

/** Runs the command and exits with its status. */
export async function runtimeCommand(files: string[], opts: RuntimeOptions): Promise<never> {
  // Inputs and predictions first: a file that cannot be read or predicted is exit 1 whether or
  // not guests can start here.
  const prepared = await Promise.all(files.map((f) => prepare(f, opts)));
  if (files.length === 1 && 'failed' in prepared[0]!) {
    process.stderr.write(prepared[0].failed.stderr);
    return process.exit(1);
  }
  const { RuntimeBackend } = await import('../backends/runtime.js');
  const backend = new RuntimeBackend({ accel: opts.accel, ...(opts.uri ? { uri: opts.uri } : {}) });
  let code = 2;
  try {
    const why = await backend.unavailable();
    if (why) {
      process.stderr.write(`runtime backend unavailable: ${why}\n`);
      return process.exit(2);
    }
    if (files.length === 1) {
      const r = await observeFile(backend, prepared[0]!, opts);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      code = r.code;
    } else {
      const results = mapLimit(prepared, opts.jobs, (p) => observeFile(backend, p, opts));
      code = 0;
      // In the order given, each as soon as it and those before it are done.
      for (let i = 0; i < files.length; i++) {
        const s = await results[i]!;
        const r: FileResult = s.ok ? s.value : { stdout: '', stderr: `runtime: ${s.error.message}\n`, code: 2 };
        process.stdout.write(`==> ${files[i]} <==\n${r.stdout}`);
        for (const line of r.stderr.split('\n').filter(Boolean)) process.stderr.write(`${files[i]}: ${line}\n`);
        code = Math.max(code, r.code);
      }
    }
  } catch (e) {
    process.stderr.write(`runtime: ${(e as Error).message}\n`);
    code = 2;
  } finally {
    await backend.close().catch((e: Error) => process.stderr.write(`runtime cleanup: ${e.message}\n`));
  }
  return process.exit(code);
}
