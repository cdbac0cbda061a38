// Reads domain XML into the model's plain tree: strict-read.ts for well-formed UTF-8, and
// libxml2 (compiled to WebAssembly), the parser libvirt itself uses, for everything else, so
// errors and odd encodings come out in its words. Bad input becomes one line: never a stack trace.
import { XmlDocument, XmlElement as LxElement, XmlText, XmlCData, XmlEntityReference, ParseOption } from 'libxml2-wasm';
import { Libxml2Needed, readXmlStrict, XmlReadError } from './strict-read.js';
import type { XmlElement } from './tree.js';

export { MAX_INPUT_BYTES, saxesRead, XmlReadError } from './strict-read.js';

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
  try {
    return readXmlStrict(input);
  } catch (e) {
    if (e instanceof Libxml2Needed) return readWithLibxml2(e.bytes);
    throw e;
  }
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
