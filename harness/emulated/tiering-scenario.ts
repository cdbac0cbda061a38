// One tiering measurement inside the emulated `tiered` host (DRAM nodes 0-1 with CPUs, CPU-less
// lower-tier nodes 2 near 0 and 3 near 1): start a preallocated guest with the given numatune,
// optionally fill node 2 first, put DRAM node 0 under pressure with memhog and sample where the
// guest RAM's pages are (its numa_maps line) over time. Pure data in, parsed facts out; the
// guest is started by whichever libvirt runs inside (the image's, or a series build's).
import { parseLibvirtNodeset } from '../backends/pages-outside.js';

export const GUEST_MIB = 256;
export const FILL_LEAVE_MIB = 16;
export const NODES = ['N0', 'N1', 'N2', 'N3'] as const;

export interface Scenario {
  /** For --only (no commas or spaces). */
  key: string;
  id: string;
  mode: 'strict' | 'restrictive';
  nodeset: string;
  /** Node 2 "full": a memhog bound there takes all but `FILL_LEAVE_MIB` of its free memory first. */
  fillNode2?: boolean;
}

/** The issue's four guests, on `tiered`: node 2 is node 0's lower tier (the prototype's node 4). */
export const SCENARIOS: Scenario[] = [
  { key: 'strict-0', id: 'strict 0', mode: 'strict', nodeset: '0' },
  { key: 'restrictive-0', id: 'restrictive 0', mode: 'restrictive', nodeset: '0' },
  { key: 'restrictive-0+2', id: 'restrictive 0,2', mode: 'restrictive', nodeset: '0,2' },
  { key: 'restrictive-0+2-full', id: 'restrictive 0,2, node 2 full', mode: 'restrictive', nodeset: '0,2', fillNode2: true },
];

export interface Libvirt { uri: string; pidDir: string }
export const IMAGE_LIBVIRT: Libvirt = { uri: 'qemu:///system', pidDir: '/run/libvirt/qemu' };
/** A series build's daemon started inside (series-inside.ts): its socket URI and QEMU pid files. */
export const seriesLibvirt = (key: string, uri: string): Libvirt => ({ uri, pidDir: `/run/lvh/${key}/libvirt/qemu` });

export interface Measurement {
  facts: Record<string, string>;
  t: number[];
  nodes: Record<string, number[]>;
}

function domainXml(name: string, s: Scenario): string {
  return `<domain type='qemu'><name>${name}</name><memory unit='MiB'>${GUEST_MIB}</memory><vcpu>1</vcpu>` +
    `<memoryBacking><allocation mode='immediate'/></memoryBacking>` +
    `<numatune><memory mode='${s.mode}' nodeset='${s.nodeset}'/></numatune>` +
    `<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>`;
}

/** Shell run inside: "#key value" facts, then "t N0 N1 N2 N3" samples; exit 2 when the guest does not start. */
export function scenarioScript(name: string, s: Scenario, lv: Libvirt, seconds: number): string {
  const bytes = GUEST_MIB * 1024 * 1024;
  return `set -u
V() { virsh -c '${lv.uri}' "$@"; }
echo true > /sys/kernel/mm/numa/demotion_enabled
echo ${Buffer.from(domainXml(name, s)).toString('base64')} | base64 -d > /tmp/${name}.xml
fill=
${s.fillNode2 ? `fillmb=$(( $(awk '/MemFree/ { print $4 }' /sys/devices/system/node/node2/meminfo) / 1024 - ${FILL_LEAVE_MIB} ))
echo "#fill_node2_mib $fillmb"
memhog -r100000 \${fillmb}m --membind 2 >/dev/null 2>&1 & fill=$!; sleep 10` : ''}
V create /tmp/${name}.xml --paused >/dev/null || { [ -n "$fill" ] && kill $fill; exit 2; }
pid=$(cat ${lv.pidDir}/${name}.pid)
addr=$(while read -r range rest; do s=\${range%-*}; e=\${range#*-}; [ $((0x$e - 0x$s)) -eq ${bytes} ] && { echo $s; break; }; done < /proc/$pid/maps)
cg=$(sed -n 's/^0:://p' /proc/$pid/cgroup)
echo "#kernel $(uname -r)"
echo "#cpuset.mems.emulator $(cat /sys/fs/cgroup$cg/cpuset.mems 2>/dev/null)"
echo "#cpuset.mems.domain $(cat /sys/fs/cgroup\${cg%/*}/cpuset.mems 2>/dev/null)"
echo "#policy $(grep "^$addr " /proc/$pid/numa_maps | cut -d' ' -f2)"
echo "#tiers $(for t in /sys/devices/virtual/memory_tiering/memory_tier*; do printf '%s=%s ' \${t##*/} $(cat $t/nodelist); done)"
echo "#pgdemote_before $(awk '/^pgdemote_/ { s += $2 } END { print s + 0 }' /proc/vmstat)"
sample() { l=$(grep "^$addr " /proc/$pid/numa_maps); printf '%s' "$1"; for n in 0 1 2 3; do v=$(echo "$l" | tr ' ' '\\n' | sed -n "s/^N$n=//p"); printf ' %s' "\${v:-0}"; done; echo; }
start=$(date +%s)
sample 0
memhog -r1000 600m --membind 0 >/dev/null 2>&1 & mh=$!
while [ $(( $(date +%s) - start )) -lt ${seconds} ]; do sleep 2; sample $(( $(date +%s) - start )); done
kill $mh 2>/dev/null; wait $mh 2>/dev/null
[ -n "$fill" ] && { kill $fill 2>/dev/null; wait $fill 2>/dev/null; }
echo "#pgdemote_after $(awk '/^pgdemote_/ { s += $2 } END { print s + 0 }' /proc/vmstat)"
V destroy ${name} >/dev/null 2>&1
exit 0
`;
}

export function parseMeasurement(stdout: string): Measurement {
  const facts: Record<string, string> = {};
  const t: number[] = [];
  const nodes: Record<string, number[]> = Object.fromEntries(NODES.map((n) => [n, []]));
  for (const line of stdout.trim().split('\n')) {
    if (line.startsWith('#')) {
      const [k, ...v] = line.slice(1).split(' ');
      facts[k!] = v.join(' ').trim();
    } else if (line.trim()) {
      const [ts, ...ns] = line.split(' ').map(Number);
      t.push(ts!);
      ns.forEach((v, i) => nodes[NODES[i]!]!.push(v));
    }
  }
  return { facts, t, nodes };
}

/** Pages per node at sample k (0: before pressure; -1: at the end). */
export function pagesAt(m: Measurement, k: number): Record<string, number> {
  return Object.fromEntries(NODES.map((n) => [n, m.nodes[n]!.at(k) ?? 0]));
}

/** Guest RAM pages on nodes outside the numatune nodeset at the end. */
export function pagesOutside(m: Measurement, nodeset: string): number {
  const allowed = parseLibvirtNodeset(nodeset);
  const end = pagesAt(m, -1);
  return NODES.filter((n) => !allowed.has(Number(n.slice(1)))).reduce((sum, n) => sum + end[n]!, 0);
}

/** What runs a shell script inside the emulated host (EmulatedHost.run). */
export interface Shell { run(script: string, timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }> }

/**
 * One scenario measured inside: its guest started by `lv`, pressure for `seconds`. A guest that
 * does not start is `{ startError }` (libvirt's last line); anything else failing throws.
 */
export async function runScenario(host: Shell, s: Scenario, lv: Libvirt, seconds: number): Promise<Measurement | { startError: string }> {
  const r = await host.run(scenarioScript(`lvh-tier-${s.key.replace(/[^\w-]/g, '_')}`, s, lv, seconds), (seconds + 260) * 1000);
  const last = r.stderr.trim().split('\n').pop() ?? '';
  if (r.code === 2) return { startError: last || 'guest did not start' };
  if (r.code !== 0) throw new Error(`tiering scenario ${s.id} failed (exit ${r.code}): ${last}`);
  return parseMeasurement(r.stdout);
}
