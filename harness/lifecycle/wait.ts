// Waiting with a bound. A bare `Promise.race([p, new Promise((r) => setTimeout(r, ms))])` leaves
// its timer pending after p wins, and a pending timer keeps node's event loop alive: a power-off
// bounded at 20 s held every run that used the emulated host 18 s after it was done.

/** Wait until `p` settles or `ms` pass, whichever comes first; true when `p` settled. The timer
 *  is cleared either way, and a rejection of `p` counts as settled (the caller looks at the state
 *  it waited for, not at `p`'s value). */
export function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = (): void => { clearTimeout(timer); resolve(true); };
    p.then(done, done);
  });
}
