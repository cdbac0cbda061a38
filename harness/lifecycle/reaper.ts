// The reaper: started detached by cleanup.ts, it watches its owner's pid and, once the owner is
// gone without having released everything (SIGKILL, a crash), carries out the reap orders
// still in the state file. Names and start times are checked first: it never touches what is
// not ours. It retries while libvirtd does not answer, for up to 10 minutes, then gives up.
//
//   node dist/lifecycle/reaper.js OWNER_PID STATE_FILE STATE_DIR
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeAtomic } from '../neutral/atomic-file.js';
import { procStatFields, processStartTime, type ReapOrder } from './cleanup.js';

const [owner, file, dir] = process.argv.slice(2);
const NOT_FOUND = /failed to get domain|Domain not found|no domain with matching/i;
const GIVE_UP_MS = 600_000;

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
};
const virsh = (uri: string, args: string[]) =>
  spawnSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, LC_ALL: 'C' } });

/** Processes in process group `pgid` started no earlier than its leader (clock ticks since boot):
 *  the leader's helpers, never a later group that happens to reuse the number. */
function groupMembers(pgid: number, leaderStart: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = procStatFields(d);
    if (f && Number(f[2]) === pgid && Number(f[19]) >= leaderStart) out.push(Number(d));
  }
  return out;
}

/** Carry out one order; true when done (or nothing is left to do), false to try again later. */
function reap(o: ReapOrder & { looks?: number }): boolean {
  if (o.kind === 'rm') { rmSync(o.path, { recursive: true, force: true }); return true; }
  if (o.kind === 'kill') {
    if (o.group) {
      const members = groupMembers(o.pid, Number(o.startTime));
      for (const m of members) try { process.kill(m, 'SIGKILL'); } catch { /* gone meanwhile */ }
      return groupMembers(o.pid, Number(o.startTime)).length === 0;
    }
    if (processStartTime(o.pid) !== o.startTime) return true; // gone, or the pid is someone else's now
    try { process.kill(o.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    return processStartTime(o.pid) !== o.startTime;
  }
  // A private daemon (a series build's, the fuzzer's) whose socket is gone took its domains with it.
  const socket = /[?&]socket=([^&]+)/.exec(o.uri)?.[1];
  if (socket && !existsSync(socket)) return true;
  const look = virsh(o.uri, ['domname', o.uuid]);
  const name = (look.stdout ?? '').split('\n')[0];
  if (look.status === 0) {
    if (!name.startsWith(o.prefix)) return true; // renamed: not ours any more
    const r = virsh(o.uri, o.action === 'destroy' ? ['destroy', o.uuid] : ['undefine', o.uuid, '--keep-nvram', '--keep-tpm']);
    return r.status === 0 || NOT_FOUND.test(r.stderr ?? '');
  }
  if (!NOT_FOUND.test(look.stderr ?? '')) return false; // libvirtd does not answer: later
  // Not found: done, unless the define/create may still be finishing in the daemon.
  o.looks = (o.looks ?? 0) + 1;
  return o.confirmed || o.looks >= 10;
}

let since = 0;
const timer = setInterval(() => {
  if (!existsSync(file)) { clearInterval(timer); return; } // released everything itself
  if (alive(Number(owner))) return;
  since ||= Date.now();
  let orders: ReapOrder[] = [];
  try { orders = JSON.parse(readFileSync(file, 'utf8')) as ReapOrder[]; } catch { /* half-written: next tick */ return; }
  const left = orders.filter((o) => !reap(o));
  if (!left.length || Date.now() - since > GIVE_UP_MS) {
    rmSync(dir, { recursive: true, force: true });
    clearInterval(timer);
    return;
  }
  writeAtomic(file, JSON.stringify(left));
}, 1000);
