#!/usr/bin/env node
// Probe the running libvirt (qemu:///system, or --uri) and write .cache/profiles/host.json
// (HostFacts in harness/model/host-facts.ts). Every fact the model needs of this host is asked of
// libvirt itself (capabilities, domxml-to-native, a paused guest) — none is assumed. A fact that
// cannot be decided stops the probe with the fact named, so a run never guesses it.
//
//   node scripts/probe-host.mjs [--uri URI] [--out FILE] [--if-stale]
//   --if-stale   keep FILE when the probe's fingerprint of the host (daemon pid and start time,
//                /dev/kvm, hugetlbfs mounts, numad, this script) is unchanged
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The build runs before the probe (npm run setup): one shell-word splitter for the project.
import { splitWords as shellWords } from '../dist/neutral/args-layout.js';
import { probeHugetlbfs } from './lib/probe-hugetlbfs.mjs';
import { probeRuntime } from './lib/probe-runtime.mjs';

/** Bumped when the facts' shape changes: readers refuse facts of another version (stale). */
export const PROBE_VERSION = 4;

const argOf = (flag) => { const i = process.argv.indexOf(flag); return i > 0 ? process.argv[i + 1] : undefined; };
const URI = argOf('--uri') ?? 'qemu:///system';
const TIMEOUT_MS = Number(process.env.LVH_PROBE_TIMEOUT_MS || 60_000);
const PROBE_NAME = `lvh-probe-${process.pid}`;
const top = join(dirname(fileURLToPath(import.meta.url)), '..');
// LVH_PROBE_OUT: where to write instead (the emulated host probes its libvirt with a read-only /project).
const outFile = argOf('--out') ?? (process.env.LVH_PROBE_OUT || join(top, '.cache', 'profiles', 'host.json'));

class Undecided extends Error { name = 'Undecided'; }
/** Stop: `fact` cannot be decided, and why. */
const undecided = (fact, why) => { throw new Undecided(`cannot decide ${fact}: ${why}`); };

function run(cmd, args, timeout = TIMEOUT_MS) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        let why = null;
        if (err) {
          why = err.killed ? `timed out after ${timeout / 1000} s`
            : err.code === 'ENOENT' ? `${cmd} not found`
            : (String(stderr).trim().split('\n').filter((l) => l.trim()).pop() || err.message);
        }
        resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr), why });
      });
  });
}

const virsh = (...args) => run('virsh', ['-c', URI, ...args]);
async function must(fact, ...args) {
  const r = await virsh(...args);
  if (!r.ok) undecided(fact, `virsh ${args[0]}: ${r.why}`);
  return r.stdout;
}
/** libvirt's message of a failed virsh call, without virsh's "error: " prefixes. */
const libvirtMessage = (r) => r.stderr.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('error: ')).map((l) => l.slice(7))
  .filter((l) => !/^Failed to (create|start) domain/.test(l)).pop() ?? r.why;

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}=(['"])(.*?)\\1`));
  return m ? m[2] : undefined;
}

function toKiB(value, unit = 'KiB') {
  const mult = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024,
    mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024, t: 1024 ** 3, tib: 1024 ** 3 };
  const f = mult[unit.toLowerCase()];
  if (f === undefined) undecided('the NUMA nodes', `unknown memory unit ${unit}`);
  return Math.round(Number(value) * f);
}

const domainXml = ({ type = 'qemu', arch = 'x86_64', emulator, extra = '', vcpu = '<vcpu>1</vcpu>', name = PROBE_NAME, devices = '', backing = '' }) =>
  `<domain type='${type}'><name>${name}</name><memory unit='KiB'>65536</memory>${backing}${vcpu}` +
  `<os><type arch='${arch}' machine='pc'>hvm</type></os>${extra}` +
  `${emulator || devices ? `<devices>${emulator ? `<emulator>${emulator}</emulator>` : ''}${devices}</devices>` : ''}</domain>\n`;

let workDir;
async function xmlFile(text) {
  const f = join(workDir, `d${Math.random().toString(16).slice(2)}.xml`);
  await writeFile(f, text);
  return f;
}

/** domxml-to-native of a domain: its words, or libvirt's error. */
async function toNative(text) {
  const r = await virsh('domxml-to-native', 'qemu-argv', await xmlFile(text));
  return r.ok ? { words: shellWords(r.stdout.trim()) } : { error: libvirtMessage(r) };
}
const cpuOf = (words) => { const i = words.indexOf('-cpu'); return i >= 0 ? words[i + 1] : null; };

/** The fingerprint --if-stale compares: what changes the facts without a new probe noticing. */
function fingerprint() {
  const h = createHash('sha256');
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const lib of ['probe-hugetlbfs.mjs', 'probe-runtime.mjs']) h.update(readFileSync(join(top, 'scripts', 'lib', lib)));
  h.update(URI);
  const pidFile = URI === 'qemu:///system' ? '/run/libvirtd.pid' : null;
  let daemon = 'unknown';
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    daemon = `${pid}:${readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[21]}`;
  } catch { /* another daemon: no fingerprint, always probed */ }
  if (daemon === 'unknown') return null;
  h.update(daemon);
  try { const s = statSync('/dev/kvm'); h.update(`kvm:${s.mode}:${s.gid}`); } catch { h.update('kvm:none'); }
  h.update(readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => / hugetlbfs /.test(l)).join('\n'));
  h.update(existsSync('/usr/bin/numad') ? 'numad' : 'no-numad');
  return h.digest('hex').slice(0, 16);
}

async function main() {
  if (process.getuid && process.getuid() !== 0) throw new Undecided('must run as root (qemu:///system)');
  const print = fingerprint();
  if (process.argv.includes('--if-stale') && print && existsSync(outFile)) {
    try {
      const old = JSON.parse(readFileSync(outFile, 'utf8'));
      if (old.probeVersion === PROBE_VERSION && old.fingerprint === print) {
        console.log(`probe-host: facts unchanged (fingerprint ${print}) -> ${outFile}`);
        return;
      }
    } catch { /* unreadable: probe again */ }
  }

  const version = await must('the libvirt version', 'version', '--daemon');
  // The daemon's version, not the client library's: a series build's daemon is probed with the
  // machine's virsh.
  const libvirtVersion = (version.match(/Running against daemon: (\d+\.\d+\.\d+)/) ?? version.match(/Using library: libvirt (\d+\.\d+\.\d+)/))?.[1];
  const qemuVersion = version.match(/Running hypervisor: QEMU (\d+\.\d+\.\d+)/)?.[1];
  if (!libvirtVersion || !qemuVersion) undecided('the libvirt and QEMU versions', `cannot parse 'virsh version':\n${version}`);

  workDir = await mkdtemp(join(tmpdir(), 'lvh-probe-'));
  try {
    // Capabilities: emulators, machine aliases, which virt types each guest arch supports, the
    // host CPU and NUMA nodes.
    const caps = await must('the capabilities', 'capabilities');
    const machineAliases = {};
    const emulators = {};
    const virtTypes = {};
    for (const guest of caps.split('<guest>').slice(1)) {
      const arch = guest.match(/<arch name='([^']+)'>([\s\S]*?)<\/arch>/);
      if (!arch || !/<os_type>hvm<\/os_type>/.test(guest)) continue;
      const emu = arch[2].match(/<emulator>([^<]+)<\/emulator>/);
      if (emu && !(arch[1] in emulators)) emulators[arch[1]] = emu[1];
      virtTypes[arch[1]] = [...arch[2].matchAll(/<domain type='([^']+)'/g)].map((m) => m[1]);
      if (arch[1] !== 'x86_64') continue;
      for (const m of arch[2].matchAll(/<machine\b([^>]*)>([^<]+)<\/machine>/g)) {
        const canonical = attr(m[1], 'canonical');
        if (canonical && !(m[2] in machineAliases)) machineAliases[m[2]] = canonical;
      }
    }
    if (!virtTypes.x86_64) undecided('the virt types', 'the capabilities list no hvm guest for arch x86_64');
    const kvmUsable = virtTypes.x86_64.includes('kvm');
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
    if (!numaNodes.length) undecided('the NUMA nodes', 'the capabilities have no <topology><cells>');

    // The daemon's environment and paths, from a tiny domain it renders.
    const tiny = await toNative(domainXml({}));
    if (tiny.error) undecided('the daemon paths', `domxml-to-native of a tiny domain: ${tiny.error}`);
    const words = tiny.words;
    const env = {};
    let i = 0;
    for (; i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]); i++) {
      const eq = words[i].indexOf('=');
      env[words[i].slice(0, eq)] = words[i].slice(eq + 1);
    }
    const qemuBinary = words[i];
    const args = words.slice(i + 1);
    const templ = (s) => s.split(PROBE_NAME).join('{name}');
    if (!env.PATH || !env.HOME || !qemuBinary) undecided('the daemon paths', 'unexpected domxml-to-native output');
    const monitor = args.find((a) => a.startsWith('socket,id=charmonitor,'))?.split(',').find((p) => p.startsWith('path=') || p.startsWith('fd='));
    if (!monitor) undecided('the monitor socket', 'no -chardev socket,id=charmonitor in domxml-to-native output');

    // How the daemon cuts a long non-ASCII name for its paths (virDomainDefGetShortName: 20
    // characters under a UTF-8 locale, 20 bytes under another): the HOME of 21 two-byte letters.
    const wide = await toNative(domainXml({ name: 'lvh\u00e9'.repeat(6) }));
    const wideHome = wide.words?.find((w) => w.startsWith('HOME='));
    const cutTo = /-1-((?:lvh\u00e9)*(?:lvh|lv|l)?\u00e9?)$/u.exec(wideHome ?? '')?.[1];
    if (cutTo === undefined) undecided('how the daemon cuts a domain name', wide.error ?? `HOME is ${wideHome}`);
    const shortNameChars = [...cutTo].length === 20;

    // Whether the daemon finds a virtiofsd for a virtiofs filesystem without <binary> or socket
    // (qemuVhostUserFillDomainFS at start: a vhost-user 'fs' descriptor whose binary answers
    // --print-capabilities; QEMU stopped shipping one in 8.0, so newer hosts may have none).
    const fs = await toNative(domainXml({
      backing: "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>",
      devices: "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><source dir='/'/><target dir='lvhprobe'/></filesystem>",
    }));
    const virtiofsdMissing = !!fs.error?.includes('Unable to find a satisfying virtiofsd');
    if (fs.error && !virtiofsdMissing) undecided('whether the daemon finds a virtiofsd', fs.error);

    // The default CPU model per virt type and emulator (qemuDomainDefSetDefaultCPU: QEMU's
    // machine types name it per accelerator; an unsupported virt type has none).
    const defaultCpuModels = {};
    for (const type of ['qemu', 'kvm']) {
      defaultCpuModels[type] = {};
      if (!virtTypes.x86_64.includes(type)) continue;
      for (const [arch, emulator] of Object.entries(emulators).filter(([a]) => a === 'x86_64' || a === 'i686')) {
        const r = await toNative(domainXml({ type, arch, emulator }));
        if (r.error) undecided(`the default CPU model (${type}, ${arch})`, r.error);
        defaultCpuModels[type][arch] = cpuOf(r.words);
      }
    }

    // Where file-backed guest RAM goes (qemu.conf memory_backing_dir): the mem-path of a cell
    // with memAccess, as the daemon renders it.
    const shared = await toNative(domainXml({ extra: "<cpu><numa><cell id='0' cpus='0' memory='65536' unit='KiB' memAccess='shared'/></numa></cpu>" }));
    const memPath = shared.words?.map((w) => /"mem-path":"([^"]+)"|mem-path=([^,]+)/.exec(w)).find(Boolean);
    const memoryBackingDir = (memPath?.[1] ?? memPath?.[2])?.replace(new RegExp(`/-1-${PROBE_NAME}/ram-node0$`), '');
    if (!memoryBackingDir || memoryBackingDir.includes(PROBE_NAME)) undecided('the memory backing directory', shared.error ?? 'no mem-path in the rendered command line');

    // CD-ROM drives (virFileIsCDROM decides host_cdrom vs host_device): the kernel's sr devices
    // and the /dev names that point at them.
    const srs = (() => { try { return readdirSync('/sys/block').filter((b) => /^sr\d+$/.test(b)).map((b) => `/dev/${b}`); } catch { return []; } })();
    const hostCdroms = [...srs];
    for (const name of (() => { try { return readdirSync('/dev'); } catch { return []; } })()) {
      if (!/^(cdrom|dvd|cdrw|dvdrw)\d*$/.test(name)) continue;
      try { if (srs.includes(realpathSync(`/dev/${name}`))) hostCdroms.push(`/dev/${name}`); } catch { /* dangling */ }
    }

    // How libvirt judges each custom CPU model on a KVM guest (check='partial' compares it with
    // the host CPU at start): the -cpu argument it builds, or its error. Only where KVM is a
    // virt type: elsewhere every KVM guest is refused before any CPU check.
    const kvmCpuModels = {};
    if (kvmUsable) {
      const domcaps = await virsh('domcapabilities', '--virttype', 'kvm');
      if (!domcaps.ok) undecided('the KVM CPU models', `the capabilities list KVM, but domcapabilities --virttype kvm failed: ${domcaps.why}`);
      const custom = domcaps.stdout.match(/<mode name='custom' supported='yes'>([\s\S]*?)<\/mode>/)?.[1] ?? '';
      for (const name of [...custom.matchAll(/<model\b[^>]*>([^<]+)<\/model>/g)].map((m) => m[1])) {
        const r = await toNative(domainXml({ type: 'kvm', extra: `<cpu mode='custom' match='exact' check='partial'><model fallback='allow'>${name}</model></cpu>` }));
        if (r.words) { const cpu = cpuOf(r.words); if (cpu) kvmCpuModels[name] = { cpu }; } else kvmCpuModels[name] = { error: r.error };
      }
    }

    // Runtime facts, from paused guests on this daemon (scripts/lib/probe-runtime.mjs).
    const first = numaNodes.find((n) => n.memoryKiB > 0)?.id ?? numaNodes[0].id;
    const { numad, runtime } = await probeRuntime({ virsh, run, xmlFile, domainXml, libvirtMessage, name: PROBE_NAME, firstNode: first });

    const hugetlbfs = await probeHugetlbfs(run, URI, PROBE_NAME);
    const qemuVer = await run(qemuBinary, ['--version']);
    const facts = {
      probeVersion: PROBE_VERSION,
      fingerprint: print,
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
      virtTypes: virtTypes.x86_64,
      kvmUsable,
      defaultCpuModels,
      memoryBackingDir,
      hostCdroms: hostCdroms.sort(),
      kvmCpuModels,
      numad,
      runtime,
      hugetlbfs,
      shortNameChars,
      virtiofsdMissing,
      // Informational: what the binary itself says (Debian's libvirt sees 7.2.22 as the version).
      qemuVersionText: qemuVer.ok ? qemuVer.stdout.split('\n')[0] : `unavailable: ${qemuVer.why}`,
    };

    await mkdir(dirname(outFile), { recursive: true });
    const tmp = `${outFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(facts, null, 2) + '\n');
    await rename(tmp, outFile);
    console.log(`probe-host: libvirt ${libvirtVersion}, QEMU ${qemuVersion}, ${numaNodes.length} NUMA node(s), ` +
      `virt types ${virtTypes.x86_64.join(',')}, default CPU ${defaultCpuModels.qemu.x86_64 ?? 'none'}, ` +
      `numad ${numad.error ? 'fails' : 'answers'}, cgroup ${runtime.cgroup}${runtime.cpusetController ? ' with cpuset' : ' without cpuset'}, ` +
      `hugetlbfs ${hugetlbfs.map((h) => `${h.mount}=${h.sizeKiB}KiB${h.default ? '(default)' : ''}`).join(' ') || 'none'}, ` +
      `machines ${Object.entries(machineAliases).map(([a, c]) => `${a}=${c}`).join(' ')} -> ${outFile}`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`probe-host: ERROR: ${err.name === 'Undecided' ? err.message : err.stack}`);
  process.exit(1);
});
