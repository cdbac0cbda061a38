// xml2xml through the real libvirt defines a copy of the input under a unique name and a fresh
// uuid: this finds <name> and <uuid> among the root's children without reformatting the input,
// rewrites them, and restores the originals in what libvirt prints back.
import { randomUUID } from 'node:crypto';
import { scanTopLevel } from './top-level.js';

/** XPath string() of raw element content: comments dropped, CDATA and entities decoded. */
function stringValue(raw: string): string {
  return raw
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_m, t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;'))
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|apos|quot);/g, (_m, e: string) =>
      e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
        : ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' } as Record<string, string>)[e]);
}

/** virUUIDParse + virUUIDFormat: the canonical form, or null when libvirt would reject it. */
export function canonicalUuid(text: string): string | null {
  const t = text.replace(/^[\s]+|[\s]+$/g, '');
  const hex: string[] = [];
  let k = 0;
  while (k < t.length && hex.length < 16) {
    if (t[k] === '-' || t[k] === ' ') { k++; continue; }
    const pair = t.slice(k, k + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return null;
    hex.push(pair.toLowerCase());
    k += 2;
  }
  if (hex.length !== 16 || k !== t.length) return null;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface Rewritten {
  text: string;
  uniqueName: string; // prefix put in front of the original <name> content
  uuid: string; // the domain's uuid once defined (fresh)
  restoreUuid: Map<string, string>; // fresh -> original canonical
}

const SYSINFO_UUID = /(<entry\s+name=(['"])uuid\2\s*>)([^<]*)(<\/entry>)/g;

export function rewriteForDefine(xml: string, uniqueName: string): Rewritten | { skip: string } {
  const scan = scanTopLevel(xml);
  if (scan?.doctype === 'internal-subset') {
    return { skip: 'libvirt backend: inputs with a DOCTYPE internal subset are not defined (entities could hide the domain name)' };
  }
  const restoreUuid = new Map<string, string>();
  const freshFor = new Map<string, string>(); // original canonical -> fresh
  const fresh = (orig: string) => {
    let f = freshFor.get(orig);
    if (!f) {
      f = randomUUID();
      freshFor.set(orig, f);
      restoreUuid.set(f, orig);
    }
    return f;
  };
  const edits: { start: number; end: number; text: string }[] = [];
  let domainUuid: string | null = null;
  const nameEl = scan?.children.find((c) => c.name === 'name');
  const uuidEl = scan?.children.find((c) => c.name === 'uuid');
  if (nameEl && stringValue(xml.slice(nameEl.contentStart, nameEl.contentEnd)) !== '') {
    edits.push({ start: nameEl.contentStart, end: nameEl.contentStart, text: uniqueName });
  }
  // sysinfo's system uuid must keep matching the domain uuid (or keep mismatching).
  let sysinfoUuid: string | null = null;
  for (const m of xml.matchAll(SYSINFO_UUID)) {
    const orig = canonicalUuid(stringValue(m[3]));
    if (!orig) continue;
    const start = m.index! + m[1].length;
    edits.push({ start, end: start + m[3].length, text: fresh(orig) });
    sysinfoUuid ??= fresh(orig);
  }
  const uuidText = uuidEl ? stringValue(xml.slice(uuidEl.contentStart, uuidEl.contentEnd)) : '';
  if (uuidEl && uuidText !== '') {
    const orig = canonicalUuid(uuidText);
    if (orig) {
      domainUuid = fresh(orig);
      edits.push({ start: uuidEl.contentStart, end: uuidEl.contentEnd, text: domainUuid });
    }
  } else if (uuidEl) {
    // <uuid/> or an empty one is no uuid to libvirt (it makes one up): the element becomes ours,
    // or the domain could not be found again to be undefined.
    domainUuid = sysinfoUuid ?? randomUUID();
    edits.push({ start: uuidEl.openStart, end: uuidEl.closeEnd, text: `<uuid>${domainUuid}</uuid>` });
  } else if (nameEl) {
    // No <uuid>: libvirt would take sysinfo's or a random one; give it ours so we can find it.
    domainUuid = sysinfoUuid ?? randomUUID();
    edits.push({ start: nameEl.closeEnd, end: nameEl.closeEnd, text: `<uuid>${domainUuid}</uuid>` });
  }
  edits.sort((a, b) => b.start - a.start);
  let text = xml;
  for (const e of edits) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return { text, uniqueName, uuid: domainUuid ?? randomUUID(), restoreUuid };
}

export function restoreDumped(xml: string, rw: Rewritten): string {
  let doneName = false;
  let doneUuid = false;
  return xml
    .replace(/^(  <name>)(.*)(<\/name>)$/m, (m, a: string, v: string, b: string) => {
      if (doneName || !v.startsWith(rw.uniqueName)) return m;
      doneName = true;
      return a + v.slice(rw.uniqueName.length) + b;
    })
    .replace(/^(  <uuid>)(.*)(<\/uuid>)$/m, (m, a: string, v: string, b: string) => {
      if (doneUuid) return m;
      doneUuid = true;
      return a + (rw.restoreUuid.get(v) ?? v) + b;
    })
    .replace(SYSINFO_UUID, (m, a: string, _q: string, v: string, b: string) =>
      rw.restoreUuid.has(v) ? a + rw.restoreUuid.get(v)! + b : m);
}

export function restoreMessage(msg: string, rw: Rewritten): string {
  let out = msg.split(rw.uniqueName).join('');
  for (const [f, o] of rw.restoreUuid) out = out.split(f).join(o);
  return out;
}

