// The emulated host's image and kernels as built by scripts/build-emulated-host.sh and
// scripts/build-emulated-kernels.sh (under .cache/emulated/), and the host's node binary shared
// with the guest: what a boot or a restore needs before QEMU starts.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './topology.js';

export const BUILD_COMMAND = 'bash scripts/build-emulated-host.sh';
/** The emulated hosts: `emulated` (the default image, Debian 12 with the machine's libvirt 9.0.0
 *  and QEMU 7.2) and `sid` (Debian sid's libvirt 12.8 and QEMU 11.1 with its 7.2 kernel). Each has
 *  its image, cache, probed facts and saved states apart. */
export type EmulatedImageId = 'emulated' | 'sid';
export const EMULATED_IMAGES: Record<EmulatedImageId, { current: string[]; build: string; kernel?: string; what: string }> = {
  emulated: { current: ['current'], build: BUILD_COMMAND, what: 'emulated host image' },
  sid: { current: ['sid', 'current'], build: 'bash scripts/build-emulated-sid.sh', kernel: '7.2', what: 'emulated sid host image (libvirt and QEMU of Debian sid)' },
};
export function isEmulatedImageId(s: string): s is EmulatedImageId {
  return Object.hasOwn(EMULATED_IMAGES, s);
}
/** Kernels cached on their own, beside the image (.cache/emulated/kernels/LABEL/current/). */
export const KERNELS_COMMAND = 'bash scripts/build-emulated-kernels.sh';
/** The labels scripts/build-emulated-kernels.sh has a recipe for, and where they come from. */
export const EXTRA_KERNELS: Record<string, string> = { '7.2': "Debian sid's linux-binary-7.2.*-amd64" };

export interface Manifest {
  key: string;
  /** When the image was built (a rebuild under the same key is another image). */
  built?: string;
  /** The image's own kernels (KEY/kernels/LABEL/) and, after findImage(), those cached beside it;
   *  `dir` holds vmlinuz and initrd.img. */
  kernels: Record<string, { version: string; package: string; dir?: string }>;
}

export class EmulatedUnavailable extends Error {
  override name = 'EmulatedUnavailable';
}
export class EmulatedBootError extends Error {
  override name = 'EmulatedBootError';
}

export function cacheDir(): string {
  return join(projectRoot(), '.cache', 'emulated');
}

/** The kernels built by scripts/build-emulated-kernels.sh: LABEL -> its current build. */
export function cachedKernels(): Manifest['kernels'] {
  const root = join(cacheDir(), 'kernels');
  const out: Manifest['kernels'] = {};
  let labels: string[] = [];
  try {
    labels = readdirSync(root);
  } catch {
    return out;
  }
  for (const label of labels) {
    const dir = join(root, label, 'current');
    try {
      const k = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8')) as { version: string; package: string };
      if (existsSync(join(dir, 'vmlinuz')) && existsSync(join(dir, 'initrd.img'))) out[label] = { version: k.version, package: k.package, dir };
    } catch {
      /* not built (or a build in progress) */
    }
  }
  return out;
}

/** Why kernel LABEL cannot boot: the build's recorded failure if any, and the command that builds it. */
export function missingKernel(label: string, have: string[]): string {
  const recipe = EXTRA_KERNELS[label];
  const head = `no kernel '${label}' for the emulated host (have: ${have.join(', ') || 'none'})`;
  if (!recipe) return `${head}; the image's kernels come from ${BUILD_COMMAND}, the others from ${KERNELS_COMMAND} (labels: ${Object.keys(EXTRA_KERNELS).join(', ')})`;
  let why = 'it has not been built';
  try {
    why = `its last build failed: ${readFileSync(join(cacheDir(), 'kernels', label, 'unavailable'), 'utf8').trim()}`;
  } catch {
    /* never tried */
  }
  return `${head}: kernel ${label} (${recipe}) is fetched apart from the image and ${why}; build it with: ${KERNELS_COMMAND} ${label}`;
}

/** The built image with every kernel it can boot (its own and those cached beside it), or why
 *  there is no image (with the command that builds it, and the last build's reason when it
 *  recorded one, e.g. a package missing from Debian sid). */
export function findImage(id: EmulatedImageId = 'emulated'): { dir: string; manifest: Manifest } {
  const spec = EMULATED_IMAGES[id];
  const dir = join(cacheDir(), ...spec.current);
  const m = join(dir, 'manifest.json');
  if (!existsSync(m)) {
    let why = '';
    try {
      why = `; its last build said: ${readFileSync(join(dir, '..', 'unavailable'), 'utf8').trim()}`;
    } catch {
      /* never tried, or no reason kept */
    }
    throw new EmulatedUnavailable(`no ${spec.what} (${m} missing${why}); build it with: ${spec.build}`);
  }
  const manifest = JSON.parse(readFileSync(m, 'utf8')) as Manifest;
  for (const [label, k] of Object.entries(manifest.kernels)) k.dir ??= join(dir, 'kernels', label);
  // A kernel cached on its own is refreshed on its own: it wins over the image's of the same label.
  Object.assign(manifest.kernels, cachedKernels());
  return { dir, manifest };
}

/** The host's node binary, copied where the guest sees it (/project/.cache/emulated/share/node). */
export function shareNode(): string {
  const dir = join(cacheDir(), 'share');
  const dst = join(dir, 'node');
  mkdirSync(dir, { recursive: true });
  const src = statSync(process.execPath);
  if (!existsSync(dst) || statSync(dst).size !== src.size || statSync(dst).mtimeMs < src.mtimeMs) {
    // A new file renamed over the old: a guest copying the old one meanwhile reads it whole, and
    // a hard-linked cache (another worktree's) keeps its own.
    const tmp = `${dst}.tmp-${process.pid}`;
    copyFileSync(process.execPath, tmp);
    renameSync(tmp, dst);
  }
  return dst;
}
/** The node binary inside: copied once per boot from the share into tmpfs (exec over 9p rereads it). */
export const GUEST_NODE = '/run/lvh-node';

