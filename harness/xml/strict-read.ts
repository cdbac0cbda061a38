// Domain XML into the model's plain tree without libxml2: the size and entity checks, then the
// narrow fast reader, then saxes (strict, pure JS). When neither can decide (not UTF-8, an
// encoding other than UTF-8 declared, or any error, whose wording must be libxml2's), it throws
// Libxml2Needed and the caller hands the bytes to libxml2 (read.ts). Kept apart from read.ts so
// the CLI can read good input without loading libxml2's WebAssembly (tens of ms at start-up).
import { createRequire } from 'node:module';
import type { SaxesParser } from 'saxes';
import { fastRead } from './fast-read.js';
import type { XmlElement } from './tree.js';

/** Input refused before the model sees it (not XML, unsafe XML, too big). */
export class XmlReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlReadError';
  }
}

/** Only libxml2 may decide this input: read it with read.ts's readXml. */
export class Libxml2Needed extends Error {
  constructor(readonly bytes: Uint8Array) {
    super('libxml2 must read this input');
    this.name = 'Libxml2Needed';
  }
}

/** Domain XML is a few KiB; anything this large is refused before parsing, bounding memory. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

/** The tree, an XmlReadError, or Libxml2Needed. */
export function readXmlStrict(input: Uint8Array | string): XmlElement {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size === 0) throw new XmlReadError('XML error: failed to parse xml document: the input is empty');
  if (size > MAX_INPUT_BYTES)
    throw new XmlReadError(`XML error: input of ${size} bytes refused: domain XML is limited to ${MAX_INPUT_BYTES} bytes`);
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const text = decodeUtf8(bytes);
  // libvirt never loads DTDs or entities from outside; the model goes further and refuses any
  // entity declaration, so nothing is expanded (no billion laughs) and nothing is fetched. The
  // pattern is ASCII, and UTF-8 never puts ASCII bytes inside a multi-byte character, so a
  // decoded text without it has none in its bytes either: only then are the bytes not copied
  // into a latin1 string (most inputs, each call).
  if (text === null || /<!DOCTYPE/i.test(text)) {
    const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 65536)).toString('latin1');
    if (/<!DOCTYPE/i.test(head) && /<!ENTITY/i.test(Buffer.from(bytes).toString('latin1')))
      throw new XmlReadError('XML error: DOCTYPE with entity declarations refused: entities are neither expanded nor fetched');
  }
  // Fast path: well-formed UTF-8 goes through the fast reader or saxes (several times faster
  // than walking libxml2's tree through WebAssembly). Anything else is left to libxml2, so odd
  // encodings and every error come out with libxml2's own handling and wording.
  const tree = text === null ? null : readUtf8Strict(text);
  if (tree) return tree;
  throw new Libxml2Needed(bytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const declaredEncoding = /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/;

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

function readUtf8Strict(text: string): XmlElement | null {
  const enc = text.startsWith('<?xml') ? declaredEncoding.exec(text.slice(0, 200)) : null;
  if (enc && enc[1].toLowerCase() !== 'utf-8' && enc[1].toLowerCase() !== 'utf8') return null;
  return fastRead(text) ?? saxesRead(text);
}

interface MutableElement { name: string; attrs: [string, string][]; children: MutableElement[]; text: string }

// One parser for the process, made on first use (saxes and its character tables cost tens of ms
// to load, and the fast reader handles ordinary domain XML without it): saxes resets itself on
// close(), and building a parser per document cost more than parsing it. Handlers write into `state`.
const state: { stack: MutableElement[]; root: MutableElement | null; failed: boolean } = { stack: [], root: null, failed: false };
let parser: SaxesParser | undefined;

function saxes(): SaxesParser {
  if (parser) return parser;
  // saxes is CommonJS, so it loads synchronously here.
  const { SaxesParser: Parser } = createRequire(import.meta.url)('saxes') as typeof import('saxes');
  const p = new Parser({ position: false });
  p.on('error', () => { state.failed = true; });
  p.on('opentag', (n) => {
    const attrs: [string, string][] = [];
    const a = n.attributes as Record<string, string>;
    for (const k in a) attrs.push([k, a[k]]);
    const el: MutableElement = { name: n.name, attrs, children: [], text: '' };
    const top = state.stack[state.stack.length - 1];
    if (top) top.children.push(el);
    else state.root = el;
    state.stack.push(el);
  });
  p.on('text', (t) => { const top = state.stack[state.stack.length - 1]; if (top) top.text += t; });
  p.on('cdata', (t) => { const top = state.stack[state.stack.length - 1]; if (top) top.text += t; });
  p.on('closetag', () => { state.stack.pop(); });
  return (parser = p);
}

/** The strict pure-JS parse (exported for the test that checks fastRead against it). */
export function saxesRead(text: string): XmlElement | null {
  const p = saxes();
  state.stack.length = 0;
  state.root = null;
  state.failed = false;
  try {
    p.write(text).close();
  } catch {
    state.failed = true;
  }
  const root = state.root;
  return state.failed ? null : root;
}
