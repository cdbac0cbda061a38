// Orphans among the emulated host's goldens (golden/runtime-emulated/). Those cases run only
// where the image exists, so "no run used it" says nothing; a golden is an orphan when no case
// could ever own it: NAME.mock8[.lvVERSION].json needs a discovered emulated case NAME and a
// modelled libvirt VERSION; tiering/KERNEL/BUILD/SCENARIO.json needs a tiering kernel, a build
// that is `as-built`, `sid-as-built` or a series directory, and a discovered tiering scenario.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KNOWN_VERSIONS } from '../profiles/load.js';
import { AS_BUILT, SID_AS_BUILT, TIERING_KERNELS, tieringGoldenDir } from './tiering-cells.js';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));
}

/** Each orphaned file (path relative to golden/) with why no case owns it; `cases` and
 *  `scenarios` are the names of the discovered emulated and tiering cases. */
export function emulatedGoldenOrphans(root: string, cases: Set<string>, scenarios: Set<string>): { file: string; why: string }[] {
  const dir = join(root, 'golden', 'runtime-emulated');
  const tiering = tieringGoldenDir(root);
  const out: { file: string; why: string }[] = [];
  for (const f of filesUnder(dir)) {
    const rel = relative(join(root, 'golden'), f);
    let why: string | null;
    if (f.startsWith(tiering + '/')) {
      const [kernel, build, file, ...more] = relative(tiering, f).split('/');
      const scenario = file?.endsWith('.json') ? file.slice(0, -'.json'.length) : undefined;
      why = more.length || !scenario ? 'not KERNEL/BUILD/SCENARIO.json'
        : !(TIERING_KERNELS as readonly string[]).includes(kernel) ? `kernel ${kernel} is not a tiering kernel (${TIERING_KERNELS.join(', ')})`
        : build !== AS_BUILT && build !== SID_AS_BUILT && !existsSync(join(root, 'cases', 'series', build)) ? `build ${build} is neither ${AS_BUILT}, ${SID_AS_BUILT} (npm run tiering -- --host sid) nor a directory of cases/series`
        : !scenarios.has(scenario) ? `scenario ${scenario} is not in cases/emulated/tiering.json`
        : null;
    } else {
      const m = /^(.+)\.mock8(?:\.lv(\d+\.\d+\.\d+))?\.json$/.exec(relative(dir, f));
      why = !m ? 'not NAME.mock8[.lvVERSION].json'
        : !cases.has(m[1]) ? `no emulated case ${m[1]} (cases/emulated/cases.json)`
        : m[2] && !KNOWN_VERSIONS.includes(m[2]) ? `libvirt ${m[2]} is not modelled (${KNOWN_VERSIONS.join(', ')})`
        : null;
    }
    if (why) out.push({ file: rel, why });
  }
  return out;
}
