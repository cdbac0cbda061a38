// The emulated VM is a run's long pole: its batches inside end last. Alone it is restored in
// about 1.5 s; when the machine's guests, the model and the unit-test files start beside it on
// two cores its restore took 10-17 s, and every second of that came off the end of the run.
// So the VM comes up first: the case suite holds the machine's own cases until the VM answers
// (or a bound passes: a first boot takes 20-45 s and need not hold everyone), then leaves a
// marker in the run's work dir; the runner starts the unit-test files once that marker is there.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settledWithin } from '../lifecycle/wait.js';

/** How long the machine's work waits for the VM at most. */
export const VM_FIRST_MS = 20_000;
const MARKER = 'machine-started';

/** Wait (bounded) for the VMs that are starting; a line for the run's notes, or null when none. */
export async function vmFirst(starting: Promise<unknown>[], ms = VM_FIRST_MS): Promise<string | null> {
  if (!starting.length) return null;
  const t0 = performance.now();
  const settled = await settledWithin(Promise.allSettled(starting), ms);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  return settled ? `the machine's cases began once the emulated VM was up (${s} s: the VM is the run's long pole)`
    : `the machine's cases began after ${s} s without the emulated VM (still starting; a boot, not a restore)`;
}

/** Said by the case suite once its cases run (the unit-test files may start then). */
export function markMachineStarted(workDir: string): void {
  if (workDir) writeFileSync(join(workDir, MARKER), '');
}

/** Wait until the case suite said so, its process ended, or `ms` passed; true when it said so. */
export function machineStarted(workDir: string, ended: () => boolean, ms = VM_FIRST_MS + 60_000): Promise<boolean> {
  const file = join(workDir, MARKER);
  const until = performance.now() + ms;
  return new Promise((resolve) => {
    const look = (): void => {
      if (existsSync(file)) return resolve(true);
      if (ended() || performance.now() > until) return resolve(false);
      setTimeout(look, 100);
    };
    look();
  });
}
