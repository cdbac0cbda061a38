#!/usr/bin/env node
// Probe the running libvirt (qemu:///system) and write .cache/profiles/host.json (HostFacts in
// harness/model/host-facts.ts). Plain Node ESM so it runs before the TypeScript build.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The build runs before the probe (npm run setup): one shell-word splitter for the project.
import { splitWords as shellWords } from '../dist/neutral/args-layout.js';
import { probeHugetlbfs } from './lib/probe-hugetlbfs.mjs';

// node scripts/probe-host.mjs [--uri URI] [--out FILE]: a series build's private daemon is
// probed the same way (scripts/series.sh), into the build's own directory.
const argOf = (flag) => { const i = process.argv.indexOf(flag); return i > 0 ? process.argv[i + 1] : undefined; };
const URI = argOf('--uri') ?? 'qemu:///system';
const TIMEOUT_MS = 30_000;
const PROBE_NAME = 'lvh-probe';
const top = join(dirname(fileURLToPath(import.meta.url)), '..');
// LVH_PROBE_OUT: where to write instead (the emulated host probes its libvirt with a read-only /project).
const outFile = argOf('--out') ?? (process.env.LVH_PROBE_OUT || join(top, '.cache', 'profiles', 'host.json'));

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        let why = null;
        if (err) {
          why = err.killed ? `timed out after ${TIMEOUT_MS / 1000} s`
            : err.code === 'ENOENT' ? `${cmd} not found`
            : (String(stderr).trim().split('\n').pop() || err.message);
        }
        resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr), why });
      });
  });
}

async function virsh(...args) {
  const r = await run('virsh', ['-c', URI, ...args]);
  if (!r.ok) throw new Error(`virsh ${args[0]}: ${r.why}`);
  return r.stdout;
}

// Shell words as virCommandToString quotes them: bare words, '...' and \x.

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}=(['"])(.*?)\\1`));
  return m ? m[2] : undefined;
}

function toKiB(value, unit = 'KiB') {
  const mult = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024,
    mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024, t: 1024 ** 3, tib: 1024 ** 3 };
  const f = mult[unit.toLowerCase()];
  if (f === undefined) throw new Error(`unknown memory unit ${unit}`);
  return Math.round(Number(value) * f);
}

async function main() {
  if (process.getuid && process.getuid() !== 0) throw new Error('must run as root (qemu:///system)');

  const version = await virsh('version', '--daemon');
  // The daemon's version, not the client library's: a series build's daemon is probed with the
  // machine's virsh.
  const libvirtVersion = (version.match(/Running against daemon: (\d+\.\d+\.\d+)/) ?? version.match(/Using library: libvirt (\d+\.\d+\.\d+)/))?.[1];
  const qemuVersion = version.match(/Running hypervisor: QEMU (\d+\.\d+\.\d+)/)?.[1];
  if (!libvirtVersion || !qemuVersion) throw new Error(`cannot parse 'virsh version':\n${version}`);

  // A tiny domain, never defined: domxml-to-native only renders it.
  const dir = await mkdtemp(join(tmpdir(), 'lvh-probe-'));
  let words;
  try {
    const xmlFile = join(dir, 'probe.xml');
    await writeFile(xmlFile, `<domain type='qemu'>
  <name>${PROBE_NAME}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>
`);
    words = shellWords(await virsh('domxml-to-native', 'qemu-argv', xmlFile));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const env = {};
  let i = 0;
  for (; i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]); i++) {
    const eq = words[i].indexOf('=');
    env[words[i].slice(0, eq)] = words[i].slice(eq + 1);
  }
  const qemuBinary = words[i];
  const args = words.slice(i + 1);
  const templ = (s) => s.split(PROBE_NAME).join('{name}');
  if (!env.PATH || !env.HOME || !qemuBinary) throw new Error('unexpected domxml-to-native output');
  const chardev = args.find((a) => a.startsWith('socket,id=charmonitor,'));
  const monitor = chardev?.split(',').find((p) => p.startsWith('path=') || p.startsWith('fd='));
  if (!monitor) throw new Error('no -chardev socket,id=charmonitor in domxml-to-native output');

  const caps = await virsh('capabilities');
  const machineAliases = {};
  const emulators = {};
  for (const guest of caps.split('<guest>').slice(1)) {
    const arch = guest.match(/<arch name='([^']+)'>([\s\S]*?)<\/arch>/);
    const emu = arch?.[2].match(/<emulator>([^<]+)<\/emulator>/);
    if (arch && emu && /<os_type>hvm<\/os_type>/.test(guest) && !(arch[1] in emulators)) emulators[arch[1]] = emu[1];
    if (!arch || arch[1] !== 'x86_64' || !/<os_type>hvm<\/os_type>/.test(guest)) continue;
    for (const m of arch[2].matchAll(/<machine\b([^>]*)>([^<]+)<\/machine>/g)) {
      const canonical = attr(m[1], 'canonical');
      if (canonical && !(m[2] in machineAliases)) machineAliases[m[2]] = canonical;
    }
  }
  // The host CPU: libvirt's verdict on custom CPU models (kvmCpuModels) depends on it.
  const hostCpuXml = caps.match(/<host>[\s\S]*?<cpu>([\s\S]*?)<\/cpu>/)?.[1] ?? '';
  const hostCpu = {
    vendor: hostCpuXml.match(/<vendor>([^<]+)<\/vendor>/)?.[1] ?? 'unknown',
    model: hostCpuXml.match(/<model>([^<]+)<\/model>/)?.[1] ?? 'unknown',
  };
  const numaNodes = [];
  // HMAT hosts list <interconnects> after </cells>, inside <topology>.
  const topo = caps.match(/<topology>\s*<cells[\s\S]*?<\/cells>/)?.[0] ?? '';
  for (const cell of topo.matchAll(/<cell id='(\d+)'>([\s\S]*?)<\/cell>/g)) {
    const mem = cell[2].match(/<memory(?: unit='([^']+)')?>(\d+)<\/memory>/);
    const cpus = [...cell[2].matchAll(/<cpu id='(\d+)'/g)].map((c) => Number(c[1]));
    numaNodes.push({ id: Number(cell[1]), memoryKiB: mem ? toKiB(mem[2], mem[1]) : 0, cpus });
  }

  const kvm = await run('virsh', ['-c', URI, 'domcapabilities', '--virttype', 'kvm']);
  const qemuVer = await run(qemuBinary, ['--version']);

  // How libvirt judges each custom CPU model on a KVM guest (check='partial' compares it with
  // the host CPU at start): the -cpu argument it builds, or its error. Asked of libvirt itself,
  // one domxml-to-native per model the domain capabilities list.
  const kvmCpuModels = {};
  if (kvm.ok) {
    const custom = kvm.stdout.match(/<mode name='custom' supported='yes'>([\s\S]*?)<\/mode>/)?.[1] ?? '';
    const names = [...custom.matchAll(/<model\b[^>]*>([^<]+)<\/model>/g)].map((m) => m[1]);
    const cpuDir = await mkdtemp(join(tmpdir(), 'lvh-probe-cpu-'));
    try {
      for (const name of names) {
        const f = join(cpuDir, 'cpu.xml');
        await writeFile(f, `<domain type='kvm'><name>${PROBE_NAME}</name><memory unit='KiB'>131072</memory><vcpu>1</vcpu>` +
          `<os><type arch='x86_64' machine='pc'>hvm</type></os><cpu mode='custom' match='exact' check='partial'>` +
          `<model fallback='allow'>${name}</model></cpu></domain>\n`);
        const r = await run('virsh', ['-c', URI, 'domxml-to-native', 'qemu-argv', f]);
        if (r.ok) {
          const w = shellWords(r.stdout.trim());
          const k = w.indexOf('-cpu');
          if (k >= 0) kvmCpuModels[name] = { cpu: w[k + 1] };
        } else {
          const m = r.stderr.trim().split('\n').filter((l) => l.startsWith('error: ')).pop();
          if (m) kvmCpuModels[name] = { error: m.slice('error: '.length) };
        }
      }
    } finally {
      await rm(cpuDir, { recursive: true, force: true });
    }
  }

  const hugetlbfs = await probeHugetlbfs(run, URI, PROBE_NAME);

  const facts = {
    libvirtVersion,
    qemuVersion,
    qemuBinary,
    daemonPath: env.PATH,
    stateDirTemplate: templ(env.HOME),
    monitorTemplate: templ(monitor),
    machineAliases,
    emulators,
    numaNodes,
    hostCpu,
    kvmUsable: kvm.ok,
    kvmCpuModels,
    hugetlbfs,
    // Informational: what the binary itself says (Debian's libvirt sees 7.2.22 as the version).
    qemuVersionText: qemuVer.ok ? qemuVer.stdout.split('\n')[0] : `unavailable: ${qemuVer.why}`,
  };

  await mkdir(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(facts, null, 2) + '\n');
  await rename(tmp, outFile);
  console.log(`probe-host: libvirt ${libvirtVersion}, QEMU ${qemuVersion}, ` +
    `${numaNodes.length} NUMA node(s), kvm ${kvm.ok ? 'usable' : 'not usable'}, ` +
    `hugetlbfs ${hugetlbfs.map((h) => `${h.mount}=${h.sizeKiB}KiB${h.default ? '(default)' : ''}`).join(' ') || 'none'}, ` +
    `machines ${Object.entries(machineAliases).map(([a, c]) => `${a}=${c}`).join(' ')} -> ${outFile}`);
}

main().catch((err) => {
  console.error(`probe-host: ERROR: ${err.message}`);
  process.exit(1);
});
