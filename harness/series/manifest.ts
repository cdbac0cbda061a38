// A series build made by scripts/build-libvirt.sh: .cache/builds/<key>/manifest.json.
// The manifest exists only when the build succeeded (it is the cache-hit marker).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SeriesBuild {
  key: string;
  fullKey: string;
  /** The source tree the build was copied from, and its libvirt version. */
  tree: string;
  treeHash: string;
  version: string;
  /** Patch files in the order applied, and their subjects as committed by `git am`. */
  patches: string[];
  series: string[];
  seriesHash: string;
  mesonOptions: string[];
  buildSeconds: { total: number; mesonSetup: number; ninja: number };
  /** The clean build of the same tree whose directory this one started from (recipe 3+). */
  seededFrom?: string | null;
  root: string;
  srcdir: string;
  builddir: string;
  /** The test programs present follow the tree's layout (see testLayout). */
  binaries: {
    libvirtd: string;
    virsh: string;
    qemuDriver: string;
    qemuxml2argvtest?: string;
    qemuxml2xmltest?: string;
    qemuxmlconftest?: string;
  };
  /** xml2argv: qemuxml2argvtest + qemuxml2xmltest (up to 9.x); xmlconf: qemuxmlconftest (10+).
   *  Absent in manifests of recipe 1 (always xml2argv). */
  testLayout?: 'xml2argv' | 'xmlconf';
  /** The private daemon's URI (scripts/series-daemon.sh start KEY). */
  uri: string;
  /** Recipe 3+: the version's slot, whose fixed paths the build was configured for; it runs where
   *  scripts/in-build.sh shows root/ and its state dirs at them. Absent: built at its own paths. */
  slot?: string;
  buildRoot?: string;
  stateDir?: string;
  runDir?: string;
  builtAt: string;
}

const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function defaultBuildsDir(): string {
  return process.env.HARNESS_SERIES_BUILDS ?? join(projectRoot, '.cache', 'builds');
}

export function isSeriesKey(key: string): boolean {
  return /^[0-9a-f]{16}$/.test(key);
}

/** The manifest of a built key, or a reason why there is none. */
export function loadSeriesBuild(key: string, buildsDir = defaultBuildsDir()): SeriesBuild | { missing: string } {
  if (!isSeriesKey(key)) return { missing: `'${key}' is not a series build key (16 hex digits)` };
  const file = join(buildsDir, key, 'manifest.json');
  if (!existsSync(file)) return { missing: `no series build ${key} under ${buildsDir} (run scripts/build-libvirt.sh)` };
  const m = JSON.parse(readFileSync(file, 'utf8')) as SeriesBuild;
  if (m.key !== key) return { missing: `${file} names key ${m.key}, not ${key}` };
  return m;
}

const IN_BUILD = join(projectRoot, 'scripts', 'in-build.sh');

/** The argv that runs `argv` where the build sees the paths it was built for (its test programs
 *  and daemon read them from compiled-in constants); `state` maps its state dirs too. */
export function inBuild(b: SeriesBuild, argv: string[], state = false): string[] {
  if (!b.slot) return argv;
  return ['bash', IN_BUILD, '--slot', b.slot, '--root', b.root, ...(state ? ['--state', b.key] : []), '--', ...argv];
}

/** A one-line description for reports: version, tree, key, series subjects. */
export function describeSeriesBuild(b: SeriesBuild): string {
  const series = b.series.length ? b.series.map((s) => `"${s}"`).join(', ') : 'no patches (clean tree)';
  return `libvirt ${b.version} from ${b.tree} + ${series} [build ${b.key}]`;
}
