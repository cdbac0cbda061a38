// The real libvirt, timed in the same run as the model: `virsh domxml-to-native` as a fresh
// process per call, and the runner's libvirt backend (one long-lived virsh session).
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import fg from 'fast-glob';
import { runModel } from '../backends/model.js';
import { mean, median } from './stats.js';

const VIRSH_FILES = 20;

export interface VirshFigures {
  skipped?: string;
  files?: number;
  ok?: number;
  errors?: number;
  medianMs?: number;
  meanMs?: number;
  note?: string;
}

export interface SessionFigures {
  skipped?: string;
  files?: number;
  argvMedianMs?: number;
  xmlMedianMs?: number;
  modelArgvMedianMs?: number;
  modelXmlMedianMs?: number;
  argvRealOverModel?: number;
  xmlRealOverModel?: number;
}

/** A fresh virsh process per call on up to 20 of the project's cases (evenly spaced). */
export async function benchVirsh(root: string): Promise<VirshFigures> {
  const probe = await execa('virsh', ['-c', 'qemu:///system', 'version'], { reject: false, timeout: 15_000 });
  if (probe.exitCode !== 0) {
    const why = probe.failed && (probe as { code?: string }).code === 'ENOENT' ? 'virsh not installed'
      : probe.timedOut ? 'virsh -c qemu:///system version timed out'
      : `virsh -c qemu:///system version: ${String(probe.stderr || probe.stdout || probe.message).trim().split('\n')[0]}`;
    return { skipped: why };
  }
  const all = fg.sync('cases/*.xml', { cwd: root, absolute: true }).sort();
  if (!all.length) return { skipped: `no cases/*.xml under ${root}` };
  const n = Math.min(VIRSH_FILES, all.length);
  const files = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]);
  const times: number[] = [];
  let ok = 0;
  for (const f of files) {
    const t0 = performance.now();
    const r = await execa('virsh', ['-c', 'qemu:///system', 'domxml-to-native', 'qemu-argv', f], { reject: false, timeout: 30_000 });
    times.push(performance.now() - t0);
    if (r.exitCode === 0) ok++;
  }
  return {
    files: n, ok, errors: n - ok, medianMs: median(times), meanMs: mean(times),
    note: `${n} of ${all.length} cases/*.xml, a fresh virsh process per call (wall clock)`,
  };
}

/** The runner's libvirt backend (batched virsh session) vs the model (host profile), same files. */
export async function benchSession(root: string): Promise<SessionFigures> {
  const { LibvirtBackend } = await import('../backends/libvirt.js');
  const backend = new LibvirtBackend();
  try {
    const why = await backend.unavailable();
    if (why) return { skipped: why };
    const files = fg.sync('cases/*.xml', { cwd: root, absolute: true }).sort();
    const inputs = files.map((f) => readFileSync(f, 'utf8'));
    const times = { argv: [] as number[], xml: [] as number[], margv: [] as number[], mxml: [] as number[] };
    for (const text of inputs) {
      let t0 = performance.now(); await backend.argv(text, 'host'); times.argv.push(performance.now() - t0);
      t0 = performance.now(); await backend.xml(text, 'host'); times.xml.push(performance.now() - t0);
      for (let i = 0; i < 20; i++) {
        t0 = performance.now(); runModel('argv', text, 'host'); times.margv.push(performance.now() - t0);
        t0 = performance.now(); runModel('xml', text, 'host'); times.mxml.push(performance.now() - t0);
      }
    }
    const b: SessionFigures = {
      files: files.length,
      argvMedianMs: median(times.argv), xmlMedianMs: median(times.xml),
      modelArgvMedianMs: median(times.margv), modelXmlMedianMs: median(times.mxml),
    };
    b.argvRealOverModel = b.argvMedianMs! / b.modelArgvMedianMs!;
    b.xmlRealOverModel = b.xmlMedianMs! / b.modelXmlMedianMs!;
    return b;
  } finally {
    await backend.close();
  }
}
