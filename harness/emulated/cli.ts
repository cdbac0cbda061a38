// `--host emulated` for the CLI's argv/xml/runtime commands: boot the emulated host, run the same
// command with the same options inside it (against the libvirt there), pass its stdout, stderr
// and exit status through unchanged, power off. Also `probe --host emulated`.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ensureEmulatedFacts, emulatedProfileName, insideDir, runCliInside } from './inside.js';
import { EmulatedHost, EmulatedUnavailable, type EmulatedImageId } from './vm.js';
import { TopologyError } from './topology.js';

export interface EmulatedOpts { topology?: string; kernel?: string; profile?: string; image?: EmulatedImageId }

/** Inside an emulated host, `host` and its id (`emulated`, `sid`) mean the facts probed there (per
 *  topology and image). */
export function emulatedProfile(profile: string | undefined, topology = 'mock8', image: EmulatedImageId = 'emulated'): string | undefined {
  if (profile === undefined) return undefined;
  const own = image === 'emulated' ? /^(host|emulated)(?=$|@|\.)/ : new RegExp(`^(host|emulated|${image})(?=$|@|\\.)`);
  return profile.replace(own, emulatedProfileName(topology, undefined, image));
}

function fail(msg: string, code = 2): never {
  process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
  process.exit(code);
}

/** Run `op [forwarded options] FILE…` inside a freshly booted emulated host and exit as it did. */
export async function runInEmulated(op: 'argv' | 'xml' | 'runtime', inputs: string[], forwarded: string[], opts: EmulatedOpts, extraFiles: Record<string, string> = {}): Promise<never> {
  const files: Record<string, Uint8Array> = {};
  const dir = insideDir();
  const guestPath = (f: string) => {
    let name = basename(f).replace(/[^\w.-]/g, '_') || 'input.xml';
    if (name in files) name = `${Object.keys(files).length}-${name}`;
    try {
      files[name] = readFileSync(f);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(`failed to read ${f}: ${code === 'ENOENT' ? 'No such file or directory' : code === 'EISDIR' ? 'Is a directory' : String(code)}`, 1);
    }
    shown.set(`${dir}/${name}`, f);
    return `${dir}/${name}`;
  };
  // Several files come back under the guest's paths: show the caller's.
  const shown = new Map<string, string>();
  const unmap = (text: string): string => text.replace(/^(==> )?(\/tmp\/[\w.-]+\/[\w.-]+)(?=( <==$|: ))/gm, (m, head: string | undefined, p: string) => `${head ?? ''}${shown.get(p) ?? p}`);
  const args = [op, ...forwarded];
  for (const [flag, f] of Object.entries(extraFiles)) args.push(flag, guestPath(f));
  for (const f of inputs) args.push(guestPath(f));
  let host: EmulatedHost | undefined;
  let code = 2;
  try {
    host = await EmulatedHost.boot({ topology: opts.topology, kernel: opts.kernel, image: opts.image });
    const probed = await ensureEmulatedFacts(host);
    // The prediction's default profile inside is the emulated host's own, as `host` is outside.
    const profile = emulatedProfile(opts.profile ?? 'emulated', host.topology.name, host.image) ?? probed;
    const r = await runCliInside(host, [...args.slice(0, 1), '--profile', profile, ...args.slice(1)], files, undefined, dir);
    process.stdout.write(inputs.length > 1 ? unmap(r.stdout) : r.stdout);
    process.stderr.write(inputs.length > 1 ? unmap(r.stderr) : r.stderr);
    code = r.code;
  } catch (e) {
    const err = e as Error;
    const prefix = e instanceof EmulatedUnavailable || e instanceof TopologyError ? 'emulated host unavailable' : 'emulated host';
    process.stderr.write(`${prefix}: ${err.message}\n`);
    code = 2;
  } finally {
    await host?.powerOff().catch(() => host?.kill());
  }
  process.exit(code);
}

/** `probe --host emulated`: (re)write .cache/profiles/emulated-TOPOLOGY.json from the libvirt inside. */
export async function probeEmulated(opts: EmulatedOpts): Promise<never> {
  let host: EmulatedHost | undefined;
  let code = 0;
  try {
    host = await EmulatedHost.boot({ topology: opts.topology, kernel: opts.kernel, image: opts.image });
    const name = await ensureEmulatedFacts(host, true);
    process.stdout.write(`${name}: probed (boot ${host.timings.boot.toFixed(1)} s, libvirtd ${host.timings.libvirtd.toFixed(1)} s)\n`);
  } catch (e) {
    process.stderr.write(`emulated host: ${(e as Error).message}\n`);
    code = 2;
  } finally {
    await host?.powerOff().catch(() => host?.kill());
  }
  process.exit(code);
}
