// What /proc and the cgroup file systems say about a QEMU process: its pid, the cpuset cgroup
// of its main thread, the memory nodes and threads of a thread group. Readers only, no policy.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupDir { version: 1 | 2; dir: string }

/** The cpuset cgroup directory of a process's main thread (v1 cpuset hierarchy, else v2). */
export function cpusetCgroupOf(pid: number): CgroupDir | null {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => {
    const [pre, post] = l.split(' - ');
    const f = pre.split(' ');
    const g = (post ?? '').split(' ');
    return { root: f[3], mountpoint: f[4], fstype: g[0], superOpts: (g[2] ?? '').split(',') };
  });
  const join2 = (mountpoint: string, root: string, path: string): string => {
    const rel = root !== '/' && path.startsWith(root) ? path.slice(root.length) : path;
    return `${mountpoint}${rel}`.replace(/\/+$/, '');
  };
  for (const l of lines) {
    const [, , controllers, path] = /^(\d+):([^:]*):(.*)$/.exec(l) ?? [];
    if (controllers && controllers.split(',').includes('cpuset')) {
      const m = mounts.find((x) => x.fstype === 'cgroup' && x.superOpts.includes('cpuset'));
      if (m) return { version: 1, dir: join2(m.mountpoint, m.root, path) };
    }
  }
  for (const l of lines) {
    const [, id, controllers, path] = /^(\d+):([^:]*):(.*)$/.exec(l) ?? [];
    if (id === '0' && controllers === '') {
      const m = mounts.find((x) => x.fstype === 'cgroup2');
      if (m) {
        const dir = join2(m.mountpoint, m.root, path);
        // v2: only meaningful when the cpuset controller is enabled for the group.
        const ctl = existsSync(join(dir, 'cgroup.controllers')) ? readFileSync(join(dir, 'cgroup.controllers'), 'utf8') : '';
        if (ctl.split(/\s+/).includes('cpuset')) return { version: 2, dir };
      }
    }
  }
  return null;
}

const readTrim = (f: string): string => readFileSync(f, 'utf8').trim();

/** cpuset.mems of a thread group. */
export function readMems(dir: string, version: 1 | 2): string {
  const mems = readTrim(join(dir, 'cpuset.mems'));
  // v2: an empty cpuset.mems means "whatever the parent allows"; the effective set is the fact.
  if (version === 2 && mems === '') return readTrim(join(dir, 'cpuset.mems.effective'));
  return mems;
}

/** The thread ids in a thread group. */
export function threadsOf(dir: string, version: 1 | 2): number[] {
  const f = join(dir, version === 1 ? 'tasks' : 'cgroup.threads');
  return existsSync(f) ? readTrim(f).split('\n').filter(Boolean).map(Number) : [];
}

/** The QEMU process of a running guest: its pid file, else the guest=NAME argument of any process. */
export function findQemuPid(name: string): number | null {
  const wanted = `guest=${name},`;
  const pidFile = `/run/libvirt/qemu/${name}.pid`;
  const candidates: number[] = [];
  if (existsSync(pidFile)) candidates.push(Number(readTrim(pidFile)));
  for (const p of readdirSync('/proc')) if (/^\d+$/.test(p)) candidates.push(Number(p));
  for (const pid of candidates) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.includes(wanted.slice(0, -1)) || args.some((a) => a.startsWith(wanted))) return pid;
    } catch { /* gone or not readable */ }
  }
  return null;
}
