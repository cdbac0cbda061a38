// A deliberately narrow reader for the plain XML that domain definitions are: elements,
// attributes, text, comments, the XML declaration, the five predefined entities and character
// references. It returns null at the first thing outside that subset (DOCTYPE, CDATA, PIs,
// odd names, duplicate attributes, stray '&' or '<', control characters, mismatched tags),
// and the caller then parses with saxes and libxml2, which decide and word every error. So
// it only ever accepts documents both of those accept, and builds the same tree (checked in
// harness/test/xml-read.test.ts against saxes on all of libvirt's test inputs).
import type { XmlElement } from './tree.js';

interface El { name: string; attrs: [string, string][]; children: El[]; text: string }

// Characters XML 1.0 forbids, or that this reader leaves to the strict parsers.
const ODD = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Per character code below 128: 2 may start a name ([A-Za-z_]), 1 may only continue one
 *  ([0-9.:-]), 0 neither. */
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  NAME_CHAR[c] = /[A-Za-z_]/.test(ch) ? 2 : /[0-9.:-]/.test(ch) ? 1 : 0;
}
// Past the end charCodeAt is NaN: the bound keeps every read inside the table (an
// out-of-range read made V8 deoptimise the whole reader, twice as slow).
const nameChar = (c: number): number => (c < 128 ? NAME_CHAR[c] : 0);
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Replace entity and character references; null if any is malformed or not predefined. */
function unescape(s: string): string | null {
  if (s.indexOf('&') < 0) return s;
  let out = '';
  let i = 0;
  for (;;) {
    const amp = s.indexOf('&', i);
    if (amp < 0) return out + s.slice(i);
    out += s.slice(i, amp);
    const semi = s.indexOf(';', amp);
    if (semi < 0) return null;
    const ref = s.slice(amp + 1, semi);
    let ch: string | undefined;
    if (ref[0] === '#') {
      let num = NaN;
      if (/^#x[0-9A-Fa-f]{1,6}$/.test(ref)) num = parseInt(ref.slice(2), 16);
      else if (/^#[0-9]{1,7}$/.test(ref)) num = parseInt(ref.slice(1), 10);
      if (!(num === 0x9 || num === 0xa || num === 0xd || (num >= 0x20 && num <= 0xd7ff) || (num >= 0xe000 && num <= 0xfffd) || (num >= 0x10000 && num <= 0x10ffff))) return null;
      ch = String.fromCodePoint(num);
    } else ch = PREDEFINED[ref];
    if (ch === undefined) return null;
    out += ch;
    i = semi + 1;
  }
}

/** Attribute-value normalisation (XML 1.0 §3.3.3) for CDATA attributes, after the raw value. */
function attrValue(raw: string): string | null {
  if (raw.indexOf('<') >= 0) return null;
  const spaced = raw.indexOf('\n') >= 0 || raw.indexOf('\t') >= 0 ? raw.replace(/[\t\n]/g, ' ') : raw;
  return unescape(spaced);
}

export function fastRead(text: string): XmlElement | null {
  // Line-end normalisation (a raw CR) is left to the strict parsers too.
  if (ODD.test(text) || text.indexOf('\r') >= 0) return null;
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const skipSpace = (): void => {
    for (let c = text.charCodeAt(i); c === 32 || c === 10 || c === 9 || c === 13; c = text.charCodeAt(++i));
  };
  // [A-Za-z_][A-Za-z0-9._:-]*, by character code through a table (sticky regexes, then chains
  // of comparisons, were the hot spot).
  const name = (): string | null => {
    const start = i;
    if (nameChar(text.charCodeAt(i)) !== 2) return null;
    while (nameChar(text.charCodeAt(++i)));
    return text.slice(start, i);
  };
  // Misc before the root: an XML declaration (first thing only), comments, white space.
  if (text.startsWith('<?xml', i)) {
    const end = text.indexOf('?>', i);
    if (end < 0) return null;
    const decl = text.slice(i, end + 2);
    if (!/^<\?xml\s+version\s*=\s*(['"])1\.0\1(\s+encoding\s*=\s*(['"])(?:UTF-8|utf-8)\3)?(\s+standalone\s*=\s*(['"])(?:yes|no)\5)?\s*\?>$/.test(decl)) return null;
    i = end + 2;
  }
  const misc = (): boolean => {
    for (;;) {
      skipSpace();
      if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end < 0) return false;
        if (text.slice(i + 4, end).includes('--') || text[end - 1] === '-') return false;
        i = end + 3;
      } else return true;
    }
  };
  if (!misc() || text[i] !== '<') return null;

  const stack: El[] = [];
  let root: El | null = null;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      if (stack.length) return null;
      if (text.slice(i).trim() !== '') return null;
      break;
    }
    if (lt > i) {
      // Most gaps are indentation: no need to look for ']]>' or references there.
      let blank = true;
      for (let k = i; k < lt; k++) {
        const c = text.charCodeAt(k);
        if (c !== 32 && c !== 10 && c !== 9) { blank = false; break; }
      }
      const raw = text.slice(i, lt);
      if (!top) { if (!blank) return null; }
      else if (blank) top.text += raw;
      else {
        if (raw.includes(']]>')) return null;
        const t = unescape(raw);
        if (t === null) return null;
        top.text += t;
      }
    }
    i = lt;
    const next = text.charCodeAt(i + 1);
    if (next === 33 /* ! */ && text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0 || text.slice(i + 4, end).includes('--') || text[end - 1] === '-') return null;
      i = end + 3;
      continue;
    }
    if (next === 47 /* / */) {
      i += 2;
      // The end tag must repeat the open element's name: compared in place, not sliced out.
      if (!top || !text.startsWith(top.name, i) || nameChar(text.charCodeAt(i + top.name.length))) return null;
      i += top.name.length;
      skipSpace();
      if (text[i] !== '>') return null;
      i++;
      stack.pop();
      if (!stack.length) {
        if (!misc() || i < n) return null;
        break;
      }
      continue;
    }
    if (next === 33 || next === 63) return null; // DOCTYPE, CDATA, PIs (! ?): strict path
    i++;
    const nm = name();
    if (nm === null) return null;
    if (!top && root) return null; // a second root element
    const el: El = { name: nm, attrs: [], children: [], text: '' };
    for (;;) {
      const before = i;
      skipSpace();
      if (text[i] === '>' || text.startsWith('/>', i)) break;
      if (i === before) return null; // attributes must be separated by white space
      const an = name();
      if (an === null) return null;
      skipSpace();
      if (text[i] !== '=') return null;
      i++;
      skipSpace();
      const q = text[i];
      if (q !== '"' && q !== "'") return null;
      const end = text.indexOf(q, i + 1);
      if (end < 0) return null;
      const v = attrValue(text.slice(i + 1, end));
      if (v === null) return null;
      for (let k = 0; k < el.attrs.length; k++) if (el.attrs[k][0] === an) return null;
      el.attrs.push([an, v]);
      i = end + 1;
    }
    if (top) top.children.push(el);
    else root = el;
    if (text[i] === '/') {
      i += 2;
      if (!stack.length) {
        if (!misc() || i < n) return null;
        break;
      }
    } else {
      i++;
      stack.push(el);
    }
  }
  if (stack.length || !root) return null;
  return root;
}
