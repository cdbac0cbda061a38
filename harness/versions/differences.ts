// What changed for one input between two libvirt releases, as a kind and a signature that
// groups inputs changed the same way. Pure: outcomes in, words out.
import type { Outcome } from '../backends/types.js';
import type { Operation as TextOperation } from '../backends/types.js';

export type ChangeKind = 'same' | 'changed output' | 'new error' | 'error gone' | 'error reworded';

export interface Change {
  kind: ChangeKind;
  /** How the output changed, one entry per argument or element: `+NAME` only in the newer
   *  release, `-NAME` only in the older, `~NAME` in both with other values; for errors the
   *  message(s) with quoted values elided. Sorted, so equal changes have equal signatures. */
  signature: string[];
}

/** The name an argv line stands for: an environment variable, an option, and for the JSON
 *  forms of -object/-device/-blockdev/-netdev the type inside ("-object memory-backend-ram"). */
export function argName(line: string): string {
  const l = line.replace(/\s*\\$/, '').trim();
  const env = /^([A-Z_][A-Z0-9_]*)=/.exec(l);
  if (env) return env[1];
  const opt = /^(-[\w-]+)(?:\s+(.*))?$/.exec(l);
  if (!opt) return l.split(/\s/)[0] ?? l;
  const [, name, value = ''] = opt;
  const json = /"(?:qom-type|driver)":"([^"]+)"/.exec(value);
  if (json) return `${name} ${json[1]}`;
  // -numa node,…  -chardev socket,…  -machine pc-…: the first word says which kind.
  if (name === '-numa' || name === '-chardev' || name === '-netdev' || name === '-drive') return `${name} ${value.split(/[,\s]/)[0]}`;
  return name;
}

/** The name an xml2xml line stands for: its element, with the type attribute where one says
 *  which kind of device it is ("controller[usb]"); closing tags and text-only lines by tag. */
export function elementName(line: string): string {
  const m = /^\s*<\/?([\w:-]+)/.exec(line);
  if (!m) return line.trim();
  const type = /\stype='([^']*)'/.exec(line);
  return type && m[1] !== 'type' ? `${m[1]}[${type[1]}]` : m[1];
}

/** Quoted values and numbers elided, so one rule's message groups across inputs. */
export function errorShape(message: string): string {
  return message.replace(/'[^']*'/g, "'…'").replace(/\b\d+\b/g, 'N');
}

function lineChanges(a: string, b: string, nameOf: (l: string) => string): string[] {
  const count = (text: string): Map<string, Map<string, number>> => {
    const out = new Map<string, Map<string, number>>();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const name = nameOf(line);
      const lines = out.get(name) ?? new Map<string, number>();
      lines.set(line, (lines.get(line) ?? 0) + 1);
      out.set(name, lines);
    }
    return out;
  };
  const ca = count(a);
  const cb = count(b);
  const sig = new Set<string>();
  for (const name of new Set([...ca.keys(), ...cb.keys()])) {
    const la = ca.get(name);
    const lb = cb.get(name);
    if (!la) sig.add(`+${name}`);
    else if (!lb) sig.add(`-${name}`);
    else {
      const same = la.size === lb.size && [...la].every(([l, n]) => lb.get(l) === n);
      if (!same) sig.add(`~${name}`);
    }
  }
  return [...sig].sort();
}

/** The change from `older` to `newer` for one input of operation `op`. */
export function changeOf(op: TextOperation, older: Outcome, newer: Outcome): Change {
  if (older.kind === 'skip' || newer.kind === 'skip') throw new Error('changeOf: a skipped outcome has no change');
  if (older.kind === 'ok' && newer.kind === 'ok') {
    if (older.text === newer.text) return { kind: 'same', signature: [] };
    return { kind: 'changed output', signature: lineChanges(older.text, newer.text, op === 'argv' ? argName : elementName) };
  }
  if (older.kind === 'ok' && newer.kind === 'error') return { kind: 'new error', signature: [errorShape(newer.message)] };
  if (older.kind === 'error' && newer.kind === 'ok') return { kind: 'error gone', signature: [errorShape(older.message)] };
  const o = older as { message: string };
  const n = newer as { message: string };
  if (o.message === n.message) return { kind: 'same', signature: [] };
  return { kind: 'error reworded', signature: [`${errorShape(o.message)} → ${errorShape(n.message)}`] };
}
