// qemuxmlconftest's tests (libvirt 10+) grouped into the runner's cases.
//
// Each registration runs four subtests, titled "QEMU XML <kind> <name><suffix>" with kind
// "def parse", "def -> XML", "OUT -> XML" or "def -> ARGV" (suffix .x86_64-latest,
// .x86_64-latest.abi-update, …; a caps variant such as +amdsev names the files, not the title).
// The runner (harness/runner/libvirt-cases.ts) gives one registration two cases, named after the
// expected file each compares with:
//   libvirt/qemuxmlconf/<name><suffix>.args   (or .err)  def parse + def -> ARGV
//   libvirt/qemuxmlconf/<name><suffix>.xml               def parse + def -> XML + OUT -> XML
// Which files a registration has is read from the build's own qemuxmlconfdata/ (a series may add
// some). A registration with none of them keeps one case with all its subtests,
// libvirt/qemuxmlconf/<name><suffix>, so that nothing is dropped.
import { existsSync, readdirSync } from 'node:fs';
import type { TreeCase, TreeTest } from './tree-tests.js';

const TITLE = /^QEMU XML (def parse|def -> XML|OUT -> XML|def -> ARGV) (.+)$/;
type Kind = 'def parse' | 'def -> XML' | 'OUT -> XML' | 'def -> ARGV';
const EXT = /^(.*)\.(args|err|xml)$/;

/** Expected-file stems of the data dir, by stem without a caps variant ("+amdsev"). */
function indexData(dataDir: string): Map<string, Map<string, Set<string>>> {
  const byBase = new Map<string, Map<string, Set<string>>>();
  if (!existsSync(dataDir)) return byBase;
  for (const f of readdirSync(dataDir)) {
    const m = EXT.exec(f);
    if (!m) continue;
    const stem = m[1];
    const base = stem.replace(/\+[^.+]+$/, '');
    let stems = byBase.get(base);
    if (!stems) byBase.set(base, (stems = new Map()));
    let exts = stems.get(stem);
    if (!exts) stems.set(stem, (exts = new Set()));
    exts.add(m[2]);
  }
  return byBase;
}

export function confCases(tests: TreeTest[], dataDir: string): TreeCase[] {
  const groups = new Map<string, Map<Kind, TreeTest[]>>();
  for (const t of tests) {
    const m = TITLE.exec(t.title);
    if (!m) continue;
    let g = groups.get(m[2]);
    if (!g) groups.set(m[2], (g = new Map()));
    const kind = m[1] as Kind;
    g.set(kind, [...(g.get(kind) ?? []), t]);
  }
  const data = indexData(dataDir);
  const out: TreeCase[] = [];
  const mk = (name: string, kinds: Kind[], g: Map<Kind, TreeTest[]>): TreeCase => ({
    id: `libvirt/qemuxmlconf/${name}`, suite: 'qemuxmlconf', name,
    tests: kinds.flatMap((k) => g.get(k) ?? []).sort((a, b) => a.index - b.index),
  });
  for (const [base, g] of groups) {
    const stems = data.get(base);
    if (!stems?.size) {
      out.push(mk(base, ['def parse', 'def -> XML', 'OUT -> XML', 'def -> ARGV'], g));
      continue;
    }
    for (const [stem, exts] of stems) {
      const argv = exts.has('args') ? 'args' : exts.has('err') ? 'err' : null;
      if (argv) out.push(mk(`${stem}.${argv}`, ['def parse', 'def -> ARGV'], g));
      if (exts.has('xml')) out.push(mk(`${stem}.xml`, ['def parse', 'def -> XML', 'OUT -> XML'], g));
    }
  }
  return out;
}
