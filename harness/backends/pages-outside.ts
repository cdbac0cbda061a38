// How many of a guest RAM backend's resident pages lie on host nodes outside the nodeset the
// domain XML gives it: its cell's <memnode> nodeset, else the <memory> nodeset. Read from the
// input XML and the kernel's per-node page counts only (the real side never asks the model).
import { readXml } from '../xml/read.js';
import { attr, child, childrenNamed } from '../xml/tree.js';

/** libvirt's nodeset syntax: "1-4,^3" (ranges, then exclusions). */
export function parseLibvirtNodeset(text: string): Set<number> {
  const keep = new Set<number>();
  const drop = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const m = /^(\^)?(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`not a nodeset: '${text}'`);
    const [lo, hi] = [Number(m[2]), m[3] === undefined ? Number(m[2]) : Number(m[3])];
    for (let n = lo; n <= hi; n++) (m[1] ? drop : keep).add(n);
  }
  for (const n of drop) keep.delete(n);
  return keep;
}

/** Nodeset per backend id ("pc.ram" for the whole guest, "ram-nodeN" for cell N); none when
 *  the XML gives no nodeset (nothing is outside then). */
export function nodesetsOf(xml: string): { whole?: Set<number>; cells: Map<number, Set<number>> } {
  const numatune = child(readXml(xml), 'numatune');
  const memory = numatune && child(numatune, 'memory');
  const ns = memory && attr(memory, 'nodeset');
  const whole = ns ? parseLibvirtNodeset(ns) : undefined;
  const cells = new Map<number, Set<number>>();
  for (const mn of numatune ? childrenNamed(numatune, 'memnode') : []) {
    const id = attr(mn, 'cellid');
    const set = attr(mn, 'nodeset');
    if (id !== undefined && set) cells.set(Number(id), parseLibvirtNodeset(set));
  }
  return { whole, cells };
}

/** Pages outside the nodeset per backend, for backends with a nodeset. */
export function pagesOutside(xml: string, mappings: { id: string; pages: Record<string, number> }[]): Record<string, number> {
  const { whole, cells } = nodesetsOf(xml);
  const out: Record<string, number> = {};
  for (const m of mappings) {
    const cell = /^ram-node(\d+)$/.exec(m.id);
    const allowed = (cell && cells.get(Number(cell[1]))) || whole;
    if (!allowed) continue;
    out[m.id] = Object.entries(m.pages).filter(([n]) => !allowed.has(Number(n.replace(/^N/, '')))).reduce((s, [, v]) => s + v, 0);
  }
  return out;
}
