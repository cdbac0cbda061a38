// harness/runner/time-slice.ts: synchronous work queued behind one another still lets the event
// loop serve I/O every slice, where a plain promise chain holds it until the queue is empty.
import t from 'tap';
import { inSlice } from '../runner/time-slice.js';

const busy = (ms: number): void => { const end = performance.now() + ms; while (performance.now() < end) { /* spin */ } };

/** 100 tasks of 5 ms chained as the runner's limiter chains them; when did a 0 ms timer fire? */
async function timerDuring(run: (work: () => void) => Promise<void>): Promise<{ timerAt: number; total: number }> {
  const t0 = performance.now();
  let timerAt = -1;
  setTimeout(() => { timerAt = performance.now() - t0; }, 0);
  let chain = Promise.resolve();
  for (let i = 0; i < 100; i++) chain = chain.then(() => run(() => busy(5)));
  await chain;
  return { timerAt, total: performance.now() - t0 };
}

t.test('a chain of synchronous work lets timers and I/O in every slice', async (t) => {
  const plain = await timerDuring(async (work) => { work(); });
  t.ok(plain.timerAt < 0 || plain.timerAt >= plain.total - 5, `without slices the timer waits for the whole chain (${plain.timerAt.toFixed(0)} of ${plain.total.toFixed(0)} ms): the check can fail`);
  const sliced = await timerDuring((work) => inSlice(work));
  t.ok(sliced.timerAt >= 0 && sliced.timerAt < 100, `with slices the timer fires after ${sliced.timerAt.toFixed(0)} ms of a ${sliced.total.toFixed(0)} ms chain`);
});

t.test('inSlice returns what the work returns, and its throw', async (t) => {
  t.equal(await inSlice(() => 42), 42);
  await t.rejects(inSlice(() => { throw new Error('boom'); }), /boom/);
});
