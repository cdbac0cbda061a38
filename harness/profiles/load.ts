// Resolves a profile name to data: the bundled JSON profiles, `nocaps+FLAG,FLAG` (libvirt's
// DO_TEST with explicit QEMU_CAPS_*), and `host` (probed from the running libvirt).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPS_FLAG_NAMES, NO_FLAGS, type Profile, type ProfileData } from '../model/profile.js';
import type { HostFacts } from '../model/host-facts.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Profiles ship as JSON beside the sources; the build copies them next to the compiled code. */
const dataDir = existsSync(join(here, 'nocaps.json')) ? here : join(here, '..', '..', 'harness', 'profiles');
export const projectRoot = join(dataDir, '..', '..');
export const hostFactsPath = join(projectRoot, '.cache', 'profiles', 'host.json');

export class ProfileError extends Error {}

const cache = new Map<string, Profile>();

function fromData(data: ProfileData): Profile {
  return { ...data, flags: { ...NO_FLAGS, ...data.flags } };
}

function readData(name: string): ProfileData {
  const file = join(dataDir, `${name}.json`);
  if (!existsSync(file)) throw new ProfileError(`unknown profile '${name}' (known: nocaps, nocaps+FLAG,…, x86_64-latest, x86_64-5.2.0, host)`);
  return JSON.parse(readFileSync(file, 'utf8')) as ProfileData;
}

/** The host profile: x86_64-latest's capabilities (same QEMU 7.2) with this host's facts. */
export function hostProfile(facts: HostFacts): Profile {
  const base = fromData(readData('x86_64-latest'));
  return {
    ...base,
    name: 'host',
    machineAliases: facts.machineAliases,
    env: [['LC_ALL', 'C'], ['PATH', facts.daemonPath], ['HOME', '{stateDir}'],
      ['XDG_DATA_HOME', '{stateDir}/.local/share'], ['XDG_CACHE_HOME', '{stateDir}/.cache'], ['XDG_CONFIG_HOME', '{stateDir}/.config']],
    stateDir: facts.stateDirTemplate,
    monitor: facts.monitorTemplate.replaceAll('{name}', '{name}'),
    hostNodes: facts.numaNodes.filter((n) => n.memoryKiB > 0).map((n) => n.id),
    unavailableNode: { code: 'CONFIG_UNSUPPORTED', detail: 'NUMA node {bit} is unavailable' },
    autoNodeset: null,
    abiUpdate: true,
    kvmCpuModels: facts.kvmCpuModels,
    defaultEmulator: facts.emulators ?? { x86_64: '/usr/bin/qemu-system-x86_64', i686: '/usr/bin/qemu-system-i386' },
    memoryBackingDir: '/var/lib/libvirt/qemu/ram',
    flags: { ...base.flags, kvm: facts.kvmUsable || base.flags.kvm },
  };
}

export function loadProfile(name: string): Profile {
  const hit = cache.get(name);
  if (hit) return hit;
  let profile: Profile;
  if (name === 'host') {
    if (!existsSync(hostFactsPath)) throw new ProfileError(`no host profile: ${hostFactsPath} is missing (run npm run setup, or node scripts/probe-host.mjs)`);
    profile = hostProfile(JSON.parse(readFileSync(hostFactsPath, 'utf8')) as HostFacts);
  } else if (name.startsWith('nocaps+')) {
    const base = fromData(readData('nocaps'));
    const flags = { ...base.flags };
    for (const raw of name.slice('nocaps+'.length).split(',')) {
      const flag = CAPS_FLAG_NAMES[raw.replace(/^QEMU_CAPS_/, '')];
      if (!flag) throw new ProfileError(`capability '${raw}' is not modelled (known: ${Object.keys(CAPS_FLAG_NAMES).join(', ')})`);
      flags[flag] = true;
    }
    profile = { ...base, name, flags };
  } else {
    profile = fromData(readData(name));
  }
  cache.set(name, profile);
  return profile;
}
