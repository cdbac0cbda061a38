// A plain, immutable element tree: what the model's parser works on. Kept free of any XML
// library so the model stays pure; harness/xml/read.ts builds it.
export interface XmlElement {
  readonly name: string;
  /** Attributes in document order (libxml2 keeps it; the formatter does not rely on it). */
  readonly attrs: ReadonlyArray<readonly [string, string]>;
  readonly children: readonly XmlElement[];
  /** Concatenated text content of this element (like xmlNodeGetContent of a leaf). */
  readonly text: string;
}

export const attr = (el: XmlElement, name: string): string | undefined => {
  const a = el.attrs;
  for (let i = 0; i < a.length; i++) if (a[i][0] === name) return a[i][1];
  return undefined;
};

// Plain loops, no callback: the parser asks for a dozen elements of <domain> alone, most of them
// (the memory territory's, <idmap>, …) absent, so each question walks every child.
export const child = (el: XmlElement, name: string): XmlElement | undefined => {
  const c = el.children;
  for (let i = 0; i < c.length; i++) if (c[i].name === name) return c[i];
  return undefined;
};

export const childrenNamed = (el: XmlElement, name: string): XmlElement[] => {
  const out: XmlElement[] = [];
  const c = el.children;
  for (let i = 0; i < c.length; i++) if (c[i].name === name) out.push(c[i]);
  return out;
};
