// The guest's side of saving and restoring the emulated host, and the save itself through QMP.
// QEMU refuses to migrate while the 9p share is mounted, so a save unmounts it first and every
// resumed VM mounts it again; a restored guest's clock stands where it was at the save, so it
// is set from ours; its entropy pool is the saved one, so fresh bytes are mixed in.
// Guest RAM is not in the stream: both sides set x-ignore-shared, under which QEMU 7.2 leaves out
// RAM blocks that are shared (ramblock_is_ignored: the saving VM's memory-backend-file share=on
// nodes). The destination's blocks are share=off, so not ignored there, but the stream holds no
// pages for them and nothing is loaded into them: they keep what their private mapping of the
// saved file reads. Its block list still names every block with its size (checked), and the
// address check of RAM_SAVE_FLAG_MEM_SIZE applies only to blocks ignored on the destination.
import { existsSync } from 'node:fs';
import { Qmp } from './qmp.js';

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The project share as every command inside sees it: read-only, guest page cache on. */
export const SHARE_MOUNT = 'mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 project /project';

/** Before the state is taken: no share mounted, the disk written. The page cache is kept: guest
 *  RAM is no longer in the stream, and a restored guest reads a cached page from the RAM file
 *  (the host's page cache) faster than from its disk under TCG. */
export function prepareSaveScript(): string {
  return 'set -e\numount /project\nsync';
}

export const RESUMED_SCRIPT = '@@RESUMED';

/** One empty cgroup with the memory and cpuset controllers, made while the guest is quiet and
 *  never removed. The first non-root memory cgroup turns the kernel's memcg_kmem_online static
 *  key on, and cpuset's keys flip whenever the number of cpusets crosses one; each flip rewrites
 *  kernel code under the other vCPU. Left to the first nested guest's start, mid-batch under
 *  TCG, that once killed the guest ("Oops: int3" at the key's site in __alloc_pages, kernel
 *  6.12, .cache/emulated/dead-vms/ on 2026-12-06). Made at boot, before the state is saved, and
 *  again (a no-op then) after a restore of a state saved without it. Never fatal. */
export const PIN_STATIC_KEYS = '{ mkdir -p /sys/fs/cgroup/lvh-static-keys 2>/dev/null || :; }';

/** After a restore: the clock from ours, then entropy stirred and the share mounted in the
 *  background while libvirtd is asked (it was answering when saved; a few tries in case a timer
 *  of its own fires first): under TCG each costs a cold start of its programs, and virsh's is the
 *  longest (0.6 s of the command's 1.2 s on a quiet machine). Then both are waited for, and the
 *  time said. */
export function resumeScript(epochSeconds: number, entropy: Uint8Array): string {
  return [
    'set -e',
    `date -u -s @${epochSeconds.toFixed(3)} >/dev/null`,
    `printf %s ${Buffer.from(entropy).toString('base64')} | base64 -d > /dev/urandom & e=$!`,
    `${SHARE_MOUNT} & m=$!`,
    PIN_STATIC_KEYS,
    'i=0; until virsh -c qemu:///system version >/dev/null 2>&1; do i=$((i+1)); [ $i -ge 20 ] && { echo "libvirtd does not answer" >&2; tail -3 /run/libvirtd.log >&2; exit 1; }; sleep 0.5; done',
    'wait $e || { echo "stirring the entropy pool failed" >&2; exit 1; }',
    'wait $m || { echo "mounting /project failed" >&2; exit 1; }',
    `echo ${RESUMED_SCRIPT}`,
    'echo "@@NOW $(date +%s.%N)"',
  ].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const IGNORE_SHARED = { capabilities: [{ capability: 'x-ignore-shared', state: true }] };

/** Load the saved state into a QEMU started with `-incoming defer` (x-ignore-shared first: the
 *  stream was written with it and is read differently without), wait until it is loaded, then
 *  run the guest. Nothing may be sent on the channel before: bytes reaching the serial port
 *  while the state loads are lost with it. */
export async function loadAndRun(qmpSocket: string, stateFile: string, deadline: number, gone: () => string | undefined): Promise<void> {
  while (!existsSync(qmpSocket)) {
    if (gone()) throw new Error(`QEMU ended: ${gone()}`);
    if (Date.now() > deadline) throw new Error('no QMP socket');
    await sleep(20);
  }
  const qmp = await Qmp.open(qmpSocket);
  try {
    await qmp.execute('migrate-set-capabilities', IGNORE_SHARED);
    await qmp.execute('migrate-incoming', { uri: `exec:cat ${q(stateFile)}` });
    for (;;) {
      const st = await qmp.execute('query-status') as { status?: string };
      if (st.status === 'running') return;
      if (st.status !== 'inmigrate') {
        const m = await qmp.execute('query-migrate') as { status?: string; 'error-desc'?: string };
        // The state was saved from a stopped VM, so it loads stopped: run it.
        if (m.status === 'completed' && st.status === 'paused') {
          await qmp.execute('cont');
          continue;
        }
        throw new Error(`loading the saved state ended in '${st.status}' (${m['error-desc'] ?? m.status ?? 'no detail'})`);
      }
      if (Date.now() > deadline) throw new Error('the saved state was still loading at the deadline');
      await sleep(25);
    }
  } finally {
    qmp.close();
  }
}

/**
 * Stop the VM and stream its device state into `file` (QEMU's migration to a command's stdin;
 * its RAM stays in its shared files), run `whilePaused` while the VM stands still after it, then
 * end QEMU: run on, the guest would write into the RAM files just saved. If anything fails the
 * VM runs on instead (its RAM files go with the abandoned save; the mapping stays valid).
 * The stream lands in FILE.part and is renamed when cat has written all of it.
 */
export async function migrateToFile(qmpSocket: string, file: string, whilePaused: () => Promise<void>, timeoutMs = 180_000): Promise<void> {
  const qmp = await Qmp.open(qmpSocket);
  let saved = false;
  try {
    await qmp.execute('migrate-set-capabilities', IGNORE_SHARED);
    // To a file there is nothing to spare: QEMU's default cap is 128 MiB/s.
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 100_000_000_000 });
    // Stopped first: one pass over RAM, no dirty-page rounds under TCG, and the state is exactly
    // that of the moment the disk overlay is copied.
    await qmp.execute('stop');
    await qmp.execute('migrate', { uri: `exec:cat > ${q(`${file}.part`)} && mv ${q(`${file}.part`)} ${q(file)}` });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await qmp.execute('query-migrate') as { status?: string; 'error-desc'?: string };
      if (st.status === 'completed') break;
      if (st.status === 'failed' || st.status === 'cancelled') throw new Error(`QEMU's migration ${st.status}${st['error-desc'] ? `: ${st['error-desc']}` : ''}`);
      if (Date.now() > deadline) {
        await qmp.execute('migrate_cancel').catch(() => undefined);
        throw new Error(`QEMU's migration did not complete within ${timeoutMs / 1000} s`);
      }
      await sleep(50);
    }
    while (!existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`the saved state was not written within ${timeoutMs / 1000} s`);
      await sleep(20);
    }
    await whilePaused();
    saved = true;
  } finally {
    if (saved) await qmp.execute('quit').catch(() => undefined); // the connection drops as QEMU ends
    else {
      // After a completed migration the VM stands in 'postmigrate': run it again.
      const st = await qmp.execute('query-status') as { status?: string };
      if (st.status !== 'running') await qmp.execute('cont');
    }
    qmp.close();
  }
}
