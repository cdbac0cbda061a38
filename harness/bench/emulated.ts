// Where a runtime case's seconds go inside the emulated host, measured in the same run as the
// machine's own runtime cases (bench/runtime.ts prints both side by side): getting the host
// ready (a restore of its saved state, or a boot), one command over its serial channel, node's
// start under TCG, the CLI's start-up and prediction in a one-case call, and the guest's own
// phases (virsh create --paused, reading QEMU's and the kernel's views, destroy). The create is
// split further from the libvirtd inside's own debug lines for qemu_process (switched on live with
// virt-admin, about 80 lines per start): most of it is libvirt reading the guest CPU's features
// back over QMP, one qom-get per feature. The machine's daemon belongs to everyone on it: its log
// settings are not touched, so the machine's column has no such split.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../runtime/pool.js';

export interface EmulatedBreakdown {
  skipped?: string;
  ready?: { from: string; seconds: number };
  channelSeconds?: number;
  nodeSeconds?: number;
  cliSeconds?: number;
  phases?: { create: number; read: number; destroy: number };
  /** The create inside, from libvirtd's qemu_process lines; a string says why there is none. */
  createSplit?: CreateSplit | string;
  caseSeconds?: number;
  case?: string;
}

const CASE = 'strict-spanning-cpuless';

/** One domain start as libvirtd's qemu_process debug lines time it (seconds). */
export interface CreateSplit {
  /** qemuProcessStart to the monitor connect: preparing the host, spawning QEMU, cgroups, labels. */
  toMonitor: number;
  /** The monitor connect to the guest CPU check: QEMU's own start-up and the QMP handshake. */
  monitorUp: number;
  /** "Verifying and updating provided guest CPU": the guest CPU's features read back over QMP. */
  guestCpu: number;
  /** From there to the domain status written (IOThreads, tuning, initial memory…). */
  rest: number;
}

const LINE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\+0000: \d+: \w+ : (\w+):\d+ : (.*)$/;
const MARKS: [keyof CreateSplit | 'start', (fn: string, msg: string) => boolean][] = [
  ['start', (fn) => fn === 'qemuProcessStart'],
  ['toMonitor', (fn, msg) => fn === 'qemuProcessWaitForMonitor' && msg.startsWith('Connect monitor')],
  ['monitorUp', (_fn, msg) => msg.startsWith('Verifying and updating provided guest CPU')],
  ['guestCpu', (_fn, msg) => msg.startsWith('Detecting IOThread PIDs')],
  ['rest', (fn, msg) => fn === 'qemuProcessFinishStartup' && msg.startsWith('Writing domain status')],
];

/** The first domain start in a libvirtd log, split at qemu_process's own milestones; null when a
 *  milestone is missing (another libvirt's wording, a start that failed). */
export function createSplit(log: string): CreateSplit | null {
  const at = new Map<string, number>();
  let next = 0;
  for (const line of log.split('\n')) {
    const m = LINE.exec(line);
    if (!m || next >= MARKS.length) continue;
    const [key, test] = MARKS[next]!;
    if (!test(m[2]!, m[3]!)) continue;
    at.set(key, Date.parse(`${m[1]!.replace(' ', 'T')}Z`));
    next++;
  }
  if (next < MARKS.length) return null;
  const s = (a: string, b: string): number => Number(((at.get(b)! - at.get(a)!) / 1000).toFixed(3));
  return { toMonitor: s('start', 'toMonitor'), monitorUp: s('toMonitor', 'monitorUp'), guestCpu: s('monitorUp', 'guestCpu'), rest: s('guestCpu', 'rest') };
}

// qemu_process at debug level into a file of its own, the daemon's usual log as before.
const PHASE_LOG = '/run/lvh-bench-phases.log';
const LOG_ON = `virt-admin -q -c libvirtd:///system daemon-log-filters '1:qemu.qemu_process 4:*' && virt-admin -q -c libvirtd:///system daemon-log-outputs '1:file:${PHASE_LOG} 3:file:/run/libvirtd.log'`;

export async function emulatedBreakdown(root: string, rounds = 3): Promise<EmulatedBreakdown> {
  const { EmulatedHost, findImage, EmulatedUnavailable } = await import('../emulated/vm.js');
  try { findImage(); } catch (e) { if (e instanceof EmulatedUnavailable) return { skipped: e.message }; throw e; }
  const { ensureEmulatedFacts, runRuntimeBatch } = await import('../emulated/inside.js');
  const { GUEST_NODE } = await import('../emulated/image.js');
  const t0 = performance.now();
  const host = await EmulatedHost.boot({ topology: 'mock8' });
  try {
    const ready = { from: host.start.from === 'snapshot' ? 'restore' : 'boot', seconds: (performance.now() - t0) / 1000 };
    const profile = await ensureEmulatedFacts(host);
    const timed = async (script: string): Promise<number> => {
      const t = performance.now();
      const r = await host.run(script, 120_000);
      if (r.code !== 0) throw new Error(`${script}: ${r.stderr.trim()}`);
      return (performance.now() - t) / 1000;
    };
    const channel: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < rounds; i++) {
      channel.push(await timed('true'));
      node.push(await timed(`${GUEST_NODE} -e 0`));
    }
    const channelSeconds = median(channel);
    const logOn = await host.run(`rm -f ${PHASE_LOG}; ${LOG_ON}`, 60_000);
    const b = await runRuntimeBatch(host, [{ name: CASE, data: readFileSync(join(root, 'cases', 'emulated', `${CASE}.xml`)) }], { profile, uriArgs: [], jobs: 1 });
    const r = b.results.get(CASE)!;
    const run = (JSON.parse(r.stdout) as { run: { seconds: number; phases: EmulatedBreakdown['phases'] } }).run;
    let split: CreateSplit | string;
    if (logOn.code !== 0) split = `virt-admin could not switch the log on: ${logOn.stderr.trim().split('\n').pop() ?? `exit ${logOn.code}`}`;
    else {
      const log = await host.run(`cat ${PHASE_LOG}`, 60_000);
      split = createSplit(log.stdout) ?? `no complete domain start in ${PHASE_LOG} (${log.stdout.split('\n').length - 1} lines)`;
    }
    return {
      createSplit: split,
      ready, channelSeconds, nodeSeconds: median(node) - channelSeconds,
      // The call less the guest's own seconds and the channel: node, the CLI's modules, the prediction.
      cliSeconds: b.seconds - run.seconds - channelSeconds,
      phases: run.phases, caseSeconds: b.seconds, case: CASE,
    };
  } finally {
    await host.powerOff().catch(() => host.kill());
  }
}
