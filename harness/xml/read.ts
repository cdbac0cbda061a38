// Reads domain XML with libxml2 (compiled to WebAssembly), the parser libvirt itself uses,
// into the model's plain tree. Bad input becomes one line: never a stack trace.
import { XmlDocument, XmlElement as LxElement, XmlText, XmlCData, XmlEntityReference, ParseOption } from 'libxml2-wasm';
import { SaxesParser } from 'saxes';
import { fastRead } from './fast-read.js';
import type { XmlElement } from '../model/xml-tree.js';

/** Input refused before the model sees it (not XML, unsafe XML, too big). */
export class XmlReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlReadError';
  }
}

/** Domain XML is a few KiB; anything this large is refused before parsing, bounding memory. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

function convert(el: LxElement): XmlElement {
  const attrs: [string, string][] = [];
  for (const a of el.attrs) attrs.push([a.name, a.value]);
  const children: XmlElement[] = [];
  let text = '';
  for (let n = el.firstChild; n; n = n.next) {
    if (n instanceof LxElement) children.push(convert(n));
    else if (n instanceof XmlText || n instanceof XmlCData) text += n.content;
    else if (n instanceof XmlEntityReference) text += n.content;
  }
  return { name: el.name, attrs, children, text };
}

/** Parse bytes (as read from a file) into the model's tree. */
export function readXml(input: Uint8Array | string): XmlElement {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size === 0) throw new XmlReadError('XML error: failed to parse xml document: the input is empty');
  if (size > MAX_INPUT_BYTES)
    throw new XmlReadError(`XML error: input of ${size} bytes refused: domain XML is limited to ${MAX_INPUT_BYTES} bytes`);
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  // libvirt never loads DTDs or entities from outside; the model goes further and refuses any
  // entity declaration, so nothing is expanded (no billion laughs) and nothing is fetched.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 65536)).toString('latin1');
  if (/<!DOCTYPE/i.test(head) && /<!ENTITY/i.test(Buffer.from(bytes).toString('latin1')))
    throw new XmlReadError('XML error: DOCTYPE with entity declarations refused: entities are neither expanded nor fetched');
  // Fast path: well-formed UTF-8 goes through saxes (strict, pure JS, several times faster than
  // walking libxml2's tree through WebAssembly). Anything else is left to libxml2, so odd
  // encodings and every error come out with libxml2's own handling and wording.
  const fast = readUtf8Strict(bytes);
  if (fast) return fast;
  return readWithLibxml2(bytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const declaredEncoding = /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/;

interface MutableElement { name: string; attrs: [string, string][]; children: MutableElement[]; text: string }

// One parser for the process: saxes resets itself on close(), and building a parser per
// document cost more than parsing it. Handlers write into `state`.
const state: { stack: MutableElement[]; root: MutableElement | null; failed: boolean } = { stack: [], root: null, failed: false };
const parser = new SaxesParser({ position: false });
parser.on('error', () => { state.failed = true; });
parser.on('opentag', (n) => {
  const attrs: [string, string][] = [];
  const a = n.attributes as Record<string, string>;
  for (const k in a) attrs.push([k, a[k]]);
  const el: MutableElement = { name: n.name, attrs, children: [], text: '' };
  const top = state.stack[state.stack.length - 1];
  if (top) top.children.push(el);
  else state.root = el;
  state.stack.push(el);
});
parser.on('text', (t) => { const top = state.stack[state.stack.length - 1]; if (top) top.text += t; });
parser.on('cdata', (t) => { const top = state.stack[state.stack.length - 1]; if (top) top.text += t; });
parser.on('closetag', () => { state.stack.pop(); });

function readUtf8Strict(bytes: Uint8Array): XmlElement | null {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return null;
  }
  const enc = text.startsWith('<?xml') ? declaredEncoding.exec(text.slice(0, 200)) : null;
  if (enc && enc[1].toLowerCase() !== 'utf-8' && enc[1].toLowerCase() !== 'utf8') return null;
  return fastRead(text) ?? saxesRead(text);
}

/** The strict pure-JS parse (exported for the test that checks fastRead against it). */
export function saxesRead(text: string): XmlElement | null {
  state.stack.length = 0;
  state.root = null;
  state.failed = false;
  try {
    parser.write(text).close();
  } catch {
    state.failed = true;
  }
  const root = state.root;
  return state.failed ? null : root;
}

function readWithLibxml2(bytes: Uint8Array): XmlElement {
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromBuffer(bytes, { option: ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NOWARNING });
  } catch (e) {
    const detail = (e as { details?: { message: string; line: number }[] }).details?.[0];
    const msg = detail ? `(domain_definition):${detail.line}: ${detail.message.trim()}` : (e as Error).message.split("\n")[0];
    throw new XmlReadError(msg);
  }
  try {
    const root = doc.root;
    return convert(root);
  } finally {
    doc.dispose();
  }
}
