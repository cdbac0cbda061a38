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

/** virXMLPropTristateSwitch: on/off, absent is undefined ('absent' itself is refused). */
export function propSwitch(el: XmlElement, name: string): boolean | undefined {
  const v = propEnum(el, name, ['absent', 'on', 'off'] as const, false, true);
  return v === undefined ? undefined : v === 'on';
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

/** virStrToLong_i: strtol (leading spaces, a sign, base 0 reads 0x… as hex and 0… as octal), the
 *  whole string, within a C int; null when libvirt refuses it. */
export function parseInt32(s: string, base: 0 | 10): number | null {
  const m = /^[ \t\n\r\f\v]*([+-]?)(0[xX][0-9a-fA-F]+|\d+)$/.exec(s);
  if (!m) return null;
  const digits = m[2];
  let v: number;
  if (base === 10) {
    if (!/^\d+$/.test(digits)) return null;
    v = Number(digits);
  } else if (/^0[xX]/.test(digits)) v = parseInt(digits.slice(2), 16);
  else if (digits.length > 1 && digits[0] === '0') {
    if (/[89]/.test(digits)) return null;
    v = parseInt(digits, 8);
  } else v = Number(digits);
  if (m[1] === '-') v = -v;
  return v > 2147483647 || v < -2147483648 ? null : v;
}

/** virXMLPropInt (base 0 or 10; `nonNegative`: VIR_XML_PROP_NONNEGATIVE); undefined when absent. */
export function propInt(el: XmlElement, name: string, base: 0 | 10, nonNegative: boolean): number | undefined {
  const v = attr(el, name);
  if (v === undefined) return undefined;
  const n = parseInt32(v, base);
  if (n === null) fail('XML_ERROR', `Invalid value for attribute '${name}' in element '${el.name}': '${v}'. Expected integer value`);
  if (nonNegative && n! < 0) fail('XML_ERROR', `Invalid value for attribute '${name}' in element '${el.name}': '${v}'. Expected non-negative value`);
  return n!;
}
