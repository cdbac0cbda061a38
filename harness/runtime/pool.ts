// Limited parallelism: fn runs on at most `limit` items at once, in order; one promise per item
// (never rejected: failures are returned as values so nobody meets an unhandled rejection).
export type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };

export function mapLimit<I, T>(items: I[], limit: number, fn: (item: I, index: number) => Promise<T>): Promise<Settled<T>>[] {
  let next = 0;
  const resolvers: ((s: Settled<T>) => void)[] = [];
  const out = items.map(() => new Promise<Settled<T>>((resolve) => resolvers.push(resolve)));
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        resolvers[i]({ ok: true, value: await fn(items[i], i) });
      } catch (e) {
        resolvers[i]({ ok: false, error: e instanceof Error ? e : new Error(String(e)) });
      }
    }
  };
  for (let k = 0; k < Math.max(1, Math.min(limit, items.length)); k++) void worker();
  return out;
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
