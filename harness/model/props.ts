// libvirt's attribute readers (virXMLProp*, virStrToLong_uip, virUUIDParse, bitmaps), with
// their exact error words: the pieces every part of the parser reads values with.
import { parseBitmap, bitmapIsEmpty, CPUMASK_LEN, type Bitmap } from './bitmap.js';
import { fail } from './errors.js';
import { attr, type XmlElement } from './xml-tree.js';

/** virStrToLong_uip-style unsigned parse: digits only after optional spaces, no sign. */
export function parseUInt(s: string): number | null {
  const m = /^[ \t\n\r\f\v]*(\+?)(\d+)$/.exec(s);
  if (!m) return null;
  const v = Number(m[2]);
  return v > 4294967295 ? null : v;
}

/** virXMLPropUInt: returns undefined when absent and not required. */
export function propUInt(el: XmlElement, name: string, required: boolean, nonzero = false): number | undefined {
  const v = attr(el, name);
  if (v === undefined) {
    if (!required) return undefined;
    return fail('XML_ERROR', `Missing required attribute '${name}' in element '${el.name}'`);
  }
  const n = parseUInt(v);
  if (n === null) fail('XML_ERROR', `Invalid value for attribute '${name}' in element '${el.name}': '${v}'. Expected non-negative integer value`);
  if (nonzero && n === 0) fail('XML_ERROR', `Invalid value for attribute '${name}' in element '${el.name}': Zero is not permitted`);
  return n!;
}

/** virXMLPropEnum: unknown values use libvirt's generic wording. */
export function propEnum<T extends string>(el: XmlElement, name: string, values: readonly T[], required = false, nonzeroFirst = false): T | undefined {
  const v = attr(el, name);
  if (v === undefined) {
    if (!required) return undefined;
    return fail('XML_ERROR', `Missing required attribute '${name}' in element '${el.name}'`);
  }
  const idx = values.indexOf(v as T);
  if (idx < 0 || (nonzeroFirst && idx === 0)) fail('XML_ERROR', `Invalid value for attribute '${name}' in element '${el.name}': '${v}'.`);
  return v as T;
}

export function propTristate(el: XmlElement, name: string): boolean | undefined {
  const v = propEnum(el, name, ['absent', 'yes', 'no'] as const, false, true);
  return v === undefined ? undefined : v === 'yes';
}

export function parseUuid(text: string): string {
  // virUUIDParse: 32 hex digits, '-' allowed between byte pairs, surrounding spaces tolerated.
  const hex = text.trim().replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) fail('INTERNAL_ERROR', 'malformed uuid element');
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function nonEmptyBitmap(value: string, what: string): Bitmap {
  const map = parseBitmap(value, CPUMASK_LEN);
  if (bitmapIsEmpty(map)) fail('CONFIG_UNSUPPORTED', `Invalid value of '${what}': ${value}`);
  return map;
}
