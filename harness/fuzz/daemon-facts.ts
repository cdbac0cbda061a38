// The facts the private daemon reads when it starts may differ from the machine daemon's probe
// (host.json): a hugetlbfs mounted after the machine's libvirtd started is known to a fresh
// daemon only. The model must be told the facts of the daemon it is compared with, so the
// private daemon's hugetlbfs mounts are asked of it (scripts/lib/probe-hugetlbfs.mjs) and, when
// they differ, the host profile is built from the probe with that one fact replaced.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HostFacts } from '../model/host-facts.js';
import { hostFactsPath, projectRoot, useHostFacts } from '../profiles/load.js';

type Run = (cmd: string, args: string[]) => Promise<{ ok: boolean; stdout: string; stderr: string }>;
const run: Run = (cmd, args) => new Promise((resolve) => {
  execFile(cmd, args, { timeout: 60_000, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) =>
    resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr) }));
});

/** Returns a note when the private daemon's hugetlbfs differs (and the model now uses it), else null. */
export async function alignHugetlbfs(uri: string): Promise<string | null> {
  const probe = (await import(pathToFileURL(join(projectRoot, 'scripts', 'lib', 'probe-hugetlbfs.mjs')).href)) as
    { probeHugetlbfs: (r: Run, uri: string, name: string) => Promise<HostFacts['hugetlbfs']> };
  const theirs = await probe.probeHugetlbfs(run, uri, `lvh-fuzz-probe-${process.pid}`);
  const facts = JSON.parse(readFileSync(hostFactsPath, 'utf8')) as HostFacts;
  if (JSON.stringify(facts.hugetlbfs ?? []) === JSON.stringify(theirs)) return null;
  const file = join(mkdtempSync(join(tmpdir(), 'lvh-fuzz-facts-')), 'host.json');
  writeFileSync(file, JSON.stringify({ ...facts, hugetlbfs: theirs }, null, 2) + '\n');
  useHostFacts(file);
  const show = (h: HostFacts['hugetlbfs']): string => (h ?? []).map((m) => `${m.mount}=${m.sizeKiB}KiB`).join(' ') || 'none';
  return `the private libvirtd knows hugetlbfs ${show(theirs)}, the machine's ${show(facts.hugetlbfs)} (it started before the mount): the model is told the private daemon's`;
}
