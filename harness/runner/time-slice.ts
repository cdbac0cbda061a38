// The runner is one process: the emulated host's QMP socket and channel share its event loop
// with the model, which computes synchronously. Queued behind a limiter, thousands of model runs
// followed one another in microtasks and held the loop for seconds: 4.4 s at the start of a full
// `npm test` (measured with a 20 ms interval timer), while the VM's restore waited on QMP for it
// (the restore took ~10 s there against 1.5-3.6 s alone). Synchronous work of a case goes
// through inSlice(): once SLICE_MS has passed since the loop last turned, it waits for the next
// turn, so I/O is served at least that often.
const SLICE_MS = 20;

let since = performance.now();
let gate: Promise<void> | null = null;

/** Run `work` now if the current slice has time left, else after the event loop has turned. */
export async function inSlice<T>(work: () => T): Promise<T> {
  while (gate || performance.now() - since >= SLICE_MS) {
    // setImmediate from here runs after the poll phase: pending I/O is served first.
    gate ??= new Promise<void>((resolve) => setImmediate(() => { gate = null; since = performance.now(); resolve(); }));
    await gate;
  }
  // No await between the check and the work: the next caller's check sees this work's time.
  return work();
}
