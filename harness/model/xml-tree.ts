// The model reads the same plain element tree as everything else (harness/xml/tree.ts).
import { childrenNamed, type XmlElement } from '../xml/tree.js';
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

/** Several elements read as one, the way an XPath through them reads them (./NAME/x spans every
 *  NAME, string(./NAME/@a) is the first NAME that has a): attributes first-wins, children in
 *  document order. One element is itself; none is undefined. */
export function mergeElements(els: readonly XmlElement[]): XmlElement | undefined {
  if (els.length <= 1) return els[0];
  const attrs: [string, string][] = [];
  const seen = new Set<string>();
  for (const e of els) for (const [k, v] of e.attrs) if (!seen.has(k)) { seen.add(k); attrs.push([k, v]); }
  return { name: els[0].name, attrs, children: els.flatMap((e) => e.children), text: els.map((e) => e.text).join('') };
}

/** Every `name` child of `el` as one element (mergeElements): for the parts of the domain libvirt
 *  reads without [1] (./devices/disk, ./cputune/vcpupin, ./features/*, string(./clock/@offset), …). */
export const merged = (el: XmlElement, name: string): XmlElement | undefined => mergeElements(childrenNamed(el, name));
