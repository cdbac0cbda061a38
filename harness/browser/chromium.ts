// The machine's own Chromium (Debian's package, installed by npm run setup), started by us with
// a fresh profile and driven by playwright-core over the DevTools protocol. We start the process
// ourselves rather than let the driver launch it: the flags are exactly ours (this machine's
// closed network refuses Chromium's background connections), nothing is ever downloaded, and
// the process is held in the cleanup registry, so Ctrl-C or a SIGKILL of the run leaves no
// browser behind (the reaper kills it by pid and start time).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { heldTempDir, hold, processStartTime } from '../lifecycle/cleanup.js';
import { settledWithin } from '../lifecycle/wait.js';

export const CHROMIUM = process.env.LVH_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--remote-debugging-port=0',
  // No crash reporter: its handler leaves the process group and would outlive the browser.
  '--disable-breakpad', '--disable-crash-reporter'];

/** Why the browser cannot run here, or null. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (npm run setup installs Debian's chromium)`;
}

export interface Browser {
  pid: number;
  browser: import('playwright-core').Browser;
  close(): Promise<void>;
}

export async function startChromium(timeoutMs = 60_000): Promise<Browser> {
  const why = chromiumMissing();
  if (why) throw new Error(why);
  const profile = heldTempDir('lvh-chromium-');
  // Chromium puts its singleton socket in a fresh org.chromium.Chromium.* directory under
  // TMPDIR and never removes it; under the profile it goes with the profile.
  const tmp = join(profile.path, 'tmp');
  mkdirSync(tmp);
  // Its own process group: the renderer and utility processes go with the browser.
  const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${join(profile.path, 'profile')}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, TMPDIR: tmp } });
  const pid = child.pid!;
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  const killGroup = (sig: NodeJS.Signals | 0): boolean => { try { process.kill(-pid, sig); return true; } catch { return false; } };
  const held = hold({
    label: `chromium ${pid}`, order: 3,
    reap: { kind: 'kill', pid, startTime: processStartTime(pid), group: true },
    release: async () => { killGroup('SIGKILL'); if (!exited) await gone; },
    releaseSync: () => { killGroup('SIGKILL'); return true; },
  });
  const stop = async (): Promise<void> => {
    if (!exited) { killGroup('SIGTERM'); await settledWithin(gone, 5000); }
    // Helpers still writing the profile after the browser exited: the whole group goes, and the
    // profile is removed once no process of it is left.
    killGroup('SIGKILL');
    if (!exited) await gone;
    for (let i = 0; i < 100 && killGroup(0); i++) await new Promise((r) => setTimeout(r, 100));
    held.drop();
    rmSync(profile.path, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    profile.remove();
  };
  try {
    const ws = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`Chromium gave no DevTools endpoint in ${timeoutMs / 1000} s: ${err.trim().split('\n').pop() ?? ''}`)), timeoutMs);
      child.stderr!.on('data', (d: Buffer) => {
        err += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`Chromium exited (${code}) before it listened: ${err.trim().split('\n').pop() ?? ''}`)); });
    });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.connectOverCDP(ws);
    return { pid, browser, close: async () => { await browser.close().catch(() => undefined); await stop(); } };
  } catch (e) {
    await stop();
    throw e;
  }
}
