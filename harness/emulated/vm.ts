// One emulated multi-node host: QEMU under TCG (KVM runs no guest code on these machines) booting
// the image built by scripts/build-emulated-host.sh with a topology and a kernel, the project
// directory shared read-only at /project (virtio-9p), and a command channel on a serial port.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Channel, type CommandResult } from './channel.js';
import { newRunDir, reapOrphans, register, unregister, type RunRecord } from './runs.js';
import { loadTopology, projectRoot, topologyFlags, vcpus, type Topology } from './topology.js';

export const BUILD_COMMAND = 'bash scripts/build-emulated-host.sh';
/** Consoles of VMs that ended by themselves, kept for diagnosis (.cache/emulated/dead-vms/). */
const DEAD_VMS_KEPT = 10;
/** Kernels cached on their own, beside the image (.cache/emulated/kernels/LABEL/current/). */
export const KERNELS_COMMAND = 'bash scripts/build-emulated-kernels.sh';
/** The labels scripts/build-emulated-kernels.sh has a recipe for, and where they come from. */
export const EXTRA_KERNELS: Record<string, string> = { '7.2': "Debian sid's linux-binary-7.2.*-amd64" };

export interface Manifest {
  key: string;
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
 *  there is no image (with the command that builds it). */
export function findImage(): { dir: string; manifest: Manifest } {
  const dir = join(cacheDir(), 'current');
  const m = join(dir, 'manifest.json');
  if (!existsSync(m)) throw new EmulatedUnavailable(`no emulated host image (${m} missing); build it with: ${BUILD_COMMAND}`);
  const manifest = JSON.parse(readFileSync(m, 'utf8')) as Manifest;
  for (const [label, k] of Object.entries(manifest.kernels)) k.dir ??= join(dir, 'kernels', label);
  // A kernel cached on its own is refreshed on its own: it wins over the image's of the same label.
  Object.assign(manifest.kernels, cachedKernels());
  return { dir, manifest };
}

/** The host's node binary, copied where the guest sees it (/project/.cache/emulated/share/node). */
function shareNode(): void {
  const dir = join(cacheDir(), 'share');
  const dst = join(dir, 'node');
  mkdirSync(dir, { recursive: true });
  const src = statSync(process.execPath);
  if (!existsSync(dst) || statSync(dst).size !== src.size || statSync(dst).mtimeMs < src.mtimeMs) copyFileSync(process.execPath, dst);
}
/** The node binary inside: copied once per boot from the share into tmpfs (exec over 9p rereads it). */
export const GUEST_NODE = '/run/lvh-node';

export interface BootOptions {
  topology?: string | Topology;
  kernel?: string;
  /** Boot to a served channel and a responding libvirtd, else EmulatedBootError. */
  readyTimeoutMs?: number;
  libvirtd?: boolean;
}

function tail(file: string, lines = 25, none = '(no console output)'): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r/g, '').trimEnd().split('\n').slice(-lines).join('\n') || none;
  } catch {
    return none;
  }
}

export class EmulatedHost {
  readonly timings: { boot: number; libvirtd: number } = { boot: 0, libvirtd: 0 };
  private exited: string | undefined;

  private constructor(
    readonly topology: Topology,
    readonly kernel: string,
    private readonly proc: ChildProcess,
    private readonly rec: RunRecord,
    private channel: Channel | undefined,
  ) {
    proc.on('exit', (code, sig) => {
      this.exited = sig ? `signal ${sig}` : `exit status ${code}`;
      if (!this.stopping) this.keepConsole();
    });
  }

  /** Set once the harness itself powers the VM off or kills it. */
  private stopping = false;

  /**
   * QEMU ended on its own (the guest halted or panicked, or QEMU died): its run directory goes
   * with it, so the console is copied where it survives, .cache/emulated/dead-vms/ (the last
   * DEAD_VMS_KEPT), and its path is what a channel error names from then on.
   */
  private keepConsole(): void {
    try {
      const dir = join(projectRoot(), '.cache', 'emulated', 'dead-vms');
      mkdirSync(dir, { recursive: true });
      const dest = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${this.topology.name}-${this.kernel}.console.log`);
      copyFileSync(this.consoleLog, dest);
      this.keptConsole = dest;
      process.stderr.write(`emulated host (${this.topology.name}, kernel ${this.kernel}): QEMU ended by itself (${this.exited}); console kept in ${dest}\n`);
      for (const old of readdirSync(dir).sort().slice(0, -DEAD_VMS_KEPT)) rmSync(join(dir, old), { force: true });
    } catch {
      /* no console to keep */
    }
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

  get consoleLog(): string {
    return this.keptConsole ?? join(this.rec.dir, 'console.log');
  }

  static async boot(opts: BootOptions = {}): Promise<EmulatedHost> {
    const t0 = Date.now();
    const { dir: imageDir, manifest } = findImage();
    const topology = typeof opts.topology === 'object' ? opts.topology : loadTopology(opts.topology ?? 'mock8');
    const kernel = opts.kernel ?? topology.kernel;
    const kinfo = manifest.kernels[kernel];
    if (!kinfo?.dir) throw new EmulatedUnavailable(missingKernel(kernel, Object.keys(manifest.kernels)));
    reapOrphans(cacheDir());
    shareNode();
    const dir = newRunDir(cacheDir(), `${process.pid}-${randomBytes(3).toString('hex')}`);
    const kdir = kinfo.dir;
    const args = [
      '-name', `lvh-emulated,debug-threads=off`,
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-accel', 'tcg,thread=multi,tb-size=256', '-cpu', 'max',
      ...topologyFlags(topology),
      '-kernel', join(kdir, 'vmlinuz'), '-initrd', join(kdir, 'initrd.img'),
      '-append', 'console=ttyS0 root=/dev/vda rw panic=-1 loglevel=4',
      // snapshot=on: the image stays pristine, every boot starts from the warmed state.
      '-drive', `if=none,id=d0,file=${join(imageDir, 'rootfs.img')},format=raw,cache=unsafe,snapshot=on`,
      '-device', 'virtio-blk-pci,drive=d0',
      '-chardev', `file,id=con,path=${join(dir, 'console.log')}`, '-serial', 'chardev:con',
      '-chardev', `socket,id=cmd,path=${join(dir, 'cmd.sock')},server=on,wait=off`, '-serial', 'chardev:cmd',
      '-virtfs', `local,path=${projectRoot()},mount_tag=project,security_model=none,readonly=on`,
    ];
    const errFd = openSync(join(dir, 'qemu.stderr'), 'w');
    const proc = spawn('/usr/bin/qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', errFd] });
    if (!proc.pid) throw new EmulatedBootError('qemu-system-x86_64 did not start');
    const rec: RunRecord = { owner: process.pid, qemu: proc.pid, dir, started: new Date().toISOString() };
    register(rec);
    const host = new EmulatedHost(topology, kernel, proc, rec, undefined);
    const deadline = t0 + (opts.readyTimeoutMs ?? 180_000);
    try {
      await host.connect(deadline);
      host.timings.boot = (Date.now() - t0) / 1000;
      // The share is read-only and the run short: remount it with the guest page cache on, so the
      // CLI's modules are read over 9p once per boot rather than at every start (several x faster
      // under TCG). Then the node binary into tmpfs.
      const setup = await host.run('umount /project && mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 project /project && ' +
        `cp /project/.cache/emulated/share/node ${GUEST_NODE} && ${GUEST_NODE} --version`, Math.max(10_000, deadline - Date.now()));
      if (setup.code !== 0) throw new EmulatedBootError(`setting up /project inside failed: ${setup.stderr.trim()}`);
      if (opts.libvirtd !== false) {
        const t1 = Date.now();
        const left = Math.max(1, Math.floor((deadline - Date.now()) / 1000));
        const r = await host.run(`i=0; until virsh -c qemu:///system version >/dev/null 2>&1; do i=$((i+1)); [ $i -ge ${left * 2} ] && { tail -5 /run/libvirtd.log; exit 1; }; sleep 0.5; done`, left * 1000 + 5000);
        if (r.code !== 0) throw new EmulatedBootError(`libvirtd inside the emulated host did not answer within ${left} s: ${r.stdout.trim()}`);
        host.timings.libvirtd = (Date.now() - t1) / 1000;
      }
      return host;
    } catch (e) {
      // Read the logs before kill(), which removes the run directory.
      const consoleTail = tail(join(dir, 'console.log'));
      const stderrTail = tail(join(dir, 'qemu.stderr'), 5, '');
      host.kill();
      const why = e instanceof EmulatedBootError ? e.message : `not ready within ${Math.round(((opts.readyTimeoutMs ?? 180_000) / 1000))} s (${host.exited ? `QEMU ended: ${host.exited}; ` : ''}${(e as Error).message})`;
      throw new EmulatedBootError(`emulated host (${topology.name}, kernel ${kernel}, ${vcpus(topology)} vCPUs) did not boot: ${why}\n--- console tail (${host.consoleLog}) ---\n${consoleTail}${stderrTail ? `\n${stderrTail}` : ''}`);
    }
  }

  private async connect(deadline: number): Promise<void> {
    const sock = join(this.rec.dir, 'cmd.sock');
    while (!this.channel) {
      if (this.exited) throw new Error('QEMU exited');
      if (Date.now() > deadline) throw new Error('no command socket');
      if (existsSync(sock)) this.channel = await Channel.open(sock).catch(() => undefined);
      if (!this.channel) await new Promise((r) => setTimeout(r, 100));
    }
    const poll = setInterval(() => {
      if (this.exited) this.channel?.close();
    }, 200);
    try {
      await this.channel.expect(/@@READY\r?\n/, deadline);
    } finally {
      clearInterval(poll);
    }
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
      const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
      await Promise.race([
        this.channel.run('@@POWEROFF', timeoutMs).then(() => gone).catch(() => undefined),
        new Promise((r) => setTimeout(r, timeoutMs)),
      ]);
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
