// The tiering matrix's report (pure): the README table and the verdicts its golden holds.
import { NODES, type Measurement } from './tiering-scenario.js';

export interface Cell {
  kernel: string;
  build: string;
  scenario: string;
  nodeset: string;
  measurement: Measurement;
  before: Record<string, number>;
  after: Record<string, number>;
  outside: number;
}

/** Whether "0 pages outside" is asserted for this cell (see the header). */
export function confinementClaimed(kernel: string, label: string): boolean {
  return label !== 'as built' && Number(kernel.split('.')[0]) >= 7;
}

export const fmt = (p: Record<string, number>): string => NODES.filter((n) => p[n]).map((n) => `${n}=${p[n]}`).join(' ') || '-';

export function table(cells: Cell[]): string {
  return '| kernel | libvirt | guest | domain cpuset.mems | pages before | pages after | pages outside the nodeset |\n|---|---|---|---|---|---|---|\n' +
    cells.map((c) => `| ${c.kernel} | ${c.build} | ${c.scenario} | ${c.measurement.facts['cpuset.mems.domain'] || '(empty: all)'} | ${fmt(c.before)} | ${fmt(c.after)} | ${c.outside} |`).join('\n') + '\n';
}

/** What the golden holds per cell. */
export function verdicts(cells: Cell[]): string {
  const v = Object.fromEntries(cells.map((c) => [`${c.kernel} | ${c.build} | ${c.scenario}`, {
    domain_cpuset_mems: c.measurement.facts['cpuset.mems.domain'] ?? '',
    pages_outside_nodeset: confinementClaimed(c.kernel, c.build) ? c.outside : 'recorded, not asserted (may leave the nodeset)',
  }]));
  return JSON.stringify(v, null, 2) + '\n';
}

