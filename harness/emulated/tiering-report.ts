// The tiering matrix's report (pure): the README table and the verdicts its golden holds.
import { NODES, type Measurement } from './tiering-scenario.js';
import { AS_BUILT, cellVerdict, SID_AS_BUILT, tieringGoldenPath } from './tiering-cells.js';

export interface Cell {
  kernel: string;
  build: string;
  scenario: string;
  /** The scenario's key (tiering-scenario.ts), the golden's file name. */
  key: string;
  nodeset: string;
  measurement: Measurement;
  before: Record<string, number>;
  after: Record<string, number>;
  outside: number;
}

/** The matrix's label of the sid image's libvirt (its goldens: SID_AS_BUILT). */
export const SID_BUILD_LABEL = 'sid as built (12.8)';

export const fmt = (p: Record<string, number>): string => NODES.filter((n) => p[n]).map((n) => `${n}=${p[n]}`).join(' ') || '-';

export function table(cells: Cell[]): string {
  return '| kernel | libvirt | guest | domain cpuset.mems | pages before | pages after | pages outside the nodeset |\n|---|---|---|---|---|---|---|\n' +
    cells.map((c) => `| ${c.kernel} | ${c.build} | ${c.scenario} | ${c.measurement.facts['cpuset.mems.domain'] || '(empty: all)'} | ${fmt(c.before)} | ${fmt(c.after)} | ${c.outside} |`).join('\n') + '\n';
}

/** Per cell: its golden's path (by build slug) and verdict text. */
export function verdictFiles(root: string, cells: Cell[]): { file: string; text: string }[] {
  return cells.map((c) => {
    const build = c.build === 'as built' ? AS_BUILT : c.build === SID_BUILD_LABEL ? SID_AS_BUILT : c.build.replace(/^\+ /, '');
    return { file: tieringGoldenPath(root, c.kernel, build, c.key), text: cellVerdict(c.kernel, build, c.measurement.facts['cpuset.mems.domain'] ?? '', c.outside) };
  });
}
