// libvirt's bitmap syntax (src/util/virbitmap.c): "N", "N-M", "^N", comma separated, spaces
// allowed around tokens; bits beyond the bitmap's size are an error, not an expansion.
import { fail } from './errors.js';

/** VIR_DOMAIN_CPUMASK_LEN: the size of every cpuset/nodeset bitmap in a domain definition. */
export const CPUMASK_LEN = 16384;

/** A set of non-negative integers, kept sorted. */
export type Bitmap = readonly number[];

const INT_MAX = 2147483647;

/** g_ascii_isspace, as virSkipSpaces uses it: no vertical tab (unlike C's isspace). */
const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
/** isspace in the C locale, as strtol skips it. */
const isCSpace = (c: string | undefined): boolean => isSpace(c) || c === '\v';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * strtol(…, 10) as virStrToLong_i uses it: optional leading spaces and sign, then digits.
 * Returns the value and the index after it, or null when nothing was parsed or it overflows int.
 */
function strToInt(s: string, at: number): { value: number; end: number } | null {
  let i = at;
  while (isCSpace(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  const digitsStart = i;
  let value = 0;
  let overflow = false;
  while (isDigit(s[i])) {
    if (!overflow) {
      value = value * 10 + (s.charCodeAt(i) - 48);
      if (value > INT_MAX + 1) overflow = true;
    }
    i++;
  }
  if (i === digitsStart) return null;
  if (neg) value = -value;
  if (overflow || value > INT_MAX || value < -INT_MAX - 1) return null;
  return { value, end: i };
}

/** virBitmapParse(str, &map, size): throws libvirt's "Failed to parse bitmap" on any error. */
export function parseBitmap(str: string, size: number = CPUMASK_LEN): Bitmap {
  const error = (): never => fail('INVALID_ARG', `Failed to parse bitmap '${str}'`);
  // Grown on demand up to `size`: nodesets are tiny, and zeroing 16 KiB per parse dominated.
  let bits = new Uint8Array(64);
  const ensure = (bit: number): void => {
    if (bit < bits.length) return;
    const grown = new Uint8Array(Math.min(size, Math.max(bit + 1, bits.length * 2)));
    grown.set(bits);
    bits = grown;
  };
  let top = -1; // highest bit touched, so collecting the result stays cheap for small sets
  let cur = 0;
  while (isSpace(str[cur])) cur++;
  if (cur >= str.length) error();

  let neg = false;
  while (cur < str.length) {
    if (str[cur] === '^') {
      cur++;
      neg = true;
    }
    if (!isDigit(str[cur])) error();
    const first = strToInt(str, cur);
    if (!first || first.value < 0) return error();
    const start = first.value;
    cur = first.end;
    while (isSpace(str[cur])) cur++;

    if (str[cur] === ',' || cur >= str.length) {
      if (start >= size) error();
      ensure(start);
      bits[start] = neg ? 0 : 1;
      if (start > top) top = start;
    } else if (str[cur] === '-') {
      if (neg) error();
      cur++;
      while (isSpace(str[cur])) cur++;
      const second = strToInt(str, cur);
      if (!second || second.value < start) return error();
      cur = second.end;
      // libvirt sets bit by bit and fails at the first bit past the end.
      if (second.value >= size) error();
      ensure(second.value);
      bits.fill(1, start, second.value + 1);
      if (second.value > top) top = second.value;
      while (isSpace(str[cur])) cur++;
    }

    if (str[cur] === ',') {
      cur++;
      while (isSpace(str[cur])) cur++;
      neg = false;
    } else if (cur >= str.length) {
      break;
    } else {
      error();
    }
  }
  const out: number[] = [];
  for (let i = 0; i <= top; i++) if (bits[i]) out.push(i);
  return out;
}

/** virBitmapFormat: ascending ranges "0-3,5,7-8"; the empty set formats as "". */
export function formatBitmap(map: Bitmap): string {
  const parts: string[] = [];
  let i = 0;
  while (i < map.length) {
    let j = i;
    while (j + 1 < map.length && map[j + 1] === map[j] + 1) j++;
    parts.push(i === j ? `${map[i]}` : `${map[i]}-${map[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * The ranges QEMU's option syntax wants ("cpus=1-27,cpus=29"): same grouping as formatBitmap,
 * one string per range.
 */
export function bitmapRanges(map: Bitmap): string[] {
  const s = formatBitmap(map);
  return s === '' ? [] : s.split(',');
}

export const bitmapIsEmpty = (map: Bitmap): boolean => map.length === 0;
export const bitmapLast = (map: Bitmap): number => (map.length ? map[map.length - 1] : -1);
export const bitmapOverlaps = (a: Bitmap, b: Bitmap): boolean => {
  const s = new Set(a);
  return b.some((x) => s.has(x));
};
