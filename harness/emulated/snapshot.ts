// Saved states of the emulated host, so a run restores a VM whose libvirtd is already warm rather
// than booting one (on unless LVH_EMULATED_SNAPSHOT=off; vm.ts). One slot per topology and
// kernel: .cache/emulated/snapshots/SLOT/ holds
//   state       QEMU's migration stream, taken right after a boot had libvirtd answering: device
//               state only, guest RAM is left out of it (x-ignore-shared)
//   ram/mN      the guest's RAM, one file per NUMA node (sparse: what the guest never touched is
//               a hole), written by the saved VM itself (memory-backend-file share=on) and mapped
//               privately by every restore (share=off), so it never changes either
//   disk.qcow2  the root disk as it was at that moment (an overlay over the image, backing path
//               relative, opened with snapshot=on by every restore so it never changes)
//   meta.json   the key and what it was made of, and the sizes of all the files
// The key covers everything the saved state depends on: the image (its recipe key and build
// time), the kernel and initramfs, the topology's flags and the rest of the QEMU command line
// that reaches the guest, QEMU's version and binary, the node binary copied into the guest, and
// this module's recipe. A slot whose key differs, or whose files are missing or of another size,
// is refused with the reason and the caller boots instead (then saves a new state).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { hold } from '../lifecycle/cleanup.js';

/** Bump when what is saved, or how, changes (the save's preparation in vm.ts, the layout here). */
// 2: guest RAM in files beside the state (ram/), left out of the stream.
export const SNAPSHOT_RECIPE = 'lvh-snapshot-2';
export const QEMU = '/usr/bin/qemu-system-x86_64';

/** What a snapshot was made of: each part is compared on its own, so a refusal names it. */
export type KeyParts = Record<string, string>;

export interface SnapshotMeta {
  key: string;
  parts: KeyParts;
  stateBytes: number;
  diskBytes: number;
  /** ram/FILE -> its size (the node's memory): every file a restore maps. */
  ramBytes: Record<string, number>;
  saved: string;
  saveSeconds: number;
}

export interface Snapshot { dir: string; state: string; disk: string; ram: string; meta: SnapshotMeta }

/** Where a save's or a slot's guest RAM files are. */
export function ramDir(slotDir: string): string {
  return join(slotDir, 'ram');
}

function fileId(path: string): string {
  const s = statSync(path);
  return `${s.size}:${Math.floor(s.mtimeMs)}`;
}

let qemuIdentity: string | undefined;
/** QEMU's version line and its binary's size and time (a rebuilt or upgraded QEMU differs). */
function qemuId(): string {
  if (qemuIdentity === undefined) {
    const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    qemuIdentity = `${(r.stdout ?? '').split('\n')[0]!.trim()} ${fileId(QEMU)}`;
  }
  return qemuIdentity;
}

/**
 * The key's parts. `machine` is the QEMU command line as it reaches the guest (devices, memory,
 * NUMA, kernel command line), with file paths cut to their base names: the run directory's
 * sockets and the project's path may differ between save and restore; what the files hold is
 * covered by the kernel, initrd and image parts.
 */
export function keyParts(o: { imageKey: string; imageBuilt: string; kernelLabel: string; kernelVersion: string; kernelDir: string; machine: string[] }): KeyParts {
  return {
    recipe: SNAPSHOT_RECIPE,
    image: `${o.imageKey} built ${o.imageBuilt}`,
    kernel: `${o.kernelLabel} ${o.kernelVersion} vmlinuz ${fileId(join(o.kernelDir, 'vmlinuz'))} initrd ${fileId(join(o.kernelDir, 'initrd.img'))}`,
    qemu: qemuId(),
    machine: o.machine.map((a) => a.replace(/\/[^,\s]*\/([^/,\s]+)/g, '$1')).join(' '),
    node: `${process.version} ${statSync(process.execPath).size}`,
  };
}

export function keyOf(parts: KeyParts): string {
  return createHash('sha256').update(JSON.stringify(Object.entries(parts).sort())).digest('hex').slice(0, 16);
}

export function snapshotsDir(cacheDir: string): string {
  return join(cacheDir, 'snapshots');
}

/** Where two values of a key part part ways, briefly (a command line is long). */
function difference(saved: string, now: string): string {
  const a = saved.split(' ');
  const b = now.split(' ');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const cut = (w: string[]) => w.slice(i, i + 3).join(' ') || '(end)';
  return a.length <= 3 && b.length <= 3 ? `saved '${saved}', now '${now}'` : `saved '…${cut(a)}…', now '…${cut(b)}…'`;
}

/** The saved state of this slot if it is usable with these parts; else why not. */
export function findSnapshot(cacheDir: string, slot: string, parts: KeyParts): { snapshot: Snapshot } | { refused: string } {
  const dir = join(snapshotsDir(cacheDir), slot);
  const metaFile = join(dir, 'meta.json');
  if (!existsSync(metaFile)) return { refused: `no saved state for ${slot} yet` };
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as SnapshotMeta;
  } catch (e) {
    return { refused: `saved state ${metaFile} is unreadable (${(e as Error).message})` };
  }
  const key = keyOf(parts);
  if (meta.key !== key || keyOf(meta.parts ?? {}) !== meta.key) {
    const changed = Object.keys(parts).filter((k) => meta.parts?.[k] !== parts[k]);
    const what = changed.map((k) => `${k}: ${difference(meta.parts?.[k] ?? '(none)', parts[k]!)}`).join('; ');
    return { refused: `saved state of ${slot} has key ${meta.key}, not ${key} (${what || 'meta.json does not match its own parts'})` };
  }
  const state = join(dir, 'state');
  const disk = join(dir, 'disk.qcow2');
  const ram = ramDir(dir);
  const ramFiles = Object.entries(meta.ramBytes ?? {});
  if (!ramFiles.length) return { refused: `saved state of ${slot} records no guest RAM files` };
  const files: [string, string, number][] = [['state', state, meta.stateBytes], ['disk.qcow2', disk, meta.diskBytes],
    ...ramFiles.map(([name, bytes]): [string, string, number] => [`ram/${name}`, join(ram, basename(name)), bytes])];
  for (const [name, file, want] of files) {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return { refused: `saved state of ${slot} lacks ${name}` };
    }
    if (size !== want) return { refused: `saved state of ${slot} is truncated or altered: ${name} has ${size} bytes, ${want} were saved` };
  }
  return { snapshot: { dir, state, disk, ram, meta } };
}

/** A directory a save writes into, removed by the cleanup registry (and, after a SIGKILL, its
 *  reaper) unless commit() moves it into place first. It is made before the VM to be saved
 *  starts: that VM's RAM files are in its ram/ from the first instruction on, so a boot or save
 *  cut short leaves none behind either. */
export interface SaveDir { dir: string; commit(meta: SnapshotMeta): void; abandon(): void }

/** The sizes of a save's guest RAM files (ram/NAME -> bytes), for its meta.json. */
export function ramSizes(saveDir: string): Record<string, number> {
  const dir = ramDir(saveDir);
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, statSync(join(dir, name)).size]));
}

/**
 * The saved VM's RAM files with their zero-filled blocks made holes again (util-linux's
 * `fallocate --dig-holes`): the guest writes zeros into much of what it takes (144 MiB of each
 * memory-only node, about its 64 huge pages), which allocates them in the files: mock8's 8 files
 * took 1.6 GB on disk, 401 MB after this (1.4 s). A hole reads as zeros, so nothing the guest sees changes. Best effort:
 * without it the files are only bigger.
 */
export function digHoles(saveDir: string): void {
  const dir = ramDir(saveDir);
  for (const name of readdirSync(dir)) spawnSync('fallocate', ['--dig-holes', join(dir, name)], { timeout: 60_000 });
}

/** Every file of a save on disk before it is put in place: the RAM files are what the saved VM
 *  wrote into the page cache, and a slot that outlived a crash of the machine with holes where
 *  its pages were would restore a guest whose memory is wrong without any size being off. */
function syncTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) syncTree(path);
    else if (e.isFile()) {
      const fd = openSync(path, 'r');
      try { fsyncSync(fd); } finally { closeSync(fd); }
    }
  }
}

export function beginSave(cacheDir: string, slot: string): SaveDir {
  const base = snapshotsDir(cacheDir);
  mkdirSync(base, { recursive: true });
  const dir = join(base, `.${slot}.saving-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir);
  mkdirSync(ramDir(dir));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const held = hold({
    label: `half-written emulated host state ${dir}`, order: 2, reap: { kind: 'rm', path: dir },
    release: async () => remove(),
    releaseSync: () => { remove(); return true; },
  });
  return {
    dir,
    commit(meta) {
      writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
      syncTree(dir);
      // Swap in: the old slot aside first (a restore reading it keeps its open files), then away.
      const target = join(base, slot);
      const old = join(base, `.${slot}.old-${process.pid}-${randomBytes(3).toString('hex')}`);
      if (existsSync(target)) renameSync(target, old);
      renameSync(dir, target);
      rmSync(old, { recursive: true, force: true });
      held.drop();
    },
    abandon() {
      remove();
      held.drop();
    },
  };
}

/** Leftovers of saves whose process is gone (their pid is in the name). */
export function removeStaleSaves(cacheDir: string): void {
  const base = snapshotsDir(cacheDir);
  if (!existsSync(base)) return;
  for (const name of readdirSync(base)) {
    const m = /^\..*\.(?:saving|old)-(\d+)-[0-9a-f]{6}$/.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      rmSync(join(base, name), { recursive: true, force: true });
    }
  }
}

/** The image's overlay for a boot that will be saved: qcow2 over the raw image. */
export function createOverlay(image: string, overlay: string): void {
  const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', image, overlay], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) throw new Error(`qemu-img create failed: ${r.error?.message ?? r.stderr.trim()} (qemu-img is in Debian's qemu-utils: npm run setup)`);
}

/** Copy a paused VM's overlay into the save, its backing path made relative to where it lands
 *  (snapshots/SLOT/ and snapshots/.SLOT.saving-… are both two levels under the cache). */
export function keepOverlay(overlay: string, image: string, saveDir: string): string {
  const dest = join(saveDir, 'disk.qcow2');
  const cp = spawnSync('cp', ['--sparse=always', overlay, dest], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`copying the disk overlay failed: ${cp.stderr.trim()}`);
  const rel = relative(saveDir, image);
  const r = spawnSync('qemu-img', ['rebase', '-u', '-f', 'qcow2', '-F', 'raw', '-b', rel, dest], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`qemu-img rebase failed: ${r.stderr.trim()}`);
  return dest;
}

/** qemu-img is needed to save (it makes the overlay); without it runs boot, as before. */
export function canSave(): string | null {
  const r = spawnSync('qemu-img', ['--version'], { encoding: 'utf8' });
  return r.error ? 'qemu-img not found (Debian package qemu-utils; npm run setup installs it)' : null;
}
