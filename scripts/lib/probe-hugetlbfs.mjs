// The hugetlbfs mounts the running libvirt knows (cfg->hugetlbfs: read from qemu.conf or
// /proc/mounts when the daemon started, which is why the daemon is asked, not /proc/mounts).
// For each huge page size the kernel offers, libvirt renders a tiny guest backed by pages of that
// size: the mem-path it builds names the mount, or it says that it has none for the size. A
// guest with <hugepages/> (no size) shows which mount holds the default size.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Page sizes (KiB) the kernel offers (/sys/kernel/mm/hugepages) or a mount names (pagesize=). */
function candidateSizes() {
  const sizes = new Set();
  try {
    for (const d of readdirSync('/sys/kernel/mm/hugepages')) {
      const m = /^hugepages-(\d+)kB$/.exec(d);
      if (m) sizes.add(Number(m[1]));
    }
  } catch { /* no huge pages in this kernel */ }
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, , type, opts = ''] = line.split(' ');
    if (type !== 'hugetlbfs') continue;
    const m = /(?:^|,)pagesize=(\d+)([KMG])/.exec(opts);
    if (m) sizes.add(Number(m[1]) * { K: 1, M: 1024, G: 1024 * 1024 }[m[2]]);
  }
  return [...sizes].sort((a, b) => a - b);
}

/**
 * @param run (cmd, args) => Promise<{ ok, stdout, stderr }>
 * @param uri the daemon to ask
 * @param name the probe domain's name (never defined: domxml-to-native only renders it)
 * @returns [{ mount, sizeKiB, default }] in the kernel's size order; [] when libvirt has none
 */
export async function probeHugetlbfs(run, uri, name) {
  const dir = await mkdtemp(join(tmpdir(), 'lvh-probe-huge-'));
  const render = async (pages) => {
    const f = join(dir, 'huge.xml');
    await writeFile(f, `<domain type='qemu'><name>${name}</name><memory unit='KiB'>131072</memory><vcpu>1</vcpu>` +
      `<memoryBacking><hugepages>${pages}</hugepages></memoryBacking>` +
      `<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>\n`);
    const r = await run('virsh', ['-c', uri, 'domxml-to-native', 'qemu-argv', f]);
    if (!r.ok) return null;
    // -mem-path PATH (no machine RAM id) or "mem-path":"PATH" in the pc.ram object.
    const m = /"mem-path":"([^"]+)"/.exec(r.stdout) ?? /-mem-path\s+(\S+)/.exec(r.stdout);
    const suffix = `/libvirt/qemu/-1-${name}`;
    return m && m[1].endsWith(suffix) ? m[1].slice(0, -suffix.length) : null;
  };
  try {
    const found = [];
    for (const sizeKiB of candidateSizes()) {
      const mount = await render(`<page size='${sizeKiB}' unit='KiB'/>`);
      if (mount) found.push({ mount, sizeKiB, default: false });
    }
    const dflt = found.length ? await render('') : null;
    for (const f of found) f.default = f.mount === dflt;
    return found;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
