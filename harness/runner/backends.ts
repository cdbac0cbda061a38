// The backends a run can use, one entry each. Adding a backend (an emulated host, another
// libvirt build) is one more entry here plus the pairs that use it (pairs.ts).
import { readFileSync } from 'node:fs';
import type { Outcome } from '../backends/types.js';
import { observationDocument, stableJson } from '../neutral/runtime-facts.js';
import type { BackendEntry, CaseBackend } from './backend.js';
import type { Case } from './case.js';
import { EMULATED_BACKENDS } from './backends-emulated.js';
import { tieringBackend } from './backends-tiering.js';
import { inSlice } from './time-slice.js';

const text = (c: Case): string => readFileSync(c.input, 'utf8');
const bare = (id: string): string => id.replace(/^(libvirt\/xml2xml\/.*)\.x86_64-[^./]+$/, '$1');

/** The model, in process: argv/xml with the case's profile (or a fixed one), runtime as its
 *  prediction of what the kernel and QEMU will show. */
async function modelBackend(id: string, fixedProfile: string | null): Promise<CaseBackend> {
  const { runModel } = await import('../backends/model.js');
  const { predictDocument } = await import('../runtime/compare.js');
  return {
    id, ops: ['argv', 'xml', 'runtime'],
    unavailable: async () => null,
    run: (c) => inSlice((): Outcome => c.op === 'runtime'
      ? { kind: 'ok', text: predictDocument(readFileSync(c.input), fixedProfile ?? 'host').text }
      : runModel(c.op, readFileSync(c.input), fixedProfile ?? c.profile)),
    close: async () => {},
  };
}

export const BACKENDS: BackendEntry[] = [
  ...EMULATED_BACKENDS,
  tieringBackend(),
  { id: 'model', limit: () => 1, make: () => modelBackend('model', null) },
  { id: 'model(host)', limit: () => 1, make: () => modelBackend('model(host)', 'host') },
  {
    id: 'libvirt', limit: () => 1,
    async make(ctx) {
      if (ctx.realDisabled) return { reason: ctx.realDisabled };
      // The machine's shared daemon is guarded against inputs known to kill it (a series
      // build's private daemon, --uri, is not: a crash there is a finding).
      const { libvirtBackendFor } = await import('../backends/shared-daemon-guard.js');
      const b = libvirtBackendFor(ctx.uri ? { uri: ctx.uri } : {});
      return {
        id: 'libvirt', ops: ['argv', 'xml'],
        unavailable: () => b.unavailable(),
        // The real libvirt runs this host's QEMU whatever profile the case names.
        run: (c): Promise<Outcome> => c.op === 'argv' ? b.argv(text(c), 'host') : b.xml(text(c), 'host'),
        close: () => b.close(),
      };
    },
  },
  {
    id: 'runtime', limit: (jobs) => jobs,
    async make(ctx) {
      if (ctx.realDisabled) return { reason: ctx.realDisabled };
      const { RuntimeBackend } = await import('../backends/runtime.js');
      const b = new RuntimeBackend(ctx.uri ? { uri: ctx.uri } : {});
      const guard = ctx.uri ? null : await import('../backends/shared-daemon-guard.js').then((m) => new m.SharedDaemonGuard());
      return {
        id: 'runtime', ops: ['runtime'],
        unavailable: () => b.unavailable(),
        async run(c): Promise<Outcome> {
          const xml = text(c);
          if (guard) {
            // An input known to kill a daemon starts a guest on the machine's daemon only once a
            // disposable one has taken it without complaint.
            const why = await guard.refusesStart(xml);
            if (why) return { kind: 'skip', reason: why };
          }
          const o = await b.observe(xml, c.name);
          if (o.kind === 'facts') {
            // The observation itself must be sound: every thread sits in its own group.
            const stray = o.details.threadGroups.filter((g) => !g.inGroup);
            if (stray.length) throw new Error(`threads outside their thread group: ${JSON.stringify(stray)}`);
          }
          // A build without numad says so at start; the probe saw the same (host facts: numad).
          return { kind: 'ok', text: stableJson(observationDocument(o)) };
        },
        close: () => Promise.all([b.close(), guard?.close()]).then(() => undefined),
      };
    },
  },
  {
    id: 'tree-tests', limit: () => 1,
    async make(ctx) {
      if (!ctx.series) return { reason: 'no series build under test (npm run series runs the tree\'s own test programs)' };
      const { TreeTestsBackend } = await import('../series/tree-tests.js');
      const b = TreeTestsBackend.fromKey(ctx.series);
      if ('missing' in b) return { reason: b.missing };
      const results = new Map<string, { status: string; detail?: string; rerun: string }>();
      return {
        id: 'tree-tests', ops: ['argv', 'xml'],
        unavailable: () => b.unavailable(),
        async prepare(cases) {
          // 9.0.0's qemuxml2xmltest titles its DO_TEST_CAPS_LATEST tests without the caps suffix.
          const ids = cases.filter((c) => c.source === 'libvirt' && c.family !== false).flatMap((c) => [c.id, bare(c.id)]);
          const report = await b.run([...new Set(ids)]);
          for (const r of report.results) results.set(r.id, r);
        },
        async run(c): Promise<Outcome> {
          const r = results.get(c.id) ?? results.get(bare(c.id));
          if (!r) return { kind: 'skip', reason: `the tree's test programs register no test for ${c.id}` };
          if (r.status === 'skip') return { kind: 'skip', reason: `libvirt's own test program skipped it: ${r.detail ?? ''}`.trim() };
          return r.status === 'pass' ? { kind: 'ok', text: 'OK\n' } : { kind: 'error', message: `FAILED (rerun: ${r.rerun})\n${r.detail ?? ''}`.trimEnd() };
        },
        close: async () => {},
      };
    },
  },
];
