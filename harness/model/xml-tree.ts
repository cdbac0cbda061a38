// The model reads the same plain element tree as everything else (harness/xml/tree.ts).
import type { XmlElement } from '../xml/tree.js';
export * from '../xml/tree.js';

/** The elements a path of child steps selects (XPath ./a/b/c, no [1]), in document order: every
 *  a, then every b under each of them, … . libvirt reads much of the domain this way, so a
 *  repeated element is not ignored: its children count too. */
export function select(el: XmlElement, ...steps: string[]): XmlElement[] {
  let cur: XmlElement[] = [el];
  for (const step of steps) {
    const next: XmlElement[] = [];
    for (const e of cur) for (const c of e.children) if (c.name === step) next.push(c);
    if (next.length === 0) return next;
    cur = next;
  }
  return cur;
}

/** XPath string(PATH/@name) over selected elements: the first one that has the attribute gives
 *  it (an empty value included), whatever the elements before it lack. */
export function firstAttr(els: readonly XmlElement[], name: string): string | undefined {
  for (const e of els) {
    for (const [k, v] of e.attrs) if (k === name) return v;
  }
  return undefined;
}
