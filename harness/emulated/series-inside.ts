// A series build (scripts/build-libvirt.sh, built on this Debian 12 machine for Debian 12, like
// the image) run as the libvirt of the emulated host: the build reaches the guest through the
// read-only project share, and is made visible at the paths it was built for (meson baked the
// build dir into its driver-module paths, and the sysconfdir and state dirs into the daemon):
// its version's slot (/var/lib/lvh-build/vX.Y.Z, scripts/in-build.sh), or, for a build made
// before the slots, its own absolute path on this machine. As on this machine, the key's state
// and runtime dirs are mounted on the slot's, so its socket and guests' pid files are at
// /run/lvh/KEY/ inside too. The image's own libvirtd is stopped first, so every guest inside is
// started by the build under test.
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { EmulatedHost } from './vm.js';
import { projectRoot } from './topology.js';
import type { SeriesBuild } from '../series/manifest.js';

/** What of a build's manifest the emulated host needs: OUT/KEY on this machine (it must lie inside
 *  the project: only the project is shared), its private socket (the same inside as outside,
 *  /run/lvh/KEY), and the paths it was built for (recipe 3+). */
export type SeriesInside = Pick<SeriesBuild, 'key' | 'root' | 'uri' | 'slot' | 'buildRoot' | 'stateDir' | 'runDir'>;

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function seriesInsideOf(b: SeriesBuild): SeriesInside {
  return { key: b.key, root: b.root, uri: b.uri, slot: b.slot, buildRoot: b.buildRoot, stateDir: b.stateDir, runDir: b.runDir };
}

/** The shell script that swaps the image's libvirtd for the build's; exit 1 with the daemon's
 *  log tail when it does not answer. */
export function seriesStartScript(b: SeriesInside, waitSecs = 120): string {
  const top = projectRoot();
  const rel = relative(top, b.root);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`series build ${b.key} lies outside the project (${b.root}); the emulated host only sees ${top}`);
  if (!/^[0-9a-f]{16}$/.test(b.key)) throw new Error(`bad series key ${b.key}`);
  if (b.slot && !/^v[0-9.]+$/.test(b.slot)) throw new Error(`bad slot ${b.slot} of series build ${b.key}`);
  // Where the daemon finds its build: the slot's mount point, or this machine's path.
  const at = b.buildRoot ?? b.root;
  const etc = `${at}/inst/etc/libvirt`;
  const log = `/run/lvh-series/libvirtd.log`;
  // Mounted once per boot (a restart of the daemon after a crash runs this again).
  const bind = (src: string, dst: string): string => `mkdir -p ${q(dst)} && { mountpoint -q ${q(dst)} || mount --bind ${q(src)} ${q(dst)}; }`;
  const place = b.buildRoot && b.stateDir && b.runDir
    // the build at its slot, the key's state dirs on the slot's (bind mounts of the 9p share: no copy)
    ? [bind(`/project/${rel}`, at),
       ...([[`/var/lib/lvh/${b.key}`, b.stateDir], [`/run/lvh/${b.key}`, b.runDir]] as const).map(([own, d]) => `mkdir -p ${q(own)} && ${bind(own, d)}`)]
    // The project at this machine's path too (bind mount of the 9p share: no copy).
    : [`mkdir -p ${q(top)} && mountpoint -q ${q(top)} || mount --bind /project ${q(top)}`];
  return [
    'set -e',
    ...place,
    `test -x ${q(`${at}/build/src/libvirtd`)} || { echo "no libvirtd in series build ${b.key}" >&2; exit 1; }`,
    // Its sysconfdir writable (the daemon creates qemu/ and autostart/ there), from the host's
    // copy without libvirt/qemu/: those are the domains the machine's own series daemon defines
    // while this runs (a define writes NAME.xml.new and renames it: cp -a failed on one that went
    // in between, in a CI dry run), and this daemon must not load them as its own.
    `mountpoint -q ${q(`${at}/inst/etc`)} || { mount -t tmpfs tmpfs ${q(`${at}/inst/etc`)} && tar -C /project/${rel}/inst/etc --exclude=./libvirt/qemu -cf - . | tar -C ${q(`${at}/inst/etc`)} -xf -; }`,
    `mkdir -p ${q(etc)} /run/lvh-series /var/lib/lvh/${b.key} /run/lvh/${b.key}`,
    `cat > ${q(`${etc}/libvirtd.conf`)} <<'EOF'`,
    '# the series daemon inside the emulated host (harness/emulated/series-inside.ts)',
    'listen_tls = 0', 'listen_tcp = 0', 'unix_sock_rw_perms = "0700"', 'unix_sock_ro_perms = "0700"',
    'auth_unix_rw = "none"', 'auth_unix_ro = "none"',
    'log_level = 3', 'log_filters = "1:util.cgroup"', `log_outputs = "1:file:${log}"`,
    'EOF',
    `printf 'stdio_handler = "file"\\n' > ${q(`${etc}/qemu.conf`)}`,
    // The image's daemon goes: one libvirt per host, the one under test.
    'if [ -f /run/libvirtd.pid ]; then p=$(cat /run/libvirtd.pid); kill "$p" 2>/dev/null || true; i=0; while [ -d /proc/$p ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; fi',
    `env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C LIBVIRT_DIR_OVERRIDE=1 ${q(`${at}/build/src/libvirtd`)} -d --pid-file /run/lvh-series/libvirtd.pid`,
    'set +e',
    `i=0; until virsh -c ${q(b.uri)} version >/dev/null 2>&1; do i=$((i+1)); if [ $i -ge ${waitSecs * 2} ]; then echo "series libvirtd ${b.key} did not answer within ${waitSecs} s" >&2; tail -5 ${log} >&2; exit 1; fi; sleep 0.5; done`,
    `virsh -c ${q(b.uri)} version --daemon | sed -n 's/^Running against daemon: *//p'`,
  ].join('\n');
}

/** Start the series' daemon inside `h` (replacing the image's); returns its version line and seconds. */
export async function startSeriesInside(h: EmulatedHost, b: SeriesInside): Promise<{ version: string; seconds: number }> {
  const t0 = Date.now();
  // The mount point of its writable sysconfdir must exist on the (read-only) share: made here,
  // on this machine (scripts/series-daemon.sh makes it too, when the build ran here first).
  mkdirSync(join(b.root, 'inst', 'etc'), { recursive: true });
  const r = await h.run(seriesStartScript(b), 200_000);
  if (r.code !== 0) throw new Error(`starting series build ${b.key} inside the emulated host failed: ${r.stderr.trim()}`);
  return { version: r.stdout.trim(), seconds: (Date.now() - t0) / 1000 };
}
