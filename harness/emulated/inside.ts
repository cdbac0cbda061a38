// Run the project's own CLI inside the emulated host, against the libvirtd running there, so the
// emulated host answers exactly the host's contracts (same JSON/text, same exit codes): nothing
// here formats or interprets a result, it only carries files in and stdout/stderr/status out.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandResult } from './channel.js';
import { PROBE_VERSION, type HostFacts } from '../model/host-facts.js';
import { projectRoot } from './topology.js';
import { GUEST_NODE, type EmulatedHost } from './vm.js';

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Profile name of the facts probed from the libvirt inside an emulated host with this topology
 *  (and, when a series build runs there instead of the image's libvirt, that build's key). */
export function emulatedProfileName(topology: string, seriesKey?: string): string {
  return seriesKey ? `emulated-${topology}-${seriesKey}` : `emulated-${topology}`;
}

export function emulatedFactsPath(topology: string, seriesKey?: string): string {
  return join(projectRoot(), '.cache', 'profiles', `${emulatedProfileName(topology, seriesKey)}.json`);
}

/** Write `files` into the guest's /tmp/lvh/ and run `node /project/dist/cli/main.js ARGS…`. */
export async function runCliInside(h: EmulatedHost, args: string[], files: Record<string, Uint8Array> = {}, timeoutMs = 300_000): Promise<CommandResult> {
  let script = 'set -e\nrm -rf /tmp/lvh && mkdir -p /tmp/lvh\n';
  for (const [name, data] of Object.entries(files)) {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`bad file name ${name}`);
    script += `printf %s ${q(Buffer.from(data).toString('base64'))} | base64 -d > /tmp/lvh/${name}\n`;
  }
  script += `set +e\ncd /tmp/lvh && exec ${GUEST_NODE} /project/dist/cli/main.js ${args.map(q).join(' ')}\n`;
  return h.run(script, timeoutMs);
}

/** Probe the libvirt inside (scripts/probe-host.mjs, its output redirected) and keep its facts
 *  on the host as .cache/profiles/emulated-TOPOLOGY.json; returns the profile name. */
export async function ensureEmulatedFacts(h: EmulatedHost, refresh = false, series?: { key: string; uri: string }): Promise<string> {
  const name = emulatedProfileName(h.topology.name, series?.key);
  const file = emulatedFactsPath(h.topology.name, series?.key);
  // Facts of an older probe lack what the model now asks of the host: probe again.
  if (existsSync(file) && !refresh && (JSON.parse(readFileSync(file, 'utf8')) as HostFacts).probeVersion === PROBE_VERSION) return name;
  const uri = series ? ` --uri ${q(series.uri)}` : '';
  const r = await h.run(`cd /tmp && LVH_PROBE_OUT=/tmp/facts.json ${GUEST_NODE} /project/scripts/probe-host.mjs${uri} >&2 && cat /tmp/facts.json`, 180_000);
  if (r.code !== 0) throw new Error(`probing the libvirt inside the emulated host failed: ${r.stderr.trim().split('\n').pop()}`);
  JSON.parse(r.stdout);
  mkdirSync(join(projectRoot(), '.cache', 'profiles'), { recursive: true });
  writeFileSync(`${file}.tmp`, r.stdout);
  renameSync(`${file}.tmp`, file);
  return name;
}

export function readInputFile(file: string): Uint8Array {
  return readFileSync(file);
}
