// The libvirt inside the emulated host, in batches: one CLI call inside for many inputs, its
// output split per file, and - when the daemon inside stopped answering - what the host says
// about it (backends-emulated.ts starts it again and re-runs only the unanswered inputs).
import type { Outcome } from '../backends/types.js';
import type { EmulatedHost } from '../emulated/vm.js';

/** The host and how the CLI inside reaches the libvirt under test there. */
export interface BatchTarget { host: EmulatedHost; uriArgs: string[]; series?: { key: string } }

/** One CLI call inside for `paths`: each file's result (ok or its error line), the exit status,
 *  and whatever the call said that names no file (e.g. "libvirt backend unavailable: …"). */
export async function batchInside(b: BatchTarget, op: 'argv' | 'xml', paths: string[]): Promise<{ results: Map<string, Outcome>; code: number; said: string }> {
  const { runCliInside } = await import('../emulated/inside.js');
  const r = await runCliInside(b.host, [op, '--impl', 'libvirt', ...b.uriArgs, ...paths], {}, 1_800_000);
  const results = new Map<string, Outcome>();
  for (const [f, text] of splitBatch(r.stdout, paths)) results.set(f, { kind: 'ok', text });
  const said: string[] = [];
  for (const line of r.stderr.split('\n')) {
    const m = /^(\/project\/[^:]+): (.*)$/.exec(line);
    if (m && paths.length > 1) results.set(m[1]!, { kind: 'error', message: m[2]! });
    else if (paths.length === 1 && line.trim() && !results.has(paths[0]!)) results.set(paths[0]!, { kind: 'error', message: line.trim() });
    else if (line.trim()) said.push(line.trim());
  }
  return { results, code: r.code, said: said.slice(-3).join(' | ') };
}

/** An answer that is no answer: the connection to the daemon failed, not the input. */
export function isNoDaemon(o: Outcome): boolean {
  return o.kind === 'error' && /Failed to connect socket|End of file while reading data|Cannot recv data|Broken pipe|libvirt backend unavailable|did not answer within|does not answer/.test(o.message);
}

/** Start the image's own libvirtd inside again when it is gone (as guest/init.sh starts it), and
 *  wait until it answers: after a crash on one input, the batch's other inputs still get their
 *  answers. A series build's daemon is started by series-inside.ts instead. */
export async function restartImageDaemon(b: BatchTarget): Promise<string> {
  const r = await b.host.run(`p=$(cat /run/libvirtd.pid 2>/dev/null); if [ -n "$p" ] && [ -d /proc/$p ]; then echo "libvirtd $p still running"; else rm -f /run/libvirtd.pid; LIBVIRT_LOG_OUTPUTS="3:file:/run/libvirtd.log" libvirtd -d; echo "libvirtd started again"; fi
i=0; until virsh -c qemu:///system version >/dev/null 2>&1; do i=$((i+1)); [ $i -ge 120 ] && { echo "libvirtd does not answer after 60 s"; exit 1; }; sleep 0.5; done`, 90_000).catch((e: Error) => ({ stdout: `host did not answer: ${e.message}`, stderr: '', code: -1 }));
  return r.stdout.trim().split('\n').join(' | ');
}

/** What the emulated host says about the libvirt inside: its process, its log's tail, the
 *  kernel's last words (an OOM kill, a segfault). */
export async function daemonHealth(b: BatchTarget): Promise<string> {
  const pidFile = b.series ? '/run/lvh-series/libvirtd.pid' : '/run/libvirtd.pid';
  const log = b.series ? 'tail -3 /run/lvh-series/libvirtd.log' : 'true';
  const r = await b.host.run(`p=$(cat ${pidFile} 2>/dev/null); if [ -n "$p" ] && [ -d /proc/$p ]; then echo "libvirtd $p running"; else echo "libvirtd not running"; fi; ${log}; dmesg | grep -Ei 'oom|killed process|segfault|libvirtd' | tail -3`, 60_000).catch((e: Error) => ({ stdout: `host did not answer: ${e.message}`, stderr: '', code: -1 }));
  return r.stdout.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' | ') || 'the host said nothing';
}

export function splitBatch(stdout: string, files: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (files.length === 1) { if (stdout) out.set(files[0], stdout); return out; }
  const parts = stdout.split(/^==> (.*) <==\n/m);
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(parts[i], parts[i + 1]);
  return out;
}
