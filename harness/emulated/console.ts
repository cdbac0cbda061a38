// The emulated host's serial console file: its tail for errors, the guest kernel's last words
// for the run's notes, and a copy kept in .cache/emulated/dead-vms/ when QEMU ended by itself
// (the run directory holding the original goes with the VM).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './topology.js';

/** Consoles of VMs that ended by themselves, kept for diagnosis (.cache/emulated/dead-vms/). */
const DEAD_VMS_KEPT = 10;

export function tail(file: string, lines = 25, none = '(no console output)'): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r/g, '').trimEnd().split('\n').slice(-lines).join('\n') || none;
  } catch {
    return none;
  }
}

/** The guest kernel's last words on the console (a panic, an oops), timestamps off. */
export function lastWords(consoleLog: string): string {
  const said = tail(consoleLog, 400, '').split('\n').filter((l) => /Kernel panic|Oops|BUG:|Out of memory|soft lockup/.test(l));
  return said.slice(0, 3).map((l) => l.replace(/^\[\s*[\d.]+\]\s*/, '')).join('; ') || 'no panic or oops on its console';
}

/** Copy a dead VM's console to dead-vms/ (the newest DEAD_VMS_KEPT stay); its new path, or
 *  undefined when there was none to keep. `name` says which host (topology-kernel). */
export function keepDeadConsole(consoleLog: string, name: string, ended: string | undefined): string | undefined {
  try {
    const dir = join(projectRoot(), '.cache', 'emulated', 'dead-vms');
    mkdirSync(dir, { recursive: true });
    const dest = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${name}.console.log`);
    copyFileSync(consoleLog, dest);
    process.stderr.write(`emulated host (${name.replace(/-(?=[^-]*$)/, ', kernel ')}): QEMU ended by itself (${ended}); console kept in ${dest}\n`);
    for (const old of readdirSync(dir).sort().slice(0, -DEAD_VMS_KEPT)) rmSync(join(dir, old), { force: true });
    return dest;
  } catch {
    return undefined; // no console to keep
  }
}
