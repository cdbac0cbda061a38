// Tiering cells as the runner's cases: `tiering/KERNEL/SCENARIO` run the matrix's guests
// (tiering-scenario.ts) on the emulated `tiered` host with the libvirt of the run (the image's,
// or a series build inside). Their expectations are the matrix's per-cell goldens
// golden/runtime-emulated/tiering/KERNEL/BUILD/SCENARIO.json, blessed from observation by
// `npm run tiering -- --bless`. BUILD is `as-built`, or the series directory the build's patches
// came from when the matrix has cells for it (a series it has none for is expected to behave as
// libvirt as built).
import { existsSync, readFileSync } from 'node:fs';
import type { Case } from '../runner/case.js';
import { basename, dirname, join } from 'node:path';

export const TIERING_KERNELS = ['6.12', '7.2'] as const;
export const AS_BUILT = 'as-built';
/** The sid image's libvirt (12.8, Debian's build; `npm run tiering -- --host sid`): there is no
 *  12.x source to apply a series to, so only its own cells. */
export const SID_AS_BUILT = 'sid-as-built';
const asBuilt = (build: string): boolean => build === AS_BUILT || build === SID_AS_BUILT;

export function tieringGoldenDir(root: string): string {
  return join(root, 'golden', 'runtime-emulated', 'tiering');
}

export function tieringGoldenPath(root: string, kernel: string, build: string, scenario: string): string {
  return join(tieringGoldenDir(root), kernel, build, `${scenario}.json`);
}

/** The series directory a build's patches came from (`DIR/*.patch` or `DIR/<version>/*.patch`). */
export function seriesDirOf(patches: string[]): string | null {
  if (!patches.length) return null;
  const dir = dirname(patches[0]!);
  return /^\d+\.\d+\.\d+$/.test(basename(dir)) ? basename(dirname(dir)) : basename(dir);
}

/** The matrix build whose cells a run's libvirt is held to. */
export function tieringBuild(root: string, patches: string[]): string {
  const dir = seriesDirOf(patches);
  return dir && existsSync(join(tieringGoldenDir(root), TIERING_KERNELS[0], dir)) ? dir : AS_BUILT;
}

/** Whether "0 pages outside the nodeset" is asserted: a series (the fix) on a kernel that
 *  honours cpusets when demoting (>= 7). Elsewhere the count is recorded, not asserted: whether
 *  the kernel demotes within the window varies under TCG. */
export function confinementClaimed(kernel: string, build: string): boolean {
  return !asBuilt(build) && Number(kernel.split('.')[0]) >= 7;
}

export const RECORDED = 'recorded, not asserted (may leave the nodeset)';

/** One cell's verdict document (what its golden holds). */
export function cellVerdict(kernel: string, build: string, domainMems: string, outside: number): string {
  return JSON.stringify({ domain_cpuset_mems: domainMems, pages_outside_nodeset: confinementClaimed(kernel, build) ? outside : RECORDED }, null, 2) + '\n';
}

/** The runner's tiering cases: every scenario of cases/emulated/tiering.json on each kernel. */
export function tieringCases(root: string, build: string): Case[] {
  const file = join(root, 'cases', 'emulated', 'tiering.json');
  if (!existsSync(file)) return [];
  const list = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  return TIERING_KERNELS.flatMap((kernel) => Object.entries(list).filter(([k]) => !k.startsWith('_')).map(([key, why]): Case => ({
    source: 'project', name: key, op: 'runtime', profile: 'emulated-tiered', id: `tiering/${kernel}/${key}`, host: 'tiered',
    input: file, why: `kernel ${kernel}, libvirt ${build}: ${why}`,
    expect: { kind: 'text', file: tieringGoldenPath(root, kernel, build, key) },
  })));
}
