// libvirt's scaled integers (virParseScaledValue + virScaleInteger) and virDomainParseMemory,
// which stores KiB rounded up. BigInt because libvirt's limits are 64-bit.
import { fail } from './errors.js';

const LLONG_MAX = 9223372036854775807n;
const ULLONG_MAX = 18446744073709551615n;

/** virScaleInteger: suffix case-insensitive; "k"/"KiB" are 1024-based, "KB" 1000-based. */
export function scaleFor(suffix: string | undefined, dflt: bigint): bigint {
  if (suffix === undefined || suffix === '') return dflt;
  const s = suffix.toLowerCase();
  if (s === 'b' || s === 'byte' || s === 'bytes') return 1n;
  let base: bigint;
  if (s.length === 1 || s.slice(1) === 'ib') base = 1024n;
  else if (s[1] === 'b' && s.length === 2) base = 1000n;
  else return fail('INVALID_ARG', `unknown suffix '${suffix}'`);
  const power = 'kmgtpe'.indexOf(s[0]);
  if (power < 0) return fail('INVALID_ARG', `unknown suffix '${suffix}'`);
  return base ** BigInt(power + 1);
}

/** virStrToLong_ullp: optional leading spaces and '+', digits to the end, no overflow. */
function parseULL(s: string): bigint | null {
  const m = /^[ \t\n\r\f\v]*\+?(\d+)$/.exec(s);
  if (!m) return null;
  const v = BigInt(m[1]);
  return v > ULLONG_MAX ? null : v;
}

/**
 * virParseScaledValue: returns bytes (times `scale` when no unit), or undefined when the value
 * is absent/empty and not required.
 */
export function parseScaled(text: string | undefined, unit: string | undefined, scale: bigint, xpath: string, required: boolean, max: bigint = LLONG_MAX): bigint | undefined {
  if (text === undefined || text === '') {
    if (!required) return undefined;
    return fail('XML_ERROR', `missing element or attribute '${xpath}'`);
  }
  const v = parseULL(text);
  if (v === null) return fail('XML_ERROR', `Invalid value '${text}' for element or attribute '${xpath}'`);
  const factor = scaleFor(unit, scale);
  if (v && v > max / factor) fail('OVERFLOW', `value too large: ${v}${unit ?? ''}`);
  return v * factor;
}

/** VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, in KiB: a memory limit at or above it is no limit. */
export const MEMORY_UNLIMITED_KIB = 9007199254740991n;

/** virDomainParseMemoryLimit: KiB, rounded up and capped at "unlimited"; undefined when absent
 *  or unlimited (virMemoryLimitIsSet false). The bytes may not pass UNLIMITED << 10. */
export function parseMemoryLimitKiB(text: string | undefined, unit: string | undefined, xpath: string): number | undefined {
  const bytes = parseScaled(text, unit, 1024n, xpath, false, MEMORY_UNLIMITED_KIB << 10n);
  if (bytes === undefined) return undefined;
  const kib = (bytes + 1023n) / 1024n;
  return kib < MEMORY_UNLIMITED_KIB ? Number(kib) : undefined;
}

/** Bytes per unit for the spellings domain XML uses (looked up lower-cased), from scaleFor itself. */
const COMMON_UNITS = new Map<string, number>(
  ['b', 'byte', 'bytes', 'k', 'kib', 'kb', 'm', 'mib', 'mb', 'g', 'gib', 'gb'].map((u) => [u, Number(scaleFor(u, 1n))]));
const PLAIN_DIGITS = /^[0-9]{1,15}$/;

/** virDomainParseMemory: KiB, rounded up; undefined when absent and not required. */
export function parseMemoryKiB(text: string | undefined, unit: string | undefined, xpath: string, required: boolean): number | undefined {
  // Ordinary sizes in doubles: up to 2^52 bytes every step below is exact, and no limit or
  // overflow check can trigger (they start at 2^63). Anything else takes libvirt's full path.
  if (text !== undefined && PLAIN_DIGITS.test(text)) {
    const factor = unit === undefined || unit === '' ? 1024 : COMMON_UNITS.get(unit.toLowerCase());
    if (factor !== undefined) {
      const bytes = Number(text) * factor;
      if (bytes <= 2 ** 52) return Math.floor((bytes + 1023) / 1024);
    }
  }
  const bytes = parseScaled(text, unit, 1024n, xpath, required);
  if (bytes === undefined) return undefined;
  const kib = (bytes + 1023n) / 1024n;
  if (kib >= (LLONG_MAX + 1023n) / 1024n) fail('OVERFLOW', 'size value too large');
  return Number(kib);
}
