// tiering@emulated: the tiering cells (cases/emulated/tiering.json) as a backend of the runner,
// on their own VMs of the `tiered` topology (not the shared mock8 host of backends-emulated.ts).
import type { Outcome } from '../backends/types.js';
import type { BackendEntry } from './backend.js';
import { holdHost, why } from './backends-emulated.js';
import type { SeriesInside } from '../emulated/series-inside.js';

type Host = import('../emulated/vm.js').EmulatedHost;

/** tiering@emulated: the tiering cells (tiering-cells.ts) on the `tiered` topology, one boot per
 *  kernel (the previous kernel's VM is powered off first: one TCG VM at a time on 2 cores), with
 *  the run's libvirt inside (a series build's when there is one). */
export function tieringBackend(): BackendEntry {
  return {
    id: 'tiering@emulated', limit: () => 1,
    async make(ctx) {
      if (!ctx.tiering) return { reason: 'tiering cells left out (about 60 s each under TCG): run with --tiering' };
      const reason = await why(ctx);
      if (reason) return { reason };
      const { EmulatedHost } = await import('../emulated/vm.js');
      const { seriesInsideOf, startSeriesInside } = await import('../emulated/series-inside.js');
      const { IMAGE_LIBVIRT, SCENARIOS, pagesOutside, runScenario, seriesLibvirt } = await import('../emulated/tiering-scenario.js');
      const { cellVerdict, tieringBuild } = await import('../emulated/tiering-cells.js');
      let lv = IMAGE_LIBVIRT;
      let patches: string[] = [];
      let seriesBuild: SeriesInside | undefined;
      if (ctx.series) {
        const { loadSeriesBuild } = await import('../series/manifest.js');
        const b = loadSeriesBuild(ctx.series);
        if ('missing' in b) return { reason: b.missing };
        seriesBuild = seriesInsideOf(b);
        lv = seriesLibvirt(b.key, b.uri);
        patches = b.patches;
      }
      const build = tieringBuild(ctx.root, patches);
      let current: { kernel: string; host: Host; held: { drop(): void } } | undefined;
      const stop = async (): Promise<void> => {
        const c = current;
        current = undefined;
        if (c) { await c.host.powerOff().catch(() => c.host.kill()); c.held.drop(); }
      };
      let seconds = 0;
      let n = 0;
      return {
        id: 'tiering@emulated', ops: ['runtime'],
        unavailable: async () => null,
        async run(c): Promise<Outcome> {
          const kernel = c.id.split('/')[1]!;
          const sc = SCENARIOS.find((s) => s.key === c.name);
          if (!sc) throw new Error(`no tiering scenario '${c.name}' (harness/emulated/tiering-scenario.ts)`);
          const t0 = performance.now();
          if (current?.kernel !== kernel) {
            await stop();
            const host = await EmulatedHost.boot({ topology: 'tiered', kernel });
            const held = holdHost(host, `emulated host tiered (kernel ${kernel})`);
            current = { kernel, host, held };
            const inside = seriesBuild ? await startSeriesInside(host, seriesBuild) : null;
            // Restored or booted, said as it was (a restore used to be reported as a boot).
            ctx.notes.push(`tiering: kernel ${kernel}: ${host.describeStart()}${inside ? `, series build started inside in ${inside.seconds.toFixed(1)} s` : ''} (libvirt ${build})`);
          }
          const m = await runScenario(current.host, sc, lv, 40);
          seconds += (performance.now() - t0) / 1000;
          n++;
          if ('startError' in m) {
            ctx.meta?.tiering.push({ id: c.id, kernel, build, scenario: sc.id, domainMems: '', outside: 0, t: [], nodes: {}, startError: m.startError });
            return { kind: 'error', message: m.startError };
          }
          const domainMems = m.facts['cpuset.mems.domain'] ?? '';
          ctx.meta?.tiering.push({ id: c.id, kernel, build, scenario: sc.id, domainMems, outside: pagesOutside(m, sc.nodeset), t: m.t, nodes: m.nodes });
          return { kind: 'ok', text: cellVerdict(kernel, build, domainMems, pagesOutside(m, sc.nodeset)) };
        },
        async close() {
          if (n) ctx.notes.push(`tiering: ${n} cells in ${seconds.toFixed(0)} s (libvirt ${build})`);
          await stop();
        },
      };
    },
  };
}

