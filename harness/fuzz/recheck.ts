// A disagreement is first re-run on a fresh daemon: libvirt 9.0.0 corrupts its heap on some
// error paths, after which its messages can come out garbled ("XML erro"). When the fresh
// daemon's answer agrees with the model, libvirt's answer depended on what the daemon had seen
// before: 'unstable', a libvirt finding, not a model disagreement.
import type { Operation } from '../backends/types.js';
import type { Batch } from './batch.js';
import type { DaemonPool } from './pool.js';
import { causeOp, opVerdict } from './verdicts.js';

/** Disagreements re-run per run (each costs a daemon restart, about a second). */
const RECHECK_MAX = 40;

export interface Rechecked {
  unstable: { index: number; op: Operation; run: string; fresh: string }[];
  garbled: { index: number; op: Operation; libvirt: string; model: string }[];
}

/** Re-run the run's first disagreements alone on fresh daemons; their verdicts are rewritten in place. */
export async function recheckDisagreements(pool: DaemonPool, b: Batch): Promise<Rechecked> {
  const out: Rechecked = { unstable: [], garbled: [] };
  for (const r of b.results.filter((x) => x.verdict === 'disagree').slice(0, RECHECK_MAX)) {
    const op = causeOp(r.signature!);
    const xml = b.xmls[r.index];
    await pool.fresh();
    const again = await pool.run(0, { index: r.index, op, xml }, false);
    if (again.kind === 'crash') {
      // It kills a fresh daemon alone: a crash, which the run met as a garbled answer.
      again.event.culprit = { index: r.index, op, xml };
      r.verdict = 'crash';
      r.ops[op] = 'crash';
      continue;
    }
    const mod = b.models[r.index][op];
    // Cut short on a fresh daemon too ('XML erro' where the model says 'XML error: Missing …'):
    // the message was freed before it was sent, a libvirt heap bug on this input alone
    // ('garbled', a libvirt finding listed with its input, not a model disagreement).
    if (again.kind === 'error' && mod.kind === 'error' && again.message.length < mod.message.length && mod.message.startsWith(again.message)) {
      r.verdict = 'garbled';
      out.garbled.push({ index: r.index, op, libvirt: again.message, model: mod.message });
      continue;
    }
    if (opVerdict(again, mod).verdict !== 'agree') continue;
    const run = b.realOut[r.index]![op];
    r.verdict = 'unstable';
    out.unstable.push({ index: r.index, op, run: run.kind === 'error' ? run.message : '(output)', fresh: again.kind === 'error' ? again.message : '(output)' });
  }
  return out;
}
