// A disagreement is re-run at once, alone, on a fresh daemon (pool.runFresh). libvirt 9.0.0
// corrupts its heap on some error paths; after that a daemon that stays up answers from freed
// memory: messages cut short ("XML erro"), and, when the corruption hits the QEMU capabilities
// it caches, every later domain with a CPU gets a wrong one ("Unknown CPU model " with an empty
// name, qemu64 translated to "kvm64,svm=on": seen on a CI run, 160 domains of one daemon).
// Re-running there and then both judges the domain and replaces the poisoned daemon before it
// answers more domains. The outcomes:
// - the fresh daemon agrees with the model: 'unstable', libvirt's answer depended on what the
//   daemon had seen before (a libvirt finding, not a model disagreement);
// - cut short on the fresh daemon too: 'garbled', a libvirt heap bug on this input alone;
// - it kills the fresh daemon: a crash;
// - it disagrees again: a confirmed disagreement. A cause confirmed CONFIRM_PER_CAUSE times is
//   a fault of the model's, not of a daemon: its further domains are not re-run (each re-run
//   costs a daemon restart, about a second).
import type { Operation } from '../backends/types.js';
import type { Batch } from './batch.js';
import type { DaemonPool } from './pool.js';
import { opVerdict, OPS, type Result } from './verdicts.js';

export const CONFIRM_PER_CAUSE = 3;

export interface Rechecked {
  unstable: { index: number; op: Operation; run: string; fresh: string }[];
  garbled: { index: number; op: Operation; libvirt: string; model: string }[];
  /** Disagreements re-run on a fresh daemon, and how many of them disagreed there too. */
  rerun: number;
  confirmed: number;
}

export class Rechecker {
  readonly out: Rechecked = { unstable: [], garbled: [], rerun: 0, confirmed: 0 };
  private confirmedBy = new Map<string, number>();

  /** Judge a disagreement again on a fresh daemon; `r` (and the batch's answers) are rewritten in place. */
  async check(pool: DaemonPool, b: Batch, r: Result): Promise<void> {
    if ((this.confirmedBy.get(r.signature!) ?? 0) >= CONFIRM_PER_CAUSE) return;
    const ops = OPS.filter((op) => r.ops[op] === 'disagree');
    const xml = b.xmls[r.index];
    this.out.rerun++;
    const again = await pool.runFresh(ops.map((op) => ({ index: r.index, op, xml })));
    const crash = again.find((a) => a.kind === 'crash');
    if (crash && crash.kind === 'crash') {
      // It kills a fresh daemon alone: a crash, which the run met as a wrong answer.
      const op = ops[again.indexOf(crash)];
      r.verdict = 'crash';
      r.ops[op] = 'crash';
      return;
    }
    let still = false;
    const unstable: Rechecked['unstable'] = [];
    const garbled: Rechecked['garbled'] = [];
    ops.forEach((op, k) => {
      const fresh = again[k];
      const mod = b.models[r.index][op];
      if (fresh.kind === 'crash') return;
      // Cut short on a fresh daemon too ('XML erro' where the model says 'XML error: Missing …'):
      // the message was freed before it was sent.
      if (fresh.kind === 'error' && mod.kind === 'error' && fresh.message.length < mod.message.length && mod.message.startsWith(fresh.message)) {
        garbled.push({ index: r.index, op, libvirt: fresh.message, model: mod.message });
        return;
      }
      if (opVerdict(fresh, mod).verdict !== 'agree') { still = true; return; }
      const run = b.realOut[r.index]![op];
      unstable.push({ index: r.index, op, run: run.kind === 'error' ? run.message : '(output)', fresh: fresh.kind === 'error' ? fresh.message : '(output)' });
    });
    if (still) {
      this.out.confirmed++;
      this.confirmedBy.set(r.signature!, (this.confirmedBy.get(r.signature!) ?? 0) + 1);
      return;
    }
    r.verdict = garbled.length ? 'garbled' : 'unstable';
    this.out.garbled.push(...garbled);
    this.out.unstable.push(...unstable);
  }
}
