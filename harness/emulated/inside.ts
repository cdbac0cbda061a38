// Run the project's own CLI inside the emulated host, against the libvirtd running there, so the
// emulated host answers exactly the host's contracts (same JSON/text, same exit codes): nothing
// here formats or interprets a result, it only carries files in and stdout/stderr/status out.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandResult } from './channel.js';
import { PROBE_VERSION, type HostFacts } from '../model/host-facts.js';
import { projectRoot } from './topology.js';
import { GUEST_NODE, type EmulatedHost, type EmulatedImageId } from './vm.js';

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Profile name of the facts probed from the libvirt inside an emulated host with this topology
 *  (and, when a series build runs there instead of the image's libvirt, that build's key); the
 *  sid image's are `emulated-sid-TOPOLOGY`. */
export function emulatedProfileName(topology: string, seriesKey?: string, image: EmulatedImageId = 'emulated'): string {
  const base = image === 'emulated' ? 'emulated' : `emulated-${image}`;
  return seriesKey ? `${base}-${topology}-${seriesKey}` : `${base}-${topology}`;
}

export function emulatedFactsPath(topology: string, seriesKey?: string, image: EmulatedImageId = 'emulated'): string {
  return join(projectRoot(), '.cache', 'profiles', `${emulatedProfileName(topology, seriesKey, image)}.json`);
}

let calls = 0;
/** A directory of its own in the guest for one CLI call: the channel runs calls side by side. */
export function insideDir(): string {
  return `/tmp/lvh-${process.pid}-${++calls}`;
}

/** The CLI as the guest runs it: the same source as dist/cli/main.js, bundled for a guest that
 *  reads every module over 9p under TCG (harness/cli/build-inside.ts). */
export const INSIDE_CLI = 'dist/inside/main.js';

/** Write `files` into `dir` in the guest and run `node /project/dist/inside/main.js ARGS…` there;
 *  the directory goes afterwards. */
export async function runCliInside(h: EmulatedHost, args: string[], files: Record<string, Uint8Array> = {}, timeoutMs = 300_000, dir = insideDir()): Promise<CommandResult> {
  if (!/^\/tmp\/[\w.-]+$/.test(dir)) throw new Error(`bad directory ${dir}`);
  if (!existsSync(join(projectRoot(), INSIDE_CLI))) throw new Error(`${INSIDE_CLI} is not built (npm run build)`);
  let script = `set -e\nrm -rf ${dir} && mkdir -p ${dir}\n`;
  for (const [name, data] of Object.entries(files)) {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`bad file name ${name}`);
    script += `printf %s ${q(Buffer.from(data).toString('base64'))} | base64 -d > ${dir}/${name}\n`;
  }
  // The daemon in there is the harness's own, in a VM it owns (a death there is the batch's to
  // handle): no guard for a shared daemon (backends/shared-daemon-guard.ts).
  script += `set +e\ncd ${dir} && LVH_DAEMON_OWNED=1 ${GUEST_NODE} /project/${INSIDE_CLI} ${args.map(q).join(' ')}\nrc=$?\ncd / && rm -rf ${dir}\nexit $rc\n`;
  return h.run(script, timeoutMs);
}

/** Probe the libvirt inside (scripts/probe-host.mjs, its output redirected) and keep its facts
 *  on the host as .cache/profiles/emulated-TOPOLOGY.json; returns the profile name. */
export async function ensureEmulatedFacts(h: EmulatedHost, refresh = false, series?: { key: string; uri: string }): Promise<string> {
  const name = emulatedProfileName(h.topology.name, series?.key, h.image);
  const file = emulatedFactsPath(h.topology.name, series?.key, h.image);
  // Facts of an older probe lack what the model now asks of the host, and facts of another image,
  // kernel or machine (a new init, huge page reservations) may differ: probe again.
  const keyFile = `${file}.machine-key`;
  const sameMachine = !h.machineKey || (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === h.machineKey);
  if (existsSync(file) && !refresh && sameMachine && (JSON.parse(readFileSync(file, 'utf8')) as HostFacts).probeVersion === PROBE_VERSION) return name;
  const uri = series ? ` --uri ${q(series.uri)}` : '';
  const r = await h.run(`cd /tmp && LVH_PROBE_OUT=/tmp/facts.json ${GUEST_NODE} /project/scripts/probe-host.mjs${uri} >&2 && cat /tmp/facts.json`, 180_000);
  if (r.code !== 0) throw new Error(`probing the libvirt inside the emulated host failed: ${r.stderr.trim().split('\n').pop()}`);
  JSON.parse(r.stdout);
  mkdirSync(join(projectRoot(), '.cache', 'profiles'), { recursive: true });
  writeFileSync(`${file}.tmp`, r.stdout);
  renameSync(`${file}.tmp`, file);
  if (h.machineKey) writeFileSync(keyFile, h.machineKey);
  return name;
}

export function readInputFile(file: string): Uint8Array {
  return readFileSync(file);
}

export interface RuntimeInput { name: string; data: Uint8Array }

/** The CLI inside was SIGKILLed (exit 137): inside a 3 GiB guest running several nested guests
 *  that is the guest kernel's OOM killer (seen once in a CI dry run, all 22 answers lost). Carries
 *  the guest kernel's own OOM lines, so the cause is named wherever the error is reported. */
export class InsideKilled extends Error {
  constructor(readonly evidence: string) {
    super(`the CLI inside the emulated host was killed (SIGKILL)${evidence ? `; the guest kernel says: ${evidence}` : '; the guest kernel logged no OOM kill'}`);
    this.name = 'InsideKilled';
  }
}

async function oomEvidence(h: EmulatedHost): Promise<string> {
  const r = await h.run("dmesg | grep -iE 'out of memory|oom-kill|killed process' | tail -n 3", 30_000).catch(() => ({ stdout: '' }));
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => l.replace(/^\[[ \d.]+\]\s*/, '')).join(' | ');
}
/** One case's part of a batch: what `runtime --json FILE` alone would have given. */
export interface RuntimeResult extends CommandResult { name: string }

/**
 * Runtime cases inside, in one CLI call (`runtime --json --jobs N FILE…`): node and the CLI's
 * modules load once under TCG instead of once per case, and N guests start side by side. The
 * many-files layout is split back per case: its JSON, its stderr lines (the "FILE: " prefix
 * taken off), and the exit status one file alone gives (2 when it has a stderr line: not
 * started; else 0 or 1 by the match). A failure of the call itself (the VM died) throws.
 */
export async function runRuntimeBatch(h: EmulatedHost, inputs: RuntimeInput[], opts: { profile: string; uriArgs: string[]; jobs: number }, timeoutMs = 1_800_000): Promise<{ results: Map<string, RuntimeResult>; seconds: number }> {
  const t0 = Date.now();
  const files: Record<string, Uint8Array> = {};
  for (const i of inputs) files[`${i.name}.xml`] = i.data;
  const dir = insideDir();
  const paths = inputs.map((i) => `${dir}/${i.name}.xml`);
  const r = await runCliInside(h, ['runtime', '--json', '--accel', 'tcg', '--profile', opts.profile, '--jobs', String(opts.jobs), ...opts.uriArgs, ...paths], files, timeoutMs, dir);
  if (r.code === 137) throw new InsideKilled(await oomEvidence(h));
  const results = new Map<string, RuntimeResult>();
  if (inputs.length === 1) {
    results.set(inputs[0]!.name, { name: inputs[0]!.name, ...r });
    return { results, seconds: (Date.now() - t0) / 1000 };
  }
  const parts = r.stdout.split(/^==> (\/tmp\/[\w.-]+\/[\w.-]+) <==\n/m);
  const out = new Map<string, string>();
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!);
  const err = new Map<string, string>();
  const loose: string[] = [];
  for (const line of r.stderr.split('\n').filter(Boolean)) {
    const m = /^(\/tmp\/[\w.-]+\/[\w.-]+): (.*)$/.exec(line);
    if (m) err.set(m[1]!, `${err.get(m[1]!) ?? ''}${m[2]}\n`);
    else loose.push(line);
  }
  // A line for no file (the runtime backend unavailable inside, a crash) is every case's answer.
  if (!out.size && r.code !== 0) {
    for (const i of inputs) results.set(i.name, { name: i.name, stdout: '', stderr: r.stderr, code: r.code });
    return { results, seconds: (Date.now() - t0) / 1000 };
  }
  inputs.forEach((input, k) => {
    const p = paths[k]!;
    const stdout = out.get(p);
    if (stdout === undefined) throw new Error(`runtime inside the emulated host gave nothing for ${input.name} (exit ${r.code}): ${loose.pop() ?? r.stderr.trim().split('\n').pop() ?? ''}`);
    const stderr = err.get(p) ?? '';
    let match = false;
    try { match = (JSON.parse(stdout) as { match?: boolean }).match === true; } catch { /* no JSON: an input error */ }
    const code = stderr ? (/^(guest not started|runtime): /.test(stderr) ? 2 : 1) : match ? 0 : 1;
    results.set(input.name, { name: input.name, stdout, stderr, code });
  });
  return { results, seconds: (Date.now() - t0) / 1000 };
}
