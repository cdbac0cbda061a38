// Resolves a profile name to data. Names are `BASE[.abi-update][.incoming=URI][@VERSION]`: BASE is a bundled
// JSON profile, `nocaps+FLAG,FLAG` (libvirt's DO_TEST with explicit QEMU_CAPS_*) or `host`
// (probed from the running libvirt, whose version it takes); VERSION is the libvirt release
// (default 9.0.0), whose behaviour switches come from libvirt-versions.json; `.abi-update` parses
// as libvirt's *_ABI_UPDATE test macros do (VIR_DOMAIN_DEF_PARSE_ABI_UPDATE); `.incoming=URI` starts
// the domain for an incoming migration from URI, as ARG_MIGRATE_FROM does.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BEHAVIOUR_9_0_0, CAPS_FLAG_NAMES, NO_FLAGS, type Behaviour, type Profile, type ProfileData } from '../model/profile.js';
import { PROBE_VERSION, type HostFacts } from '../model/host-facts.js';
import type { VirtType } from '../model/domain.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Profiles ship as JSON beside the sources; the build copies them next to the compiled code. */
const dataDir = existsSync(join(here, 'nocaps.json')) ? here : join(here, '..', '..', 'harness', 'profiles');
export const projectRoot = join(dataDir, '..', '..');
export const hostFactsPath = join(projectRoot, '.cache', 'profiles', 'host.json');

export class ProfileError extends Error {}

interface VersionData { behaviour: Partial<Behaviour>; hostCaps: Record<string, string>; x86CpuModels?: string[] }
const versions = JSON.parse(readFileSync(join(dataDir, 'libvirt-versions.json'), 'utf8')) as
  { default: string; versions: Record<string, VersionData> };
/** The libvirt releases the model reproduces, oldest first. */
export const KNOWN_VERSIONS = Object.keys(versions.versions);
export const DEFAULT_VERSION = versions.default;

const cache = new Map<string, Profile>();
let hostFactsFile = hostFactsPath;

/** Build `host` from another facts file (a simulated host, an emulated host's probe). */
export function useHostFacts(file: string): void {
  hostFactsFile = file;
  for (const k of [...cache.keys()]) if (k.startsWith('host')) cache.delete(k);
}

/** "9.0.0, 11.3.0 and 12.8.0". */
const listVersions = (v: string[]): string => (v.length > 1 ? `${v.slice(0, -1).join(', ')} and ${v[v.length - 1]}` : v.join(''));

function versionData(version: string): VersionData {
  const v = versions.versions[version];
  if (!v) throw new ProfileError(`libvirt ${version} is not modelled: model covers libvirt ${listVersions(KNOWN_VERSIONS)}`);
  return v;
}

function fromData(data: ProfileData, version: string): Profile {
  return {
    ...data, libvirtVersion: version, behaviour: { ...BEHAVIOUR_9_0_0, ...versionData(version).behaviour },
    ...(versionData(version).x86CpuModels ? { cpuMapModels: new Set(versionData(version).x86CpuModels) } : {}),
    flags: { ...NO_FLAGS, ...data.flags }, systemPageSizeKiB: data.systemPageSizeKiB ?? 4,
  };
}

/** A bundled profile of that libvirt release: `NAME.json` for the default one, `NAME@VERSION.json` otherwise. */
function readData(name: string, version: string): ProfileData {
  const file = join(dataDir, version === DEFAULT_VERSION ? `${name}.json` : `${name}@${version}.json`);
  if (!existsSync(file)) {
    const bundled = readdirSync(dataDir).filter((f) => /^x86_64-.*\.json$/.test(f) && (version === DEFAULT_VERSION ? !f.includes('@') : f.endsWith(`@${version}.json`)))
      .map((f) => f.slice(0, -'.json'.length)).sort();
    const known = [...(version === DEFAULT_VERSION ? ['nocaps', 'nocaps+FLAG,…'] : []), ...bundled, 'host'].join(', ');
    throw new ProfileError(`unknown profile '${version === DEFAULT_VERSION ? name : `${name}@${version}`}' (known: ${known})`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as ProfileData;
}

/** Per arch, the models that are named (a null: the probe found none for that arch). */
const namedOnly = (m: Record<string, string | null>): Record<string, string> =>
  Object.fromEntries(Object.entries(m).filter((e): e is [string, string] => !!e[1]));

/** The host profile: the capabilities of the host's QEMU under the daemon's libvirt release
 *  (libvirt-versions.json hostCaps), with this host's facts. Every fact libvirt reads from the
 *  host comes from the probe; facts of an older probe are refused rather than filled in. */
export function hostProfile(facts: HostFacts): Profile {
  const version = facts.libvirtVersion ?? DEFAULT_VERSION;
  const qemu = (facts.qemuVersion ?? '').split('.').slice(0, 2).join('.');
  const capsName = versionData(version).hostCaps[qemu];
  if (!capsName) throw new ProfileError(`no capability data for QEMU ${facts.qemuVersion} under libvirt ${version} (known: ${Object.keys(versionData(version).hostCaps).join(', ')})`);
  const [capsBase, capsVersion = DEFAULT_VERSION] = capsName.split('@');
  const base = fromData(readData(capsBase, capsVersion), version);
  // Committed golden hosts (golden/hosts/*.json) carry no daemon PATH or memory sizes: the
  // model-only pairs of --host-facts need neither (no argv of theirs is compared with a live one).
  const virtTypes = (facts.virtTypes ?? (facts.kvmUsable ? ['qemu', 'kvm'] : ['qemu'])) as VirtType[];
  const defaults = facts.defaultCpuModels?.qemu;
  if (!defaults) throw new ProfileError(`host facts without the default CPU model (probe version ${facts.probeVersion ?? 1}, want ${PROBE_VERSION}): probe again (node scripts/probe-host.mjs)`);
  return {
    ...base,
    name: 'host',
    machineAliases: facts.machineAliases,
    env: [['LC_ALL', 'C'], ['PATH', facts.daemonPath ?? '{daemonPath}'], ['HOME', '{stateDir}'],
      ['XDG_DATA_HOME', '{stateDir}/.local/share'], ['XDG_CACHE_HOME', '{stateDir}/.cache'], ['XDG_CONFIG_HOME', '{stateDir}/.config']],
    stateDir: facts.stateDirTemplate,
    monitor: facts.monitorTemplate,
    // The test suite's fd for a vhost-user GPU's socket: a live daemon opens one only at start.
    vhostUserGpuFd: undefined,
    netsBecomeTaps: true,
    hostNodes: facts.numaNodes.filter((n) => n.memoryKiB === undefined || n.memoryKiB > 0).map((n) => n.id),
    hostNodeCpus: Object.fromEntries(facts.numaNodes.map((n) => [String(n.id), n.cpus])),
    unavailableNode: { code: 'CONFIG_UNSUPPORTED', detail: 'NUMA node {bit} is unavailable' },
    autoNodeset: null,
    abiUpdate: true,
    kvmCpuModels: facts.kvmCpuModels,
    defaultEmulator: facts.emulators,
    ...(facts.memoryBackingDir ? { memoryBackingDir: facts.memoryBackingDir } : {}),
    ...(facts.shortNameChars ? { shortNameChars: true } : {}),
    liveHost: true,
    virtiofsd: facts.virtiofsdMissing ? 'missing' : 'found',
    hostCdroms: facts.hostCdroms ?? [],
    hugetlbfs: facts.hugetlbfs ?? [],
    defaultCpuModel: namedOnly(defaults),
    ...(facts.defaultCpuModels?.kvm && virtTypes.includes('kvm') ? { kvmDefaultCpuModel: namedOnly(facts.defaultCpuModels.kvm) } : {}),
    virtTypes,
    flags: { ...base.flags, kvm: virtTypes.includes('kvm') },
    numad: facts.numad,
    runtime: facts.runtime,
  };
}

function resolve(name: string): Profile {
  const at = name.lastIndexOf('@');
  let base = at >= 0 ? name.slice(0, at) : name;
  const version = at >= 0 ? name.slice(at + 1) : undefined;
  // `.incoming=URI`: the domain is started for an incoming migration (libvirt's ARG_MIGRATE_FROM).
  const incomingMatch = /\.incoming=([^@]+)$/.exec(base);
  if (incomingMatch) base = base.slice(0, incomingMatch.index);
  const abiUpdate = base.endsWith('.abi-update');
  if (abiUpdate) base = base.slice(0, -'.abi-update'.length);
  let profile: Profile;
  if (base === 'host' || /^emulated(-[a-z0-9]+){0,2}$/.test(base)) {
    // emulated[-TOPOLOGY[-SERIESKEY]]: facts probed from the libvirt inside the emulated host (harness/emulated/inside.ts).
    if (base === 'emulated') base = 'emulated-mock8';
    const factsFile = base === 'host' ? hostFactsFile : join(projectRoot, '.cache', 'profiles', `${base}.json`);
    if (!existsSync(factsFile)) throw new ProfileError(`no ${base} profile: ${factsFile} is missing (run ${base === 'host' ? 'npm run setup, or node scripts/probe-host.mjs' : base.startsWith('emulated-sid-') ? `npx libvirt-harness probe --host sid --topology ${base.slice('emulated-sid-'.length)}` : `npx libvirt-harness probe --host emulated --topology ${base.slice('emulated-'.length)}`})`);
    const facts = JSON.parse(readFileSync(factsFile, 'utf8')) as HostFacts;
    if (version && version !== facts.libvirtVersion)
      throw new ProfileError(`profile '${name}': the probed host runs libvirt ${facts.libvirtVersion}, not ${version}`);
    profile = hostProfile(facts);
  } else if (base.startsWith('nocaps+')) {
    const v = version ?? DEFAULT_VERSION;
    const nocaps = fromData(readData('nocaps', v), v);
    const flags = { ...nocaps.flags };
    for (const raw of base.slice('nocaps+'.length).split(',')) {
      const flag = CAPS_FLAG_NAMES[raw.replace(/^QEMU_CAPS_/, '')];
      if (!flag) throw new ProfileError(`capability '${raw}' is not modelled (known: ${Object.keys(CAPS_FLAG_NAMES).join(', ')})`);
      flags[flag] = true;
    }
    profile = { ...nocaps, name: base, flags };
  } else {
    const v = version ?? DEFAULT_VERSION;
    versionData(v);
    profile = fromData(readData(base, v), v);
  }
  // Only the name the caller used is new; every other field is the base profile's.
  return abiUpdate || version || incomingMatch
    ? { ...profile, name, ...(abiUpdate ? { abiUpdate: true } : {}), ...(incomingMatch ? { incoming: incomingMatch[1] } : {}) } : profile;
}

export function loadProfile(name: string): Profile {
  const hit = cache.get(name);
  if (hit) return hit;
  const profile = resolve(name);
  cache.set(name, profile);
  return profile;
}

/** Why a profile name cannot be used (the loader's one-line reason), or null when it can. */
export function profileProblem(name: string): string | null {
  try {
    loadProfile(name);
    return null;
  } catch (e) {
    if (e instanceof ProfileError) return e.message;
    throw e;
  }
}
