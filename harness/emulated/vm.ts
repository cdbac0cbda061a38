// One emulated multi-node host: QEMU under TCG (KVM runs no guest code on these machines) running
// the image built by scripts/build-emulated-host.sh with a topology and a kernel, the project
// directory shared read-only at /project (virtio-9p), and a command channel on a serial port.
// Unless LVH_EMULATED_SNAPSHOT=off, a host starts from the state saved after an earlier boot of the
// same image, kernel and topology (snapshot.ts): its device state loaded from a small stream, its
// RAM mapped privately from the saved files (README "Saved states").
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Channel, type CommandResult } from './channel.js';
import { keepDeadConsole, lastWords, tail } from './console.js';
import { cacheDir, EMULATED_IMAGES, EmulatedBootError, findImage, GUEST_NODE, missingKernel, EmulatedUnavailable, shareNode, type EmulatedImageId } from './image.js';
import { keyedArgs, machineArgs, runArgs } from './machine.js';
import { newRunDir, reapOrphans, register, unregister, type RunRecord } from './runs.js';
import { beginSave, canSave, createOverlay, findSnapshot, keepOverlay, digHoles, keyOf, keyParts, QEMU, ramDir, ramSizes, removeStaleSaves, type KeyParts, type SaveDir, type Snapshot } from './snapshot.js';
import { loadAndRun, migrateToFile, PIN_STATIC_KEYS, prepareSaveScript, RESUMED_SCRIPT, resumeScript, SHARE_MOUNT } from './save-restore.js';
import { loadTopology, projectRoot, vcpus, type Topology } from './topology.js';
import { settledWithin } from '../lifecycle/wait.js';

export { BUILD_COMMAND, cacheDir, cachedKernels, EMULATED_IMAGES, EmulatedBootError, EmulatedUnavailable, EXTRA_KERNELS, findImage, GUEST_NODE, isEmulatedImageId, KERNELS_COMMAND, missingKernel, type EmulatedImageId, type Manifest } from './image.js';


export interface BootOptions {
  /** Which image: `emulated` (the default, libvirt 9.0.0) or `sid` (libvirt 12.8, kernel 7.2). */
  image?: EmulatedImageId;
  topology?: string | Topology;
  kernel?: string;
  /** Boot to a served channel and a responding libvirtd, else EmulatedBootError. */
  readyTimeoutMs?: number;
  libvirtd?: boolean;
  /** Start from a saved state when there is a usable one, else boot, save and restore that
   *  (default: yes, unless LVH_EMULATED_SNAPSHOT=off; README "Saved states"). Only hosts with
   *  libvirtd answering are saved. */
  snapshot?: boolean;
}

/** How the host came up: booted (and whether its state was saved, or why not), or restored. */
export interface StartInfo {
  from: 'boot' | 'snapshot';
  /** Why no saved state was used, or what became of saving one (printed when it matters). */
  note?: string;
  /** Seconds: saving the state after the boot; the guest clock's distance from ours after a restore. */
  saveSeconds?: number;
  clockSkew?: number;
}

/** How a VM starts: restored from a snapshot, booted to be saved (its RAM in the save's files),
 *  or booted plainly (anonymous RAM, no files: the default). */
interface Plan { restore?: Snapshot; save?: { slot: string; parts: KeyParts } }

export class EmulatedHost {
  readonly timings: { boot: number; libvirtd: number } = { boot: 0, libvirtd: 0 };
  start: StartInfo = { from: 'boot' };
  private exited: string | undefined;

  /** What the host is made of (image, kernel, the whole machine command line: topology and its
   *  huge page reservations included), as a saved state's key: what facts probed inside are
   *  valid for (inside.ts). */
  machineKey = '';

  /** A boot to be saved: where its state goes (its RAM files are there already). */
  private saving: SaveDir | undefined;

  /** Which image it runs (`emulated`, `sid`): set by boot(). */
  image: EmulatedImageId = 'emulated';

  private constructor(
    readonly topology: Topology,
    readonly kernel: string,
    private readonly proc: ChildProcess,
    private readonly rec: RunRecord,
    private channel: Channel | undefined,
  ) {
    proc.on('exit', (code, sig) => {
      this.exited = sig ? `signal ${sig}` : `exit status ${code}`;
      // Whatever waits on the channel fails now, not at its timeout.
      this.channel?.close();
      if (!this.stopping) this.keepConsole();
    });
  }

  /** Set once the harness itself powers the VM off or kills it. */
  private stopping = false;

  /** QEMU ended on its own: its console is kept (console.ts), and that copy is what a channel
   *  error names from then on. */
  private keepConsole(): void {
    this.keptConsole = keepDeadConsole(this.consoleLog, `${this.topology.name}-${this.kernel}`, this.exited);
  }

  private keptConsole: string | undefined;

  /** The VM's QEMU process (for the cleanup registry's reaper). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Called once QEMU has ended, whatever ended it. */
  onExit(fn: () => void): void {
    if (this.exited) fn();
    else this.proc.once('exit', fn);
  }

  /** How QEMU ended ("exit status 0", "signal SIGKILL"); undefined while it runs. */
  get ended(): string | undefined {
    return this.exited;
  }

  /** The guest kernel's last words on the console (a panic, an oops), for the run's notes. */
  lastWords(): string {
    return lastWords(this.consoleLog);
  }

  get consoleLog(): string {
    return this.keptConsole ?? join(this.rec.dir, 'console.log');
  }

  /** How the VM came up, for a run's notes: restored (and how long each part took) or booted. */
  describeStart(): string {
    const t = this.timings;
    if (this.start.from === 'snapshot') return `restored in ${(t.boot + t.libvirtd).toFixed(1)} s (state loaded ${t.boot.toFixed(1)} s, then clock, share and libvirtd ${t.libvirtd.toFixed(1)} s; clock ${this.start.clockSkew} s off after setting)`;
    return `boot ${t.boot.toFixed(1)} s, libvirtd ${t.libvirtd.toFixed(1)} s${this.start.note ? ` (${this.start.note})` : ''}`;
  }

  /** A host ready for commands, with libvirtd answering unless opts.libvirtd is false: restored
   *  from its saved state when one is usable, else booted (and then saved for the next run). */
  static async boot(opts: BootOptions = {}): Promise<EmulatedHost> {
    const id = opts.image ?? 'emulated';
    const { dir: imageDir, manifest } = findImage(id);
    const topology = typeof opts.topology === 'object' ? opts.topology : loadTopology(opts.topology ?? 'mock8');
    // The sid image has sid's kernel only: the topology's default is for the bookworm image.
    const kernel = opts.kernel ?? EMULATED_IMAGES[id].kernel ?? topology.kernel;
    const kinfo = manifest.kernels[kernel];
    if (!kinfo?.dir) throw new EmulatedUnavailable(missingKernel(kernel, Object.keys(manifest.kernels)));
    reapOrphans(cacheDir());
    removeStaleSaves(cacheDir());
    shareNode();
    const kernelDir = kinfo.dir;
    const image = realpathSync(join(imageDir, 'rootfs.img'));
    const label = `emulated host${id === 'emulated' ? '' : ` ${id}`} (${topology.name}, kernel ${kernel})`;
    // The key is the same for all three forms of the machine line (keyedArgs normalises the RAM).
    const parts = keyParts({ imageKey: manifest.key, imageBuilt: manifest.built ?? '', kernelLabel: kernel, kernelVersion: kinfo.version, kernelDir, machine: keyedArgs(machineArgs(topology, kernelDir)) });
    const keyed = (h: EmulatedHost): EmulatedHost => { h.machineKey = keyOf(parts); h.image = id; return h; };
    const wanted = (opts.snapshot ?? process.env.LVH_EMULATED_SNAPSHOT !== 'off') && opts.libvirtd !== false;
    if (!wanted) return keyed(await EmulatedHost.start(topology, kernel, kernelDir, image, {}, opts));
    // Each image its own slots: a restore of the other image's state would be refused by its key anyway.
    const slot = `${id === 'emulated' ? '' : `${id}-`}${topology.name}-${kernel}`;
    const found = findSnapshot(cacheDir(), slot, parts);
    const restoreOpts = { ...opts, readyTimeoutMs: Math.min(opts.readyTimeoutMs ?? 60_000, 60_000) };
    let why: string;
    if ('snapshot' in found) {
      try {
        return keyed(await EmulatedHost.start(topology, kernel, kernelDir, image, { restore: found.snapshot }, restoreOpts));
      } catch (e) {
        why = `restoring the saved state failed: ${(e as Error).message.split('\n')[0]}`;
        process.stderr.write(`${label}: ${why}; booting instead\n`);
      }
    } else {
      why = found.refused;
      // A first run has nothing to restore: that is no news. A refusal is.
      if (!why.startsWith('no saved state')) process.stderr.write(`${label}: ${why}; booting instead\n`);
    }
    const cannot = canSave();
    if (cannot) {
      const host = await EmulatedHost.start(topology, kernel, kernelDir, image, {}, opts);
      host.start.note = `${why}; not saved: ${cannot}`;
      return keyed(host);
    }
    // The boot that is saved ends with the save (its RAM files are the saved state's), so the
    // run goes on in a restore of what it saved.
    const booted = await EmulatedHost.start(topology, kernel, kernelDir, image, { save: { slot, parts } }, opts);
    const saved = booted.savedAs;
    if (!saved && !booted.ended) {
      booted.start.note = `${why}; ${booted.start.note}`;
      return keyed(booted);
    }
    let host: EmulatedHost;
    let then: string;
    try {
      if (!saved) throw new Error(`QEMU ended (${booted.ended})`);
      host = await EmulatedHost.start(topology, kernel, kernelDir, image, { restore: saved }, restoreOpts);
      then = `then restored from it in ${(host.timings.boot + host.timings.libvirtd).toFixed(1)} s (clock ${host.start.clockSkew} s off after setting)`;
    } catch (e) {
      const failed = saved ? `restoring the state just saved failed: ${(e as Error).message.split('\n')[0]}` : `the saved VM is gone: ${(e as Error).message}`;
      process.stderr.write(`${label}: ${failed}; booting instead\n`);
      host = await EmulatedHost.start(topology, kernel, kernelDir, image, {}, opts);
      then = `${failed}; booted again`;
    }
    host.timings.boot = booted.timings.boot;
    host.timings.libvirtd = booted.timings.libvirtd;
    host.start = { from: 'boot', note: `${why}; ${booted.start.note}, ${then}`, saveSeconds: booted.start.saveSeconds, clockSkew: host.start.clockSkew };
    return keyed(host);
  }

  /** The state this boot saved, once its QEMU has ended (migrateToFile quits it). */
  private savedAs: Snapshot | undefined;

  private static async start(topology: Topology, kernel: string, kernelDir: string, image: string, plan: Plan, opts: BootOptions): Promise<EmulatedHost> {
    const t0 = Date.now();
    const dir = newRunDir(cacheDir(), `${process.pid}-${randomBytes(3).toString('hex')}`);
    let drive: string;
    let machine: string[];
    const overlay = join(dir, 'disk.qcow2');
    // Made before QEMU starts: the boot's RAM files are in it from the start (snapshot.ts).
    const saving = plan.save ? beginSave(cacheDir(), plan.save.slot) : undefined;
    try {
      if (plan.restore) {
        drive = `file=${plan.restore.disk},format=qcow2,snapshot=on`;
        machine = machineArgs(topology, kernelDir, { dir: plan.restore.ram, share: false });
      } else if (saving) {
        // Saved with the state: the disk as it is then. An overlay keeps the image pristine.
        createOverlay(image, overlay);
        drive = `file=${overlay},format=qcow2`;
        machine = machineArgs(topology, kernelDir, { dir: ramDir(saving.dir), share: true });
      } else {
        drive = `file=${image},format=raw,snapshot=on`; // writes vanish: every boot starts alike
        machine = machineArgs(topology, kernelDir);
      }
    } catch (e) {
      saving?.abandon();
      throw e;
    }
    const args = [...machine, ...runArgs(dir, drive, projectRoot())];
    // A restore waits for the saved state (loadAndRun: migrate-incoming once x-ignore-shared is set).
    if (plan.restore) args.push('-incoming', 'defer');
    const errFd = openSync(join(dir, 'qemu.stderr'), 'w');
    const proc = spawn(QEMU, args, { stdio: ['ignore', 'ignore', errFd] });
    if (!proc.pid) throw new EmulatedBootError('qemu-system-x86_64 did not start');
    const rec: RunRecord = { owner: process.pid, qemu: proc.pid, dir, started: new Date().toISOString() };
    register(rec);
    const host = new EmulatedHost(topology, kernel, proc, rec, undefined);
    host.saving = saving;
    const deadline = t0 + (opts.readyTimeoutMs ?? 180_000);
    try {
      if (plan.restore) await host.resume(t0, deadline, plan.restore);
      else await host.coldBoot(t0, deadline, opts);
      if (plan.save) await host.save(plan.save.slot, plan.save.parts, overlay, image);
      return host;
    } catch (e) {
      host.saving?.abandon();
      // Read the logs before kill(), which removes the run directory.
      const consoleTail = tail(join(dir, 'console.log'));
      const stderrTail = tail(join(dir, 'qemu.stderr'), 5, '');
      host.kill();
      const what = plan.restore ? 'was not restored' : 'did not boot';
      const why = e instanceof EmulatedBootError ? e.message : `not ready within ${Math.round(((opts.readyTimeoutMs ?? 180_000) / 1000))} s (${host.exited ? `QEMU ended: ${host.exited}; ` : ''}${(e as Error).message})`;
      throw new EmulatedBootError(`emulated host (${topology.name}, kernel ${kernel}, ${vcpus(topology)} vCPUs) ${what}: ${why}${stderrTail ? ` [QEMU: ${stderrTail.replace(/\n/g, ' ')}]` : ''}\n--- console tail (${host.consoleLog}) ---\n${consoleTail}`);
    }
  }

  /** The first boot: init's @@READY, the share remounted for speed, node in tmpfs, libvirtd. */
  private async coldBoot(t0: number, deadline: number, opts: BootOptions): Promise<void> {
    await this.connect(deadline);
    this.timings.boot = (Date.now() - t0) / 1000;
    // The share is read-only and the run short: remount it with the guest page cache on, so the
    // CLI's modules are read over 9p once per boot rather than at every start (several x faster
    // under TCG). Then the node binary into tmpfs.
    const setup = await this.run(`${PIN_STATIC_KEYS}; umount /project && ${SHARE_MOUNT} && ` +
      `cp /project/.cache/emulated/share/node ${GUEST_NODE} && ${GUEST_NODE} --version`, Math.max(10_000, deadline - Date.now()));
    if (setup.code !== 0) throw new EmulatedBootError(`setting up /project inside failed: ${setup.stderr.trim()}`);
    if (opts.libvirtd !== false) {
      const t1 = Date.now();
      const left = Math.max(1, Math.floor((deadline - Date.now()) / 1000));
      const r = await this.run(`i=0; until virsh -c qemu:///system version >/dev/null 2>&1; do i=$((i+1)); [ $i -ge ${left * 2} ] && { tail -5 /run/libvirtd.log; exit 1; }; sleep 0.5; done`, left * 1000 + 5000);
      if (r.code !== 0) throw new EmulatedBootError(`libvirtd inside the emulated host did not answer within ${left} s: ${r.stdout.trim()}`);
      this.timings.libvirtd = (Date.now() - t1) / 1000;
    }
  }

  /** A restored guest: no @@READY (it was said before the save); one command sets the clock,
   *  stirs the entropy pool, mounts the share and asks libvirtd, and says the time it then has. */
  private async resume(t0: number, deadline: number, snap: Snapshot): Promise<void> {
    await loadAndRun(join(this.rec.dir, 'qmp.sock'), snap.state, deadline, () => this.exited);
    const loaded = (Date.now() - t0) / 1000;
    await this.openChannel(deadline);
    const sent = Date.now();
    // Its own budget: a state that was slow to load must not leave the guest seconds to answer.
    const r = await this.run(resumeScript(sent / 1000, randomBytes(64)), Math.max(30_000, deadline - Date.now()));
    const back = Date.now();
    if (r.code !== 0 || !r.stdout.includes(RESUMED_SCRIPT)) throw new EmulatedBootError(`the restored guest did not resume: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
    const guestNow = Number(/@@NOW (\d+\.\d+)/.exec(r.stdout)?.[1]);
    // The clock was set from our time when the command left; it then ran for up to (back - sent).
    const skew = guestNow - back / 1000;
    if (!Number.isFinite(skew) || skew > 1 || skew < -((back - sent) / 1000 + 1)) throw new EmulatedBootError(`the restored guest's clock is off by ${Number.isFinite(skew) ? skew.toFixed(1) : '?'} s after setting it`);
    this.timings.boot = loaded;
    this.timings.libvirtd = (back - t0) / 1000 - loaded;
    this.start = { from: 'snapshot', clockSkew: Number(skew.toFixed(3)), note: `restored the state saved ${snap.meta.saved} (key ${snap.meta.key})` };
  }

  /**
   * Save this freshly booted host for later runs: the share unmounted (QEMU refuses to migrate
   * while a 9p export is mounted), the VM's device state streamed to a file (its RAM is in the
   * save's files already), the disk overlay copied while the VM is still paused after it, then
   * QEMU ended (its RAM files are the saved state now), the files synced to disk and the save
   * put in place: `savedAs`, which boot() restores. A failure leaves no files and the host
   * running on (its RAM files are unlinked but stay mapped), the share mounted again.
   */
  private async save(slot: string, parts: KeyParts, overlay: string, image: string): Promise<void> {
    const t0 = Date.now();
    const out = this.saving!;
    let note: string;
    try {
      const prep = await this.run(prepareSaveScript(), 60_000);
      if (prep.code !== 0) throw new Error(`preparing the guest failed: ${prep.stderr.trim()}`);
      const state = join(out.dir, 'state');
      let disk = '';
      this.stopping = true; // QEMU is about to end on purpose: no dead VM's console to keep
      await migrateToFile(join(this.rec.dir, 'qmp.sock'), state, async () => {
        disk = keepOverlay(overlay, image, out.dir);
      }).catch((e: unknown) => { this.stopping = false; throw e; });
      const migrated = (Date.now() - t0) / 1000;
      await this.waitEnd(10_000);
      const tSync = Date.now();
      digHoles(out.dir);
      out.commit({ key: keyOf(parts), parts, stateBytes: statSync(state).size, diskBytes: statSync(disk).size, ramBytes: ramSizes(out.dir), saved: new Date().toISOString(), saveSeconds: (Date.now() - t0) / 1000 });
      this.saving = undefined;
      const found = findSnapshot(cacheDir(), slot, parts);
      if (!('snapshot' in found)) throw new Error(`the state just saved is refused: ${found.refused}`);
      this.savedAs = found.snapshot;
      const m = found.snapshot.meta;
      note = `state saved for later runs in ${((Date.now() - t0) / 1000).toFixed(1)} s (stream ${migrated.toFixed(1)} s, ${(m.stateBytes / 1e6).toFixed(1)} MB; zero blocks made holes and files synced ${((Date.now() - tSync) / 1000).toFixed(1)} s)`;
    } catch (e) {
      this.saving?.abandon();
      this.saving = undefined;
      note = `saving the state failed: ${(e as Error).message}`;
      process.stderr.write(`emulated host (${this.topology.name}, kernel ${this.kernel}): ${note}\n`);
    }
    this.start = { from: 'boot', note, saveSeconds: (Date.now() - t0) / 1000 };
    if (this.savedAs || this.exited) return; // boot() restores the saved state, or boots again
    const back = await this.run(SHARE_MOUNT, 60_000);
    if (back.code !== 0) throw new EmulatedBootError(`mounting /project again after saving failed: ${back.stderr.trim()}`);
  }

  /** Wait for QEMU to end by itself (after QMP quit), then release the VM (kill() if it has not). */
  private async waitEnd(timeoutMs: number): Promise<void> {
    await settledWithin(new Promise<void>((r) => this.onExit(r)), timeoutMs);
    this.kill();
  }

  private async openChannel(deadline: number): Promise<void> {
    const sock = join(this.rec.dir, 'cmd.sock');
    while (!this.channel) {
      if (this.exited) throw new Error('QEMU exited');
      if (Date.now() > deadline) throw new Error('no command socket');
      if (existsSync(sock)) this.channel = await Channel.open(sock).catch(() => undefined);
      if (!this.channel) await new Promise((r) => setTimeout(r, 50));
    }
    if (this.exited) this.channel.close();
  }

  /** A booting guest: its init says @@READY once it serves the channel. */
  private async connect(deadline: number): Promise<void> {
    await this.openChannel(deadline);
    await this.channel!.expect(/@@READY\r?\n/, deadline);
  }

  /** A command in the guest; a dead channel or VM is reported with QEMU's status and the console's tail. */
  async run(script: string, timeoutMs?: number): Promise<CommandResult> {
    if (!this.channel) throw new Error('emulated host not connected');
    try {
      return await this.channel.run(script, timeoutMs);
    } catch (e) {
      await new Promise((r) => setTimeout(r, 300)); // let an exiting QEMU be seen as such
      throw new EmulatedBootError(`${(e as Error).message}${this.exited ? ` (QEMU ended: ${this.exited})` : ''}\n--- console tail (${this.consoleLog}) ---\n${tail(this.consoleLog)}`);
    }
  }

  /** Clean power-off (guests destroyed, daemons stopped); kills QEMU if it does not end in time. */
  async powerOff(timeoutMs = 20_000): Promise<void> {
    this.stopping = true;
    if (!this.exited && this.channel) {
      const gone = new Promise<void>((r) => this.onExit(r));
      await settledWithin(this.channel.run('@@POWEROFF', timeoutMs).then(() => gone), timeoutMs);
    }
    this.kill();
  }

  kill(): void {
    this.stopping = true;
    this.channel?.close();
    if (!this.exited && this.proc.pid) {
      try {
        process.kill(this.proc.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    unregister(this.rec);
  }
}
