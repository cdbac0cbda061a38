// The fuzz report counts top-up domains apart from the main draw, with their denominators, in
// the text and in --json, and a top-up that did not reach its message shows as MISSED.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { parseArgs } from '../fuzz/options.js';
import type { Reach } from '../fuzz/reach.js';
import { buildReport, formatReport, type ReportInput } from '../fuzz/report.js';
import type { Result } from '../fuzz/verdicts.js';

const agree = (index: number): Result => ({ index, verdict: 'agree', ops: { argv: 'agree', xml: 'agree' }, diffs: [] });
const A = 'internal error: missing cpuset for vcpupin';
const B = '{XML error:|internal error:} Attempted double use of PCI Address …';

function input(reached: Reach[]): ReportInput {
  const o = parseArgs(['--seed', '5', '--count', '3', '--top-up', '2']);
  return {
    o,
    // #0..#2 the main draw, #3..#6 the top-up (2 for A, 2 for B; #6 crashed).
    results: [0, 1, 2, 3, 4, 5].map(agree).concat({ index: 6, verdict: 'crash', ops: { argv: 'crash', xml: 'skip' }, diffs: [] }),
    seconds: { total: 10, generate: 1, model: 1, libvirt: 5, topUp: 2, shrink: 1 },
    accepted: 2, refused: 4, refusedBy: new Map([[A, 2], [B, 1]]), errors: new Map(),
    reached,
    reachedMain: [{ template: A, model: 0, libvirt: 0 }, { template: B, model: 0, libvirt: 0 }, { template: 'other', model: 2, libvirt: 2 }],
    outside: [], aims: [], shares: { raw: 1, tame: 1, fault: 1 },
    topUp: { perAim: 2, aims: [{ aim: A, seed: 11, from: 3, to: 5 }, { aim: B, seed: -12, from: 5, to: 7 }], from: 3, to: 7, seconds: 2 },
    topUpAimsMet: [{ aim: A, aimed: 2, met: 2 }, { aim: B, aimed: 1, met: 0 }],
    causes: [], crashKinds: [], crashCases: [], crashNotes: [], unstable: [], garbled: [], rechecks: { rerun: 2, confirmed: 1 }, infra: [],
    machine: { before: '1@2', after: '1@2' }, restarts: 1,
  };
}

t.test('top-up figures: apart in --json, with denominators in the text', async (t) => {
  const rep = buildReport(input([{ template: A, model: 4, libvirt: 4 }, { template: B, model: 1, libvirt: 0 }, { template: 'other', model: 2, libvirt: 2 }]));
  t.match(rep.figures, { generated: 3, topUp: 4, domains: 7, compared: 6, agree: 6, crashes: 1 });
  t.match(rep.topUp, { domainsPerAim: 2, domains: 4, aims: 2, compared: 3, agree: 3, missedByMainDraw: [A, B] });
  t.same(rep.topUp.perAim.map((a) => [a.aim, a.first, a.domains, a.answered, a.met, a.reached]), [[A, 3, 2, 2, 2, true], [B, 5, 2, 1, 0, false]]);
  t.same(rep.messages.missed, [B], 'a top-up that did not reach its message leaves it missed');
  const text = formatReport(rep);
  t.match(text, 'fuzz: seed 5, 3 generated + 4 top-up domain(s) aimed at 2 message(s)');
  t.match(text, 're-run on a fresh daemon as met: 2 disagreement(s); 1 disagreed there too');
  t.same(rep.rechecks, { rerun: 2, confirmed: 1 }, 'the re-runs are in --json too');
  t.match(text, 'mix: 1 raw, 1 tamed, 1 tamed with one fault aimed at a message (of 3 generated)');
  t.match(text, 'top-up: 4 tamed domain(s) with one fault, 2 per message, aimed at the 2 message(s) with a fault of the 2 the main draw missed (not exempt); libvirt said the aim on 2/3 (66.7%) it answered; 1/2 now reached; agreement 3/3 (100.0%) of compared');
  t.match(text, `  reached: libvirt said it on 2/2 answered of #3..#4 (fast-check seed 11): ${A}`);
  t.match(text, `  MISSED : libvirt said it on 0/1 answered of #5..#6 (fast-check seed -12): ${B}`);
  t.match(text, 'domains 7 (3 generated + 4 top-up domain(s) aimed at 2 message(s)): compared 6');
  t.match(text, '2/3 reached (said by the model and by libvirt on the same domain; 1 by the main draw, 1 by the top-up), 0 exempt on this host, 1 missed');
});

t.test('no top-up needed, or none asked for', async (t) => {
  const all: Reach[] = [{ template: A, model: 1, libvirt: 1 }];
  const none = input(all);
  none.reachedMain = all;
  none.topUp = { perAim: 8, aims: [], from: 3, to: 3, seconds: 0 };
  none.results = none.results.slice(0, 3);
  t.match(formatReport(buildReport(none)), 'top-up: none needed: the main draw missed 0 message(s) not exempt\n');
  const off = input([{ template: A, model: 0, libvirt: 0 }]);
  off.reachedMain = off.reached;
  off.topUp = { perAim: 0, aims: [], from: 3, to: 3, seconds: 0 };
  off.results = off.results.slice(0, 3);
  const rep = buildReport(off);
  t.match(formatReport(rep), 'top-up: off (--top-up 0); the main draw missed 1 message(s) not exempt\n');
  t.same(rep.messages.missed, [A]);
});

t.test('--top-up is an option: an integer >= 0, default 8', async (t) => {
  t.equal(parseArgs([]).topUp, 8);
  t.equal(parseArgs(['--top-up=0']).topUp, 0);
  t.equal(parseArgs(['--top-up', '3']).topUp, 3);
  // A bad value: one line and exit 2, before any daemon is started (the built entry, as npm runs it).
  const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'dist', 'fuzz', 'main.js'), '--top-up', '-1'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.equal(r.stderr.split('\n')[0], 'fuzz: --top-up wants an integer >= 0');
});
