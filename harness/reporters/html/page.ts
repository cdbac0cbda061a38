// One self-contained HTML file per run (npm test --html, merge-reports --html): the same verdict
// list as TAP, JUnit, the summary and the exit status, plus the run's metadata. Built as a hast
// tree (hastscript) and serialised by hast-util-to-html, which escapes every text and attribute;
// the only raw HTML is diff2html's (escaped by it), the tiering plot's SVG and the page's own
// style and script. No network at view time: the diff stylesheet is inlined.
import { h } from 'hastscript';
import { toHtml } from 'hast-util-to-html';
import { writeAtomic } from '../../neutral/atomic-file.js';
import type { RunMeta } from '../run-meta.js';
import type { Verdict } from '../verdict.js';
import { SCRIPT, STYLE } from './client.js';
import { diffCss } from './diff.js';
import { emulated, expected, runFacts } from './run.js';
import { releases } from './releases.js';
import { countsLine, countsOf, failureIds, failures, matrix, raw, skipGroups } from './verdicts.js';

export function renderReport(verdicts: Verdict[], meta: RunMeta): string {
  const n = countsOf(verdicts);
  const anchors = failureIds(verdicts);
  const verdictWord = !meta.complete ? 'incomplete' : n.fail ? 'fail' : 'pass';
  const title = `libvirt-harness: ${n.fail ? `${n.fail} failed` : 'passed'}${meta.complete ? '' : ' (incomplete)'}`;
  const tree = h(null, [
    { type: 'doctype' },
    h('html', { lang: 'en' }, [
      h('head', [
        h('meta', { charset: 'utf-8' }),
        h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
        // Nothing from the network, ever: the page is opened from disk and as a CI artifact.
        h('meta', { httpEquiv: 'Content-Security-Policy', content: "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:" }),
        h('title', title),
        h('style', [raw(diffCss() + STYLE)]), // ours last: it overrides diff2html's where both speak
      ]),
      h('body', { dataVerdict: verdictWord }, [
        h('h1', 'libvirt-harness run report'),
        h(`div.banner.${verdictWord}#verdict`, !meta.complete
          ? `INCOMPLETE: ${meta.incomplete ?? 'the run stopped before its end'} — what it had is shown`
          : n.fail ? `FAILED: ${n.fail} failing verdicts` : 'PASSED: no failing verdict'),
        countsLine(verdicts),
        h('h2', 'the run'), ...runFacts(meta),
        ...(meta.expectFailures.length ? [h('h2#expected', '--expect-failures'), ...expected(meta.expectFailures)] : []),
        h('h2#failures', `failures (${n.fail})`), ...failures(verdicts, anchors),
        h('h2', 'cases × pairs'), ...matrix(verdicts, anchors),
        h('h2#skips', `skipped, by reason (${n.skip + n.todo})`), ...skipGroups(verdicts),
        h('h2#emulated', 'the emulated host'), ...emulated(meta),
        h('h2#versions', 'between libvirt releases'), ...releases(meta),
        h('script', [raw(SCRIPT)]),
      ]),
    ]),
  ]);
  return toHtml(tree, { allowDangerousHtml: true });
}

/** Written whole or not at all (a half-written page is never left behind). */
export function writeReport(file: string, verdicts: Verdict[], meta: RunMeta): void {
  writeAtomic(file, renderReport(verdicts, meta));
}
