// The project's expected outputs: golden/<suite>/NAME.<host-id>.<ext>, blessed from the real
// side only. One atomic writer for every golden; resolution of which host's golden a case
// uses on this host; orphans (goldens no case used).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeAtomic } from '../neutral/atomic-file.js';

export { writeAtomic };
import { basename, join, relative } from 'node:path';
import type { CommittedFacts, FactKey } from './hosts.js';
import { describeHost, factsRead } from './hosts.js';
import type { Operation } from './case.js';

export const SUITE_DIR: Record<Operation, string> = { argv: 'xml2argv', xml: 'xml2xml', runtime: 'runtime' };
const TEXT_EXT: Record<Operation, string> = { argv: 'args', xml: 'xml', runtime: 'json' };

export interface HostTable {
  live: { id: string; facts: CommittedFacts };
  /** Every committed host: golden/hosts/<id>.json. */
  known: Map<string, CommittedFacts>;
}

export function readHosts(root: string): Map<string, CommittedFacts> {
  const dir = join(root, 'golden', 'hosts');
  const out = new Map<string, CommittedFacts>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort())
    out.set(basename(f, '.json'), JSON.parse(readFileSync(join(dir, f), 'utf8')) as CommittedFacts);
  return out;
}

export function writeHost(root: string, id: string, facts: CommittedFacts): boolean {
  return writeAtomic(join(root, 'golden', 'hosts', `${id}.json`), JSON.stringify(facts, null, 2) + '\n');
}

/** The golden files of one case on disk, by host id. */
export function goldensOf(root: string, op: Operation, name: string): Map<string, string> {
  const dir = join(root, 'golden', SUITE_DIR[op]);
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(`${name}.`)) continue;
    const rest = f.slice(name.length + 1);
    const ext = rest.slice(rest.lastIndexOf('.') + 1);
    const id = rest.slice(0, rest.lastIndexOf('.'));
    if (!id || f.includes('.tmp-')) continue;
    if (ext === 'err' || ext === TEXT_EXT[op]) out.set(id, join(dir, f));
  }
  return out;
}

export type GoldenChoice =
  | { kind: 'file'; file: string; host: string; note?: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'missing'; file: string };

/** Which golden a case uses on the live host: its own fork, else one blessed on a host that
 *  differs only in facts this input does not read; else a skip naming the facts. */
export function chooseGolden(root: string, hosts: HostTable, op: Operation, name: string, inputXml: string): GoldenChoice {
  const files = goldensOf(root, op, name);
  const own = files.get(hosts.live.id);
  if (own) return { kind: 'file', file: own, host: hosts.live.id };
  if (!files.size) return { kind: 'missing', file: goldenPath(root, op, name, hosts.live.id, 'ok') };
  const reasons: string[] = [];
  for (const [id, file] of files) {
    const facts = hosts.known.get(id);
    if (!facts) { reasons.push(`golden ${relative(root, file)} names host ${id}, which has no golden/hosts/${id}.json`); continue; }
    const read: FactKey[] = factsRead(inputXml, op, facts, hosts.live.facts);
    if (!read.length) return { kind: 'file', file, host: id, note: `blessed on ${id}; this host differs only in facts the input does not read` };
    reasons.push(`blessed on ${id} (${describeHost(facts)}); this host differs in ${read.join(', ')}, which the input reads`);
  }
  return { kind: 'skip', reason: `${reasons.join('; ')} (bless this host's own fork with --regenerate)` };
}

export function goldenPath(root: string, op: Operation, name: string, hostId: string, kind: 'ok' | 'error'): string {
  return join(root, 'golden', SUITE_DIR[op], `${name}.${hostId}.${kind === 'error' ? 'err' : TEXT_EXT[op]}`);
}

/** Bless one output for the live host: the text (or .err) file written atomically, the other
 *  kind removed. Returns the files that changed. */
export function bless(root: string, op: Operation, name: string, hostId: string, outcome: { kind: 'ok'; text: string } | { kind: 'error'; message: string }): string[] {
  const file = goldenPath(root, op, name, hostId, outcome.kind);
  const other = goldenPath(root, op, name, hostId, outcome.kind === 'ok' ? 'error' : 'ok');
  const changed: string[] = [];
  if (writeAtomic(file, outcome.kind === 'ok' ? outcome.text : outcome.message + '\n')) changed.push(relative(root, file));
  if (op !== 'runtime' && existsSync(other)) { rmSync(other); changed.push(`${relative(root, other)} (removed)`); }
  return changed;
}

/** Every golden file on disk (hosts/ excluded). */
export function goldenFilesOnDisk(root: string): string[] {
  const out: string[] = [];
  for (const op of Object.keys(SUITE_DIR) as Operation[]) {
    const dir = join(root, 'golden', SUITE_DIR[op]);
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) out.push(join(dir, f));
  }
  return out;
}
