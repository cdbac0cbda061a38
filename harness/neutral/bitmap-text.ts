// libvirt's printed form of a set of CPU or node numbers ("0-3,5,7-8", virBitmapFormat), for
// the real side of a comparison (runtime observations, tree-test summaries). Independent of the
// model's bitmap code; checked against the sets libvirt itself printed in its test outputs.

/** Numbers in ascending order, runs of consecutive numbers joined as "a-b". */
export function printNodeSet(numbers: Iterable<number>): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let start = 0; start < sorted.length;) {
    let end = start;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end] + 1) end++;
    runs.push(end === start ? String(sorted[start]) : `${sorted[start]}-${sorted[end]}`);
    start = end + 1;
  }
  return runs.join(',');
}

/** The kernel's list format ("0-2,4", /proc Mems_allowed_list, cpuset.mems) into numbers. */
export function readNodeList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a node list: '${text.trim()}'`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let n = lo; n <= hi; n++) out.push(n);
  }
  return out;
}

/** Sort keys such as vcpu2 < vcpu10 the way people read them. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
