// Where a runtime case's seconds go inside the emulated host, measured in the same run as the
// machine's own runtime cases (bench/runtime.ts prints both side by side): getting the host
// ready (a restore of its saved state, or a boot), one command over its serial channel, node's
// start under TCG, the CLI's start-up and prediction in a one-case call, and the guest's own
// phases (virsh create --paused, reading QEMU's and the kernel's views, destroy).
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
  caseSeconds?: number;
  case?: string;
}

const CASE = 'strict-spanning-cpuless';

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
    const b = await runRuntimeBatch(host, [{ name: CASE, data: readFileSync(join(root, 'cases', 'emulated', `${CASE}.xml`)) }], { profile, uriArgs: [], jobs: 1 });
    const r = b.results.get(CASE)!;
    const run = (JSON.parse(r.stdout) as { run: { seconds: number; phases: EmulatedBreakdown['phases'] } }).run;
    return {
      ready, channelSeconds, nodeSeconds: median(node) - channelSeconds,
      // The call less the guest's own seconds and the channel: node, the CLI's modules, the prediction.
      cliSeconds: b.seconds - run.seconds - channelSeconds,
      phases: run.phases, caseSeconds: b.seconds, case: CASE,
    };
  } finally {
    await host.powerOff().catch(() => host.kill());
  }
}
