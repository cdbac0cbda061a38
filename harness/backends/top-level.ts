// Locating the root element and its direct children in raw XML text, so a backend can rename
// a domain (<name>, <uuid>) without reformatting anything else of the input. Both real-libvirt
// backends use it; what they do with a DOCTYPE or broken markup is theirs to decide.

export interface Span {
  name: string;
  openStart: number;
  openEnd: number;
  contentStart: number; // == contentEnd for <x/>
  contentEnd: number;
  closeEnd: number;
}

export interface TopLevel {
  root: Span | null;
  children: Span[];
  /** 'internal-subset': entities could inject elements this scan cannot see. */
  doctype: 'none' | 'plain' | 'internal-subset';
}

/** End of the markup at `from` (quotes respected), or -1 when it never closes. */
function tagEnd(xml: string, from: number, stopAtBracket = false): number | 'bracket' {
  let q: string | null = null;
  for (let j = from; j < xml.length; j++) {
    const c = xml[j];
    if (q) { if (c === q) q = null; continue; }
    if (c === '"' || c === "'") q = c;
    else if (stopAtBracket && c === '[') return 'bracket';
    else if (c === '>') return j;
  }
  return -1;
}

/** Null when markup is unterminated; stops early at a DOCTYPE internal subset. */
export function scanTopLevel(xml: string): TopLevel | null {
  const children: Span[] = [];
  let root: Span | null = null;
  let doctype: TopLevel['doctype'] = 'none';
  let depth = 0;
  let open: Span | null = null;
  let i = 0;
  const skip = (end: string, from: number): number => {
    const e = xml.indexOf(end, from);
    return e < 0 ? -1 : e + end.length;
  };
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    let next: number;
    if (xml.startsWith('<!--', lt)) next = skip('-->', lt + 4);
    else if (xml.startsWith('<![CDATA[', lt)) next = skip(']]>', lt + 9);
    else if (xml.startsWith('<?', lt)) next = skip('?>', lt + 2);
    else if (xml.startsWith('<!', lt)) {
      const e = tagEnd(xml, lt + 2, true);
      if (e === 'bracket') return { root, children, doctype: 'internal-subset' };
      doctype = 'plain';
      next = e < 0 ? -1 : e + 1;
    } else {
      const j = tagEnd(xml, lt + 1);
      if (j === 'bracket' || j < 0) return null;
      const tag = xml.slice(lt + 1, j);
      if (tag.startsWith('/')) {
        depth--;
        if (depth === 1 && open) { open.contentEnd = lt; open.closeEnd = j + 1; children.push(open); open = null; }
      } else {
        const name = /^[^\s/>]+/.exec(tag)?.[0] ?? '';
        const selfClosing = tag.endsWith('/');
        const span: Span = { name, openStart: lt, openEnd: j + 1, contentStart: j + 1, contentEnd: j + 1, closeEnd: j + 1 };
        if (depth === 0 && !root) root = span;
        if (depth === 1) { if (selfClosing) children.push(span); else open = span; }
        if (!selfClosing) depth++;
      }
      next = j + 1;
    }
    if (next < 0) return null;
    i = next;
  }
  return { root, children, doctype };
}
