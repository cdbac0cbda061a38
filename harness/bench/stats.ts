// Small timing helpers shared by the bench modules.
import { spawn } from 'node:child_process';

export const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export interface Timed { ms: number; code: number | null; stdout: string; stderr: string }

/** Wall time of one child process, from spawn to exit, with its output collected. */
export function timeProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** Several commands timed in alternation (a, b, c, a, b, c, …), so a slow phase of a shared
 *  machine hits all of them alike; returns every command's samples. */
export async function alternate(cmds: { cmd: string; args: string[] }[], rounds: number): Promise<Timed[][]> {
  const samples: Timed[][] = cmds.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cmds.length; i++) samples[i].push(await timeProcess(cmds[i].cmd, cmds[i].args));
  }
  return samples;
}
